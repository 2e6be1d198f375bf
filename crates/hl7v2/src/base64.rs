//! Base64 as HL7 v2 ED data carries it (OBX-5.5 with OBX-5.4 `Base64`): standard alphabet, padding
//! optional, line breaks and spaces ignored (the HL7 v2 escape `\.br\` is already a line break).

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
pub fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
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

    #[test]
    fn decodes_the_rfc_4648_vectors_with_or_without_padding_and_refuses_other_bytes() {
        for (encoded, plain) in [("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg", "foob"), ("Zm9v\r\nYmFy", "foobar")] {
            assert_eq!(decode_base64(encoded.as_bytes()).as_deref(), Some(plain.as_bytes()), "{encoded}");
        }
        assert_eq!(decode_base64(b"Zm9v!"), None);
        assert_eq!(decode_base64(b"Zg==Zg"), None);
    }
}
