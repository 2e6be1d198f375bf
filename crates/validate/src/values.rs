//! Value forms several packs check: an HL7 TS (v2 and CDA share it), an OID, the Luhn key of
//! RPPS and FINESS numbers.

/// An HL7 TS: YYYY[MM[DD[HH[MM[SS[.S…]]]]]] with an optional ±ZZZZ offset.
pub fn is_timestamp(value: &str) -> bool {
    let (body, offset) = match value.find(['+', '-']) {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    let (digits, fraction) = body.split_once('.').map_or((body, None), |(d, f)| (d, Some(f)));
    let digits_ok = matches!(digits.len(), 4 | 6 | 8 | 10 | 12 | 14) && digits.bytes().all(|b| b.is_ascii_digit());
    let fraction_ok = fraction.is_none_or(|f| digits.len() == 14 && (1..=4).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()));
    let offset_ok = offset.is_none_or(|o| o.len() == 4 && o.bytes().all(|b| b.is_ascii_digit()));
    digits_ok && fraction_ok && offset_ok
}

/// An OID: dot-separated numbers, no leading zero, at least two arcs.
pub fn is_oid(value: &str) -> bool {
    let arcs: Vec<&str> = value.split('.').collect();
    arcs.len() >= 2 && arcs.iter().all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) && (a.len() == 1 || !a.starts_with('0')))
}

/// Whether all-digit `value` passes the Luhn check (its last digit the key); `None` when it is
/// not all digits (a Corsican FINESS `2A…` is not checked).
pub fn luhn_valid(value: &str) -> Option<bool> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = value
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    Some(sum.is_multiple_of(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_the_real_numbers_and_refuses_the_ans_examples() {
        // domain-fr-be.md §3.3: real RPPS and FINESS pass; ANS example values fail.
        for valid in ["10000023084", "10005183370", "01234567897", "750712184", "350005179", "690781810", "750803447"] {
            assert_eq!(luhn_valid(valid), Some(true), "{valid}");
        }
        for invalid in ["01234564895", "01234567866", "120456789"] {
            assert_eq!(luhn_valid(invalid), Some(false), "{invalid}");
        }
        assert_eq!(luhn_valid("2A0000001"), None);
    }

    #[test]
    fn oids_and_timestamps() {
        assert!(is_oid("1.2.250.1.213.1.4.10"));
        assert!(!is_oid("1.2.250.01"));
        assert!(!is_oid("urn:oid:1.2"));
        assert!(is_timestamp("20261120093000+0100"));
        assert!(!is_timestamp("2026-11-20"));
    }
}
