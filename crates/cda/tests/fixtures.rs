//! Data-driven runner over fixtures/cda/{ok,err}: each document's model and diagnostics are
//! compared with the files beside it (`UPDATE_EXPECT=1` rewrites them), and every whole C-CDA
//! document of ../shared/corpus/cda reads into a document with a patient.

use passerelle_cda::{CdaError, DecodeOptions, decode};
use passerelle_model::Severity;
use passerelle_testkit::{check_expectation, expected_path, files_with_ext, shared_dir, workspace_root};

#[test]
fn every_cda_fixture_reads_as_expected() {
    let root = workspace_root().join("fixtures/cda");
    let inputs = files_with_ext(&root, "xml");
    assert!(inputs.len() >= 9, "fixtures missing: {}", inputs.len());
    let mut mismatches = Vec::new();
    for input in inputs {
        let ok_case = input.parent().is_some_and(|p| p.ends_with("ok"));
        let bytes = std::fs::read(&input).expect("read");
        let (diagnostics, model) = match decode(&bytes, &DecodeOptions::default()) {
            Err(e) => (format!("error: {e}\n"), None),
            Ok(parsed) => {
                let lines: String = parsed.issues.iter().map(|i| format!("{i}\n")).collect();
                if ok_case {
                    assert!(!parsed.has_errors(), "{}: {lines}", input.display());
                }
                (lines, Some(serde_json::to_string_pretty(&parsed.value).expect("json") + "\n"))
            }
        };
        if !ok_case {
            assert!(diagnostics.contains("error") || diagnostics.contains("warning["), "{} should fail or warn: {diagnostics}", input.display());
        }
        mismatches.extend(check_expectation(&expected_path(&input, "diagnostics"), &diagnostics));
        if let Some(model) = model {
            mismatches.extend(check_expectation(&expected_path(&input, "model.json"), &model));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn xml_attacks_are_refused_before_anything_is_expanded() {
    let root = workspace_root().join("fixtures/cda/err");
    for case in ["doctype_xxe.xml", "billion_laughs.xml"] {
        let bytes = std::fs::read(root.join(case)).expect("read");
        assert_eq!(decode(&bytes, &DecodeOptions::default()).err(), Some(CdaError::Doctype), "{case}");
    }
    let deep = format!("<ClinicalDocument xmlns=\"urn:hl7-org:v3\">{}{}</ClinicalDocument>", "<a>".repeat(10_000), "</a>".repeat(10_000));
    assert_eq!(decode(deep.as_bytes(), &DecodeOptions::default()).err(), Some(CdaError::TooDeep { max: 256 }));
    let big = vec![b' '; 1025];
    assert!(matches!(decode(&big, &DecodeOptions { max_bytes: 1024, ..DecodeOptions::default() }), Err(CdaError::TooLarge { .. })));
}

#[test]
fn the_body_is_located_not_copied() {
    let bytes = std::fs::read(workspace_root().join("fixtures/cda/ok/fr_level1_pdf_replacement.xml")).expect("read");
    let parsed = decode(&bytes, &DecodeOptions::default()).expect("decode");
    let content = parsed.value.document().and_then(|d| d.content.clone()).expect("content");
    assert_eq!((content.media_type.as_str(), content.base64), ("application/pdf", true));
    assert!(bytes[content.offset..content.offset + content.length].starts_with(b"JVBERi0x"), "the span is the base64 text");
    let structured = std::fs::read(workspace_root().join("fixtures/cda/ok/fr_cr_bio_structured_ins.xml")).expect("read");
    let parsed = decode(&structured, &DecodeOptions::default()).expect("decode");
    let content = parsed.value.document().and_then(|d| d.content.clone()).expect("content");
    let span = &structured[content.offset..content.offset + content.length];
    assert!(span.starts_with(b"<structuredBody>") && span.ends_with(b"</structuredBody>"), "{}", String::from_utf8_lossy(span));
}

#[test]
fn every_whole_corpus_document_reads_with_its_patient_and_fragments_never_panic() {
    let corpus = shared_dir().join("corpus/cda");
    if !corpus.exists() {
        eprintln!("SKIPPED: corpus not found at {}", corpus.display());
        return;
    }
    let documents = files_with_ext(&corpus, "ccda");
    assert!(documents.len() >= 20, "whole documents: {}", documents.len());
    for path in &documents {
        let bytes = std::fs::read(path).expect("read");
        let parsed = decode(&bytes, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(parsed.value.patient.is_some(), "{}: no patient", path.display());
        assert!(!parsed.issues.iter().any(|i| i.severity == Severity::Error), "{}: {:?}", path.display(), parsed.issues);
    }
    for path in files_with_ext(&corpus, "xml") {
        let _ = decode(&std::fs::read(&path).expect("read"), &DecodeOptions::default());
    }
}
