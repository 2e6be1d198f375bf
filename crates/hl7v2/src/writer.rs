//! The ER7 writer: builds segments from text with correct escaping, and re-writes parsed messages.

use crate::charset::Charset;
use crate::delimiters::Delimiters;
use crate::escape::escape_into;
use crate::tokenizer::Message;

/// Writes ER7 segments terminated by CR. Text values are escaped and encoded in `charset`.
#[derive(Debug, Clone)]
pub struct Er7Writer {
    out: Vec<u8>,
    d: Delimiters,
    charset: Charset,
    /// Characters the charset could not carry were replaced with `?`.
    pub lossy: bool,
    scratch: Vec<u8>,
}

impl Er7Writer {
    pub fn new(d: Delimiters, charset: Charset) -> Self {
        Self::with_capacity(d, charset, 512)
    }

    /// A writer whose buffer is sized for the message up front (a document message).
    pub fn with_capacity(d: Delimiters, charset: Charset, capacity: usize) -> Self {
        Self { out: Vec::with_capacity(capacity), d, charset, lossy: false, scratch: Vec::new() }
    }

    /// Starts the MSH segment: `MSH` + field separator + encoding characters.
    pub fn begin_msh(&mut self) -> &mut Self {
        self.out.extend_from_slice(b"MSH");
        self.out.push(self.d.field);
        let enc = self.d.encoding_characters();
        self.out.extend_from_slice(&enc);
        self
    }

    pub fn begin_segment(&mut self, name: &str) -> &mut Self {
        self.out.extend_from_slice(name.as_bytes());
        self
    }

    fn put_text(&mut self, text: &str) {
        if text.is_ascii() || self.charset == Charset::Utf8 {
            // Already in the output charset: escaped straight into the message.
            escape_into(text.as_bytes(), &self.d, &mut self.out);
            return;
        }
        self.scratch.clear();
        self.lossy |= self.charset.encode(text, &mut self.scratch);
        escape_into(&self.scratch, &self.d, &mut self.out);
    }

    /// A field holding one text value.
    pub fn field(&mut self, text: &str) -> &mut Self {
        self.out.push(self.d.field);
        self.put_text(text);
        self
    }

    /// A field of components (one repetition).
    pub fn components(&mut self, components: &[&str]) -> &mut Self {
        self.out.push(self.d.field);
        self.put_components(components);
        self
    }

    fn put_components(&mut self, components: &[&str]) {
        let last = components.iter().rposition(|c| !c.is_empty()).map_or(0, |i| i + 1);
        for (i, c) in components[..last].iter().enumerate() {
            if i > 0 {
                self.out.push(self.d.component);
            }
            self.put_text(c);
        }
    }

    /// A field of repetitions, each a list of components whose items are sub-component lists.
    pub fn nested<S: AsRef<str>>(&mut self, repetitions: &[Vec<Vec<S>>]) -> &mut Self {
        self.out.push(self.d.field);
        for (r, rep) in repetitions.iter().enumerate() {
            if r > 0 {
                self.out.push(self.d.repetition);
            }
            for (c, comp) in rep.iter().enumerate() {
                if c > 0 {
                    self.out.push(self.d.component);
                }
                for (s, sub) in comp.iter().enumerate() {
                    if s > 0 {
                        self.out.push(self.d.subcomponent);
                    }
                    self.put_text(sub.as_ref());
                }
            }
        }
        self
    }

    /// A field copied byte for byte (already escaped, in the output charset).
    pub fn raw_field(&mut self, raw: &[u8]) -> &mut Self {
        self.out.push(self.d.field);
        self.out.extend_from_slice(raw);
        self
    }

    /// A field whose bytes `write` appends directly (already escaped, in the output charset): a
    /// base64 document goes into the message without an intermediate copy.
    pub fn raw_field_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        self.out.push(self.d.field);
        write(&mut self.out);
        self
    }

    pub fn end_segment(&mut self) -> &mut Self {
        self.out.push(b'\r');
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// Re-writes a parsed message from its decoded text, escaping again: for canonical input
/// (CR terminators, standard escapes only) the output is byte-identical to the input.
pub fn rewrite(msg: &Message<'_>) -> Vec<u8> {
    reencode(msg, None, None)
}

/// Re-writes a message for a receiver: text re-encoded in `charset` (MSH-18 updated) and MSH-12
/// set to `version`, every value decoded and escaped again. Z-segments are carried unchanged.
/// Characters the charset cannot carry become `?`; [`reencode_exact`] refuses them instead.
pub fn reencode(msg: &Message<'_>, charset: Option<Charset>, version: Option<&str>) -> Vec<u8> {
    write_for(msg, charset, version).finish()
}

/// Some text of the message cannot be written in the receiver's charset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("text that {charset} cannot represent")]
pub struct Unrepresentable {
    pub charset: &'static str,
}

/// Like [`reencode`], but a character the target charset cannot carry is an error, never a `?`.
pub fn reencode_exact(msg: &Message<'_>, charset: Option<Charset>, version: Option<&str>) -> Result<Vec<u8>, Unrepresentable> {
    let w = write_for(msg, charset, version);
    if w.lossy {
        return Err(Unrepresentable { charset: charset.unwrap_or(msg.charset()).msh18() });
    }
    Ok(w.finish())
}

fn write_for(msg: &Message<'_>, charset: Option<Charset>, version: Option<&str>) -> Er7Writer {
    let d = *msg.delimiters();
    let mut w = Er7Writer::new(d, charset.unwrap_or(msg.charset()));
    for seg in msg.segments() {
        let is_header = matches!(seg.name_bytes(), b"MSH" | b"FHS" | b"BHS");
        let is_msh = seg.name_bytes() == b"MSH";
        w.out.extend_from_slice(seg.name_bytes());
        let first = if is_header {
            w.out.push(d.field);
            w.out.extend_from_slice(seg.field(2).raw());
            3
        } else {
            1
        };
        let last = if is_msh && charset.is_some() { seg.field_count().max(18) } else { seg.field_count() };
        for n in first..=last {
            if is_msh
                && n == 18
                && let Some(c) = charset
            {
                w.field(c.msh18());
                continue;
            }
            if is_msh
                && n == 12
                && let Some(v) = version
            {
                w.field(v);
                continue;
            }
            let field = seg.field(n);
            let reps: Vec<Vec<Vec<String>>> = field
                .raw()
                .split(|&b| b == d.repetition)
                .map(|rep| {
                    rep.split(|&b| b == d.component).map(|comp| comp.split(|&b| b == d.subcomponent).map(|sub| field_text(&field, sub)).collect()).collect()
                })
                .collect();
            w.nested(&reps);
        }
        w.end_segment();
    }
    w
}

fn field_text(template: &crate::tokenizer::Field<'_>, raw: &[u8]) -> String {
    template.with_raw(raw).text().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::{ParseOptions, parse};

    #[test]
    fn builds_escaped_segments() {
        let mut w = Er7Writer::new(Delimiters::default(), Charset::Utf8);
        w.begin_segment("NTE").field("1").field("a|b^c").components(&["x", "y&z", "", ""]).end_segment();
        assert_eq!(w.finish(), b"NTE|1|a\\F\\b\\S\\c|x^y\\T\\z\r".to_vec());
    }

    #[test]
    fn parse_then_rewrite_of_canonical_input_is_byte_identical() {
        let input = "MSH|^~\\&|APP|FAC|RCV|RFAC|20260101120000||ADT^A01^ADT_A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||42^^^H&1.2.3&ISO^PI~7^^^X^AN||Müller\\S\\x^Zoé||19800101|F\rZBE|1\\F\\2|\\E\\\\T\\\\R\\|a&b&&c~~|\r";
        let parsed = parse(input.as_bytes(), &ParseOptions::default()).expect("parse");
        assert_eq!(String::from_utf8(rewrite(&parsed.value)).expect("utf8"), input);
        let latin = b"MSH|^~\\&|A|B|C|D|20260101||ADT^A04|2|P|2.5||||||8859/1\rPID|1||||Andr\xe9^Ren\xe9e\r";
        let parsed = parse(latin, &ParseOptions::default()).expect("parse");
        assert_eq!(rewrite(&parsed.value), latin.to_vec());
    }

    #[test]
    fn reencodes_charset_and_version_for_a_receiver() {
        let utf8 = "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|2|P|2.5^FRA^2.11||||||UNICODE UTF-8\rPID|1||||André^Renée\r";
        let parsed = parse(utf8.as_bytes(), &ParseOptions::default()).expect("parse");
        let out = reencode(&parsed.value, Some(Charset::Latin9), Some("2.5"));
        assert_eq!(out, b"MSH|^~\\&|A|B|C|D|20260101||ADT^A04|2|P|2.5||||||8859/15\rPID|1||||Andr\xe9^Ren\xe9e\r".to_vec());
        let short = parse(b"MSH|^~\\&|A|B|C|D|1||ADT^A04|2|P|2.5\r", &ParseOptions::default()).expect("parse");
        assert!(reencode(&short.value, Some(Charset::Utf8), None).ends_with(b"|||||UNICODE UTF-8\r"));
    }
}
