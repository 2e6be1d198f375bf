//! Data-driven runner over fixtures/hl7v2/{ok,err}: each input's FHIR, model and diagnostics are
//! compared with the files beside it. `UPDATE_EXPECT=1 cargo test` rewrites them for review.

mod common;

use common::passerelle;
use passerelle_testkit::{check_expectation, expected_path, files_with_ext, run_validator, workspace_root};
use std::path::Path;

fn check(path: &Path, actual: &str, mismatches: &mut Vec<String>) {
    mismatches.extend(check_expectation(path, actual));
}

#[test]
fn every_hl7v2_fixture_converts_as_expected() {
    let root = workspace_root().join("fixtures/hl7v2");
    let mut mismatches = Vec::new();
    let mut fhir_outputs = Vec::new();
    let inputs = files_with_ext(&root, "hl7");
    assert!(inputs.len() >= 18, "fixtures missing: {}", inputs.len());
    for input in inputs {
        let is_ok_case = input.parent().is_some_and(|p| p.ends_with("ok"));
        let arg = input.to_str().expect("utf8 path");
        let fhir = passerelle(&["convert", "--from", "hl7v2", "--to", "fhir", arg]);
        let model = passerelle(&["convert", "--from", "hl7v2", "--to", "model", arg]);
        let code = fhir.status.code().expect("exit code");
        assert_eq!(code, model.status.code().expect("exit code"), "{arg}: fhir and model disagree on usability");
        let stderr = String::from_utf8_lossy(&fhir.stderr);
        let diagnostics = format!("exit: {code}\n{stderr}");
        check(&expected_path(&input, "diagnostics"), &diagnostics, &mut mismatches);
        if is_ok_case {
            assert_eq!(code, 0, "{arg} should convert: {stderr}");
            assert!(!stderr.contains("error["), "{arg} has errors: {stderr}");
        } else {
            assert!(code == 1 || stderr.contains("warning["), "{arg} should fail or warn: {stderr}");
        }
        if code == 0 {
            let fhir_path = expected_path(&input, "fhir.json");
            check(&fhir_path, &String::from_utf8_lossy(&fhir.stdout), &mut mismatches);
            check(&expected_path(&input, "model.json"), &String::from_utf8_lossy(&model.stdout), &mut mismatches);
            fhir_outputs.push(fhir_path);
        } else {
            assert!(fhir.stdout.is_empty(), "{arg}: unusable input must produce no output");
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    run_validator("validate_fhir.py", &[], &fhir_outputs);
}

#[test]
fn unusable_input_exits_1_and_garbage_never_panics() {
    let dir = std::env::temp_dir().join(format!("passerelle-garbage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let cases: [&[u8]; 6] =
        [b"", b"\xff\xfe\x00", b"MSH", b"MSH|", b"MSH|^~\\&|\r\r\rPID|||||", b"MSH|^~\\&|a|b|c|d|e||ADT^A01|1|P|2.5\rPID|1||\\X\\^^^&&&~~~|\\\\\\||"];
    for (i, bytes) in cases.iter().enumerate() {
        let p = dir.join(format!("{i}.hl7"));
        std::fs::write(&p, bytes).expect("write");
        let out = passerelle(&["convert", "--from", "hl7v2", "--to", "fhir", p.to_str().expect("path")]);
        let code = out.status.code().expect("not killed by a signal");
        assert!(code == 0 || code == 1, "case {i}: exit {code}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_journaled_model_reads_back_to_the_same_message() {
    let models = files_with_ext(&workspace_root().join("fixtures"), "json");
    let models: Vec<_> = models.into_iter().filter(|p| p.to_string_lossy().ends_with(".model.json")).collect();
    assert!(models.len() >= 10, "model fixtures missing: {}", models.len());
    for path in models {
        let text = std::fs::read_to_string(&path).expect("read");
        let message: passerelle_model::Message = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let again = serde_json::to_string_pretty(&message).expect("serialise");
        assert_eq!(again.trim_end(), text.trim_end(), "{} does not survive a round trip", path.display());
        let compact: passerelle_model::Message = serde_json::from_slice(&serde_json::to_vec(&message).expect("compact")).expect("read compact");
        assert_eq!(compact, message);
    }
}

#[test]
fn every_cda_fixture_converts_to_the_expected_document_reference_bundle() {
    let root = workspace_root().join("fixtures/cda/ok");
    let mut mismatches = Vec::new();
    let mut outputs = Vec::new();
    for input in files_with_ext(&root, "xml") {
        let out = passerelle(&["convert", "--from", "cda", "--to", "fhir", input.to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
        let path = expected_path(&input, "fhir.json");
        check(&path, &String::from_utf8_lossy(&out.stdout), &mut mismatches);
        outputs.push(path);
    }
    assert!(outputs.len() >= 3);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    run_validator("validate_fhir.py", &["--type", "Bundle"], &outputs);
}

/// fixtures/fhir/err: FHIR that is not valid R4 (a string for a boolean, an HL7 v2 date, a number
/// for an identifier, an unknown resource type…) is refused, and the diagnostic names the FHIRPath
/// of the fault, compared with `<case>.diagnostics` beside it.
#[test]
fn every_fhir_error_fixture_is_refused_at_the_fhirpath_of_its_fault() {
    let root = workspace_root().join("fixtures/fhir/err");
    let inputs = files_with_ext(&root, "json");
    assert!(inputs.len() >= 8, "fixtures missing: {}", inputs.len());
    let mut mismatches = Vec::new();
    for input in inputs {
        let out = passerelle(&["convert", "--from", "fhir", "--to", "model", input.to_str().expect("utf8 path")]);
        assert_eq!(out.status.code(), Some(1), "{}: must be refused", input.display());
        assert!(out.stdout.is_empty(), "{}: no output for refused input", input.display());
        let diagnostics = format!("exit: 1\n{}", String::from_utf8_lossy(&out.stderr));
        check(&expected_path(&input, "diagnostics"), &diagnostics, &mut mismatches);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// fixtures/fhir/ok: FHIR inputs beyond the HL7 v2 fixtures' own bundles (a message Bundle whose
/// MessageHeader says the event, a batch, members in another order) become the ADT beside them
/// (`<case>.adt.er7`), valid under `validate_hl7v2.py --strict`.
#[test]
fn every_fhir_fixture_becomes_the_strict_adt_beside_it() {
    let root = workspace_root().join("fixtures/fhir/ok");
    let inputs = files_with_ext(&root, "json");
    assert!(inputs.len() >= 3, "fixtures missing: {}", inputs.len());
    let (mut mismatches, mut outputs) = (Vec::new(), Vec::new());
    for input in inputs {
        let out = passerelle(&["convert", "--from", "fhir", "--to", "hl7v2", input.to_str().expect("utf8 path")]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
        let adt = expected_path(&input, "adt.er7");
        check(&adt, &String::from_utf8_lossy(&out.stdout), &mut mismatches);
        outputs.push(adt);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    run_validator("validate_hl7v2.py", &["--strict"], &outputs);
}
