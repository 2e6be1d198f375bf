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
    /// OAuth2 client credentials, when configured.
    oauth2: Option<super::oauth2::TokenSource>,
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
        let auth = config.auth.as_ref();
        if auth.is_some_and(|a| a.bearer.is_some() == a.oauth2.is_some()) {
            return Err(fail("[destination.auth] takes either bearer or oauth2".into()));
        }
        let (bearer, oauth2) = (auth.and_then(|a| a.bearer.clone()), auth.and_then(|a| a.oauth2.clone()).map(super::oauth2::TokenSource::new));
        Ok(Self { client, url, concurrency: config.concurrency, bearer, oauth2 })
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
            if let Some(source) = &self.oauth2 {
                match source.token(&self.client).await {
                    Ok(token) => request = request.bearer_auth(token),
                    Err(error) => return Outcome::Retry { error, after: None },
                }
            }
            let response = request.send().await;
            if let (Some(source), Ok(r)) = (&self.oauth2, &response)
                && r.status().as_u16() == 401
            {
                // An expired or revoked token: fetched again on the next attempt, which is a retry.
                source.forget().await;
                return Outcome::Retry { error: "the destination refused the oauth2 token (401)".into(), after: None };
            }
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
