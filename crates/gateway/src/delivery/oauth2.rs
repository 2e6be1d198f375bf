//! OAuth2 client credentials for `http` / `fhir_http` destinations: the token is fetched from
//! `token_url` (form-encoded `grant_type=client_credentials`, client id and secret), cached until
//! shortly before it expires, and dropped when the destination answers 401 so the next attempt
//! fetches a new one. The secret and the token never reach the logs.

use crate::config::OAuth2Config;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub struct TokenSource {
    config: OAuth2Config,
    cached: Mutex<Option<(String, Instant)>>,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// `application/x-www-form-urlencoded` escaping of one value.
fn form_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            b' ' => "+".into(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

impl TokenSource {
    pub fn new(config: OAuth2Config) -> Self {
        Self { config, cached: Mutex::new(None) }
    }

    /// A valid token: the cached one, or a new one from the token endpoint.
    pub async fn token(&self, client: &reqwest::Client) -> Result<String, String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let c = &self.config;
        let mut body = format!("grant_type=client_credentials&client_id={}&client_secret={}", form_escape(&c.client_id), form_escape(&c.client_secret));
        if let Some(scope) = &c.scope {
            body.push_str(&format!("&scope={}", form_escape(scope)));
        }
        let response = client
            .post(&c.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("oauth2 token request failed: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("oauth2 token endpoint answered {}", response.status().as_u16()));
        }
        let token: TokenResponse = response.json().await.map_err(|e| format!("oauth2 token response unreadable: {e}"))?;
        // Renewed a minute before it expires (or after 5 minutes when the server says nothing).
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(360).saturating_sub(60).max(1));
        *cached = Some((token.access_token.clone(), Instant::now() + lifetime));
        Ok(token.access_token)
    }

    /// The destination refused the token: the next attempt fetches a new one.
    pub async fn forget(&self) {
        *self.cached.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_values_are_escaped() {
        assert_eq!(super::form_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
