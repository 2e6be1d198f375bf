//! The shared corpus (~350 real samples from other projects): every HL7 v2 message converts without
//! a panic, every usable one becomes FHIR that the independent R4 validator accepts.

mod common;

use common::{files_with_ext, passerelle, run_validator, shared_dir};

/// `../shared/<sub>`, or `None` with a loud SKIPPED (an error when PASSERELLE_REQUIRE_VERIFY=1).
fn corpus_dir(sub: &str) -> Option<std::path::PathBuf> {
    let corpus = shared_dir().join(sub);
    if corpus.exists() {
        return Some(corpus);
    }
    assert_ne!(std::env::var("PASSERELLE_REQUIRE_VERIFY").as_deref(), Ok("1"), "shared corpus missing at {}", corpus.display());
    eprintln!("SKIPPED: shared corpus not found at {}", corpus.display());
    None
}

/// The FHIR resource an ORU (with results, not a document), SIU, ORM/OML or VXU must produce.
fn expected_resource(input: &std::path::Path) -> Option<&'static str> {
    let bytes = std::fs::read(input).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let msh = text.split(['\r', '\n']).find(|l| l.trim_start_matches('\u{feff}').starts_with("MSH"))?;
    let message_type = msh.split('|').nth(8)?.split('^').next()?;
    let carries_document = text.split(['\r', '\n']).any(|l| l.starts_with("OBX|") && l.split('|').nth(2) == Some("ED"));
    match message_type {
        "ORU" if !carries_document => Some("DiagnosticReport"),
        "SIU" => Some("Appointment"),
        "ORM" | "OML" => Some("ServiceRequest"),
        "VXU" => Some("Immunization"),
        _ => None,
    }
}

#[test]
fn every_corpus_hl7v2_message_converts_to_valid_fhir() {
    let Some(corpus) = corpus_dir("corpus") else { return };
    let out_dir = std::env::temp_dir().join(format!("passerelle-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("tmp");
    let inputs = files_with_ext(&corpus.join("hl7v2"), "hl7");
    assert!(inputs.len() > 150, "corpus incomplete: {}", inputs.len());
    let (mut usable, mut refused) = (Vec::new(), Vec::new());
    let mut clinical = std::collections::BTreeMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let out = passerelle(&["convert", "--from", "hl7v2", "--to", "fhir", input.to_str().expect("path")]);
        match out.status.code() {
            Some(0) => {
                let p = out_dir.join(format!("{i}.json"));
                std::fs::write(&p, &out.stdout).expect("write");
                usable.push(p);
                if let Some(wanted) = expected_resource(input) {
                    let bundle: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
                    let types: Vec<&str> = bundle["entry"].as_array().into_iter().flatten().filter_map(|e| e["resource"]["resourceType"].as_str()).collect();
                    assert!(types.contains(&wanted), "{}: no {wanted} in {types:?}", input.display());
                    *clinical.entry(wanted).or_insert(0) += 1;
                }
            }
            Some(1) => refused.push(input.strip_prefix(&corpus).unwrap_or(input).display().to_string()),
            other => panic!("{}: exit {other:?}\n{}", input.display(), String::from_utf8_lossy(&out.stderr)),
        }
    }
    // Refused inputs are exactly the deliberately malformed samples (empty, MSH without fields or
    // without MSH-2/9/10) and one ADT^A08 sample that has no PID.
    eprintln!("usable {}, refused {}: {refused:?}; clinical resources {clinical:?}", usable.len(), refused.len());
    // The corpus holds ORU, SIU, ORM/OML and VXU samples: each kind must have been converted.
    for (kind, at_least) in [("DiagnosticReport", 10), ("Appointment", 10), ("ServiceRequest", 12), ("Immunization", 4)] {
        assert!(clinical.get(kind).copied().unwrap_or(0) >= at_least, "{kind}: {clinical:?}");
    }
    assert!(refused.iter().all(|r| r.contains("Test/Message/") || r.contains("sample_adt_a01_encoded")), "{refused:?}");
    run_validator("validate_fhir.py", &[], &usable);
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn every_corpus_fhir_resource_is_read_without_a_panic() {
    let corpus = shared_dir().join("corpus/fhir");
    for input in files_with_ext(&corpus, "json").into_iter().chain(files_with_ext(&corpus, "fhir")) {
        let out = passerelle(&["convert", "--from", "fhir", "--to", "model", input.to_str().expect("path")]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", input.display());
    }
}

#[test]
fn every_whole_corpus_cda_document_converts_to_a_valid_document_reference_bundle_mhd_bundle_and_mdm() {
    let Some(corpus) = corpus_dir("corpus/cda") else { return };
    let out_dir = tempfile::tempdir().expect("tmp");
    let documents = files_with_ext(&corpus, "ccda");
    assert!(documents.len() >= 20, "whole documents: {}", documents.len());
    let (mut outputs, mut mdm) = (Vec::new(), Vec::new());
    for (i, input) in documents.iter().enumerate() {
        let arg = input.to_str().expect("path");
        for (to, name, extra) in [("mhd", format!("{i}.mhd.json"), Some("https://dmp.example.org/fhir")), ("hl7v2", format!("{i}.mdm.hl7"), None)] {
            let mut args = vec!["convert", "--from", "cda", "--to", to];
            args.extend(extra.iter().flat_map(|base| ["--fhir-base", base]));
            args.push(arg);
            let out = passerelle(&args);
            assert_eq!(out.status.code(), Some(0), "{arg} --to {to}: {}", String::from_utf8_lossy(&out.stderr));
            let path = out_dir.path().join(name);
            std::fs::write(&path, &out.stdout).expect("write");
            if to == "mhd" { outputs.push(path) } else { mdm.push(path) }
        }
        let out = passerelle(&["convert", "--from", "cda", "--to", "fhir", input.to_str().expect("path")]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
        let bundle: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let types: Vec<&str> = bundle["entry"].as_array().expect("entries").iter().filter_map(|e| e["resource"]["resourceType"].as_str()).collect();
        assert_eq!(types, ["Patient", "DocumentReference"], "{}", input.display());
        let path = out_dir.path().join(format!("{i}.json"));
        std::fs::write(&path, &out.stdout).expect("write");
        outputs.push(path);
    }
    run_validator("validate_fhir.py", &["--type", "Bundle"], &outputs);
    run_validator("validate_hl7v2.py", &["--strict", "--version", "2.6"], &mdm);
}
