//! HL7 v2 escape sequences: decoding `\F\ \S\ \T\ \R\ \E\ \P\ \Xhh…\ \.br\` and encoding text safely.

use crate::delimiters::Delimiters;
use passerelle_model::Issue;
use std::borrow::Cow;

/// Decodes escape sequences in raw field bytes (before charset decoding, so `\Xhh\` bytes are in the
/// message charset). `\H\`, `\N\`, `\Cxxyy\`, `\Mxxyyzz\`, `\Zxx\` and other formatting commands
/// are passed through unchanged and reported.
pub fn unescape<'a>(raw: &'a [u8], d: &Delimiters, issues: &mut Vec<Issue>) -> Cow<'a, [u8]> {
    let Some(esc) = d.escape else { return Cow::Borrowed(raw) };
    // Values are short: a plain scan beats memchr's dispatch here (measured with callgrind).
    let Some(first) = raw.iter().position(|&b| b == esc) else { return Cow::Borrowed(raw) };
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&raw[..first]);
    let mut i = first;
    while i < raw.len() {
        let b = raw[i];
        if b != esc {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(len) = memchr::memchr(esc, &raw[i + 1..]) else {
            issues.push(Issue::warning("escape-unterminated", "escape sequence without its closing escape character; kept as text"));
            out.extend_from_slice(&raw[i..]);
            break;
        };
        let body = &raw[i + 1..i + 1 + len];
        let whole = &raw[i..i + len + 2];
        match body {
            b"F" => out.push(d.field),
            b"S" => out.push(d.component),
            b"T" => out.push(d.subcomponent),
            b"R" => out.push(d.repetition),
            b"E" => out.push(esc),
            b"P" if d.truncation.is_some() => out.extend(d.truncation),
            b".br" => out.push(b'\n'),
            [b'X', hex @ ..] if !hex.is_empty() && hex.len() % 2 == 0 && hex.iter().all(u8::is_ascii_hexdigit) => {
                out.extend(hex.chunks(2).map(|p| hex_value(p[0]) * 16 + hex_value(p[1])));
            }
            b"H" | b"N" => {
                issues.push(Issue::info("escape-highlight-passed-through", "highlight escape \\H\\ or \\N\\ passed through unchanged"));
                out.extend_from_slice(whole);
            }
            _ => {
                issues.push(Issue::info("escape-unsupported-passed-through", "unsupported escape or formatting sequence passed through unchanged"));
                out.extend_from_slice(whole);
            }
        }
        i += len + 2;
    }
    Cow::Owned(out)
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.to_ascii_uppercase().wrapping_sub(b'A').wrapping_add(10),
    }
}

/// Appends `text` to `out` with every delimiter escaped; CR and LF become `\X0D\` and `\X0A\`.
/// The text is assumed to be in the output charset already (see `Charset::encode`).
pub fn escape_into(text: &[u8], d: &Delimiters, out: &mut Vec<u8>) {
    let esc = d.escape.unwrap_or(b'\\');
    let special =
        |b: u8| b == d.field || b == d.component || b == d.subcomponent || b == d.repetition || b == esc || Some(b) == d.truncation || b == b'\r' || b == b'\n';
    // Most values hold no delimiter: one scan, one copy.
    if !text.iter().any(|&b| special(b)) {
        out.extend_from_slice(text);
        return;
    }
    for &b in text {
        let code: &[u8] = match b {
            _ if b == d.field => b"F",
            _ if b == d.component => b"S",
            _ if b == d.subcomponent => b"T",
            _ if b == d.repetition => b"R",
            _ if b == esc => b"E",
            _ if Some(b) == d.truncation => b"P",
            b'\r' => b"X0D",
            b'\n' => b"X0A",
            _ => {
                out.push(b);
                continue;
            }
        };
        out.push(esc);
        out.extend_from_slice(code);
        out.push(esc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &[u8]) -> (Vec<u8>, usize) {
        let mut issues = Vec::new();
        let v = unescape(s, &Delimiters::default(), &mut issues).into_owned();
        (v, issues.len())
    }

    #[test]
    fn decodes_delimiter_hex_and_line_break_escapes() {
        assert_eq!(decode(b"5 \\S\\ 3 \\F\\ 2 \\E\\ \\T\\ \\R\\"), (b"5 ^ 3 | 2 \\ & ~".to_vec(), 0));
        assert_eq!(decode(b"A\\X41\\B\\X0D0A\\"), (b"AAB\r\n".to_vec(), 0));
        assert_eq!(decode(b"one\\.br\\two"), (b"one\ntwo".to_vec(), 0));
        assert_eq!(decode("Müller\\S\\Lü".as_bytes()), ("Müller^Lü".as_bytes().to_vec(), 0));
    }

    #[test]
    fn passes_through_highlight_and_unknown_sequences_with_a_diagnostic() {
        assert_eq!(decode(b"\\H\\bold\\N\\"), (b"\\H\\bold\\N\\".to_vec(), 2));
        assert_eq!(decode(b"\\C2842\\x"), (b"\\C2842\\x".to_vec(), 1));
        assert_eq!(decode(b"tail\\X4"), (b"tail\\X4".to_vec(), 1));
        assert_eq!(decode(b"\\X4G\\"), (b"\\X4G\\".to_vec(), 1));
    }

    #[test]
    fn escaping_then_unescaping_is_identity() {
        let d = Delimiters { truncation: Some(b'#'), ..Delimiters::default() };
        let text = b"a|b^c&d~e\\f#g\r\nh";
        let mut out = Vec::new();
        escape_into(text, &d, &mut out);
        assert_eq!(out, b"a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\P\\g\\X0D\\\\X0A\\h".to_vec());
        let mut issues = Vec::new();
        assert_eq!(unescape(&out, &d, &mut issues).as_ref(), text);
        assert!(issues.is_empty());
    }
}
