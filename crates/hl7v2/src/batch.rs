//! HL7 v2 batch files (`FHS` `BHS` … `BTS` `FTS`): split into their messages, each one whole (from
//! its MSH up to the next MSH or trailer segment), with the counts the trailers declare checked.

use passerelle_model::Issue;

/// The messages of a batch file, as slices of the input, and what its trailers say.
#[derive(Debug, Clone, Default)]
pub struct Batch<'a> {
    pub messages: Vec<&'a [u8]>,
    /// Diagnostics of the batch itself (a count that does not match, a missing trailer).
    pub issues: Vec<Issue>,
}

/// Whether `input` is an HL7 v2 batch (starts with FHS or BHS) rather than one message.
pub fn is_batch(input: &[u8]) -> bool {
    let start = input.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(input.len());
    matches!(input.get(start..start + 3), Some(b"FHS" | b"BHS"))
}

/// Splits `input` at each MSH; the header and trailer segments are not part of any message.
/// BTS-1 (messages in the batch) and FTS-1 (batches in the file) are checked when present.
pub fn split(input: &[u8]) -> Batch<'_> {
    let mut batch = Batch::default();
    let mut start: Option<usize> = None;
    let (mut batches, mut in_batch) = (0usize, 0usize);
    let mut offset = 0;
    for line in input.split_inclusive(|&b| b == b'\r' || b == b'\n') {
        let segment = line.trim_ascii();
        let name = segment.get(..3).unwrap_or_default();
        let is_control = matches!(name, b"FHS" | b"BHS" | b"BTS" | b"FTS");
        if (name == b"MSH" || is_control)
            && let Some(s) = start.take()
        {
            batch.messages.push(&input[s..offset]);
            in_batch += 1;
        }
        match name {
            b"MSH" => start = Some(offset),
            b"BHS" => {
                batches += 1;
                in_batch = 0;
            }
            b"BTS" => {
                if let Some(declared) = count(segment)
                    && declared != in_batch
                {
                    batch.issues.push(Issue::error("batch-count", format!("BTS-1 declares {declared} messages, the batch holds {in_batch}")));
                }
            }
            b"FTS" => {
                if let Some(declared) = count(segment)
                    && declared != batches.max(1)
                {
                    batch.issues.push(Issue::error("batch-count", format!("FTS-1 declares {declared} batches, the file holds {}", batches.max(1))));
                }
            }
            _ => {}
        }
        offset += line.len();
    }
    if let Some(s) = start {
        batch.messages.push(&input[s..]);
    }
    batch
}

/// Whether the sender of `message` asks for its acknowledgement, given whether it was accepted:
/// MSH-15 and MSH-16 (HL7 table 0155) `AL` always, `ER` on error, `SU` on success, `NE` never; both
/// empty is the original acknowledgement mode, which always answers.
pub fn wants_ack(message: &[u8], accepted: bool) -> bool {
    let Some(msh) = message.split(|&b| b == b'\r' || b == b'\n').next().filter(|m| m.starts_with(b"MSH")) else { return true };
    let Some(&separator) = msh.get(3) else { return true };
    // MSH-1 is the separator itself: MSH-15 is the 14th piece after the segment name.
    let fields: Vec<&[u8]> = msh.split(|&b| b == separator).collect();
    let code = |n: usize| fields.get(n - 1).copied().unwrap_or_default().trim_ascii();
    let (accept, application) = (code(15), code(16));
    if accept.is_empty() && application.is_empty() {
        return true;
    }
    [accept, application].iter().any(|c| match *c {
        b"AL" => true,
        b"ER" => !accepted,
        b"SU" => accepted,
        _ => false,
    })
}

/// The batch acknowledgement of a batch: `FHS`/`BHS`, the acknowledgements the sender asked for,
/// then `BTS`/`FTS` with their counts. `reference` is the original batch's control id (BHS-11),
/// named in BHS-12.
pub fn ack_batch(application: &str, facility: &str, timestamp: &str, control_id: &str, reference: &str, acks: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + acks.iter().map(|a| a.len()).sum::<usize>());
    for header in ["FHS", "BHS"] {
        out.extend_from_slice(format!("{header}|^~\\&|{application}|{facility}|||{timestamp}||||{control_id}|{reference}\r").as_bytes());
    }
    for ack in acks {
        out.extend_from_slice(ack);
        if !ack.ends_with(b"\r") {
            out.push(b'\r');
        }
    }
    out.extend_from_slice(format!("BTS|{}\rFTS|1\r", acks.len()).as_bytes());
    out
}

/// BHS-11 (batch control id) of a batch, when it has one.
pub fn batch_control_id(input: &[u8]) -> String {
    let bhs = input.split(|&b| b == b'\r' || b == b'\n').find(|l| l.trim_ascii_start().starts_with(b"BHS"));
    bhs.and_then(|l| l.trim_ascii_start().split(|&b| b == b'|').nth(10)).map(|f| String::from_utf8_lossy(f).into_owned()).unwrap_or_default()
}

/// Field 1 of a trailer segment as a count.
fn count(segment: &[u8]) -> Option<usize> {
    let field = segment.get(4..)?.split(|&b| b == b'|').next()?;
    std::str::from_utf8(field).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &[u8] = b"FHS|^~\\&|LAB\rBHS|^~\\&|LAB\rMSH|^~\\&|A|B|C|D|20261201||ADT^A28|1|P|2.5\rPID|1||X1\rMSH|^~\\&|A|B|C|D|20261201||ADT^A31|2|P|2.5\rPID|1||X2\rBTS|2\rFTS|1\r";

    #[test]
    fn a_batch_splits_into_its_whole_messages_and_its_counts_are_checked() {
        assert!(is_batch(TWO) && !is_batch(b"MSH|^~\\&|A"));
        let batch = split(TWO);
        assert_eq!(batch.messages.len(), 2);
        assert!(batch.messages[0].starts_with(b"MSH") && batch.messages[0].ends_with(b"PID|1||X1\r"));
        assert!(batch.messages[1].ends_with(b"PID|1||X2\r"));
        assert!(batch.issues.is_empty(), "{:?}", batch.issues);
        let wrong = [&TWO[..TWO.len() - 12], b"BTS|3\rFTS|1\r"].concat();
        assert_eq!(split(&wrong).issues.len(), 1, "BTS-1 says 3, there are 2");
        let lf = String::from_utf8_lossy(TWO).replace('\r', "\n");
        assert_eq!(split(lf.as_bytes()).messages.len(), 2, "LF separators too");
    }

    #[test]
    fn the_sender_says_which_acknowledgements_it_wants() {
        let msh = |accept: &str, application: &str| format!("MSH|^~\\&|A|B|C|D|20261201||ADT^A28|1|P|2.5|||{accept}|{application}\r");
        assert!(wants_ack(msh("", "").as_bytes(), true), "original mode always answers");
        assert!(wants_ack(msh("AL", "NE").as_bytes(), true));
        assert!(!wants_ack(msh("NE", "NE").as_bytes(), false));
        assert!(wants_ack(msh("NE", "ER").as_bytes(), false) && !wants_ack(msh("NE", "ER").as_bytes(), true));
        assert!(wants_ack(msh("SU", "").as_bytes(), true) && !wants_ack(msh("SU", "").as_bytes(), false));
    }

    #[test]
    fn a_batch_acknowledgement_counts_what_it_holds() {
        let ack = ack_batch("PSR", "HUB", "20261201120000", "B1", "LAB-7", &[b"MSH|^~\\&|x\rMSA|AA|1\r", b"MSH|^~\\&|x\rMSA|AE|2"]);
        let text = String::from_utf8(ack).expect("utf8");
        assert!(text.starts_with("FHS|^~\\&|PSR|HUB|||20261201120000||||B1|LAB-7\rBHS|"), "{text}");
        assert!(text.ends_with("MSA|AE|2\rBTS|2\rFTS|1\r"), "{text}");
        assert_eq!(split(text.as_bytes()).messages.len(), 2);
        assert_eq!(batch_control_id(b"FHS|^~\\&|L\rBHS|^~\\&|LAB|F|||20261201||||LAB-7\r"), "LAB-7");
    }
}
