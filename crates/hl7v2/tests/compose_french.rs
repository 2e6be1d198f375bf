//! The French Z-segments survive HL7 v2 → model → ADT: ZBE (movement), ZFA (DMP status and
//! choices) and ZFD (identity collection) of a PAM-FR A01 are written back as they came.

use passerelle_hl7v2::compose::{ComposeOptions, adt::compose_adt};
use passerelle_hl7v2::{ParseOptions, decode};

fn segment<'a>(er7: &'a str, name: &str) -> Vec<&'a str> {
    er7.split('\r').find(|s| s.starts_with(name)).map(|s| s.split('|').collect()).unwrap_or_default()
}

#[test]
fn zbe_zfa_and_zfd_are_written_back_as_they_came() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/hl7v2/ok/fr_a01_dmp_opposition.hl7");
    let input = std::fs::read(path).expect("fixture");
    let (msg, _) = decode(&input, &ParseOptions::default(), &Default::default()).expect("decode");
    let options = ComposeOptions { control_id: "C1", timestamp: msg.value.envelope.sent_at, ..ComposeOptions::default() };
    let out = String::from_utf8(compose_adt(&msg.value, true, &options).expect("adt")).expect("utf8");
    let source = String::from_utf8(input).expect("utf8");
    assert_eq!(segment(&out, "ZBE"), segment(&source, "ZBE"), "{out}");
    assert_eq!(segment(&out, "ZFA"), segment(&source, "ZFA"), "{out}");
    // ZFD-3 (SMS consent) is not part of the model; ZFD-4 … ZFD-8 are.
    assert_eq!(segment(&out, "ZFD")[4..], segment(&source, "ZFD")[4..], "{out}");
    // A generic receiver gets none of them.
    let generic = String::from_utf8(compose_adt(&msg.value, false, &options).expect("adt")).expect("utf8");
    assert!(!generic.contains("\rZ"), "{generic}");
}
