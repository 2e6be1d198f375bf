//! `passerelle conformance run --suite S --target mllp://HOST:PORT [--tls --ca F [--cert F --key F]]`:
//! sends each step of the suite to a vendor's receiver, one connection reused while it stays up,
//! each message with an MSH-10 of its own, and checks each ACK: there is one, it is a valid HL7 v2
//! ACK, MSA-2 is the MSH-10 sent, MSA-1 is the expected outcome, a refusal has an ERR. One step is
//! one entry of the report (the formats of `validate`).

use super::suite::{Expect, Step, Suite};
use super::{Stream, connect};
use futures_util::{SinkExt, StreamExt};
use passerelle_hl7v2::MllpCodec;
use passerelle_validate::conformance::PACK;
use passerelle_validate::report::{FileReport, Finding, Location, Severity, Status};
use std::time::Duration;
use tokio_util::codec::Framed;

/// Where and how to reach the receiver.
pub struct Target {
    pub address: String,
    pub tls: Option<passerelle_gateway::tls::DestinationTls>,
    pub timeout: Duration,
}

fn at(path: &str) -> Location {
    Location { path: path.into(), ..Location::default() }
}

fn finding(rule: &'static str, path: &str, message: impl Into<String>) -> Finding {
    Finding::new(rule, Severity::Error, at(path), message, PACK.name)
}

/// `bytes` with MSH-10 replaced by `control_id` (CR segment terminators).
pub fn with_control_id(bytes: &[u8], control_id: &str) -> Vec<u8> {
    let wire = crate::send::to_wire(bytes);
    let end = wire.iter().position(|b| *b == b'\r').unwrap_or(wire.len());
    let (msh, rest) = wire.split_at(end);
    let Some(&separator) = msh.get(3) else { return wire };
    let mut fields: Vec<&[u8]> = msh.split(|b| *b == separator).collect();
    // fields[0] is "MSH", fields[1] the encoding characters (MSH-2): MSH-n is fields[n - 1].
    while fields.len() < 10 {
        fields.push(b"");
    }
    fields[9] = control_id.as_bytes();
    let mut out = fields.join(&separator);
    out.extend_from_slice(rest);
    out
}

/// The findings of the ACK `ack` to a message sent with MSH-10 `sent_id`, expected to be `expect`ed.
pub fn check_ack(ack: &[u8], sent_id: &str, expect: Expect) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parsed = match passerelle_hl7v2::parse(ack, &passerelle_hl7v2::ParseOptions::default()) {
        Ok(parsed) => parsed.value,
        Err(e) => return vec![finding("conformance.ack.valid", "MSH", format!("the ACK is not HL7 v2: {e}"))],
    };
    let packs = [passerelle_validate::hl7v2::structure::PACK];
    let structure = passerelle_validate::validate("ack", ack, &packs, Severity::Error);
    for f in structure.findings.iter().filter(|f| f.severity >= Severity::Error) {
        findings.push(finding("conformance.ack.valid", &f.at.path, format!("{}: {}", f.rule, f.message)));
    }
    let msh9 = parsed.msh().map(|m| m.component(9, 1).string().unwrap_or_default()).unwrap_or_default();
    if msh9 != "ACK" {
        findings.push(finding("conformance.ack.type", "MSH-9", format!("MSH-9.1 is {msh9:?}, not ACK")));
    }
    let Some(msa) = parsed.segment("MSA") else {
        findings.push(finding("conformance.ack.valid", "MSA", "the ACK has no MSA segment"));
        return findings;
    };
    let (code, acknowledged) = (msa.field(1).string().unwrap_or_default(), msa.field(2).string().unwrap_or_default());
    if acknowledged != sent_id {
        findings.push(finding("conformance.ack.msa2", "MSA-2", format!("MSA-2 is {acknowledged:?}, the message sent was {sent_id:?}")));
    }
    let refused = matches!(code.as_str(), "AE" | "AR" | "CE" | "CR");
    let as_expected = match expect {
        Expect::Accept => matches!(code.as_str(), "AA" | "CA"),
        Expect::Reject => refused,
    };
    if !as_expected {
        let wanted = if expect == Expect::Accept { "AA (the message is conformant)" } else { "AE or AR (the message breaks a rule)" };
        findings.push(finding("conformance.ack.code", "MSA-1", format!("MSA-1 is {code:?}, expected {wanted}")));
    }
    if refused && parsed.segment("ERR").is_none() {
        findings.push(finding("conformance.ack.err", "ERR", format!("a {code} without an ERR segment saying why")));
    }
    findings
}

/// A control id for step `n` of this run: at most 20 characters, unique per run.
fn control_id(run: &str, n: usize) -> String {
    format!("PC{run}{n:04}")
}

/// Runs every step of `suite` against `target`.
pub async fn run(suite: &Suite, target: &Target) -> Vec<FileReport> {
    let run_id = format!("{:08X}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64 & 0xFFFF_FFFF));
    let mut connection: Option<Framed<Stream, MllpCodec>> = None;
    let mut reports = Vec::new();
    let mut n = 0;
    for scenario in &suite.scenarios {
        for (i, step) in scenario.steps.iter().enumerate() {
            n += 1;
            let name = format!("{}/{} {}", scenario.name, i + 1, step.message_path);
            let findings = exchange(step, &control_id(&run_id, n), target, &mut connection).await;
            let status = if findings.is_empty() { Status::Pass } else { Status::Fail };
            reports.push(FileReport { path: name, format: "hl7v2", status, findings, not_checked: Vec::new() });
        }
    }
    reports
}

async fn exchange(step: &Step, id: &str, target: &Target, connection: &mut Option<Framed<Stream, MllpCodec>>) -> Vec<Finding> {
    if connection.is_none() {
        match connect(&target.address, target.tls.as_ref(), target.timeout).await {
            Ok(stream) => *connection = Some(Framed::new(stream, MllpCodec::default())),
            Err(e) => return vec![finding("conformance.connect", &target.address, format!("{e:#}"))],
        }
    }
    let Some(framed) = connection.as_mut() else { return Vec::new() };
    let message = with_control_id(&step.bytes, id);
    if let Err(e) = framed.send(message).await {
        *connection = None;
        return vec![finding("conformance.ack.missing", "MSH-10", format!("the connection broke while sending: {e}"))];
    }
    match tokio::time::timeout(target.timeout, framed.next()).await {
        Ok(Some(Ok(ack))) => check_ack(&ack, id, step.expect),
        Ok(Some(Err(e))) => {
            *connection = None;
            vec![finding("conformance.ack.missing", "MSH-10", format!("the ACK could not be read: {e}"))]
        }
        Ok(None) => {
            *connection = None;
            vec![finding("conformance.ack.missing", "MSH-10", "the receiver closed the connection without an ACK")]
        }
        Err(_) => {
            *connection = None;
            vec![finding("conformance.ack.missing", "MSH-10", format!("no ACK within {} s", target.timeout.as_secs_f32()))]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_id_is_replaced_and_nothing_else() {
        let out = with_control_id(b"MSH|^~\\&|A|B|C|D|20261120||ADT^A01^ADT_A01|OLD|P|2.5\rPID|1\r", "NEW1");
        assert_eq!(out, b"MSH|^~\\&|A|B|C|D|20261120||ADT^A01^ADT_A01|NEW1|P|2.5\rPID|1\r");
        assert!(control_id("0123ABCD", 9999).len() <= 20);
    }

    #[test]
    fn an_ack_is_judged_by_its_code_its_msa2_and_its_err() {
        let aa = b"MSH|^~\\&|R|F|S|F|20261120100000||ACK^A01^ACK|A1|P|2.5\rMSA|AA|ID1\r";
        assert!(check_ack(aa, "ID1", Expect::Accept).is_empty());
        let rules = |f: Vec<Finding>| f.iter().map(|f| f.rule).collect::<Vec<_>>();
        assert_eq!(rules(check_ack(aa, "ID2", Expect::Accept)), ["conformance.ack.msa2"]);
        assert_eq!(rules(check_ack(aa, "ID1", Expect::Reject)), ["conformance.ack.code"]);
        let ae = b"MSH|^~\\&|R|F|S|F|20261120100000||ACK^A01^ACK|A1|P|2.5\rMSA|AE|ID1\r";
        assert_eq!(rules(check_ack(ae, "ID1", Expect::Reject)), ["conformance.ack.err"]);
        assert_eq!(rules(check_ack(b"not hl7", "ID1", Expect::Accept)), ["conformance.ack.valid"]);
    }
}
