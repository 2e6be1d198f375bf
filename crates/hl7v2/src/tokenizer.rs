//! The ER7 tokenizer: one pass over the bytes records segment and field spans in two flat vectors;
//! repetitions, components and sub-components are split lazily, escapes and charset only on read.

use crate::charset::Charset;
use crate::delimiters::Delimiters;
use crate::error::Error;
use crate::escape;
use passerelle_model::{Issue, IssueLocation, Parsed};
use std::borrow::Cow;

/// Decoding choices a deployment makes once.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// Charset used when MSH-18 is empty or unknown. Invalid UTF-8 then falls back to ISO-8859-1.
    pub default_charset: Charset,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy)]
struct SegmentEntry {
    name: Span,
    line: Span,
    first_field: u32,
    field_count: u32,
}

/// A tokenized message borrowing its input. Z-segments and unknown segments are kept in order.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    input: &'a [u8],
    delimiters: Delimiters,
    charset: Charset,
    /// The input holds control characters other than segment terminators and tab (decided once).
    controls: bool,
    segments: Vec<SegmentEntry>,
    fields: Vec<Span>,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Tokenizes one HL7 v2 message (or a batch; `Message::msh` is then its first MSH).
pub fn parse<'a>(input: &'a [u8], options: &ParseOptions) -> Result<Parsed<Message<'a>>, Error> {
    let mut issues = Vec::new();
    let mut start = 0usize;
    if input.starts_with(BOM) {
        start = BOM.len();
        issues.push(Issue::info("bom", "UTF-8 byte order mark skipped"));
    }
    while start < input.len() && matches!(input[start], b'\r' | b'\n' | b' ' | b'\t' | 0x0B) {
        start += 1;
    }
    let body = &input[start..];
    if body.iter().all(|b| b.is_ascii_whitespace() || *b == 0x1C) {
        return Err(Error::Empty);
    }
    let header = body.get(..3).ok_or(Error::NoMsh)?;
    let is_batch = header == b"FHS" || header == b"BHS";
    if header != b"MSH" && !is_batch {
        return Err(Error::NoMsh);
    }
    let (delimiters, enc_len, repaired) = Delimiters::from_msh(&body[3..])?;
    if repaired {
        issues.push(Issue::warning("msh2-repaired", "MSH-2 repeats a delimiter; read as the standard ^~\\&").at(IssueLocation::field("MSH", 1, 2)));
    }
    if is_batch {
        issues.push(Issue::info("batch-envelope", "batch envelope (FHS/BHS); the first MSH is the message"));
    }

    let controls = input.iter().fold(false, |seen, &b| seen | (b < 0x20 && !matches!(b, b'\r' | b'\n' | b'\t' | 0x0B | 0x1C)));
    let mut msg =
        Message { input, delimiters, charset: options.default_charset, controls, segments: Vec::with_capacity(16), fields: Vec::with_capacity(body.len() / 8) };
    // A blank line counts only when a segment follows it (trailing blank lines are normal);
    // remembering it, rather than scanning ahead, keeps the pass linear.
    let (mut saw_lf, mut saw_blank, mut pending_blank) = (false, false, false);
    let mut pos = start;
    let end = input.len();
    while pos < end {
        let line_end = memchr::memchr2(b'\r', b'\n', &input[pos..]).map_or(end, |i| pos + i);
        let mut next = line_end + 1;
        if line_end < end && input[line_end] == b'\n' {
            saw_lf = true;
        } else if line_end + 1 < end && input[line_end] == b'\r' && input[line_end + 1] == b'\n' {
            saw_lf = true;
            next += 1;
        }
        let line = &input[pos..line_end];
        if line.iter().all(|b| b.is_ascii_whitespace() || *b == 0x1C) {
            pending_blank = true;
        } else {
            saw_blank |= pending_blank;
            pending_blank = false;
            msg.push_segment(pos, line, enc_len, &mut issues);
        }
        pos = next;
    }
    if saw_lf {
        issues.push(Issue::info("segment-terminator-lf", "segments terminated by LF or CRLF instead of CR"));
    }
    if saw_blank {
        issues.push(Issue::info("blank-line", "blank line between segments skipped"));
    }
    msg.read_charset(options, &mut issues);
    Ok(Parsed::new(msg, issues))
}

impl<'a> Message<'a> {
    fn push_segment(&mut self, offset: usize, line: &[u8], enc_len: usize, issues: &mut Vec<Issue>) {
        let d = self.delimiters;
        let sep = d.field;
        let name_len = memchr::memchr(sep, line).unwrap_or(line.len());
        let span = |a: usize, b: usize| Span { start: (offset + a) as u32, end: (offset + b) as u32 };
        let first_field = self.fields.len() as u32;
        let name = &line[..name_len];
        let is_header = matches!(name, b"MSH" | b"FHS" | b"BHS") && line.len() > 3;
        if name.len() != 3 || !name.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            let seq = self.segments.len() + 1;
            issues.push(Issue::warning("segment-name", format!("segment {seq} has a malformed name; kept as is")));
        }
        let cursor = if is_header {
            // MSH-1 is the field separator itself, MSH-2 the encoding characters.
            let enc_end = (4 + enc_len).min(line.len());
            self.fields.push(span(3, 4));
            self.fields.push(span(4, enc_end));
            enc_end
        } else {
            name_len
        };
        if cursor < line.len() && line[cursor] == sep {
            // One pass over the line for every separator, instead of one search per field.
            let mut from = cursor + 1;
            for i in memchr::memchr_iter(sep, &line[from..]) {
                let to = cursor + 1 + i;
                self.fields.push(span(from, to));
                from = to + 1;
            }
            self.fields.push(span(from, line.len()));
        }
        self.segments.push(SegmentEntry {
            name: span(0, name_len),
            line: span(0, line.len()),
            first_field,
            field_count: self.fields.len() as u32 - first_field,
        });
    }

    fn read_charset(&mut self, options: &ParseOptions, issues: &mut Vec<Issue>) {
        let Some(msh) = self.msh() else { return };
        let declared = msh.field(18).first_repetition().raw();
        if declared.is_empty() {
            self.charset = options.default_charset;
        } else if let Some(c) = Charset::from_msh18(declared) {
            self.charset = c;
        } else {
            issues.push(Issue::warning("charset-unknown", "MSH-18 names an unsupported charset; the default is used").at(IssueLocation::field("MSH", 1, 18)));
        }
        // One look at the whole message decides how every value is read, instead of a check per field.
        if self.input.is_ascii() {
            return;
        }
        let at = IssueLocation::field("MSH", 1, 18);
        let valid_utf8 = std::str::from_utf8(self.input).is_ok();
        match self.charset {
            Charset::Utf8 if !valid_utf8 => {
                let code = if declared.is_empty() { "charset-fallback-latin1" } else { "charset-mismatch" };
                issues.push(Issue::warning(code, "bytes are not valid UTF-8; decoded as ISO-8859-1").at(at));
                self.charset = Charset::Latin1;
            }
            // Latin-1 text that happens to be valid multi-byte UTF-8 is vanishingly rare; UTF-8 sent
            // under an 8859 label is common, and reading it as Latin-1 gives mojibake (`MÃ¼ller`).
            Charset::Latin1 | Charset::Latin9 if valid_utf8 => {
                issues.push(Issue::warning("charset-mismatch", "MSH-18 declares ISO-8859 but the bytes are UTF-8; decoded as UTF-8").at(at));
                self.charset = Charset::Utf8;
            }
            Charset::Latin1 if self.input.iter().any(|b| (0x80..=0x9f).contains(b)) => {
                issues.push(Issue::warning("charset-windows-1252", "bytes 0x80-0x9F under 8859/1 decoded as windows-1252").at(at));
            }
            _ => {}
        }
    }

    pub fn input(&self) -> &'a [u8] {
        self.input
    }
    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }
    pub fn charset(&self) -> Charset {
        self.charset
    }
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_, 'a>> + '_ {
        (0..self.segments.len()).map(move |index| Segment { msg: self, index })
    }
    /// Segments with this name, in order.
    pub fn segments_named<'m>(&'m self, name: &'m str) -> impl Iterator<Item = Segment<'m, 'a>> + 'm {
        self.segments().filter(move |s| s.name_bytes() == name.as_bytes())
    }
    /// The first segment with this name.
    pub fn segment(&self, name: &str) -> Option<Segment<'_, 'a>> {
        let name = name.as_bytes();
        self.segments().find(|s| s.name_bytes() == name)
    }
    pub fn msh(&self) -> Option<Segment<'_, 'a>> {
        self.segment("MSH")
    }
}

/// One segment of a message.
#[derive(Clone, Copy)]
pub struct Segment<'m, 'a> {
    msg: &'m Message<'a>,
    index: usize,
}

impl<'m, 'a> Segment<'m, 'a> {
    fn entry(&self) -> &SegmentEntry {
        &self.msg.segments[self.index]
    }
    fn slice(&self, s: Span) -> &'a [u8] {
        &self.msg.input[s.start as usize..s.end as usize]
    }
    pub fn name_bytes(&self) -> &'a [u8] {
        self.slice(self.entry().name)
    }
    pub fn name(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.name_bytes())
    }
    /// The whole segment line, without its terminator.
    pub fn raw(&self) -> &'a [u8] {
        self.slice(self.entry().line)
    }
    /// Position of this segment in the message (0-based).
    pub fn index(&self) -> usize {
        self.index
    }
    /// Number of fields present (trailing empty fields that were sent count).
    pub fn field_count(&self) -> usize {
        self.entry().field_count as usize
    }
    /// Field `n` (1-based, HL7 numbering; MSH-1 is the field separator). Absent fields are empty.
    pub fn field(&self, n: usize) -> Field<'a> {
        let e = self.entry();
        let raw = if n >= 1 && n <= e.field_count as usize { self.slice(self.msg.fields[e.first_field as usize + n - 1]) } else { &[] };
        Field { raw, d: self.msg.delimiters, charset: self.msg.charset, controls: self.msg.controls }
    }
    /// Field `n` of the first repetition, component `c` (1-based).
    pub fn component(&self, n: usize, c: usize) -> Field<'a> {
        self.field(n).component(c)
    }
}

/// A field, repetition, component or sub-component: raw bytes plus what is needed to read them.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    raw: &'a [u8],
    d: Delimiters,
    charset: Charset,
    /// Whether the message's bytes hold control characters to strip from values.
    controls: bool,
}

fn nth_part(raw: &[u8], sep: u8, n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    raw.split(|&b| b == sep).nth(n - 1).unwrap_or(&[])
}

impl<'a> Field<'a> {
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// The HL7 null `""`: the sender asks to delete the value.
    pub fn is_null(&self) -> bool {
        self.raw == b"\"\""
    }
    fn with(&self, raw: &'a [u8]) -> Self {
        Self { raw, ..*self }
    }
    /// Another value read with this one's delimiters and charset.
    pub fn with_raw<'b>(&self, raw: &'b [u8]) -> Field<'b> {
        Field { raw, d: self.d, charset: self.charset, controls: self.controls }
    }
    pub fn repetitions(&self) -> impl Iterator<Item = Field<'a>> + 'a {
        let this = *self;
        let empty = self.raw.is_empty();
        self.raw.split(move |&b| b == this.d.repetition).filter(move |_| !empty).map(move |r| this.with(r))
    }
    pub fn first_repetition(&self) -> Field<'a> {
        let end = memchr::memchr(self.d.repetition, self.raw).unwrap_or(self.raw.len());
        self.with(&self.raw[..end])
    }
    /// Component `n` (1-based) of the first repetition.
    pub fn component(&self, n: usize) -> Field<'a> {
        let rep = self.first_repetition().raw;
        self.with(nth_part(rep, self.d.component, n))
    }
    /// The first `N` components of the first repetition, split in one pass (absent ones empty).
    pub fn component_array<const N: usize>(&self) -> [Field<'a>; N] {
        let mut out = [self.with(&[]); N];
        let rep = self.first_repetition().raw;
        for (slot, part) in out.iter_mut().zip(rep.split(|&b| b == self.d.component)) {
            *slot = self.with(part);
        }
        out
    }

    /// Sub-component `n` (1-based) of this value; call it on a component.
    pub fn subcomponent(&self, n: usize) -> Field<'a> {
        self.with(nth_part(self.raw, self.d.subcomponent, n))
    }
    /// Decoded text: escapes resolved, then bytes decoded in the message charset.
    pub fn text(&self) -> Cow<'a, str> {
        self.text_with(&mut Vec::new())
    }
    /// Like [`Field::text`], collecting escape and charset diagnostics.
    pub fn text_with(&self, issues: &mut Vec<Issue>) -> Cow<'a, str> {
        match escape::unescape(self.raw, &self.d, issues) {
            Cow::Borrowed(b) => {
                let (text, replaced) = self.charset.decode(b);
                if replaced {
                    issues.push(Issue::warning("charset-replaced", "bytes outside the declared charset were replaced"));
                }
                // Raw bytes can only hold control characters when the message does (one scan at parse).
                if self.controls { without_control_characters(text, issues) } else { text }
            }
            Cow::Owned(v) => {
                let (text, replaced) = self.charset.decode(&v);
                if replaced {
                    issues.push(Issue::warning("charset-replaced", "bytes outside the declared charset were replaced"));
                }
                // An escape (`\X00\`) can produce one in any message.
                without_control_characters(Cow::Owned(text.into_owned()), issues)
            }
        }
    }
    /// Decoded text, `None` when empty.
    pub fn string(&self) -> Option<String> {
        if self.raw.is_empty() { None } else { Some(self.text().into_owned()) }
    }
}

/// Control characters (NUL and the rest of C0 but tab and line feed, which `\.br\` decodes to)
/// cannot be carried by FHIR strings or XML: they are removed from values, with a diagnostic.
fn without_control_characters<'a>(text: Cow<'a, str>, issues: &mut Vec<Issue>) -> Cow<'a, str> {
    if !text.bytes().any(|b| b < 0x20 && b != b'\t' && b != b'\n') {
        return text;
    }
    issues.push(Issue::warning("control-character", "control characters (such as NUL) removed from a value"));
    Cow::Owned(text.chars().filter(|&c| c >= ' ' || c == '\t' || c == '\n').collect())
}
