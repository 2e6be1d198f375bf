//! TLS to PostgreSQL: a server of the test's own that takes TLS connections only (pg_hba
//! `hostssl`, plain `host` rejected), its certificate from a test CA for 127.0.0.1. The store
//! connects through TLS with the CA (journal, claims and LISTEN wake-ups work through it), is
//! refused without TLS, and refuses a server whose certificate another CA signed.

use passerelle_store::conformance::sample_message;
use passerelle_store::postgres::PgTlsFiles;
use passerelle_store::{AppendOutcome, Journal, Lease, Outbox, PostgresStore};
use passerelle_testkit::PrivatePostgres;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use std::path::Path;

/// A CA in `dir` (`{name}-ca.pem`) and, when `server` is given, a server certificate for
/// 127.0.0.1 signed by it, written as the server's `server.crt` / `server.key`.
fn ca(dir: &Path, name: &str, server: Option<&Path>) {
    let ca_key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
    let ca_cert = params.self_signed(&ca_key).expect("ca");
    std::fs::write(dir.join(format!("{name}-ca.pem")), ca_cert.pem()).expect("write");
    if let Some(data) = server {
        let issuer = Issuer::new(params, ca_key);
        let key = KeyPair::generate().expect("key");
        let mut leaf = CertificateParams::new(Vec::<String>::new()).expect("params");
        leaf.distinguished_name.push(DnType::CommonName, "127.0.0.1");
        leaf.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().expect("ip"))];
        let cert = leaf.signed_by(&key, &issuer).expect("sign");
        std::fs::write(data.join("server.crt"), cert.pem()).expect("write");
        std::fs::write(data.join("server.key"), key.serialize_pem()).expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data.join("server.key"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_reaches_a_tls_only_server_through_tls_and_verifies_it() {
    let Some(mut server) = PrivatePostgres::init() else {
        assert!(std::env::var("PASSERELLE_REQUIRE_PG").as_deref() != Ok("1"), "PostgreSQL's server binaries (pg_ctl) are not installed");
        eprintln!("SKIPPED: PostgreSQL's server binaries (pg_ctl) are not installed");
        return;
    };
    let pki = tempfile::tempdir().expect("tmp");
    ca(pki.path(), "hub", Some(&server.data));
    ca(pki.path(), "other", None);
    std::fs::write(server.data.join("pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n")
        .expect("hba");
    server.own(&server.data);
    server.options = "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".into();
    server.start();

    let lease = |owner: &str| Lease { owner: owner.into(), duration_ms: 30_000 };
    let files = |ca: &str| PgTlsFiles { ca: pki.path().join(ca).display().to_string(), cert: None, key: None };
    let plain = PostgresStore::open(&server.url(), 2, lease("plain")).await;
    assert!(plain.is_err(), "the server takes TLS connections only");
    let wrong = PostgresStore::open_with_tls(&server.url(), 2, lease("wrong"), Some(&files("other-ca.pem"))).await;
    let error = wrong.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("certificate") || error.contains("UnknownIssuer"), "a server signed by another CA is refused: {error}");

    let a = PostgresStore::open_with_tls(&server.url(), 2, lease("node-a"), Some(&files("hub-ca.pem"))).await.expect("through tls");
    let b = PostgresStore::open_with_tls(&server.url(), 2, lease("node-b"), Some(&files("hub-ca.pem"))).await.expect("through tls");
    let wake = Outbox::wake_ups(&b).expect("wake-ups");
    let mut woken = false;
    for i in 0..50 {
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        assert!(matches!(a.append(sample_message(&format!("tls-{i}"), "pat-tls", &["ehr"])).await.expect("append"), AppendOutcome::Stored { .. }));
        if tokio::time::timeout(std::time::Duration::from_millis(200), notified).await.is_ok() {
            woken = true;
            break;
        }
    }
    assert!(woken, "LISTEN through TLS wakes the other node");
    let claimed = b.claim("ehr", 10, i64::MAX / 2).await.expect("claim");
    assert_eq!(claimed.first().map(|c| c.partition_key.as_str()), Some("pat-tls"));
}
