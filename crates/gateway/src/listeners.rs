//! The MLLP listener. It frames bytes and hands them to the pipeline; it never parses. One bad
//! peer only ever loses its own connection (see `limits` for the caps and timeouts).

use crate::codec::InputFormat;
use crate::config::ListenerConfig;
use crate::intake::{Charge, ChargedStream};
use crate::limits::{Connection, serve_connections};
use crate::pipeline::Pipeline;
use crate::tls::ListenerTls;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::{MllpCodec, MllpError};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

/// Accepts MLLP connections until `shutdown`, then waits for in-flight messages to be answered.
/// `settings` carries the listener's limits; a reload's new ones apply from the next frame on.
pub async fn serve_mllp(
    listener: TcpListener,
    settings: watch::Receiver<ListenerConfig>,
    pipeline: Arc<Pipeline>,
    tls: Option<Arc<ListenerTls>>,
    shutdown: CancellationToken,
) {
    let metrics = Arc::clone(&pipeline.metrics);
    let (listener_settings, stop) = (settings.clone(), shutdown.clone());
    let intake = Some(Arc::clone(&pipeline.intake));
    let handle = move |stream: Connection, peer: std::net::SocketAddr| {
        let (mut config, pipeline, shutdown) = (settings.clone(), Arc::clone(&pipeline), shutdown.clone());
        // Every byte read counts against the bytes-in-flight budget until its message is committed.
        let charge = pipeline.intake.charge(peer.ip());
        let stream = ChargedStream::new(stream, Arc::clone(&charge));
        async move { handle_connection(stream, &charge, &mut config, &pipeline, &shutdown).await }
    };
    serve_connections(listener, listener_settings, metrics, tls, intake, stop, handle).await;
}

async fn handle_connection<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    charge: &Charge,
    settings: &mut watch::Receiver<ListenerConfig>,
    pipeline: &Pipeline,
    shutdown: &CancellationToken,
) {
    let mut config = settings.borrow_and_update().clone();
    let mut framed = Framed::new(stream, MllpCodec::new(config.max_frame_bytes));
    let mut idle = Duration::from_secs(config.idle_timeout_secs.max(1));
    // A connection that sends nothing holds a slot only briefly; between messages, `idle` applies.
    let mut wait = Duration::from_secs(config.first_read_timeout_secs.max(1)).min(idle);
    let mut discarded_reported = 0;
    loop {
        let next = tokio::select! {
            n = tokio::time::timeout(wait, framed.next()) => n,
            () = shutdown.cancelled() => break,
        };
        if settings.has_changed().unwrap_or(false) {
            config = settings.borrow_and_update().clone();
            framed.codec_mut().set_max_frame_len(config.max_frame_bytes);
            idle = Duration::from_secs(config.idle_timeout_secs.max(1));
        }
        wait = idle;
        if next.is_err() {
            pipeline.metrics.limits_hit.with_label_values(&[&config.name, "read_timeout"]).inc();
        }
        let discarded = framed.codec().discarded_bytes();
        if discarded > discarded_reported {
            pipeline.metrics.mllp_discarded_bytes.with_label_values(&[&config.name]).inc_by(discarded - discarded_reported);
            discarded_reported = discarded;
        }
        match next {
            Err(_) => break,   // idle timeout
            Ok(None) => break, // peer closed
            Ok(Some(Err(MllpError::FrameTooLarge { max }))) => {
                tracing::warn!(listener = %config.name, max, "frame over max_frame_bytes; connection closed");
                let result = pipeline.reject_unframed(&config.name, &format!("mllp frame exceeds max_frame_bytes ({max})"), bytes::Bytes::new()).await;
                let _ = framed.send(result.reply).await;
                break;
            }
            // The sender closed its side in the middle of a frame: what came is kept, and an AR
            // still goes back (a half-closed peer can read it).
            Ok(Some(Err(MllpError::Unterminated { partial }))) => {
                pipeline.metrics.limits_hit.with_label_values(&[&config.name, "unterminated_frame"]).inc();
                let reason = "mllp frame unterminated when the sender closed the connection";
                let result = pipeline.reject_unframed(&config.name, reason, partial).await;
                let _ = framed.send(result.reply).await;
                break;
            }
            // The gateway (or this sender) has too many bytes in flight: AR (not stored), then close;
            // the sender retries later.
            Ok(Some(Err(MllpError::Io(e)))) if let Some(over) = crate::intake::over_budget(&e) => {
                tracing::warn!(listener = %config.name, limit = over.limit(), "bytes in flight over budget; frame refused");
                pipeline.metrics.limits_hit.with_label_values(&[&config.name, over.limit()]).inc();
                let reply = pipeline.busy_reply(&over.to_string());
                let _ = framed.send(reply).await;
                break;
            }
            Ok(Some(Err(MllpError::Io(_)))) => break,
            // Frames on one connection are answered strictly in order: the next frame is read
            // only once this one's ACK is written.
            Ok(Some(Ok(frame))) => {
                // A batch in one frame gets one batch acknowledgement (possibly of no ACK: an
                // MLLP sender always waits for a reply).
                let reply = if passerelle_hl7v2::batch::is_batch(&frame) {
                    let batch = crate::batch_ingest::ingest_batch(pipeline, &config.name, frame).await;
                    batch.ack.unwrap_or_else(|| {
                        passerelle_hl7v2::batch::ack_batch(&pipeline.application, &pipeline.facility, &crate::pipeline::hl7_now(), "", "", &[])
                    })
                } else {
                    pipeline.ingest(&config.name, InputFormat::Hl7v2, frame).await.reply
                };
                // Committed (or refused): only what is already buffered of the next frame stays charged.
                charge.settle(framed.read_buffer().len());
                if framed.send(reply).await.is_err() {
                    break;
                }
            }
        }
    }
}
