//! `fhir_http` (city practice: FHIR R4 transaction Bundle POSTed to the server base) and `http`
//! (medico-social and others: POST of the rendered message) through reqwest with rustls (ring).

use super::{Outcome, Transport, http_outcome};
use crate::config::{DestinationConfig, DestinationKind};
use passerelle_store::{BoxFuture, OutboxItem};
use std::time::Duration;

pub struct HttpTransport {
    client: reqwest::Client,
    url: String,
    concurrency: usize,
    /// `Authorization: Bearer …` for every request.
    bearer: Option<String>,
}

/// Installs the one TLS provider of the process (ring); harmless when already installed.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl HttpTransport {
    pub fn new(config: &DestinationConfig) -> Result<Self, String> {
        install_tls_provider();
        let url = config.url.clone().ok_or("http destination without url")?;
        // A FHIR transaction is POSTed to the server base.
        let url = if config.kind == DestinationKind::FhirHttp { url.trim_end_matches('/').to_owned() } else { url };
        let fail = |e: String| format!("destination {}: {e}", config.name);
        let mut builder = reqwest::Client::builder().timeout(Duration::from_millis(config.timeout_ms));
        if let Some(tls) = &config.tls {
            // The destination's CA only, and our certificate when it wants mutual TLS.
            let ca = std::fs::read(&tls.ca).map_err(|e| fail(format!("cannot read {}: {e}", tls.ca)))?;
            let roots = reqwest::Certificate::from_pem_bundle(&ca).map_err(|e| fail(format!("{}: {e}", tls.ca)))?;
            builder = builder.tls_certs_only(roots);
            if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
                let mut pem = std::fs::read(cert).map_err(|e| fail(format!("cannot read {cert}: {e}")))?;
                pem.extend(std::fs::read(key).map_err(|e| fail(format!("cannot read {key}: {e}")))?);
                builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(|e| fail(format!("{cert}: {e}")))?);
            }
        }
        let client = builder.build().map_err(|e| fail(format!("cannot build the http client: {e}")))?;
        Ok(Self { client, url, concurrency: config.concurrency, bearer: config.auth.as_ref().map(|a| a.bearer.clone()) })
    }
}

impl Transport for HttpTransport {
    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let payload = &item.rendering;
            let mut request = self.client.post(&self.url).header("content-type", payload.content_type.as_str()).body(payload.bytes.clone());
            if let Some(token) = &self.bearer {
                request = request.bearer_auth(token);
            }
            let response = request.send().await;
            match response {
                Err(e) => Outcome::Retry { error: format!("http request failed: {}", e.without_url()), after: None },
                Ok(r) => {
                    let status = r.status().as_u16();
                    let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let body = r.bytes().await.unwrap_or_default();
                    http_outcome(status, retry_after.as_deref(), &body)
                }
            }
        })
    }
    fn concurrency(&self) -> usize {
        self.concurrency
    }
}
