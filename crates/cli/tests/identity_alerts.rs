//! Identity monitoring end to end: the real binary journals five messages about one person that
//! raise each kind of alert (the same INS with another birth date from another application, a
//! second INS with the same strict traits and the same IPP, an INS with a wrong key, the IPP's
//! identity sent PROV after VALI), then `GET /api/identity/alerts` answers them with their
//! messages, an acknowledgement sticks, the gauge counts the open ones, and the console's
//! `/identity` page lists them.

mod common;

use common::gateway::{GatewayFiles, send};
use common::workspace_root;

fn http(port: u16, method: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("admin");
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (head.to_owned(), body.to_owned())
}

/// The admission fixture with `edits` applied (byte replacements) and its own control id.
fn variant(base: &[u8], control: &str, edits: &[(&str, &str)]) -> Vec<u8> {
    let mut text = String::from_utf8(base.to_vec()).expect("utf-8").replace("|FR-A01-0001|", &format!("|{control}|"));
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    text.into_bytes()
}

#[test]
fn each_kind_of_identity_alert_is_raised_listed_and_acknowledged() {
    let dir = tempfile::tempdir().expect("tmp");
    let files = GatewayFiles::write(dir.path(), &dir.path().join("journal.db"), "");
    let _gateway = files.start();
    let mut mllp = files.connect_when_up();
    let base = std::fs::read(workspace_root().join("fixtures/validate/ok/fr_a01_admission.hl7")).expect("fixture");
    let ins = "279035121518989";
    let messages = [
        variant(&base, "ID-BASE", &[]),
        // Another application sends the same INS with another birth date.
        variant(
            &base,
            "ID-DIVERGE",
            &[("MSH|^~\\&|PASSERELLE-TEST|", "MSH|^~\\&|AUTRE-APPLI|"), ("|19790321|F|", "|19790322|F|"), ("IPP100234^^^CHU-TEST", "IPP200001^^^CHU-TEST")],
        ),
        // A second (valid) INS with the same strict traits and the same IPP.
        variant(&base, "ID-TWO-INS", &[(ins, "279035121519088")]),
        // An INS with a wrong check key, for another IPP.
        variant(&base, "ID-WRONG-KEY", &[(ins, "279035121518988"), ("IPP100234^^^CHU-TEST", "IPP300001^^^CHU-TEST")]),
        // The same IPP, its identity now provisional.
        variant(&base, "ID-DOWNGRADE", &[("|VALI\r", "|PROV\r")]),
    ];
    for m in &messages {
        let (code, err) = send(&mut mllp, m).expect("ack");
        assert_eq!(code, "AA", "{err}");
    }
    let admin = files.admin;
    let (head, body) = http(admin, "GET", "/api/identity/alerts");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let report: serde_json::Value = serde_json::from_str(&body).expect("json");
    let alerts = report["alerts"].as_array().expect("alerts").clone();
    let kinds: std::collections::BTreeSet<&str> = alerts.iter().filter_map(|a| a["kind"].as_str()).collect();
    assert_eq!(kinds, ["diverging-traits", "ipp-two-ins", "trust-downgrade", "two-ins-same-traits", "wrong-key"].into_iter().collect(), "{body}");
    for a in &alerts {
        for key in ["id", "kind", "identifier", "messages", "detail", "acknowledged"] {
            assert!(!a[key].is_null(), "{key} in {a}");
        }
        assert!(a["identifier"]["system"].is_string() && a["identifier"]["value"].is_string(), "{a}");
        assert!(!a["messages"].as_array().expect("messages").is_empty(), "{a}");
    }
    let diverging = alerts.iter().find(|a| a["kind"] == "diverging-traits").expect("diverging");
    assert_eq!(diverging["identifier"], serde_json::json!({"system": "urn:oid:1.2.250.1.213.1.4.10", "value": ins}));
    assert_eq!(diverging["messages"].as_array().map(Vec::len), Some(2), "{diverging}");
    assert!(diverging["detail"].as_str().is_some_and(|d| d.contains("birth date") && d.contains("AUTRE-APPLI")), "{diverging}");
    let ipp = alerts.iter().find(|a| a["kind"] == "ipp-two-ins").expect("ipp");
    assert_eq!(ipp["identifier"]["value"], "IPP100234");
    let downgrade = alerts.iter().find(|a| a["kind"] == "trust-downgrade").expect("downgrade");
    assert_eq!(downgrade["identifier"]["value"], "IPP100234", "seen on the IPP: the INS is not used without VALI");

    // Acknowledged: it stays, marked, and the gauge counts only the open ones.
    let id = diverging["id"].as_str().expect("id");
    let encoded: String = id.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    let (head, _) = http(admin, "POST", &format!("/api/identity/alerts/acknowledge?id={encoded}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_, body) = http(admin, "GET", "/api/identity/alerts");
    let again: serde_json::Value = serde_json::from_str(&body).expect("json");
    let marked = again["alerts"].as_array().expect("alerts").iter().find(|a| a["id"] == id).expect("still listed").clone();
    assert_eq!(marked["acknowledged"], true);
    let (_, metrics) = http(admin, "GET", "/metrics");
    assert!(metrics.contains("passerelle_identity_alerts{kind=\"diverging-traits\"} 0"), "{metrics}");
    assert!(metrics.contains("passerelle_identity_alerts{kind=\"ipp-two-ins\"} 1"), "{metrics}");
    assert!(!metrics.contains(ins), "no identifier in the metrics");

    let (_, page) = http(admin, "GET", "/identity");
    for kind in ["wrong-key", "ipp-two-ins", "trust-downgrade", "two-ins-same-traits", "diverging-traits"] {
        assert!(page.contains(&format!("data-kind=\"{kind}\"")), "{kind} on the page");
    }
}
