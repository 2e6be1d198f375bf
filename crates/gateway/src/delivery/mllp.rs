//! `mllp` destination (hospital systems): one connection, one message at a time, the ACK checked
//! against the MSH-10 we sent. A timeout drops the connection so a late ACK can never be taken
//! for the next message's. Over TLS when `[destination.tls]` says so (the destination's
//! certificate verified against its CA, ours sent for mutual TLS).

use super::{Outcome, Transport};
use crate::config::DestinationConfig;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::{MllpCodec, read_ack};
use passerelle_store::{BoxFuture, OutboxItem};
use rustls::pki_types::ServerName;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_util::codec::Framed;

/// A connection, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct MllpTransport {
    address: String,
    timeout: Duration,
    connection: Mutex<Option<Framed<Box<dyn Io>, MllpCodec>>>,
    /// TLS to the destination: the connector and the name its certificate must carry.
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
}

impl MllpTransport {
    pub fn new(config: &DestinationConfig) -> Result<Self, String> {
        let address = config.address.clone().ok_or("mllp destination without address")?;
        let tls = match &config.tls {
            None => None,
            Some(t) => {
                let client = crate::tls::client_config(t).map_err(|e| format!("destination {}: {e}", config.name))?;
                let host =
                    t.server_name.clone().unwrap_or_else(|| address.rsplit_once(':').map_or(address.clone(), |(h, _)| h.trim_matches(['[', ']']).to_owned()));
                let name = ServerName::try_from(host).map_err(|e| format!("destination {}: server_name: {e}", config.name))?;
                Some((tokio_rustls::TlsConnector::from(client), name))
            }
        };
        Ok(Self { address, timeout: Duration::from_millis(config.timeout_ms), connection: Mutex::new(None), tls })
    }

    /// A new connection, through TLS when configured, within the timeout.
    async fn connect(&self) -> Result<Box<dyn Io>, String> {
        let stream = match tokio::time::timeout(self.timeout, TcpStream::connect(&self.address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(format!("connect failed: {e}")),
            Err(_) => return Err("connect timed out".into()),
        };
        let _ = stream.set_nodelay(true);
        match &self.tls {
            None => Ok(Box::new(stream)),
            Some((connector, name)) => match tokio::time::timeout(self.timeout, connector.connect(name.clone(), stream)).await {
                Ok(Ok(tls)) => Ok(Box::new(tls)),
                Ok(Err(e)) => Err(format!("tls handshake failed: {e}")),
                Err(_) => Err("tls handshake timed out".into()),
            },
        }
    }
}

impl Transport for MllpTransport {
    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let payload = &item.rendering;
            let mut guard = self.connection.lock().await;
            if guard.is_none() {
                match self.connect().await {
                    Ok(stream) => *guard = Some(Framed::new(stream, MllpCodec::default())),
                    Err(error) => return Outcome::Retry { error, after: None },
                }
            }
            let Some(conn) = guard.as_mut() else { return Outcome::Retry { error: "no connection".into(), after: None } };
            if let Err(e) = conn.send(&payload.bytes).await {
                *guard = None;
                return Outcome::Retry { error: format!("send failed: {e}"), after: None };
            }
            let reply = tokio::time::timeout(self.timeout, conn.next()).await;
            let frame = match reply {
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(e))) => {
                    *guard = None;
                    return Outcome::Retry { error: format!("ack read failed: {e}"), after: None };
                }
                Ok(None) => {
                    *guard = None;
                    return Outcome::Retry { error: "peer closed the connection without an ack".into(), after: None };
                }
                Err(_) => {
                    // Reconnect: whatever arrives late on this connection is never matched.
                    *guard = None;
                    return Outcome::Retry { error: "ack timed out".into(), after: None };
                }
            };
            match read_ack(&frame) {
                Some((_, msa2)) if msa2 != payload.reference => {
                    *guard = None;
                    Outcome::Retry { error: "ack does not match the message sent (MSA-2 differs from MSH-10)".into(), after: None }
                }
                Some((code, _)) => {
                    // The ACK as the receiver sent it, segments on one line, bounded: kept with
                    // the attempt, whatever it said (an AE's ERR says what the receiver refused).
                    let text = String::from_utf8_lossy(&frame[..frame.len().min(2048)]).replace('\r', " / ");
                    let ack = text.trim_end_matches([' ', '/']).to_owned();
                    match code.as_str() {
                        "AA" | "CA" => Outcome::Delivered { answer: ack },
                        "AR" | "CR" => Outcome::Dead { error: format!("peer answered {code}: {ack}") },
                        _ => Outcome::Retry { error: format!("peer answered {code}: {ack}"), after: None },
                    }
                }
                None => {
                    *guard = None;
                    Outcome::Retry { error: "unreadable ack".into(), after: None }
                }
            }
        })
    }
    fn concurrency(&self) -> usize {
        1
    }
}
