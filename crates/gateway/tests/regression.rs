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
