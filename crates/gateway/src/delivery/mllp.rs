//! `mllp` destination (hospital systems): one connection, one message at a time, the ACK checked
//! against the MSH-10 we sent. A timeout drops the connection so a late ACK can never be taken
//! for the next message's.

use super::{Outcome, Transport};
use crate::config::DestinationConfig;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::{MllpCodec, read_ack};
use passerelle_store::{BoxFuture, OutboxItem};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_util::codec::Framed;

pub struct MllpTransport {
    address: String,
    timeout: Duration,
    connection: Mutex<Option<Framed<TcpStream, MllpCodec>>>,
}

impl MllpTransport {
    pub fn new(config: &DestinationConfig) -> Result<Self, String> {
        let address = config.address.clone().ok_or("mllp destination without address")?;
        Ok(Self { address, timeout: Duration::from_millis(config.timeout_ms), connection: Mutex::new(None) })
    }
}

impl Transport for MllpTransport {
    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let payload = &item.rendering;
            let mut guard = self.connection.lock().await;
            if guard.is_none() {
                match tokio::time::timeout(self.timeout, TcpStream::connect(&self.address)).await {
                    Ok(Ok(stream)) => {
                        let _ = stream.set_nodelay(true);
                        *guard = Some(Framed::new(stream, MllpCodec::default()));
                    }
                    Ok(Err(e)) => return Outcome::Retry { error: format!("connect failed: {e}"), after: None },
                    Err(_) => return Outcome::Retry { error: "connect timed out".into(), after: None },
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
                Some((code, _)) => match code.as_str() {
                    "AA" | "CA" => Outcome::Delivered,
                    "AR" | "CR" => Outcome::Dead { error: format!("peer answered {code}") },
                    _ => Outcome::Retry { error: format!("peer answered {code}"), after: None },
                },
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
