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
}
