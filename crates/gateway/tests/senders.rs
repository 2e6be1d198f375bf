//! `[[sender]]`: a declared facility is counted under its name and only on its listeners; an
//! undeclared one is refused (AE naming it) under `undeclared_senders = "refuse"` and accepted
//! as `undeclared` once a reload says `accept`; a CDA document's custodian identifies its sender.
//! Metrics and `GET /api/senders` carry the declared names only, never a facility a sender made up.

mod support;

use passerelle_gateway::Config;
use std::path::Path;
use support::*;

fn write_config(path: &Path, journal: &Path, undeclared: &str) {
    let text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n[gateway]\nundeclared_senders = \"{undeclared}\"\n\
         [[listener]]\nname = \"mllp-in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n\
         [[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"127.0.0.1:0\"\n\
         [[sender]]\nname = \"chu-nord\"\nfacilities = [\"750712184\", \"CHU-NORD\"]\nlisteners = [\"mllp-in\"]\n\
         [[sender]]\nname = \"labo\"\nfacilities = [\"1750000000\"]\n\
         [[destination]]\nname = \"out\"\nkind = \"file\"\ndir = \"{}\"\nformat = \"hl7v2\"\n[[route]]\nname = \"all\"\nto = [\"out\"]\n",
        journal.display(),
        journal.with_extension("out").display()
    );
    std::fs::write(path, text).expect("write config");
}

fn from(facility: &str, control: &str) -> Vec<u8> {
    String::from_utf8(adt(control, "SND1", 0)).expect("utf8").replace("|TESTAPP|CHU-TEST|", &format!("|TESTAPP|{facility}|")).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_senders_are_counted_by_name_and_held_to_their_listeners() {
    passerelle_gateway::delivery::install_tls_provider();
    let dir = tempfile::tempdir().expect("tmp");
    let (path, journal) = (dir.path().join("hub.toml"), dir.path().join("j.db"));
    write_config(&path, &journal, "refuse");
    let gw = passerelle_gateway::start(Config::load(&path).expect("config")).await.expect("start");
    let mut mllp = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;

    assert_eq!(mllp.send(&from("CHU-NORD", "S-1")).await.0, "AA");
    assert_eq!(mllp.send(&from("CHU-NORD^750712184^FINESS", "S-2")).await.0, "AA", "MSH-4.1 identifies it");
    let (code, _, ack) = mllp.send(&from("CLINIQUE-X", "S-3")).await;
    assert_eq!(code, "AE");
    assert!(String::from_utf8_lossy(&ack).contains("facility CLINIQUE-X is not a declared sender"), "{}", String::from_utf8_lossy(&ack));

    // labo may use any listener; chu-nord not the HTTP one.
    let http = format!("http://{}/hl7v2", gw.address("http-in").expect("http"));
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>| client.post(&http).header("content-type", "application/hl7-v2").body(body).send();
    let refused = post(from("CHU-NORD", "S-4")).await.expect("post").text().await.expect("body");
    assert!(refused.contains("MSA|AE") && refused.contains("sender chu-nord is not allowed on listener http-in"), "{refused}");
    let cda = std::fs::read(workspace_root().join("fixtures/cda/ok/fr_cr_bio_structured_ins.xml")).expect("fixture");
    let cda_url = format!("http://{}/cda", gw.address("http-in").expect("http"));
    let stored = client.post(&cda_url).header("content-type", "application/xml").body(cda).send().await.expect("post cda");
    assert_eq!(stored.status().as_u16(), 201, "the custodian 1750000000 is labo's");

    let admin = gw.address("admin").expect("admin");
    let metrics = reqwest::get(format!("http://{admin}/metrics")).await.expect("metrics").text().await.expect("text");
    let line = |sender: &str, listener: &str, outcome: &str| {
        format!("passerelle_sender_messages_total{{listener=\"{listener}\",outcome=\"{outcome}\",sender=\"{sender}\"}}")
    };
    for (sender, listener, outcome, n) in [
        ("chu-nord", "mllp-in", "accepted", 2),
        ("undeclared", "mllp-in", "refused", 1),
        ("chu-nord", "http-in", "refused", 1),
        ("labo", "http-in", "accepted", 1),
    ] {
        assert!(metrics.contains(&format!("{} {n}", line(sender, listener, outcome))), "{sender}/{listener}/{outcome} = {n} in:\n{metrics}");
    }
    assert!(!metrics.contains("CLINIQUE-X"), "an undeclared facility never becomes a label");
    let senders: serde_json::Value = reqwest::get(format!("http://{admin}/api/senders")).await.expect("get").json().await.expect("json");
    let chu = senders.as_array().expect("list").iter().find(|s| s["name"] == "chu-nord").cloned().expect("chu-nord");
    assert_eq!(chu["messages"]["accepted"], 2);
    assert_eq!(chu["facilities"][1], "CHU-NORD");

    // A reload to `accept`: the same undeclared facility now gets AA, counted as undeclared.
    write_config(&path, &journal, "accept");
    let reload = client.post(format!("http://{admin}/api/config/reload")).send().await.expect("reload");
    assert_eq!(reload.status().as_u16(), 200, "{}", reload.text().await.unwrap_or_default());
    assert_eq!(mllp.send(&from("CLINIQUE-X", "S-5")).await.0, "AA");
    let metrics = reqwest::get(format!("http://{admin}/metrics")).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains(&format!("{} 1", line("undeclared", "mllp-in", "accepted"))), "{metrics}");
    gw.shutdown().await;
}

#[test]
fn sender_declarations_are_checked_at_load_with_their_line() {
    let base = "[store]\npath = \"x.db\"\n[[listener]]\nname = \"in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n";
    let cases = [
        (
            "[[sender]]\nname = \"a\"\nfacilities = [\"F1\"]\n[[sender]]\nname = \"b\"\nfacilities = [\"F1\"]\n",
            "line 12: sender b: facility F1 is already sender a's",
        ),
        ("[[sender]]\nname = \"a\"\nfacilities = [\"F1\"]\nlisteners = [\"nope\"]\n", "line 10: sender a: unknown listener nope"),
        ("[[sender]]\nname = \"a\"\nfacilities = []\n", "line 9: sender a: facilities must list at least one non-empty id"),
        ("[[sender]]\nname = \"undeclared\"\nfacilities = [\"F\"]\n", "line 8: sender undeclared is defined twice or uses a reserved name"),
    ];
    for (extra, expected) in cases {
        let err = Config::parse(&format!("{base}{extra}"), "hub.toml").expect_err(expected).to_string();
        assert_eq!(err, format!("hub.toml: {expected}"));
    }
}
