//! An HL7 v2 batch (`FHS`/`BHS` … `BTS`/`FTS`) received by any listener: each message normalised,
//! journaled and routed on its own, then one batch acknowledgement holding the ACKs the messages'
//! MSH-15/MSH-16 ask for. A batch whose trailer counts are wrong is still ingested message by
//! message (nothing is lost) and the problem is reported.

use crate::codec::InputFormat;
use crate::pipeline::{IngestResult, Pipeline, Verdict, hl7_now};
use bytes::Bytes;

pub struct BatchResult {
    pub outcomes: Vec<IngestResult>,
    /// The batch's own problems (a count that does not match its trailer).
    pub problems: Vec<String>,
    /// The batch acknowledgement, when at least one message asked for its ACK.
    pub ack: Option<Vec<u8>>,
}

/// Ingests every message of `batch` (the listener's buffer, shared, not copied) in order.
pub async fn ingest_batch(pipeline: &Pipeline, listener: &str, batch: Bytes) -> BatchResult {
    let split = passerelle_hl7v2::batch::split(&batch);
    let problems: Vec<String> = split.issues.iter().map(ToString::to_string).collect();
    let spans: Vec<(usize, usize)> = split.messages.iter().map(|m| (m.as_ptr() as usize - batch.as_ptr() as usize, m.len())).collect();
    let mut outcomes = Vec::with_capacity(spans.len());
    let mut wanted: Vec<usize> = Vec::new();
    for (i, (start, len)) in spans.into_iter().enumerate() {
        let message = batch.slice(start..start + len);
        let result = pipeline.ingest(listener, InputFormat::Hl7v2, message.clone()).await;
        if passerelle_hl7v2::batch::wants_ack(&message, result.verdict == Verdict::Accepted) {
            wanted.push(i);
        }
        outcomes.push(result);
    }
    let ack = (!wanted.is_empty()).then(|| {
        let acks: Vec<&[u8]> = wanted.iter().map(|&i| outcomes[i].reply.as_slice()).collect();
        let control = format!("PSRB{}", crate::pipeline::now_ms());
        let reference = passerelle_hl7v2::batch::batch_control_id(&batch);
        passerelle_hl7v2::batch::ack_batch(&pipeline.application, &pipeline.facility, &hl7_now(), &control, &reference, &acks)
    });
    BatchResult { outcomes, problems, ack }
}
