//! `passerelle conformance listen --suite S --port P`: a local MLLP receiver, like Gazelle's
//! simulators but private: every message a vendor's system sends is validated with the suite's
//! packs and answered (AA when nothing reaches error; AE with one ERR per failing rule, the rule id
//! in ERR-8; AR for bytes that are not HL7 v2), and each becomes an entry of the report written
//! when the listener stops (after --max-messages, --max-seconds, or Ctrl-C / SIGTERM). Several
//! senders may connect at once; an idle one is dropped after --idle-seconds.

use super::suite::Suite;
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::{AckCode, AckOptions, ErrorCondition, MllpCodec, build_ack, build_reject};
use passerelle_validate::report::{FileReport, Severity};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

pub struct Options {
    pub max_messages: Option<usize>,
    pub max_seconds: Option<u64>,
    pub idle: Duration,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Where each message received is kept, verbatim (`<seq>_<code>.hl7`).
    pub save: Option<std::path::PathBuf>,
}

/// The table 0357 code for a finding's rule.
fn err_code(rule: &str) -> &'static str {
    if rule.contains("required") {
        "101"
    } else if rule.contains("event") || rule.contains("a08") {
        "201"
    } else if rule.contains("version") {
        "203"
    } else if rule.contains("order") {
        "100"
    } else {
        "207"
    }
}

/// The report entry and ACK for one received message.
pub fn answer(seq: usize, raw: &[u8], suite: &Suite) -> (FileReport, Vec<u8>) {
    let timestamp = passerelle_gateway::pipeline::hl7_now();
    let control = format!("PCL{seq:08}");
    let options = AckOptions { timestamp: &timestamp, control_id: &control, application: "PASSERELLE", facility: "CONFORMANCE" };
    let control_id = passerelle_hl7v2::parse(raw, &passerelle_hl7v2::ParseOptions::default())
        .ok()
        .and_then(|p| p.value.msh().and_then(|m| m.field(10).string()))
        .unwrap_or_else(|| "unreadable".into());
    let report = passerelle_validate::validate(&format!("received/{seq:04} MSH-10 {control_id}"), raw, &suite.packs, Severity::Error);
    let errors: Vec<ErrorCondition> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Error)
        .map(|f| ErrorCondition::new(err_code(f.rule), format!("{} ({}): {}", f.rule, f.location, f.message)))
        .collect();
    let ack = match passerelle_hl7v2::parse(raw, &passerelle_hl7v2::ParseOptions::default()) {
        Ok(parsed) if report.format == "hl7v2" => {
            let code = if errors.is_empty() { AckCode::Aa } else { AckCode::Ae };
            build_ack(Some(&parsed.value), code, &errors, &options)
        }
        _ => {
            let errors = if errors.is_empty() { vec![ErrorCondition::new("100", "not an HL7 v2 message")] } else { errors };
            build_reject(raw, &errors, &options)
        }
    };
    (report, ack)
}

/// Listens on `listener` until a stop condition; returns what was received, in order.
pub async fn listen(listener: TcpListener, suite: Arc<Suite>, options: Options) -> Vec<FileReport> {
    let received: Arc<Mutex<Vec<FileReport>>> = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let acceptor = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let options = Arc::new(options);
    if let Some(seconds) = options.max_seconds {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            stop.cancel();
        });
    }
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            _ = super::shutdown_signal() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let (suite, received, count, stop, options, acceptor) =
            (suite.clone(), received.clone(), count.clone(), stop.clone(), options.clone(), acceptor.clone());
        tokio::spawn(async move {
            let stream: super::Stream = match acceptor {
                Some(acceptor) => match tokio::time::timeout(options.idle, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => Box::new(tls),
                    _ => return,
                },
                None => Box::new(tcp),
            };
            serve(stream, &suite, (&received, &count), &stop, &options).await;
        });
    }
    let mut out = received.lock().map(|r| r.clone()).unwrap_or_default();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

async fn serve(stream: super::Stream, suite: &Suite, (received, count): (&Mutex<Vec<FileReport>>, &AtomicUsize), stop: &CancellationToken, options: &Options) {
    let mut framed = Framed::new(stream, MllpCodec::default());
    loop {
        let frame = tokio::select! {
            _ = stop.cancelled() => return,
            frame = tokio::time::timeout(options.idle, framed.next()) => frame,
        };
        let Ok(Some(Ok(raw))) = frame else { return };
        // Numbered on arrival across connections; past --max-messages nothing more is taken.
        let seq = count.fetch_add(1, Ordering::SeqCst) + 1;
        if options.max_messages.is_some_and(|max| seq > max) {
            return;
        }
        let (report, ack) = answer(seq, &raw, suite);
        if let Some(dir) = &options.save {
            let code = passerelle_hl7v2::read_ack(&ack).map(|(code, _)| code).unwrap_or_default();
            let _ = std::fs::write(dir.join(format!("{seq:04}_{code}.hl7")), &raw);
        }
        let reached_max = {
            let Ok(mut all) = received.lock() else { return };
            all.push(report);
            options.max_messages.is_some_and(|max| all.len() >= max)
        };
        if framed.send(ack).await.is_err() {
            return;
        }
        if reached_max {
            stop.cancel();
            return;
        }
    }
}
