//! Check-key algorithms for national identifiers: French NIR / INS (mod 97, Corsica 2A/2B) and Belgian NISS / BIS.
//!
//! Sources and test vectors: domain-fr-be.md §1.2 (NIR) and §5.1 (NISS/BIS). A wrong key is a result, never a panic.

/// Outcome of checking an identifier's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    Valid,
    /// Well-formed but the key does not match; `expected` is the key the body computes to.
    WrongKey {
        expected: u8,
    },
    /// Not the expected shape (length, characters).
    Malformed,
}

/// Computes the NIR key of the 13-character body (positions 6–7 may be `2A`/`2B`, any case).
pub fn nir_key(body: &str) -> Option<u8> {
    let b = body.as_bytes();
    if b.len() != 13 {
        return None;
    }
    let corsica = match (b[5], b[6].to_ascii_uppercase()) {
        (b'2', b'A') => Some(*b"19"),
        (b'2', b'B') => Some(*b"18"),
        _ => None,
    };
    let mut n: u64 = 0;
    for (i, &c) in b.iter().enumerate() {
        let digit = match (corsica, i) {
            (Some(sub), 5 | 6) => sub[i - 5],
            _ => c,
        };
        if !digit.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(digit - b'0');
    }
    Some((97 - (n % 97)) as u8)
}

/// Checks a 15-character NIR / INS matricule (13 + 2-digit key).
pub fn check_nir(value: &str) -> KeyOutcome {
    if value.len() != 15 || !value.is_ascii() {
        return KeyOutcome::Malformed;
    }
    let (body, key) = value.split_at(13);
    let Some(expected) = nir_key(body) else { return KeyOutcome::Malformed };
    match key.parse::<u8>() {
        Ok(k) if key.bytes().all(|c| c.is_ascii_digit()) && k == expected => KeyOutcome::Valid,
        Ok(_) if key.bytes().all(|c| c.is_ascii_digit()) => KeyOutcome::WrongKey { expected },
        _ => KeyOutcome::Malformed,
    }
}

/// Which Belgian register a valid national number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BelgianNumberKind {
    /// National register number (NISS / INSZ / SSIN).
    Niss,
    /// Crossroads Bank BIS number (month + 20 or + 40).
    Bis,
}

/// Classifies an 11-digit Belgian number by its month digits (BIS months are 20–32 or 40–52).
pub fn belgian_number_kind(value: &str) -> Option<BelgianNumberKind> {
    if value.len() != 11 || !value.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let month: u8 = value[2..4].parse().ok()?;
    Some(if (20..=32).contains(&month) || (40..=52).contains(&month) { BelgianNumberKind::Bis } else { BelgianNumberKind::Niss })
}

/// Checks an 11-digit NISS or BIS: key = 97 − (body mod 97), body prefixed with `2` for births from 2000.
/// Both centuries are tried, as the birth century cannot be read from the number.
pub fn check_niss(value: &str) -> KeyOutcome {
    if value.len() != 11 || !value.bytes().all(|c| c.is_ascii_digit()) {
        return KeyOutcome::Malformed;
    }
    let Ok(body) = value[..9].parse::<u64>() else { return KeyOutcome::Malformed };
    let Ok(key) = value[9..].parse::<u64>() else { return KeyOutcome::Malformed };
    let before_2000 = 97 - body % 97;
    let from_2000 = 97 - (2_000_000_000 + body) % 97;
    if key == before_2000 || key == from_2000 { KeyOutcome::Valid } else { KeyOutcome::WrongKey { expected: before_2000 as u8 } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nir_vectors_of_domain_doc_section_1_2() {
        let cases = [
            ("279035121518989", KeyOutcome::Valid),
            ("277076322082910", KeyOutcome::Valid),
            ("295109912611193", KeyOutcome::Valid),
            ("253072A07300443", KeyOutcome::Valid),
            ("253072B07300470", KeyOutcome::Valid),
            ("253072a07300443", KeyOutcome::Valid),
            ("260058815400233", KeyOutcome::Valid),
            ("260058815400244", KeyOutcome::WrongKey { expected: 33 }),
            ("276037510669380", KeyOutcome::WrongKey { expected: 26 }),
            ("276037510669326", KeyOutcome::Valid),
        ];
        for (value, expected) in cases {
            assert_eq!(check_nir(value), expected, "{value}");
        }
        assert_eq!(nir_key("2790351215189"), Some(89));
        assert_eq!(nir_key("253072A073004"), Some(43));
        assert_eq!(nir_key("253072B073004"), Some(70));
    }

    #[test]
    fn nir_malformed_inputs_are_results_not_panics() {
        for value in ["", "27903512151898", "2790351215189X9", "2790A5121518989", "27903512151898é", "2A9035121518989"] {
            assert_eq!(check_nir(value), KeyOutcome::Malformed, "{value}");
        }
    }

    #[test]
    fn niss_and_bis_vectors_of_domain_doc_section_5_1() {
        for value in ["85073003328", "17073003384", "49112002395", "00000000097", "98472899765", "01490700185"] {
            assert_eq!(check_niss(value), KeyOutcome::Valid, "{value}");
        }
        assert_eq!(check_niss("79121137740"), KeyOutcome::WrongKey { expected: 66 });
        assert_eq!(check_niss("7912113774"), KeyOutcome::Malformed);
        assert_eq!(check_niss("7912113774A"), KeyOutcome::Malformed);
        assert_eq!(belgian_number_kind("98472899765"), Some(BelgianNumberKind::Bis));
        assert_eq!(belgian_number_kind("01490700185"), Some(BelgianNumberKind::Bis));
        assert_eq!(belgian_number_kind("85073003328"), Some(BelgianNumberKind::Niss));
    }
}
