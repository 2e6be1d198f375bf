//! Base64 (RFC 4648, standard alphabet) both ways: encoding with padding for what we write (FHIR
//! attachments, CDA nonXMLBody, HL7 v2 ED), and the liberal decoding documents in transit need
//! (padding optional, line breaks and spaces ignored, as HL7 v2 ED data and CDA text carry them).

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    encode_into(bytes, &mut out);
    // Only alphabet bytes and `=` were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the base64 of `bytes` to `out` (no intermediate copy for large documents).
pub fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + bytes.len().div_ceil(3) * 4, b'=');
    let dest = &mut out[start..];
    let full = bytes.len() / 3;
    // Whole groups: 3 bytes in, 4 characters out, into a buffer already sized (no per-push checks).
    for (src, dst) in bytes.chunks_exact(3).zip(dest.chunks_exact_mut(4)) {
        let n = (u32::from(src[0]) << 16) | (u32::from(src[1]) << 8) | u32::from(src[2]);
        dst[0] = BASE64[(n >> 18) as usize & 63];
        dst[1] = BASE64[(n >> 12) as usize & 63];
        dst[2] = BASE64[(n >> 6) as usize & 63];
        dst[3] = BASE64[n as usize & 63];
    }
    let tail = &bytes[full * 3..];
    if let Some(dst) = dest.get_mut(full * 4..) {
        match *tail {
            [a] => {
                let n = u32::from(a) << 16;
                dst[0] = BASE64[(n >> 18) as usize & 63];
                dst[1] = BASE64[(n >> 12) as usize & 63];
            }
            [a, b] => {
                let n = (u32::from(a) << 16) | (u32::from(b) << 8);
                dst[0] = BASE64[(n >> 18) as usize & 63];
                dst[1] = BASE64[(n >> 12) as usize & 63];
                dst[2] = BASE64[(n >> 6) as usize & 63];
            }
            _ => {}
        }
    }
}

/// The base64 of some bytes as a `Display`: written in chunks where it goes (a JSON string, a
/// file) without building the whole text first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base64Display<'a>(pub &'a [u8]);

impl std::fmt::Display for Base64Display<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // 3 KiB in, 4 KiB out per step; only the last chunk can need padding.
        let mut buf = Vec::with_capacity(4096);
        for chunk in self.0.chunks(3 * 1024) {
            buf.clear();
            encode_into(chunk, &mut buf);
            f.write_str(std::str::from_utf8(&buf).map_err(|_| std::fmt::Error)?)?;
        }
        Ok(())
    }
}

fn value(b: u8) -> Option<u32> {
    Some(u32::from(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes `text`; `None` when it holds anything else than base64 and whitespace.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut padding) = (0u32, 0u32, 0usize);
    for &b in text {
        match b {
            b'\r' | b'\n' | b' ' | b'\t' => continue,
            b'=' => {
                padding += 1;
                continue;
            }
            _ if padding > 0 => return None,
            _ => {}
        }
        acc = (acc << 6) | value(b)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (padding <= 2).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: [(&str, &str); 7] =
        [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")];

    #[test]
    fn encodes_the_rfc_4648_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(Base64Display(plain.as_bytes()).to_string(), encoded);
        }
        let long: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        assert_eq!(Base64Display(&long).to_string(), encode(&long), "chunked the same as whole");
    }

    #[test]
    fn decodes_the_rfc_4648_vectors_with_or_without_padding_and_refuses_other_bytes() {
        for (plain, encoded) in VECTORS {
            assert_eq!(decode(encoded.as_bytes()).as_deref(), Some(plain.as_bytes()), "{encoded}");
        }
        for (encoded, plain) in [("Zm9vYg", "foob"), ("Zm9v\r\nYmFy", "foobar")] {
            assert_eq!(decode(encoded.as_bytes()).as_deref(), Some(plain.as_bytes()), "{encoded}");
        }
        assert_eq!(decode(b"Zm9v!"), None);
        assert_eq!(decode(b"Zg==Zg"), None);
    }
}
