//! TLS on the listeners, with real clients: MLLP over mutual TLS admits the hospital whose client
//! certificate its CA issued *and* `allowed_clients` names (Python's ssl module and openssl
//! s_client both get AA), refuses one the CA issued but the list does not name, and one without a
//! certificate; HTTPS on an HTTP listener and on the admin port. A renewed certificate is used
//! without a restart.

mod support;

use passerelle_gateway::Config;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// A CA, a server certificate for localhost and 127.0.0.1, and two client certificates.
    fn new(dir: &Path) -> Self {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "Passerelle test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("ca");
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write");
        let issuer = Issuer::new(ca, ca_key);
        let leaf = |name: &str, cn: &str, sans: Vec<SanType>| {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
            params.distinguished_name.push(DnType::CommonName, cn);
            params.subject_alt_names = sans;
            params.not_after = rcgen::date_time_ymd(2031, 5, 17);
            let cert = params.signed_by(&key, &issuer).expect("sign");
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write");
            std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).expect("write");
        };
        leaf("server", "localhost", vec![SanType::DnsName("localhost".try_into().expect("dns")), SanType::IpAddress("127.0.0.1".parse().expect("ip"))]);
        leaf("chu-lyon", "chu-lyon", vec![SanType::DnsName("mllp.chu-lyon.example".try_into().expect("dns"))]);
        leaf("intruder", "intruder", vec![]);
        Self { dir: dir.to_path_buf() }
    }
    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

fn tls_config(store: &Path, pki: &Pki) -> Config {
    let (cert, key, ca) = (pki.path("server.pem"), pki.path("server.key"), pki.path("ca.pem"));
    let text = format!(
        "[store]\npath = \"{}\"\n[admin]\nbind = \"127.0.0.1:0\"\n[admin.tls]\ncert = \"{cert}\"\nkey = \"{key}\"\n\
         [[listener]]\nname = \"mllp-tls\"\nkind = \"mllp\"\nbind = \"127.0.0.1:0\"\n\
         [listener.tls]\ncert = \"{cert}\"\nkey = \"{key}\"\nclient_ca = \"{ca}\"\nallowed_clients = [\"CN=chu-lyon\"]\n\
         [[listener]]\nname = \"https\"\nkind = \"http\"\nbind = \"127.0.0.1:0\"\n\
         [listener.tls]\ncert = \"{cert}\"\nkey = \"{key}\"\n",
        store.display()
    );
    Config::parse(&text, "tls.toml").expect("config")
}

fn python_client(kind: &str, port: u16, pki: &Pki, message: &Path, client: Option<&str>) -> String {
    let script = workspace_root().join("crates/gateway/tests/support/tls_client.py");
    let mut command = Command::new("python3");
    command.arg(script).arg(kind).arg("127.0.0.1").arg(port.to_string()).arg(pki.path("ca.pem")).arg(message);
    if let Some(name) = client {
        command.arg(pki.path(&format!("{name}.pem"))).arg(pki.path(&format!("{name}.key")));
    }
    let out = command.output().expect("python3");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mllp_and_http_over_tls_admit_only_the_clients_they_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pki = Pki::new(tmp.path());
    let gw = passerelle_gateway::start(tls_config(&tmp.path().join("j.db"), &pki)).await.expect("start");
    let (mllp, https) = (gw.address("mllp-tls").expect("mllp").port(), gw.address("https").expect("https").port());
    let message = tmp.path().join("adt.hl7");
    std::fs::write(&message, adt("TLS-1", "IPP-TLS", 1)).expect("write");
    let answer = tokio::task::spawn_blocking({
        let (pki_dir, message) = (pki.dir.clone(), message.clone());
        move || {
            let pki = Pki { dir: pki_dir };
            let admitted = python_client("mllp", mllp, &pki, &message, Some("chu-lyon"));
            let not_listed = python_client("mllp", mllp, &pki, &message, Some("intruder"));
            let anonymous = python_client("mllp", mllp, &pki, &message, None);
            let https_answer = python_client("https", https, &pki, &message, None);
            (admitted, not_listed, anonymous, https_answer)
        }
    })
    .await
    .expect("clients");
    let (admitted, not_listed, anonymous, https_answer) = answer;
    assert!(admitted.contains("MSA|AA|TLS-1"), "the named hospital is admitted: {admitted}");
    assert!(!not_listed.contains("MSA|"), "a certificate the list does not name gets no ACK: {not_listed}");
    assert!(!anonymous.contains("MSA|"), "no client certificate, no ACK: {anonymous}");
    assert!(https_answer.starts_with("HTTP/1.1 200") && https_answer.contains("MSA|AA|TLS-1"), "HTTPS (a resend: the original ACK): {https_answer}");
    let metrics = gw.metrics.render();
    assert!(metrics.contains("limit=\"tls_client_not_allowed\""), "{metrics}");
    // The admin port over TLS.
    passerelle_gateway::delivery::install_tls_provider();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(pki.dir.join("ca.pem")).expect("ca")).expect("pem");
    let https_client = reqwest::Client::builder().add_root_certificate(ca).build().expect("client");
    let admin = gw.address("admin").expect("admin").port();
    let healthz = https_client.get(format!("https://localhost:{admin}/healthz")).send().await.expect("admin over tls");
    assert_eq!(healthz.status().as_u16(), 200);
    let plain = reqwest::Client::new().get(format!("http://localhost:{admin}/healthz")).send().await;
    assert!(plain.map(|r| r.status().as_u16()).ok() != Some(200), "plain HTTP is not answered on a TLS port");

    // openssl s_client, when the machine has it: the same frame, the same AA.
    if Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success()) {
        let mut frame = vec![0x0b];
        frame.extend(adt("TLS-2", "IPP-TLS", 2));
        frame.extend_from_slice(b"\x1c\r");
        let openssl = tokio::task::spawn_blocking({
            let (ca, cert, key) = (pki.path("ca.pem"), pki.path("chu-lyon.pem"), pki.path("chu-lyon.key"));
            move || {
                use std::io::Write;
                let mut child = Command::new("timeout")
                    .args([
                        "10",
                        "openssl",
                        "s_client",
                        "-quiet",
                        "-no_ign_eof",
                        "-connect",
                        &format!("127.0.0.1:{mllp}"),
                        "-CAfile",
                        &ca,
                        "-cert",
                        &cert,
                        "-key",
                        &key,
                        "-verify_return_error",
                    ])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("openssl");
                child.stdin.as_mut().expect("stdin").write_all(&frame).expect("write");
                std::thread::sleep(std::time::Duration::from_secs(1));
                drop(child.stdin.take());
                String::from_utf8_lossy(&child.wait_with_output().expect("wait").stdout).into_owned()
            }
        })
        .await
        .expect("openssl");
        assert!(openssl.contains("MSA|AA|TLS-2"), "openssl s_client: {openssl}");
    } else {
        eprintln!("SKIPPED: openssl not on this machine (the Python ssl client covered the same paths)");
    }

    // A renewed certificate (here: the intruder's key pair for the server side, any change will do)
    // is picked up for new handshakes without a restart.
    let tls = passerelle_gateway::tls::ListenerTls::new(&passerelle_gateway::tls::TlsConfig {
        cert: pki.path("server.pem"),
        key: pki.path("server.key"),
        client_ca: None,
        allowed_clients: Vec::new(),
    })
    .expect("tls");
    std::fs::copy(pki.dir.join("intruder.pem"), pki.dir.join("server.pem")).expect("renew");
    std::fs::copy(pki.dir.join("intruder.key"), pki.dir.join("server.key")).expect("renew");
    let before = std::sync::Arc::as_ptr(&tls.acceptor().config().clone());
    tls.reload_if_changed("test");
    assert_ne!(before, std::sync::Arc::as_ptr(&tls.acceptor().config().clone()), "a new pair, new handshakes use it");
    gw.shutdown().await;
}

#[test]
fn the_subject_common_name_is_read_from_the_certificate() {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["x.example".to_owned()]).expect("params");
    params.distinguished_name.push(DnType::OrganizationName, "CHU");
    params.distinguished_name.push(DnType::CommonName, "chu-lyon");
    let cert = params.self_signed(&key).expect("cert");
    assert_eq!(passerelle_gateway::tls::subject_common_name(cert.der()).as_deref(), Some("chu-lyon"));
}

/// `passerelle_tls_certificate_expiry_timestamp_seconds` (the certificate-expiry alert) reads
/// the end of validity from the listener's certificate file.
#[test]
fn the_end_of_validity_is_read_from_the_certificate() {
    let tmp = tempfile::tempdir().expect("tmp");
    let pki = Pki::new(tmp.path());
    // 2031-05-17T00:00:00Z
    assert_eq!(passerelle_gateway::tls::certificate_expiry(&pki.path("server.pem")), Some(1_936_742_400));
    assert_eq!(passerelle_gateway::tls::certificate_expiry(&pki.path("server.key")), None, "a key is not a certificate");
}
