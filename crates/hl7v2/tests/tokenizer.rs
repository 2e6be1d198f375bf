//! Tokenizer edge cases a gateway meets: terminators, BOM, blank lines, Z-segments, v2.7 truncation
//! character, custom delimiters, charsets; and a deterministic mutation loop proving no panic.

use passerelle_hl7v2::{Charset, ParseOptions, parse};

const BASE: &str = "MSH|^~\\&|APP|FAC|RCV|RFAC|20260101120000||ADT^A01^ADT_A01|C1|P|2.5\rPID|1||42^^^H&1.2.3&ISO^PI~43^^^H2^AN||Nom^Prénom\rZBE|M1^X|20260101\rPV1|1|I\rZFD|||N|N|INSI\r";

fn names(input: &[u8]) -> Vec<String> {
    let p = parse(input, &ParseOptions::default()).expect("parse");
    p.value.segments().map(|s| s.name().into_owned()).collect()
}

#[test]
fn every_terminator_style_yields_the_same_segments() {
    let expected = vec!["MSH", "PID", "ZBE", "PV1", "ZFD"];
    for variant in [BASE.to_owned(), BASE.replace('\r', "\n"), BASE.replace('\r', "\r\n"), format!("\u{feff}{BASE}\r\n\n"), BASE.replace("\rPID", "\r\rPID")] {
        assert_eq!(names(variant.as_bytes()), expected, "{variant:?}");
    }
    let lf_input = BASE.replace('\r', "\n");
    let lf = parse(lf_input.as_bytes(), &ParseOptions::default()).expect("lf");
    assert!(lf.issues.iter().any(|i| i.code == "segment-terminator-lf"));
    let blank_input = BASE.replace("\rPID", "\r\rPID");
    let blank = parse(blank_input.as_bytes(), &ParseOptions::default()).expect("blank");
    assert!(blank.issues.iter().any(|i| i.code == "blank-line"));
}

#[test]
fn z_segments_are_kept_in_order_and_losslessly() {
    let p = parse(BASE.as_bytes(), &ParseOptions::default()).expect("parse");
    let zbe = p.value.segment("ZBE").expect("zbe");
    assert_eq!(zbe.index(), 2);
    assert_eq!(zbe.raw(), b"ZBE|M1^X|20260101");
    assert_eq!(p.value.segment("ZFD").expect("zfd").field(5).text(), "INSI");
}

#[test]
fn fields_repetitions_components_and_subcomponents() {
    let p = parse(BASE.as_bytes(), &ParseOptions::default()).expect("parse");
    let msg = p.value;
    let msh = msg.msh().expect("msh");
    assert_eq!(msh.field(1).raw(), b"|");
    assert_eq!(msh.field(2).raw(), b"^~\\&");
    assert_eq!(msh.field(9).component(2).text(), "A01");
    assert_eq!(msh.field(10).text(), "C1");
    let pid = msg.segment("PID").expect("pid");
    let reps: Vec<_> = pid.field(3).repetitions().map(|r| r.component(1).text().into_owned()).collect();
    assert_eq!(reps, ["42", "43"]);
    assert_eq!(pid.field(3).component(4).subcomponent(2).text(), "1.2.3");
    assert_eq!(pid.field(5).component(2).text(), "Prénom");
    assert!(pid.field(99).is_empty());
    assert!(pid.field(3).component(9).is_empty());
}

#[test]
fn v27_truncation_character_keeps_msh_numbering() {
    let input = BASE.replacen("^~\\&", "^~\\&#", 1);
    let p = parse(input.as_bytes(), &ParseOptions::default()).expect("parse");
    let msh = p.value.msh().expect("msh");
    assert_eq!(msh.field(9).raw(), b"ADT^A01^ADT_A01");
    assert_eq!(p.value.delimiters().truncation, Some(b'#'));
}

#[test]
fn custom_delimiters_are_honoured() {
    let input = b"MSH#*!?@#APP#FAC#R#RF#2026##ADT*A04#C9#P#2.5\rPID#1##7*?F?x**H@1.2@ISO*PI\r";
    let p = parse(input, &ParseOptions::default()).expect("parse");
    let pid = p.value.segment("PID").expect("pid");
    assert_eq!(pid.field(3).component(1).text(), "7");
    assert_eq!(pid.field(3).component(2).text(), "#x");
    assert_eq!(pid.field(3).component(4).subcomponent(2).text(), "1.2");
}

#[test]
fn charsets_follow_msh18_with_a_configurable_default() {
    let latin = b"MSH|^~\\&|A|B|C|D|2026||ADT^A04|1|P|2.5||||||8859/1\rPID|1||||M\xfcller\r";
    let p = parse(latin, &ParseOptions::default()).expect("latin");
    assert_eq!(p.value.segment("PID").expect("pid").field(5).text(), "Müller");
    let latin9 = b"MSH|^~\\&|A|B|C|D|2026||ADT^A04|1|P|2.5||||||8859/15\rPID|1||||\xa4\r";
    assert_eq!(parse(latin9, &ParseOptions::default()).expect("l9").value.segment("PID").expect("pid").field(5).text(), "€");
    let undeclared = b"MSH|^~\\&|A|B|C|D|2026||ADT^A04|1|P|2.5\rPID|1||||M\xfcller\r";
    let p = parse(undeclared, &ParseOptions::default()).expect("fallback");
    assert_eq!(p.value.charset(), Charset::Latin1);
    assert!(p.issues.iter().any(|i| i.code == "charset-fallback-latin1"));
    let p = parse(undeclared, &ParseOptions { default_charset: Charset::Latin9 }).expect("default");
    assert_eq!(p.value.charset(), Charset::Latin9);
    let unknown = b"MSH|^~\\&|A|B|C|D|2026||ADT^A04|1|P|2.5||||||EBCDIC\rPID|1\r";
    assert!(parse(unknown, &ParseOptions::default()).expect("unknown").issues.iter().any(|i| i.code == "charset-unknown"));
}

#[test]
fn unframeable_bytes_are_errors_not_panics() {
    for bad in [&b""[..], b"\r\n", b"PID|1", b"MSH", b"MSH|", b"MSH|^", b"\x00\x01\x02", b"MSH|^^\\&|"] {
        assert!(parse(bad, &ParseOptions::default()).is_err(), "{bad:?}");
    }
}

/// xorshift: a reproducible stream of mutations, no dependency needed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn no_input_mutation_makes_parse_normalise_or_render_panic() {
    let alphabet = b"|^~\\&#\r\nMSHPIDXZ0123.\"\xc3\xa9\xff\x0b\x1c";
    let mut state = 0x5eed_u64;
    for _ in 0..20_000 {
        let mut bytes = BASE.as_bytes().to_vec();
        for _ in 0..(next(&mut state) % 8 + 1) {
            let pos = (next(&mut state) as usize) % (bytes.len() + 1);
            let c = alphabet[(next(&mut state) as usize) % alphabet.len()];
            match next(&mut state) % 3 {
                0 if pos < bytes.len() => bytes[pos] = c,
                1 => bytes.insert(pos, c),
                _ if pos < bytes.len() => {
                    bytes.remove(pos);
                }
                _ => {}
            }
        }
        if let Ok(p) = parse(&bytes, &ParseOptions::default()) {
            for seg in p.value.segments() {
                for n in 0..seg.field_count() + 2 {
                    let f = seg.field(n);
                    let _ = f.text();
                    let _ = f.component(3).subcomponent(2).text();
                }
            }
            let _ = passerelle_hl7v2::writer::rewrite(&p.value);
            let _ = passerelle_hl7v2::normalise(&p.value, &Default::default());
        }
    }
}

/// Regression: `\.br\` decoded to a line feed that the control-character filter then removed,
/// gluing the lines of an FT/TX result together.
#[test]
fn line_break_escape_survives_as_a_newline() {
    let raw = b"MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rOBX|1|FT|x||first\\.br\\second\r";
    let msg = parse(raw, &ParseOptions::default()).expect("parse").value;
    let mut issues = Vec::new();
    assert_eq!(msg.segment("OBX").expect("obx").field(5).text_with(&mut issues), "first\nsecond");
    assert!(issues.is_empty(), "{issues:?}");
}
