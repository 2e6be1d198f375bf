//! FHIR → HL7 v2: every FHIR bundle the HL7 v2 fixtures give converts back to an ADT that passes
//! `validate_hl7v2.py --strict` (PAM-FR: A28/A31 for a patient, A01/A04/A03… for an encounter,
//! A08 only for a generic receiver),
//! compared with `<case>.adt.er7` beside it, and the identity survives HL7 v2 → FHIR → HL7 v2:
//! the identifiers (kind, system, value), birth date, sex, PID-32 statuses, INS traits and birth
//! place of the source.

mod common;

use common::passerelle;
use passerelle_testkit::{check_expectation, expected_path, files_with_ext, run_validator, workspace_root};

fn model(from: &str, path: &std::path::Path) -> passerelle_model::Message {
    let out = passerelle(&["convert", "--from", from, "--to", "model", path.to_str().expect("path")]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_fixture_bundle_becomes_a_strict_adt_that_keeps_the_identity() {
    let dir = workspace_root().join("fixtures/hl7v2/ok");
    // Documents come back as MDM (below); results, orders, appointments and immunizations are not
    // patient or visit events to send back as ADT.
    let clinical = |p: &std::path::Path| {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        ["DiagnosticReport", "ServiceRequest", "Appointment", "Immunization", "DocumentReference"]
            .iter()
            .any(|t| text.contains(&format!("\"resourceType\": \"{t}\"")))
    };
    let bundles: Vec<_> = files_with_ext(&dir, "json").into_iter().filter(|p| p.to_string_lossy().ends_with(".fhir.json") && !clinical(p)).collect();
    assert!(bundles.len() >= 10);
    let (mut mismatches, mut outputs) = (Vec::new(), Vec::new());
    for bundle in &bundles {
        let out = passerelle(&["convert", "--from", "fhir", "--to", "hl7v2", bundle.to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", bundle.display(), String::from_utf8_lossy(&out.stderr));
        let case = bundle.to_string_lossy().trim_end_matches(".fhir.json").to_owned();
        let adt = expected_path(std::path::Path::new(&format!("{case}.hl7")), "adt.er7");
        mismatches.extend(check_expectation(&adt, &String::from_utf8_lossy(&out.stdout)));
        outputs.push(adt.clone());

        let source = model("hl7v2", std::path::Path::new(&format!("{case}.hl7")));
        let back = model("hl7v2", &adt);
        let (Some(a), Some(b)) = (source.patient.as_ref(), back.patient.as_ref()) else { panic!("{case}: no patient") };
        let ids = |p: &passerelle_model::Patient| {
            let mut v: Vec<_> = p.identifiers.iter().map(|i| (i.kind, i.oid.clone(), i.value.clone())).collect();
            v.sort_by(|x, y| x.2.cmp(&y.2));
            v
        };
        assert_eq!(ids(b), ids(a), "{case}: identifiers");
        assert_eq!((b.birth_date, b.sex, &b.trust.statuses), (a.birth_date, a.sex, &a.trust.statuses), "{case}: birth date, sex, PID-32");
        assert_eq!(b.ins_traits, a.ins_traits, "{case}: INS traits byte for byte");
        let birth_place = |p: &passerelle_model::Patient| p.addresses.iter().find(|a| a.kind.as_deref() == Some("BDL")).and_then(|a| a.cog.clone());
        assert_eq!(birth_place(b), birth_place(a), "{case}: birth place");
        let trigger = &back.envelope.event.source.trigger;
        if back.envelope.french_profile {
            assert_ne!(trigger, "A08", "{case}: PAM-FR never receives A08");
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    run_validator("validate_hl7v2.py", &["--strict"], &outputs);
}

/// FHIR documents in: every fixture's DocumentReference bundle (its CDA inline) converts to an MDM
/// that passes `validate_hl7v2.py --strict --version 2.6` (a bundle of two documents, which one
/// MDM cannot carry, to an ORU^R01 valid as v2.5), carrying the same document (id, type, replaced
/// document, deletion) as the HL7 v2 source.
#[test]
fn every_fixture_document_bundle_becomes_a_strict_mdm_with_the_same_document() {
    let dir = workspace_root().join("fixtures/hl7v2/ok");
    let bundles: Vec<_> = files_with_ext(&dir, "json")
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".fhir.json") && std::fs::read_to_string(p).is_ok_and(|t| t.contains("\"DocumentReference\"")))
        .collect();
    assert!(bundles.len() >= 3, "document fixtures: {}", bundles.len());
    let out_dir = tempfile::tempdir().expect("tmp");
    let (mut outputs, mut orus) = (Vec::new(), Vec::new());
    for bundle in &bundles {
        let two = std::fs::read_to_string(bundle).expect("read").matches("\"DocumentReference\"").count() > 1;
        let out = passerelle(&["convert", "--from", "fhir", "--to", if two { "oru" } else { "hl7v2" }, bundle.to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", bundle.display(), String::from_utf8_lossy(&out.stderr));
        let case = bundle.to_string_lossy().trim_end_matches(".fhir.json").to_owned();
        let mdm = out_dir.path().join(format!("{}.{}.er7", outputs.len() + orus.len(), if two { "oru" } else { "mdm" }));
        std::fs::write(&mdm, &out.stdout).expect("write");
        let (source, back) = (model("hl7v2", std::path::Path::new(&format!("{case}.hl7"))), model("hl7v2", &mdm));
        let (Some(a), Some(b)) = (source.document(), back.document()) else { panic!("{case}: no document") };
        assert_eq!(
            (&b.id, &b.type_code.as_ref().map(|c| &c.code), &b.replaces, b.deleted),
            (&a.id, &a.type_code.as_ref().map(|c| &c.code), &a.replaces, a.deleted),
            "{case}"
        );
        if two { orus.push(mdm) } else { outputs.push(mdm) }
    }
    run_validator("validate_hl7v2.py", &["--strict", "--version", "2.6"], &outputs);
    run_validator("validate_hl7v2.py", &["--strict"], &orus);
}
