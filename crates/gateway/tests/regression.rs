//! One regression test per reported bug in the gateway runtime, named after it (as ripgrep does).

mod support;

use passerelle_gateway::Config;
use passerelle_store::{MessageQuery, OutboxFilter};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_without_the_trailing_terminator_was_delivered_twice() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let extra = format!("[[destination]]\nname = \"files\"\nkind = \"file\"\ndir = \"{}\"\n[[route]]\nname = \"all\"\nto = [\"files\"]\n", out.display());
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let with_terminator = adt("RESEND-1", "IPP-RESEND", 1);
    let without = with_terminator.strip_suffix(b"\r").expect("terminated").to_vec();
    let crlf: Vec<u8> = without.split(|&b| b == b'\r').collect::<Vec<_>>().join(&b"\r\n"[..]);
    let (code, _, first_ack) = client.send(&with_terminator).await;
    assert_eq!(code, "AA");
    for resend in [without, crlf] {
        let (code, _, ack) = client.send(&resend).await;
        assert_eq!(code, "AA");
        assert_eq!(ack, first_ack, "a resend gets the original ACK");
    }
    let messages = gw.store.search(MessageQuery { control_id: Some("RESEND-1".into()), ..Default::default() }).await.expect("search");
    assert_eq!(messages.len(), 1, "journaled once");
    let rows = gw.store.list(OutboxFilter { limit: 100, ..Default::default() }).await.expect("list");
    assert_eq!(rows.len(), 1, "one delivery");
    gw.shutdown().await;
}

fn config_error(text: &str) -> String {
    Config::parse(text, "site.toml").expect_err("must be refused").to_string()
}

#[test]
fn a_fhir_http_destination_with_an_unusable_url_was_accepted_at_start_up() {
    let err = config_error("[store]\npath = \"x.db\"\n\n[[destination]]\nname = \"cabinet\"\nkind = \"fhir_http\"\nurl = \"not a url\"\n");
    assert!(err.starts_with("site.toml: line 7: destination cabinet: url"), "{err}");
    let err = config_error("[store]\npath = \"x.db\"\n[[destination]]\nname = \"c\"\nkind = \"http\"\nurl = \"ftp://host/x\"\n");
    assert!(err.contains("http or https"), "{err}");
}

#[test]
fn max_connections_zero_was_accepted() {
    let err = config_error("[store]\npath = \"x.db\"\n[[listener]]\nname = \"in\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\nmax_connections = 0\n");
    assert!(err.starts_with("site.toml: line 7: listener in: max_connections"), "{err}");
}

/// GET on the admin port; (status, body).
async fn admin_get(gw: &passerelle_gateway::RunningGateway, path_and_query: &str) -> (u16, Vec<u8>) {
    passerelle_gateway::delivery::install_tls_provider();
    let url = format!("http://{}{path_and_query}", gw.address("admin").expect("admin"));
    let response = reqwest::get(&url).await.expect("admin request");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_be_rendered_for_a_destination_was_acknowledged_aa() {
    let tmp = tempfile::tempdir().expect("tmp");
    // An ASCII-only HL7 v2 receiver cannot carry "Müller": the rendering would be lossy.
    let extra = format!(
        "[[destination]]\nname = \"ascii-ehr\"\nkind = \"file\"\ndir = \"{}\"\ncharset = \"ASCII\"\n[[route]]\nname = \"all\"\nto = [\"ascii-ehr\"]\n",
        tmp.path().join("out").display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let msg = String::from_utf8(adt("RENDER-1", "IPP-R", 1)).expect("utf8").replace("TESTORDRE", "MÜLLER");
    let (code, msa2, ack) = client.send(msg.as_bytes()).await;
    let ack = String::from_utf8_lossy(&ack);
    assert_eq!((code.as_str(), msa2.as_str()), ("AE", "RENDER-1"), "{ack}");
    let msa = ack.split('\r').find(|s| s.starts_with("MSA|")).expect("MSA");
    assert!(msa.split('|').nth(3).is_some_and(|t| t.contains("destination ascii-ehr")), "MSA-3 names the destination: {msa}");
    let err = ack.split('\r').find(|s| s.starts_with("ERR|")).expect("ERR");
    assert!(err.split('|').nth(8).is_some_and(|t| t.contains("destination ascii-ehr")), "ERR-8 names the destination: {err}");
    let kept = gw.store.search(MessageQuery { control_id: Some("RENDER-1".into()), ..Default::default() }).await.expect("search");
    assert_eq!(kept.len(), 1, "kept for inspection");
    assert_eq!(kept[0].status, passerelle_store::MessageStatus::Rejected);
    assert!(gw.store.list(OutboxFilter { limit: 10, ..Default::default() }).await.expect("list").is_empty(), "nothing to deliver");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_sends_exactly_the_stored_rendering_and_each_message_is_decoded_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (hl7_out, fhir_out) = (tmp.path().join("hl7"), tmp.path().join("fhir"));
    let extra = format!(
        "[[destination]]\nname = \"hl7-files\"\nkind = \"file\"\ndir = \"{}\"\ncharset = \"8859/15\"\n\
         [[destination]]\nname = \"fhir-files\"\nkind = \"file\"\nformat = \"fhir\"\ndir = \"{}\"\n\
         [[route]]\nname = \"all\"\nto = [\"hl7-files\", \"fhir-files\"]\n",
        hl7_out.display(),
        fhir_out.display()
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let sent = 5;
    for i in 0..sent {
        let (code, _, _) = client.send(&adt(&format!("ONCE-{i}"), &format!("IPP-ONCE-{i}"), i)).await;
        assert_eq!(code, "AA");
    }
    let delivered = wait_for_outbox(gw.store.as_ref(), passerelle_store::OutboxStatus::Delivered, sent * 2, std::time::Duration::from_secs(20)).await;
    for row in &delivered {
        let (status, stored) = admin_get(&gw, &format!("/api/outbox/{}/rendering", row.id)).await;
        assert_eq!(status, 200);
        let dir = if row.destination == "hl7-files" { &hl7_out } else { &fhir_out };
        let file = files_with_ext(dir, if row.destination == "hl7-files" { "hl7" } else { "json" })
            .into_iter()
            .find(|p| {
                p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(&format!("-{:012}.{}", row.id, p.extension().expect("ext").to_string_lossy())))
            })
            .expect("delivered file");
        assert_eq!(std::fs::read(&file).expect("read"), stored, "{} received other bytes than the stored rendering", row.destination);
    }
    let decodes = gw.metrics.parse_duration.with_label_values(&["hl7v2"]).get_sample_count();
    assert_eq!(decodes, sent as u64, "each message is decoded once, whatever the number of destinations and attempts");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_found_by_ins_niss_and_ipp_identifier() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), "")).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let fixtures = workspace_root().join("fixtures/hl7v2/ok");
    for f in ["fr_a01_ins_qualified_utf8.hl7", "be_a28_niss.hl7", "crossborder_a04_ins_and_bis.hl7"] {
        let (code, _, _) = client.send(&std::fs::read(fixtures.join(f)).expect("fixture")).await;
        assert_eq!(code, "AA", "{f}");
    }
    let find = |query: &'static str| {
        let gw = &gw;
        async move {
            let (status, body) = admin_get(gw, &format!("/api/messages?identifier={query}")).await;
            assert_eq!(status, 200, "{query}: {}", String::from_utf8_lossy(&body));
            let rows: Vec<serde_json::Value> = serde_json::from_slice(&body).expect("json array");
            rows.iter().map(|r| r["control_id"].as_str().unwrap_or("").to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(find("urn:oid:1.2.250.1.213.1.4.10%7C279035121518989").await, ["FR-A01-0001"]);
    assert_eq!(find("urn:oid:1.2.250.1.213.1.4.8|279035121518989").await, Vec::<String>::new(), "same value, other system");
    assert_eq!(find("https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin|98472899765").await, ["FRBE-A04-0001"]);
    let niss = find("https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin|85073003328").await;
    assert_eq!(niss.len(), 1, "{niss:?}");
    assert_eq!(find("urn:oid:1.2.250.1.999.1.1|IPP200555").await, ["FRBE-A04-0001"]);
    let (status, _) = admin_get(&gw, "/api/messages?identifier=no-separator").await;
    assert_eq!(status, 400);
    // The journaled model reads back through the admin API.
    let (_, body) = admin_get(&gw, "/api/messages?control_id=FR-A01-0001").await;
    let id = serde_json::from_slice::<Vec<serde_json::Value>>(&body).expect("json")[0]["id"].as_i64().expect("id");
    let (status, body) = admin_get(&gw, &format!("/api/messages/{id}")).await;
    assert_eq!(status, 200);
    let full: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(full["model"]["envelope"]["message_id"], "FR-A01-0001");
    assert_eq!(full["model"]["envelope"]["event"]["kind"], "admit");
    assert!(full["model"]["envelope"]["received_at_ms"].as_i64().is_some_and(|t| t > 0));
    assert_eq!(admin_get(&gw, "/api/messages/999999").await.0, 404);
    gw.shutdown().await;
}

#[test]
fn route_enums_were_strings_checked_by_hand() {
    let base = "[store]\npath = \"x.db\"\n[[destination]]\nname = \"d\"\nkind = \"file\"\ndir = \"out\"\n[[route]]\nname = \"r\"\nto = [\"d\"]\n";
    for (line, expected) in [
        ("match = { national_id = \"fr-inss\" }", "unknown variant `fr-inss`"),
        ("match = { identity_trust = \"trusted\" }", "unknown variant `trusted`"),
        ("match = { format = \"hl7\" }", "unknown variant `hl7`"),
        ("match = { event = [\"admission\"] }", "unknown variant `admission`"),
    ] {
        let err = config_error(&format!("{base}{line}\n"));
        assert!(err.starts_with("site.toml: line 10:") && err.contains(expected), "{line}: {err}");
    }
    let ok = Config::parse(&format!("{base}match = {{ event = [\"admit\", \"discharge\"], format = \"hl7v2\", national_id = \"fr-ins\" }}\n"), "site.toml");
    assert!(ok.is_ok(), "{:?}", ok.err());
}

/// Regression: a frame still unterminated when the sender half-closed its side was dropped
/// silently; it is now answered AR (the peer can still read) and kept as rejected with its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unterminated_frame_at_half_close_was_dropped_silently() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), "")).await.expect("start");
    let mut stream = tokio::net::TcpStream::connect(gw.address("mllp-in").expect("mllp")).await.expect("connect");
    let mut frame = vec![0x0b];
    frame.extend(adt("HALF-1", "IPP-HALF", 1));
    stream.write_all(&frame).await.expect("write");
    stream.shutdown().await.expect("half-close");
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await.expect("answered in time").expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.contains("MSA|AR|"), "{answer}");
    let rejected = gw.store.search(MessageQuery { status: Some(passerelle_store::MessageStatus::Rejected), ..Default::default() }).await.expect("search");
    assert_eq!(rejected.len(), 1);
    let kept = gw.store.message(rejected[0].id).await.expect("message").expect("found");
    assert!(kept.raw.starts_with(b"MSH|") && kept.raw.windows(6).any(|w| w == b"HALF-1"), "the partial frame is kept");
    gw.shutdown().await;
}

/// Regression: a body refused before it was read (over the limit by its Content-Length) left its
/// bytes unread, so the connection was reset under the client still sending them and the client
/// never saw the 413 (a flaky `IncompleteMessage` in CI). Now a body up to 8 MiB is drained first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_an_oversized_body_was_reset_instead_of_answered_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tmp = tempfile::tempdir().expect("tmp");
    let text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n[[listener]]\nname = \"http-in\"\nkind = \"http\"\nbind = \"127.0.0.1:0\"\nmax_frame_bytes = 1024\n",
        tmp.path().join("j.db").display()
    );
    let gw = passerelle_gateway::start(Config::parse(&text, "small.toml").expect("config")).await.expect("start");
    let mut stream = tokio::net::TcpStream::connect(gw.address("http-in").expect("http")).await.expect("connect");
    let body = vec![b'A'; 7 * 1024 * 1024];
    let head = format!("POST /hl7v2 HTTP/1.1\r\nhost: x\r\ncontent-type: x-application/hl7-v2+er7\r\ncontent-length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&body).await.expect("the whole body is taken, not reset");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer)).await.expect("in time").expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413") && answer.contains("MSA|AR|"), "{answer}");
    gw.shutdown().await;
}
