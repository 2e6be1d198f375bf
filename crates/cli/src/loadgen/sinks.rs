//! The downstream systems of a load run, in the load generator's process (away from the
//! gateway's, and pinnable to another core): an MLLP receiver answering AA and an HTTP receiver
//! answering 200, each timing every message from the moment it was sent to the moment it
//! arrived (end-to-end latency), by the message number its body carries.

use super::messages::visit_number;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::MllpCodec;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

/// When each message was sent, and when each sink received it.
pub struct Tracker {
    start: Instant,
    /// Microseconds after `start` that message n was sent (`u64::MAX`: not yet).
    sent_us: Vec<AtomicU64>,
    /// End-to-end latencies (µs) as each sink saw them: MLLP, HTTP.
    pub mllp: Mutex<Vec<u64>>,
    pub http: Mutex<Vec<u64>>,
}

impl Tracker {
    pub fn new(messages: usize) -> Self {
        Self { start: Instant::now(), sent_us: (0..messages).map(|_| AtomicU64::new(u64::MAX)).collect(), mllp: Mutex::default(), http: Mutex::default() }
    }

    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    pub fn sent(&self, n: usize) {
        if let Some(slot) = self.sent_us.get(n) {
            slot.store(self.now_us(), Ordering::Relaxed);
        }
    }

    fn arrived(&self, body: &[u8], into: &Mutex<Vec<u64>>) {
        let Some(sent) = visit_number(body).and_then(|n| self.sent_us.get(n)).map(|s| s.load(Ordering::Relaxed)) else { return };
        if sent != u64::MAX
            && let Ok(mut v) = into.lock()
        {
            v.push(self.now_us().saturating_sub(sent));
        }
    }

    pub fn count(into: &Mutex<Vec<u64>>) -> usize {
        into.lock().map(|v| v.len()).unwrap_or(0)
    }
}

/// A downstream MLLP system that acknowledges every message AA, echoing its MSH-10.
pub async fn mllp_sink(listener: TcpListener, tracker: std::sync::Arc<Tracker>) {
    while let Ok((stream, _)) = listener.accept().await {
        let tracker = std::sync::Arc::clone(&tracker);
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let mut framed = Framed::new(stream, MllpCodec::default());
            while let Some(Ok(frame)) = framed.next().await {
                tracker.arrived(&frame, &tracker.mllp);
                let control = passerelle_hl7v2::parse(&frame, &Default::default())
                    .ok()
                    .and_then(|p| p.value.msh().map(|m| m.field(10).text().into_owned()))
                    .unwrap_or_default();
                let ack = format!("MSH|^~\\&|SINK|SINK|||20261123000000||ACK^A01^ACK|S{control}|P|2.5\rMSA|AA|{control}\r");
                if framed.send(ack.into_bytes()).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// One HTTP/1.1 message's head (status or request line and headers) and body, or `None` at the
/// end of the connection.
pub async fn read_http<R: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse::<usize>()))
        .transpose()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some((head, body)))
}

/// A downstream FHIR server that answers 200 to every request (kept alive).
pub async fn http_sink(listener: TcpListener, tracker: std::sync::Arc<Tracker>) {
    while let Ok((stream, _)) = listener.accept().await {
        let tracker = std::sync::Arc::clone(&tracker);
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            let (read, mut write) = stream.into_split();
            let mut reader = BufReader::new(read);
            while let Ok(Some((_, body))) = read_http(&mut reader).await {
                tracker.arrived(&body, &tracker.http);
                let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/fhir+json\r\ncontent-length: 2\r\n\r\n{}";
                if write.write_all(answer).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// Posts `body` to `path` on a kept-alive connection; the answer's status code.
pub async fn post(stream: &mut BufReader<TcpStream>, host: &str, path: &str, body: &[u8]) -> std::io::Result<u16> {
    let head = format!("POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/fhir+json\r\ncontent-length: {}\r\n\r\n", body.len());
    stream.get_mut().write_all(head.as_bytes()).await?;
    stream.get_mut().write_all(body).await?;
    let Some((head, _)) = read_http(stream).await? else {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    };
    Ok(head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_http_message_is_read_whole_with_its_body() {
        let raw: &[u8] = b"POST /in HTTP/1.1\r\nContent-Length: 5\r\nhost: x\r\n\r\nhelloPOST /in HTTP/1.1\r\ncontent-length: 0\r\n\r\n";
        let mut reader = BufReader::new(raw);
        let (head, body) = read_http(&mut reader).await.ok().flatten().unwrap_or_default();
        assert!(head.starts_with("POST /in"));
        assert_eq!(body, b"hello");
        let (_, empty) = read_http(&mut reader).await.ok().flatten().unwrap_or_default();
        assert!(empty.is_empty());
        assert!(read_http(&mut reader).await.ok().flatten().is_none());
    }
}
