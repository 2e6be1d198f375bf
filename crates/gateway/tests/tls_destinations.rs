//! TLS and credentials on outbound connections: gateway A delivers to gateway B, whose MLLP
//! listener wants mutual TLS with A's certificate and whose HTTPS listener wants a bearer token.
//! A's `mllp` destination (CA, client certificate, server name) and `http` destination (CA,
//! bearer token) both deliver; without its client certificate, A's delivery is refused and retried.

mod support;

use passerelle_gateway::Config;
use passerelle_store::OutboxStatus;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use std::path::Path;
use std::time::Duration;
use support::*;

/// A CA, a server certificate for localhost and a client certificate for gateway A, as PEM files.
fn pki(dir: &Path) {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Hub test CA");
    std::fs::write(dir.join("ca.pem"), ca.self_signed(&ca_key).expect("ca").pem()).expect("write");
    let issuer = Issuer::new(ca, ca_key);
    for (name, cn, sans) in [("server", "localhost", vec![SanType::DnsName("localhost".try_into().expect("dns"))]), ("gateway-a", "gateway-a", vec![])] {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.subject_alt_names = sans;
        std::fs::write(dir.join(format!("{name}.pem")), params.signed_by(&key, &issuer).expect("sign").pem()).expect("write");
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).expect("write");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destinations_deliver_over_mutual_tls_and_with_a_bearer_token() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    pki(tmp.path());
    let p = |name: &str| tmp.path().join(name).display().to_string();
    let token_hash = passerelle_gateway::admin_auth::sha256_hex(b"hub-ingest-token");
    let b_text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n\
         [[listener]]\nname = \"mllp-tls\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n\
         [listener.tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_ca = \"{}\"\nallowed_clients = [\"CN=gateway-a\"]\n\
         [[listener]]\nname = \"https\"\nkind = \"http\"\nbind = \"127.0.0.1:0\"\n\
         [listener.tls]\ncert = \"{}\"\nkey = \"{}\"\n[listener.auth]\ntokens = [\"sha256:{token_hash}\"]\n",
        p("b.db"),
        p("server.pem"),
        p("server.key"),
        p("ca.pem"),
        p("server.pem"),
        p("server.key")
    );
    let b = passerelle_gateway::start(Config::parse(&b_text, "b.toml").expect("b")).await.expect("start b");
    let (b_mllp, b_https) = (b.address("mllp-tls").expect("mllp").port(), b.address("https").expect("https").port());
    let destinations = format!(
        "[[destination]]\nname = \"hub-mllp\"\nkind = \"mllp\"\naddress = \"127.0.0.1:{b_mllp}\"\nbackoff_ms = 20\nmax_backoff_ms = 100\ntimeout_ms = 3000\n\
         [destination.tls]\nca = \"{ca}\"\ncert = \"{}\"\nkey = \"{}\"\nserver_name = \"localhost\"\n\
         [[destination]]\nname = \"hub-https\"\nkind = \"http\"\nformat = \"hl7v2\"\nurl = \"https://localhost:{b_https}/hl7v2\"\nbackoff_ms = 20\nmax_backoff_ms = 100\n\
         [destination.tls]\nca = \"{ca}\"\n[destination.auth]\nbearer = \"hub-ingest-token\"\n\
         [[destination]]\nname = \"hub-no-cert\"\nkind = \"mllp\"\naddress = \"127.0.0.1:{b_mllp}\"\nbackoff_ms = 20\nmax_backoff_ms = 100\ntimeout_ms = 3000\n\
         [destination.tls]\nca = \"{ca}\"\nserver_name = \"localhost\"\n\
         [[route]]\nname = \"all\"\nto = [\"hub-mllp\", \"hub-https\", \"hub-no-cert\"]\n",
        p("gateway-a.pem"),
        p("gateway-a.key"),
        ca = p("ca.pem")
    );
    let a = passerelle_gateway::start(config(&tmp.path().join("a.db"), &destinations)).await.expect("start a");
    let mut client = MllpClient::connect(a.address("mllp-in").expect("mllp")).await;
    for n in 0..2 {
        let (code, _, _) = client.send(&adt(&format!("HUB-{n}"), &format!("IPP-HUB-{n}"), n)).await;
        assert_eq!(code, "AA");
    }
    let delivered = wait_for_outbox(a.store.as_ref(), OutboxStatus::Delivered, 4, Duration::from_secs(20)).await;
    let mut by_destination: Vec<&str> = delivered.iter().map(|r| r.destination.as_str()).collect();
    by_destination.sort();
    assert_eq!(by_destination, ["hub-https", "hub-https", "hub-mllp", "hub-mllp"], "the destination without a client certificate delivers nothing");
    let journaled = b.store.search(passerelle_store::MessageQuery { limit: 100, ..Default::default() }).await.expect("search");
    assert_eq!(journaled.iter().filter(|m| m.control_id.starts_with("HUB-")).count(), 2, "the hub journaled both messages once each");
    // The certificate-less attempts were refused by the hub and retried by A, never delivered.
    let pending =
        a.store.list(passerelle_store::OutboxFilter { destination: Some("hub-no-cert".into()), limit: 10, ..Default::default() }).await.expect("list");
    assert!(pending.iter().all(|r| r.status != OutboxStatus::Delivered && r.attempts >= 1), "{pending:?}");
    a.shutdown().await;
    b.shutdown().await;
}
