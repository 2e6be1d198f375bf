//! `kind = "file"` listener: files dropped in a directory (labs and medico-social establishments
//! still exchange that way) are picked up once their size has held for one poll, told apart by
//! content (HL7 v2 single or batch, CDA XML, FHIR JSON), each message ingested like any other,
//! and the file moved to `done/` (every message accepted) or `error/`, with a report beside it.

use crate::codec::InputFormat;
use crate::config::ListenerConfig;
use crate::pipeline::{Pipeline, Verdict};
use bytes::Bytes;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The format of a dropped file, by its first significant bytes.
fn format_of(bytes: &[u8]) -> Option<InputFormat> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    match bytes.get(start..start + 3)? {
        b"MSH" | b"FHS" | b"BHS" => Some(InputFormat::Hl7v2),
        [b'<', ..] => Some(InputFormat::Cda),
        [b'{', ..] => Some(InputFormat::Fhir),
        _ => None,
    }
}

/// Watches `config.dir` until `stop`; a reload's new `poll_ms` applies from the next poll.
pub async fn serve_files(settings: tokio::sync::watch::Receiver<ListenerConfig>, pipeline: Arc<Pipeline>, stop: CancellationToken) {
    let config = settings.borrow().clone();
    let Some(dir) = config.dir.clone().map(PathBuf::from) else { return };
    // Size seen at the previous poll: a file is taken when it has not changed for one period.
    let mut seen: HashMap<PathBuf, u64> = HashMap::new();
    loop {
        let mut stable = Vec::new();
        let mut now: HashMap<PathBuf, u64> = HashMap::new();
        if let Ok(mut entries) = tokio::fs::read_dir(&dir).await {
            while let Ok(Some(entry)) = entries.next_entry().await {
                let path = entry.path();
                let hidden = path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.') || n.ends_with(".tmp") || n.ends_with(".report.json"));
                let Ok(meta) = entry.metadata().await else { continue };
                if hidden || !meta.is_file() {
                    continue;
                }
                if seen.get(&path) == Some(&meta.len()) {
                    stable.push(path.clone());
                }
                now.insert(path, meta.len());
            }
        }
        for path in stable {
            now.remove(&path);
            handle(&config.name, &dir, &path, &pipeline).await;
        }
        seen = now;
        let period = Duration::from_millis(settings.borrow().poll_ms.max(10));
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = stop.cancelled() => break,
        }
    }
}

/// Ingests every message of one file, then moves it with its report.
async fn handle(listener: &str, dir: &Path, path: &Path, pipeline: &Pipeline) {
    let Ok(bytes) = tokio::fs::read(path).await else { return };
    let bytes = Bytes::from(bytes);
    let mut outcomes = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut batch_ack = None;
    match format_of(&bytes) {
        None => problems.push("neither HL7 v2, CDA XML nor FHIR JSON".into()),
        Some(InputFormat::Hl7v2) if passerelle_hl7v2::batch::is_batch(&bytes) => {
            let batch = crate::batch_ingest::ingest_batch(pipeline, listener, bytes.clone()).await;
            (outcomes, problems, batch_ack) = (batch.outcomes, batch.problems, batch.ack);
        }
        Some(format) => outcomes.push(pipeline.ingest(listener, format, bytes.clone()).await),
    }
    let accepted = outcomes.iter().filter(|o| o.verdict == Verdict::Accepted).count();
    let ok = problems.is_empty() && !outcomes.is_empty() && accepted == outcomes.len();
    let report = serde_json::json!({
        "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "messages": outcomes.len(),
        "accepted": accepted,
        "problems": problems,
        "outcomes": outcomes.iter().map(|o| serde_json::json!({
            "verdict": format!("{:?}", o.verdict).to_lowercase(),
            "message": o.message_id.map(|id| format!("/api/messages/{id}")),
            "duplicate": o.duplicate,
        })).collect::<Vec<_>>(),
    });
    let target = dir.join(if ok { "done" } else { "error" });
    let Some(name) = path.file_name() else { return };
    if tokio::fs::create_dir_all(&target).await.is_ok() {
        let report_path = target.join(format!("{}.report.json", name.to_string_lossy()));
        let _ = tokio::fs::write(&report_path, serde_json::to_vec_pretty(&report).unwrap_or_default()).await;
        // The batch acknowledgement the messages asked for, beside the report.
        if let Some(ack) = &batch_ack {
            let _ = tokio::fs::write(target.join(format!("{}.ack.hl7", name.to_string_lossy())), ack).await;
        }
        if let Err(e) = tokio::fs::rename(path, target.join(name)).await {
            tracing::error!(listener, error = %e, "cannot move a handled file out of the watched directory");
        }
    }
}
