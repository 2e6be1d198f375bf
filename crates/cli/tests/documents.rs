//! Every document fixture converts in every direction the gateway offers, each output compared
//! with the file beside the input and judged by the third-party validators: CDA → MDM (v2.6),
//! ORU (v2.5), MHD and CDA itself; HL7 v2 ORU/MDM → CDA, ORU, MDM. `UPDATE_EXPECT=1` rewrites.

mod common;

use common::passerelle;
use passerelle_testkit::{check_expectation, expected_path, files_with_ext, run_validator, workspace_root};
use std::path::{Path, PathBuf};

/// Converts `input` to `to`, checks the output against `<input>.<ext>` and returns its path.
fn convert(from: &str, to: &str, input: &Path, ext: &str, extra: &[&str], mismatches: &mut Vec<String>) -> PathBuf {
    let arg = input.to_str().expect("utf8 path");
    let mut args = vec!["convert", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    args.push(arg);
    let out = passerelle(&args);
    assert_eq!(out.status.code(), Some(0), "{arg} --to {to}: {}", String::from_utf8_lossy(&out.stderr));
    let path = expected_path(input, ext);
    mismatches.extend(check_expectation(&path, &String::from_utf8_lossy(&out.stdout)));
    path
}

#[test]
fn every_cda_fixture_converts_to_mdm_oru_mhd_and_itself() {
    let mut mismatches = Vec::new();
    let (mut mdm, mut oru, mut mhd) = (Vec::new(), Vec::new(), Vec::new());
    let inputs = files_with_ext(&workspace_root().join("fixtures/cda/ok"), "xml");
    assert!(inputs.len() >= 3);
    for input in &inputs {
        mdm.push(convert("cda", "hl7v2", input, "mdm.er7", &[], &mut mismatches));
        oru.push(convert("cda", "oru", input, "oru.er7", &[], &mut mismatches));
        mhd.push(convert("cda", "mhd", input, "mhd.json", &["--fhir-base", "https://dmp.example.org/fhir"], &mut mismatches));
        // A CDA rendered as CDA is the document as received, byte for byte.
        let same = passerelle(&["convert", "--from", "cda", "--to", "cda", input.to_str().expect("path")]);
        let original = std::fs::read(input).expect("read");
        assert_eq!(same.stdout, original, "{}: the cda rendering is the document itself", input.display());
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    run_validator("validate_hl7v2.py", &["--strict", "--version", "2.6"], &mdm);
    run_validator("validate_hl7v2.py", &["--strict"], &oru);
    run_validator("validate_fhir.py", &["--type", "Bundle"], &mhd);
}

/// `convert` refuses `input --to to`, saying `why`.
fn refuses(from: &str, to: &str, input: &Path, why: &str) {
    let out = passerelle(&["convert", "--from", from, "--to", to, input.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1), "{} --to {to}", input.display());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(why), "{stderr}");
}

#[test]
fn every_hl7v2_document_fixture_converts_to_cda_oru_mdm_and_mhd() {
    let mut mismatches = Vec::new();
    let (mut cda, mut oru, mut mdm, mut mhd) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let dir = workspace_root().join("fixtures/hl7v2/ok");
    for name in ["fr_mdm_t02_cda.hl7", "fr_oru_r01_pdf_recipients.hl7", "fr_mdm_t04_deletion.hl7", "fr_oru_r01_two_cda.hl7"] {
        let input = dir.join(name);
        oru.push(convert("hl7v2", "oru", &input, "oru.er7", &[], &mut mismatches));
        if name.contains("deletion") {
            // A CDA cannot say "deleted", nor can an ITI-65 provide: refused rather than sent as new.
            refuses("hl7v2", "cda", &input, "cannot carry a deletion");
            refuses("hl7v2", "mhd", &input, "cannot carry a deletion");
        } else {
            mhd.push(convert("hl7v2", "mhd", &input, "mhd.json", &["--fhir-base", "https://dmp.example.org/fhir"], &mut mismatches));
        }
        if name.contains("two_cda") {
            // One MDM or one CDA carries one document: refused rather than drop the second.
            refuses("hl7v2", "hl7v2", &input, "carries one document");
            refuses("hl7v2", "cda", &input, "carries one document");
            continue;
        }
        mdm.push(convert("hl7v2", "hl7v2", &input, "mdm.er7", &[], &mut mismatches));
        if !name.contains("deletion") {
            cda.push(convert("hl7v2", "cda", &input, "cda.xml", &[], &mut mismatches));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // The CDA an MDM carries comes out as it went in; a PDF comes out wrapped in a level-1 CDA.
    let carried = std::fs::read(&cda[0]).expect("read");
    assert_eq!(carried, std::fs::read(workspace_root().join("fixtures/cda/ok/fr_cr_bio_structured_ins.xml")).expect("cda"));
    let two: serde_json::Value = serde_json::from_slice(&std::fs::read(mhd.last().expect("mhd")).expect("read")).expect("json");
    let types: Vec<&str> = two["entry"].as_array().expect("entries").iter().filter_map(|e| e["resource"]["resourceType"].as_str()).collect();
    assert_eq!(types, ["List", "DocumentReference", "Binary", "DocumentReference", "Binary"], "an ORU with N1 and N3 gives two documents");
    run_validator("validate_cda.py", &[], &cda);
    run_validator("validate_hl7v2.py", &["--strict"], &oru);
    run_validator("validate_hl7v2.py", &["--strict", "--version", "2.6"], &mdm);
    run_validator("validate_fhir.py", &["--type", "Bundle"], &mhd);
}
