//! ACKs we build for every fixture pass the independent HL7 v2.5 validator in strict mode.

mod common;

use common::{files_with_ext, run_validator, workspace_root};
use passerelle_hl7v2::{AckCode, AckOptions, ErrorCondition, NormaliseOptions, ParseOptions, build_ack, normalise, parse};
use passerelle_model::Severity;

#[test]
fn acks_for_all_fixtures_pass_strict_hl7v2_validation() {
    let out_dir = std::env::temp_dir().join(format!("passerelle-acks-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("tmp");
    let mut written = Vec::new();
    for (i, input) in files_with_ext(&workspace_root().join("fixtures/hl7v2"), "hl7").iter().enumerate() {
        let bytes = std::fs::read(input).expect("read");
        let options = AckOptions { timestamp: "20261123101500", control_id: &format!("ACK{i}"), application: "PASSERELLE", facility: "GATEWAY" };
        let Ok(tokens) = parse(&bytes, &ParseOptions::default()) else {
            continue; // unframeable input has no MSH-10 to acknowledge; covered by unit tests
        };
        let normalised = normalise(&tokens.value, &NormaliseOptions::default());
        // The independent validator knows HL7 v2.5 only; the MDM of the CDA volet is v2.6.
        if normalised.value.envelope.version.as_deref() != Some("2.5") {
            continue;
        }
        if normalised.value.envelope.message_id.is_empty() || normalised.value.envelope.event.source.trigger.is_empty() {
            continue; // no MSH-10 to echo or no trigger: such input is answered AR, tested in unit tests
        }
        let errors: Vec<ErrorCondition> = normalised.issues.iter().filter(|i| i.severity == Severity::Error).map(ErrorCondition::from_issue).collect();
        let code = if errors.is_empty() { AckCode::Aa } else { AckCode::Ae };
        let ack = build_ack(Some(&tokens.value), code, &errors, &options);
        let p = out_dir.join(format!("{i}_ack.hl7"));
        std::fs::write(&p, ack).expect("write");
        written.push(p);
    }
    assert!(written.len() >= 12);
    run_validator("validate_hl7v2.py", &["--strict"], &written);
    let _ = std::fs::remove_dir_all(&out_dir);
}
