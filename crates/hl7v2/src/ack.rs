//! The ACK builder: AA/AE/AR, MSA-2 = the received MSH-10, ERR with an HL7 table 0357 code and the
//! location of the fault, sender and receiver swapped, MSH-9 = ACK^<trigger>^ACK.

use crate::charset::Charset;
use crate::tokenizer::Message;
use crate::writer::Er7Writer;
use passerelle_model::{Issue, IssueLocation, Severity};

/// MSA-1 acknowledgment code (original mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    /// Application accept: journaled and will be delivered.
    Aa,
    /// Application error: the message was read but cannot be processed as sent.
    Ae,
    /// Application reject: the bytes are not a usable HL7 v2 message (or the gateway cannot take it now).
    Ar,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aa => "AA",
            Self::Ae => "AE",
            Self::Ar => "AR",
        }
    }
}

/// One ERR segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCondition {
    /// HL7 table 0357 code.
    pub code: &'static str,
    /// Free text for ERR-8 (never patient data).
    pub message: String,
    pub severity: Severity,
    pub location: Option<IssueLocation>,
}

impl ErrorCondition {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), severity: Severity::Error, location: None }
    }
    /// Maps a diagnostic to an ERR: the diagnostic code decides the table 0357 code.
    pub fn from_issue(issue: &Issue) -> Self {
        Self { code: table_0357_for(issue.code), message: issue.message.clone(), severity: issue.severity, location: issue.er7().cloned() }
    }
}

/// HL7 table 0357 code for one of our diagnostic codes.
pub fn table_0357_for(diagnostic: &str) -> &'static str {
    match diagnostic {
        "missing-field" | "missing-msh10" | "missing-msh9" | "missing-pid" => "101",
        "bad-date" | "bad-value" | "segment-name" => "102",
        "unsupported-message-type" => "200",
        "unsupported-event" | "a08-forbidden-pam-fr" => "201",
        "unsupported-version" => "203",
        "duplicate" => "205",
        _ => "207",
    }
}

fn table_0357_text(code: &str) -> &'static str {
    match code {
        "0" => "Message accepted",
        "100" => "Segment sequence error",
        "101" => "Required field missing",
        "102" => "Data type error",
        "103" => "Table value not found",
        "200" => "Unsupported message type",
        "201" => "Unsupported event code",
        "202" => "Unsupported processing id",
        "203" => "Unsupported version id",
        "204" => "Unknown key identifier",
        "205" => "Duplicate key identifier",
        "206" => "Application record locked",
        _ => "Application internal error",
    }
}

/// What the ACK needs that the received message cannot give.
#[derive(Debug, Clone)]
pub struct AckOptions<'t> {
    /// MSH-7 of the ACK, already formatted as an HL7 DTM (the caller reads the clock).
    pub timestamp: &'t str,
    /// MSH-10 of the ACK itself.
    pub control_id: &'t str,
    /// MSH-3/MSH-4 to use when the received message is unreadable.
    pub application: &'t str,
    pub facility: &'t str,
}

/// Reads MSA-1 (acknowledgment code) and MSA-2 (the acknowledged MSH-10) of an ACK.
pub fn read_ack(bytes: &[u8]) -> Option<(String, String)> {
    let parsed = crate::tokenizer::parse(bytes, &crate::tokenizer::ParseOptions::default()).ok()?;
    let msa = parsed.value.segment("MSA")?;
    Some((msa.field(1).text().into_owned(), msa.field(2).text().into_owned()))
}

/// MSH-9.2 and MSH-10 as far as they can still be read from bytes that do not parse. Strict HL7
/// v2.5 requires both in an ACK: when nothing is readable, the trigger is `Varies` (table 0003's
/// entry for general acknowledgments) and MSA-2 is `UNKNOWN`, which matches no message id.
struct Salvaged {
    trigger: String,
    control_id: String,
}

const UNKNOWN_CONTROL_ID: &str = "UNKNOWN";
const UNKNOWN_TRIGGER: &str = "Varies";

fn salvage(raw: &[u8]) -> Salvaged {
    let mut out = Salvaged { trigger: UNKNOWN_TRIGGER.to_owned(), control_id: UNKNOWN_CONTROL_ID.to_owned() };
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let (Some(b"MSH"), Some(&separator)) = (raw.get(..3), raw.get(3)) else { return out };
    let line = raw.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or_default();
    let fields: Vec<&[u8]> = line.split(|&b| b == separator).collect();
    let component = fields.get(1).and_then(|f| f.first()).copied().filter(|c| !c.is_ascii_alphanumeric() && *c != separator).unwrap_or(b'^');
    let printable = |v: &[u8]| !v.is_empty() && v.len() <= 199 && v.iter().all(|b| b.is_ascii_graphic() && !b"^~\\&|".contains(b));
    if let Some(trigger) = fields.get(8).and_then(|f| f.split(|&b| b == component).nth(1)).filter(|t| t.len() == 3 && t.iter().all(u8::is_ascii_alphanumeric)) {
        out.trigger = String::from_utf8_lossy(trigger).into_owned();
    }
    if let Some(id) = fields.get(9).filter(|v| printable(v)) {
        out.control_id = String::from_utf8_lossy(id).into_owned();
    }
    out
}

/// The AR for bytes that are not a readable HL7 v2 message: from the gateway's identity, echoing
/// whatever trigger and control id can still be read from the first line.
pub fn build_reject(raw: &[u8], errors: &[ErrorCondition], options: &AckOptions<'_>) -> Vec<u8> {
    build(None, &salvage(raw), AckCode::Ar, errors, options)
}

/// Builds the ACK for `received` (or for unreadable bytes when `None`; prefer [`build_reject`]
/// when the bytes are at hand).
pub fn build_ack(received: Option<&Message<'_>>, code: AckCode, errors: &[ErrorCondition], options: &AckOptions<'_>) -> Vec<u8> {
    build(received, &salvage(b""), code, errors, options)
}

fn build(received: Option<&Message<'_>>, salvaged: &Salvaged, code: AckCode, errors: &[ErrorCondition], options: &AckOptions<'_>) -> Vec<u8> {
    let msh = received.and_then(|m| m.msh());
    // The received delimiters, unless MSH-2 lacked the escape character: an ACK declares all four.
    let d = received.map(|m| *m.delimiters()).filter(|d| d.escape.is_some()).unwrap_or_default();
    let charset = received.map_or(Charset::Utf8, |m| m.charset());
    let mut w = Er7Writer::new(d, charset);
    w.begin_msh();
    match msh {
        Some(msh) => {
            // Sender and receiver swapped; raw copies keep escapes and charset intact. A sender
            // that did not name its receiver gets the gateway's identity instead of a blank.
            match msh.field(5).is_empty() && msh.field(6).is_empty() {
                true => w.field(options.application).field(options.facility),
                false => w.raw_field(msh.field(5).raw()).raw_field(msh.field(6).raw()),
            };
            w.raw_field(msh.field(3).raw()).raw_field(msh.field(4).raw());
        }
        None => {
            w.field(options.application).field(options.facility).field("").field("");
        }
    }
    w.field(options.timestamp).field("");
    let trigger = msh.map(|m| m.field(9).component(2).text().into_owned()).filter(|t| !t.is_empty()).unwrap_or_else(|| salvaged.trigger.clone());
    w.components(&["ACK", &trigger, "ACK"]);
    w.field(options.control_id);
    match msh {
        Some(msh) if !msh.field(11).is_empty() => w.raw_field(msh.field(11).raw()),
        _ => w.field("P"),
    };
    match msh {
        Some(msh) if !msh.field(12).is_empty() => w.raw_field(msh.field(12).raw()),
        _ => w.field("2.5"),
    };
    if let Some(charset_field) = msh.map(|m| m.field(18)).filter(|f| !f.is_empty()) {
        for _ in 13..18 {
            w.field("");
        }
        w.raw_field(charset_field.raw());
    }
    w.end_segment();
    w.begin_segment("MSA").field(code.as_str());
    match msh {
        Some(msh) if !msh.field(10).is_empty() => w.raw_field(msh.field(10).raw()),
        _ => w.field(&salvaged.control_id),
    };
    // MSA-3 repeats the first error's text for receivers that only read MSA (ERR-8 has them all).
    if let Some(first) = errors.iter().find(|e| e.severity == Severity::Error).filter(|_| code != AckCode::Aa) {
        w.field(&first.message);
    }
    w.end_segment();
    for e in errors {
        w.begin_segment("ERR").field("");
        match &e.location {
            Some(loc) => {
                let seq = if loc.sequence == 0 { String::new() } else { loc.sequence.to_string() };
                let num = |n: usize| if n == 0 { String::new() } else { n.to_string() };
                let (f, r, c, s) = (num(loc.field), num(loc.repetition), num(loc.component), num(loc.subcomponent));
                w.components(&[&loc.segment, &seq, &f, &r, &c, &s]);
            }
            None => {
                w.field("");
            }
        }
        // ERR-3 is bound to table 0357 by definition; CWE-3 is left empty because strict v2.5
        // validators read it against table 0396, where only the pattern "HL7nnnn" is listed.
        w.components(&[e.code, table_0357_text(e.code)]);
        let severity = match e.severity {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Info => "I",
        };
        w.field(severity);
        for _ in 5..8 {
            w.field("");
        }
        w.field(&e.message);
        w.end_segment();
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::{ParseOptions, parse};

    const OPTS: AckOptions<'static> = AckOptions { timestamp: "20260101120000", control_id: "ACK1", application: "PASSERELLE", facility: "GW" };

    #[test]
    fn accept_swaps_sender_and_receiver_and_echoes_the_control_id() {
        let input = b"MSH|^~\\&|SND|SFAC|RCV|RFAC|20260101||ADT^A01^ADT_A01|MSG-42|P|2.5^FRA^2.11\rPID|1\r";
        let parsed = parse(input, &ParseOptions::default()).expect("parse");
        let ack = build_ack(Some(&parsed.value), AckCode::Aa, &[], &OPTS);
        assert_eq!(String::from_utf8(ack).expect("utf8"), "MSH|^~\\&|RCV|RFAC|SND|SFAC|20260101120000||ACK^A01^ACK|ACK1|P|2.5^FRA^2.11\rMSA|AA|MSG-42\r");
    }

    #[test]
    fn error_carries_table_0357_code_and_location() {
        let input = b"MSH|^~\\&|SND|SFAC|RCV|RFAC|20260101||ADT^A08|M1|P|2.5\r";
        let parsed = parse(input, &ParseOptions::default()).expect("parse");
        let issue = Issue::error("missing-pid", "no PID segment").at(IssueLocation::segment("PID", 1));
        let ack = build_ack(Some(&parsed.value), AckCode::Ae, &[ErrorCondition::from_issue(&issue)], &OPTS);
        let text = String::from_utf8(ack).expect("utf8");
        assert!(text.ends_with("MSA|AE|M1|no PID segment\rERR||PID^1|101^Required field missing|E||||no PID segment\r"), "{text}");
    }

    #[test]
    fn reads_back_msa_of_an_ack() {
        let ack = build_ack(None, AckCode::Ar, &[], &OPTS);
        assert_eq!(read_ack(&ack), Some(("AR".into(), "UNKNOWN".into())));
        assert_eq!(read_ack(b"MSH|^~\\&|A\rMSA|AA|C-9\r"), Some(("AA".into(), "C-9".into())));
        assert_eq!(read_ack(b"MSH|^~\\&|A\r"), None);
        assert_eq!(read_ack(b"garbage"), None);
    }

    #[test]
    fn unreadable_input_gets_an_ar_from_the_gateway_identity() {
        let ack = build_ack(None, AckCode::Ar, &[ErrorCondition::new("100", "message does not start with an MSH segment")], &OPTS);
        let text = String::from_utf8(ack).expect("utf8");
        assert!(
            text.starts_with(
                "MSH|^~\\&|PASSERELLE|GW|||20260101120000||ACK^Varies^ACK|ACK1|P|2.5\rMSA|AR|UNKNOWN|message does not start with an MSH segment\rERR|||100^"
            ),
            "{text}"
        );
        let salvaged = String::from_utf8(build_reject(b"MSH|^^\\&|APP|FAC|RCV|RFAC|20261101||ADT^A01|X1|P|2.5\r", &[], &OPTS)).expect("utf8");
        assert!(salvaged.contains("|ACK^A01^ACK|ACK1|") && salvaged.contains("\rMSA|AR|X1\r"), "{salvaged}");
    }
}
