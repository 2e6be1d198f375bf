//! TLS on a listener (rustls, ring, TLS 1.2 and 1.3 only): the server certificate and key from
//! PEM files, reloaded when they change (new handshakes use the new pair; established connections
//! keep theirs); with `client_ca`, mutual TLS, and a client is admitted only when its certificate
//! chains to that CA *and* its subject CN or a DNS SAN is in `allowed_clients` (a sending
//! hospital is identified by its certificate).

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::Deserialize;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: String,
    /// PEM private key.
    pub key: String,
    /// PEM CA bundle: when set, clients must present a certificate it issued.
    pub client_ca: Option<String>,
    /// `CN=<subject common name>` or `DNS:<subject alternative name>`; empty admits any client the
    /// CA issued.
    #[serde(default)]
    pub allowed_clients: Vec<String>,
}

/// `[destination.tls]`: TLS to a destination, always verifying its certificate (there is no
/// switch to accept an invalid one).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationTls {
    /// PEM CA bundle the destination's certificate must chain to.
    pub ca: String,
    /// PEM client certificate chain and key, for a destination that wants mutual TLS.
    pub cert: Option<String>,
    pub key: Option<String>,
    /// The name its certificate must carry (default: the host of `address` / `url`).
    pub server_name: Option<String>,
}

/// The client side of `config`: the CA as the only roots, our certificate when given.
pub fn client_config(config: &DestinationTls) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&read(&config.ca)?) {
        roots.add(cert.map_err(|e| format!("{}: {e}", config.ca))?).map_err(|e| format!("{}: {e}", config.ca))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    let config = match (&config.cert, &config.key) {
        (Some(cert), Some(key)) => {
            let certs: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(&read(cert)?).collect::<Result<_, _>>().map_err(|e| format!("{cert}: {e}"))?;
            let key = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| format!("{key}: {e}"))?;
            builder.with_client_auth_cert(certs, key).map_err(|e| format!("{cert}: {e}"))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("destination tls: cert and key go together".into()),
    };
    Ok(Arc::new(config))
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// The server side of `config`, built from its files now.
pub fn server_config(config: &TlsConfig) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(&config.cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", config.cert))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&config.key)?).map_err(|e| format!("{}: not a PEM private key: {e}", config.key))?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?;
    let builder = match &config.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&read(ca)?) {
                roots.add(cert.map_err(|e| format!("{ca}: {e}"))?).map_err(|e| format!("{ca}: {e}"))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().map_err(|e| format!("{ca}: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    Ok(Arc::new(builder.with_single_cert(certs, key).map_err(|e| format!("{}: {e}", config.cert))?))
}

/// A listener's TLS: the current server config (swapped when its files change) and the
/// allow-list of clients.
pub struct ListenerTls {
    current: RwLock<Arc<ServerConfig>>,
    config: TlsConfig,
    stamp: RwLock<Option<(SystemTime, SystemTime)>>,
}

fn modified(path: &str) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl ListenerTls {
    pub fn new(config: &TlsConfig) -> Result<Arc<Self>, String> {
        let current = server_config(config)?;
        let stamp = modified(&config.cert).zip(modified(&config.key));
        Ok(Arc::new(Self { current: RwLock::new(current), config: config.clone(), stamp: RwLock::new(stamp) }))
    }

    /// The acceptor for the next handshake.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = self.current.read().map(|c| Arc::clone(&c)).unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()));
        tokio_rustls::TlsAcceptor::from(config)
    }

    /// Reloads the certificate and key when their files changed; a pair that does not load is
    /// reported and the running one kept.
    pub fn reload_if_changed(&self, listener: &str) {
        let stamp = modified(&self.config.cert).zip(modified(&self.config.key));
        if stamp.is_none() || self.stamp.read().is_ok_and(|s| *s == stamp) {
            return;
        }
        match server_config(&self.config) {
            Ok(config) => {
                if let (Ok(mut current), Ok(mut s)) = (self.current.write(), self.stamp.write()) {
                    *current = config;
                    *s = stamp;
                }
                tracing::info!(listener, "tls certificate reloaded");
            }
            Err(e) => tracing::error!(listener, error = %e, "tls certificate changed but cannot be loaded; the previous one stays"),
        }
    }

    /// Polls the files every `period` until `stop`, keeping `expiry` at the certificate's end of validity.
    pub async fn watch(self: Arc<Self>, listener: String, period: Duration, expiry: prometheus::IntGauge, stop: tokio_util::sync::CancellationToken) {
        loop {
            if let Some(at) = certificate_expiry(&self.config.cert) {
                expiry.set(at);
            }
            tokio::select! {
                () = tokio::time::sleep(period) => self.reload_if_changed(&listener),
                () = stop.cancelled() => return,
            }
        }
    }

    /// Whether the client that presented `chain` may send on this listener.
    pub fn client_allowed(&self, chain: Option<&[CertificateDer<'_>]>) -> bool {
        if self.config.allowed_clients.is_empty() {
            return true;
        }
        let Some(leaf) = chain.and_then(|c| c.first()) else { return false };
        self.config.allowed_clients.iter().any(|entry| match (entry.strip_prefix("CN="), entry.strip_prefix("DNS:")) {
            (Some(cn), _) => subject_common_name(leaf).as_deref() == Some(cn),
            (_, Some(dns)) => ServerName::try_from(dns.to_owned())
                .ok()
                .is_some_and(|name| webpki::EndEntityCert::try_from(leaf).is_ok_and(|cert| cert.verify_is_valid_for_subject_name(&name).is_ok())),
            _ => false,
        })
    }
}

/// When the first certificate of the PEM file at `path` expires (Unix seconds).
pub fn certificate_expiry(path: &str) -> Option<i64> {
    let pem = std::fs::read(path).ok()?;
    let leaf = CertificateDer::pem_slice_iter(&pem).next()?.ok()?;
    not_after(&leaf)
}

/// The end of an X.509 certificate's validity (`notAfter`, UTCTime or GeneralizedTime), Unix seconds.
pub fn not_after(cert: &[u8]) -> Option<i64> {
    // validity { notBefore, notAfter }
    let (_, validity, _) = tlv(tbs_field(cert, 3)?)?;
    let (tag, time, _) = tlv(tlv(validity)?.2)?;
    let digits = std::str::from_utf8(time).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = digits.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, digits.get(2..)?)
        }
        0x18 => (digits.get(..4)?.parse().ok()?, digits.get(4..)?),
        _ => return None,
    };
    let two = |i: usize| rest.get(i..i + 2);
    let iso = format!("{year:04}-{}-{}T{}:{}:{}Z", two(0)?, two(2)?, two(4)?, two(6)?, two(8)?);
    passerelle_model::PartialDateTime::parse_fhir(&iso)?.to_unix_ms().map(|ms| ms / 1000)
}

/// The `n`-th field (from 0) of an X.509 certificate's TBSCertificate after its optional
/// version: serial, signature algorithm, issuer, validity, subject… (that field and the rest).
fn tbs_field(cert: &[u8], n: usize) -> Option<&[u8]> {
    let (_, certificate, _) = tlv(cert)?;
    let (_, mut fields, _) = tlv(certificate)?;
    if fields.first() == Some(&0xa0) {
        fields = tlv(fields)?.2;
    }
    for _ in 0..n {
        fields = tlv(fields)?.2;
    }
    Some(fields)
}

/// One DER TLV at the start of `der`: (tag, content, rest).
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The subject's common name (OID 2.5.4.3) of an X.509 certificate.
pub fn subject_common_name(cert: &[u8]) -> Option<String> {
    let (_, mut subject, _) = tlv(tbs_field(cert, 4)?)?;
    while let Some((_, set, rest)) = tlv(subject) {
        let (_, attribute, _) = tlv(set)?;
        let (_, oid, value) = tlv(attribute)?;
        if oid == [0x55, 0x04, 0x03] {
            let (_, text, _) = tlv(value)?;
            return String::from_utf8(text.to_vec()).ok();
        }
        subject = rest;
    }
    None
}
