//! MSH-18 character sets and the decoding of field bytes to text (encoding_rs for the ISO 8859 family).

use encoding_rs::{ISO_8859_15, WINDOWS_1252};
use std::borrow::Cow;

/// Character sets senders declare in MSH-18 (`UNICODE UTF-8`, `8859/1`, `8859/15`, `ASCII`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Charset {
    #[default]
    Utf8,
    /// ISO-8859-1, decoded with the WHATWG windows-1252 superset as browsers and encoding_rs do.
    Latin1,
    Latin9,
    Ascii,
}

impl Charset {
    /// Maps an MSH-18 value (HL7 table 0211); `None` for a value we do not know.
    pub fn from_msh18(value: &[u8]) -> Option<Self> {
        let v = value.trim_ascii();
        Some(match v {
            b"UNICODE UTF-8" | b"UTF-8" | b"UNICODE" => Self::Utf8,
            b"8859/1" | b"ISO-8859-1" | b"ISO IR100" => Self::Latin1,
            b"8859/15" | b"ISO-8859-15" => Self::Latin9,
            b"ASCII" => Self::Ascii,
            _ => return None,
        })
    }

    /// The MSH-18 code for this charset.
    pub fn msh18(self) -> &'static str {
        match self {
            Self::Utf8 => "UNICODE UTF-8",
            Self::Latin1 => "8859/1",
            Self::Latin9 => "8859/15",
            Self::Ascii => "ASCII",
        }
    }

    /// Decodes bytes to text. Returns the text and whether bytes had to be replaced or reinterpreted.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> (Cow<'a, str>, bool) {
        if self != Self::Utf8 && bytes.is_ascii() {
            // ASCII is valid in every supported charset; borrow without copying.
            return (Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default()), false);
        }
        match self {
            Self::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => (Cow::Borrowed(s), false),
                Err(_) => (String::from_utf8_lossy(bytes), true),
            },
            Self::Latin1 => (WINDOWS_1252.decode_without_bom_handling(bytes).0, false),
            Self::Latin9 => (ISO_8859_15.decode_without_bom_handling(bytes).0, false),
            // Bytes above 0x7F in an ASCII message: read them as windows-1252 and say so.
            Self::Ascii => (WINDOWS_1252.decode_without_bom_handling(bytes).0, true),
        }
    }

    /// Encodes text for the wire; characters the charset cannot carry become `?` and are reported.
    pub fn encode(self, text: &str, out: &mut Vec<u8>) -> bool {
        if text.is_ascii() || self == Self::Utf8 {
            out.extend_from_slice(text.as_bytes());
            return false;
        }
        let encoding = match self {
            Self::Latin9 => ISO_8859_15,
            _ => WINDOWS_1252,
        };
        let mut lossy = false;
        for ch in text.chars() {
            let mut buf = [0u8; 4];
            let (bytes, _, unmappable) = encoding.encode(ch.encode_utf8(&mut buf));
            if unmappable || (self == Self::Ascii && !ch.is_ascii()) {
                out.push(b'?');
                lossy = true;
            } else {
                out.extend_from_slice(&bytes);
            }
        }
        lossy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_declared_charset() {
        assert_eq!(Charset::from_msh18(b"8859/15"), Some(Charset::Latin9));
        assert_eq!(Charset::from_msh18(b"UNICODE UTF-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_msh18(b"EBCDIC"), None);
        assert_eq!(Charset::Latin1.decode(b"Andr\xe9").0, "André");
        assert_eq!(Charset::Latin9.decode(b"\xa4").0, "€");
        assert_eq!(Charset::Utf8.decode("Müller".as_bytes()), (Cow::Borrowed("Müller"), false));
        assert!(Charset::Utf8.decode(b"M\xfcller").1);
    }

    #[test]
    fn encodes_and_reports_unmappable_characters() {
        let mut out = Vec::new();
        assert!(!Charset::Latin1.encode("Hélène", &mut out));
        assert_eq!(out, b"H\xe9l\xe8ne");
        out.clear();
        assert!(Charset::Latin1.encode("日本", &mut out));
        assert_eq!(out, b"??");
    }
}
