//! One regression test per reported bug, named after it (as ripgrep does). Each runs the real
//! `passerelle` binary, so it exercises the same decode → model → render code as the gateway.

mod common;

use common::passerelle;
use std::io::Write;

/// Runs `passerelle convert --from hl7v2 --to <to>` on `bytes`: (exit code, stdout, stderr).
fn convert(bytes: &[u8], to: &str) -> (i32, String, String) {
    let mut file = tempfile::NamedTempFile::new().expect("tmp");
    file.write_all(bytes).expect("write");
    let out = passerelle(&["convert", "--from", "hl7v2", "--to", to, file.path().to_str().expect("path")]);
    (out.status.code().expect("exit"), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A PAM-FR ADT^A28 with the given PID-3 repetitions and PID-32 codes.
fn adt_a28(pid3: &str, pid32: &str) -> Vec<u8> {
    format!(
        "MSH|^~\\&|TESTAPP|CHU-TEST|SIH|CHU-TEST|20261123101500+0100||ADT^A28^ADT_A05|REG-1|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8\r\
         EVN||20261123101500\r\
         PID|1||{pid3}||TESTREGLE^ALICE^ALICE MARIE^^^^L||19800102|F|||^^^^^^BDL^^75056|||||||||||||||||||||{pid32}\r"
    )
    .into_bytes()
}

const INS_TEST: &str = "279035121518989^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS";
const IPP: &str = "IPP42^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI";

fn fhir_identifier_systems(json: &str) -> Vec<(String, String)> {
    let bundle: serde_json::Value = serde_json::from_str(json).expect("bundle json");
    let patient = bundle["entry"].as_array().expect("entries").iter().find(|e| e["resource"]["resourceType"] == "Patient").expect("patient");
    patient["resource"]["identifier"]
        .as_array()
        .map(|ids| ids.iter().map(|i| (i["system"].as_str().unwrap_or("").to_owned(), i["value"].as_str().unwrap_or("").to_owned())).collect())
        .unwrap_or_default()
}

#[test]
fn vali_with_dout_or_fict_still_used_the_ins_as_qualified() {
    for attribute in ["DOUT", "FICT"] {
        let (code, out, err) = convert(&adt_a28(&format!("{INS_TEST}~{IPP}"), &format!("VALI~{attribute}")), "fhir");
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("ins-doubtful-identity"), "{attribute}: {err}");
        let systems = fhir_identifier_systems(&out);
        assert!(!systems.iter().any(|(s, _)| s == "urn:oid:1.2.250.1.213.1.4.10"), "{attribute}: INS emitted: {systems:?}");
        assert!(!out.contains("\"QUAL\""), "{attribute}: identity shown as qualified");
        assert!(!out.contains("\"VALI\""), "{attribute}: a doubtful identity is not validated");
    }
}

#[test]
fn ins_nir_and_ins_nia_were_both_emitted_as_ins() {
    let nia = "260058815400233^^^ASIP-SANTE-INS-NIA&1.2.250.1.213.1.4.9&ISO^INS";
    let (code, out, err) = convert(&adt_a28(&format!("{nia}~{INS_TEST}~{IPP}"), "VALI"), "fhir");
    assert_eq!(code, 0, "{err}");
    let systems = fhir_identifier_systems(&out);
    assert!(systems.iter().any(|(s, v)| s == "urn:oid:1.2.250.1.213.1.4.10" && v == "279035121518989"), "{systems:?}");
    assert!(!systems.iter().any(|(s, _)| s == "urn:oid:1.2.250.1.213.1.4.9"), "NIA emitted beside the NIR: {systems:?}");
}

#[test]
fn niss_with_a_wrong_key_was_emitted_as_the_be_ssin() {
    let wrong = "79121137740^^^NISS&2.16.840.1.113883.3.6777.5.1&ISO^SB";
    let (code, out, err) = convert(&adt_a28(&format!("{wrong}~{IPP}"), ""), "fhir");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("key-invalid"), "{err}");
    let systems = fhir_identifier_systems(&out);
    assert!(!systems.iter().any(|(_, v)| v == "79121137740"), "NISS with a failed key emitted: {systems:?}");
    let good = "85073003328^^^NISS&2.16.840.1.113883.3.6777.5.1&ISO^SB";
    let (_, out, _) = convert(&adt_a28(&format!("{good}~{IPP}"), ""), "fhir");
    assert!(fhir_identifier_systems(&out).iter().any(|(s, v)| s.ends_with("NamingSystem/ssin") && v == "85073003328"));
}

#[test]
fn ar_acks_for_unframeable_input_failed_strict_hl7v2_validation() {
    use passerelle_hl7v2::{AckOptions, ErrorCondition, ParseOptions, build_reject, parse};
    let dir = tempfile::tempdir().expect("tmp");
    let mut written = Vec::new();
    let options = AckOptions { timestamp: "20261123101500+0100", control_id: "ACK1", application: "PASSERELLE", facility: "GATEWAY" };
    let err_dir = passerelle_testkit::workspace_root().join("fixtures/hl7v2/err");
    for input in passerelle_testkit::files_with_ext(&err_dir, "hl7") {
        let bytes = std::fs::read(&input).expect("read");
        let Err(e) = parse(&bytes, &ParseOptions::default()) else { continue };
        let ack = build_reject(&bytes, &[ErrorCondition::new(e.hl7_error_code(), e.to_string())], &options);
        let text = String::from_utf8_lossy(&ack).into_owned();
        assert!(!text.contains("|ACK^^ACK|") && !text.contains("\rMSA|AR|\r"), "{}: {text}", input.display());
        let path = dir.path().join(input.file_name().expect("name"));
        std::fs::write(&path, &ack).expect("write");
        written.push(path);
    }
    assert!(written.len() >= 3, "unframeable fixtures: {}", written.len());
    passerelle_testkit::run_validator("validate_hl7v2.py", &["--strict"], &written);
}

#[test]
fn day_precision_msh7_rendered_an_invalid_bundle_timestamp() {
    let msg = b"MSH|^~\\&|TESTAPP|CHU-TEST|SIH|CHU-TEST|20261101||ADT^A28^ADT_A05|DAY-1|P|2.5|||||FRA|UNICODE UTF-8\rPID|1||IPP42^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||TESTJOUR^ALICE^^^^^L||19800102|F\r";
    let (code, out, err) = convert(msg, "fhir");
    assert_eq!(code, 0, "{err}");
    let bundle: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(bundle.get("timestamp").is_none_or(|t| t.as_str().is_some_and(|t| t.len() > 10)), "timestamp {:?}", bundle.get("timestamp"));
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("bundle.json");
    std::fs::write(&path, &out).expect("write");
    passerelle_testkit::run_validator("validate_fhir.py", &["--type", "Bundle"], &[path]);
}

/// An ADT^A28 declaring MSH-18 `charset`, whose PID-5.1 is the raw bytes `family`.
fn adt_with_family(charset: &str, family: &[u8]) -> Vec<u8> {
    let mut msg = format!("MSH|^~\\&|TESTAPP|CHU-TEST|SIH|CHU-TEST|20261123101500+0100||ADT^A28^ADT_A05|CS-1|P|2.5|||||FRA|{charset}\rPID|1||IPP42^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||").into_bytes();
    msg.extend_from_slice(family);
    msg.extend_from_slice(b"^ALICE^^^^^L||19800102|F\r");
    msg
}

fn patient_family(bundle_json: &str) -> String {
    let bundle: serde_json::Value = serde_json::from_str(bundle_json).expect("json");
    let patient = bundle["entry"].as_array().expect("entries").iter().find(|e| e["resource"]["resourceType"] == "Patient").expect("patient");
    patient["resource"]["name"][0]["family"].as_str().expect("family").to_owned()
}

#[test]
fn utf8_bytes_declared_8859_1_were_decoded_as_latin1_mojibake() {
    let (code, out, err) = convert(&adt_with_family("8859/1", "Müller".as_bytes()), "fhir");
    assert_eq!(code, 0, "{err}");
    assert_eq!(patient_family(&out), "Müller");
    assert!(err.contains("warning[charset-mismatch] MSH-18"), "{err}");
    let (_, out, err) = convert(&adt_with_family("8859/1", b"M\xfcller"), "fhir");
    assert_eq!(patient_family(&out), "Müller", "real Latin-1 still reads as Latin-1");
    assert!(!err.contains("charset-"), "{err}");
}

#[test]
fn bytes_0x80_to_0x9f_under_8859_1_were_read_as_windows_1252_without_a_diagnostic() {
    let (code, out, err) = convert(&adt_with_family("8859/1", b"O\x9cUVRE"), "fhir");
    assert_eq!(code, 0, "{err}");
    assert_eq!(patient_family(&out), "OœUVRE", "windows-1252 reading kept");
    assert!(err.contains("warning[charset-windows-1252] MSH-18"), "{err}");
}

#[test]
fn a_nul_byte_reached_the_fhir_output() {
    let (code, out, err) = convert(&adt_with_family("UNICODE UTF-8", b"DU\x00PONT"), "fhir");
    assert_eq!(code, 0, "{err}");
    assert_eq!(patient_family(&out), "DUPONT");
    assert!(!out.contains("\\u0000"), "NUL in the output");
    assert!(err.contains("control-character"), "{err}");
    // The same NUL written as a hex escape.
    let (_, out, err) = convert(&adt_with_family("UNICODE UTF-8", b"DU\\X00\\PONT"), "fhir");
    assert_eq!(patient_family(&out), "DUPONT");
    assert!(err.contains("control-character"), "{err}");
}

fn config_in(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("site.toml");
    std::fs::write(&path, format!("[store]\npath = \"{}\"\n", dir.join("j.db").display())).expect("config");
    path
}

#[test]
fn outbox_retry_of_a_missing_row_said_it_was_not_dead_lettered() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = config_in(dir.path());
    let out = passerelle(&["outbox", "--config", config.to_str().expect("path"), "retry", "42"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no outbox row 42"), "{err}");
    assert!(!err.contains("not dead-lettered"), "{err}");
}

#[test]
fn config_errors_printed_the_os_error_twice() {
    let out = passerelle(&["run", "--config", "/nonexistent/passerelle.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.contains("cannot read /nonexistent/passerelle.toml"), "{err}");
}

#[test]
fn loadgen_against_the_default_config_wrote_files_without_a_word() {
    let out = passerelle(&["loadgen", "--mllp", "127.0.0.1:1", "--messages", "1", "--connections", "1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("./data/out") && err.contains("loadtest.toml"), "{err}");
}

#[test]
fn fixtures_lacked_a_final_segment_terminator() {
    let root = passerelle_testkit::workspace_root().join("fixtures/hl7v2");
    // The unframeable cases are deliberately cut short or binary.
    let deliberately_broken = ["truncated_msh.hl7", "binary_garbage.hl7"];
    for input in passerelle_testkit::files_with_ext(&root, "hl7") {
        if deliberately_broken.iter().any(|name| input.ends_with(name)) {
            continue;
        }
        let bytes = std::fs::read(&input).expect("read");
        assert_eq!(bytes.last(), Some(&b'\r'), "{} does not end with a CR segment terminator", input.display());
        assert!(!bytes.contains(&b'\n'), "{} uses LF: fixtures are ER7 with CR terminators", input.display());
    }
}

/// Regression: a FHIR Patient without Bundle.timestamp or meta.lastUpdated became an ADT with an
/// empty MSH-7 and EVN-2 (invalid HL7 v2); it is now dated by its conversion (the gateway dates it
/// by its receipt), and the composer refuses to write an ADT without a time.
#[test]
fn fhir_without_a_timestamp_becomes_an_adt_dated_by_its_conversion() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("patient.json");
    std::fs::write(&input, br#"{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.999.1.1","value":"IPP-1"}],"name":[{"family":"TEST"}]}"#)
        .expect("write");
    let out = passerelle(&["convert", "--from", "fhir", "--to", "hl7v2", input.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let msh7 = text.split('\r').next().and_then(|msh| msh.split('|').nth(6)).unwrap_or_default();
    assert_eq!(msh7, "20261120000000+0000", "{text}");
}
