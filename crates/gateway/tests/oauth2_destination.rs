//! OAuth2 client credentials on an `http` destination: the token is fetched once with the client
//! id and secret, cached across deliveries, sent as a bearer token, and fetched again after the
//! destination refuses it (401).

mod support;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use passerelle_store::OutboxStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::*;

#[derive(Default)]
struct Server {
    tokens_issued: AtomicUsize,
    accepted: AtomicUsize,
    refuse_next: std::sync::atomic::AtomicBool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_fetched_once_cached_and_renewed_after_a_401() {
    let server = Arc::new(Server::default());
    server.refuse_next.store(true, Ordering::SeqCst);
    let app = Router::new()
        .route(
            "/token",
            post({
                let server = Arc::clone(&server);
                move |body: String| async move {
                    if !(body.contains("grant_type=client_credentials") && body.contains("client_id=passerelle") && body.contains("client_secret=s3cr%26t")) {
                        return (StatusCode::UNAUTHORIZED, String::new());
                    }
                    let n = server.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
                    (StatusCode::OK, format!("{{\"access_token\":\"tok-{n}\",\"token_type\":\"Bearer\",\"expires_in\":3600}}"))
                }
            }),
        )
        .route(
            "/ingest",
            post({
                let server = Arc::clone(&server);
                move |headers: HeaderMap| async move {
                    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                    // The first token is refused once (revoked), the renewed one is accepted.
                    if bearer == "Bearer tok-1" && server.refuse_next.swap(false, Ordering::SeqCst) {
                        return StatusCode::UNAUTHORIZED;
                    }
                    if bearer.starts_with("Bearer tok-") {
                        server.accepted.fetch_add(1, Ordering::SeqCst);
                        StatusCode::OK
                    } else {
                        StatusCode::UNAUTHORIZED
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let tmp = tempfile::tempdir().expect("tmp");
    let extra = format!(
        "[[destination]]\nname = \"api\"\nkind = \"http\"\nformat = \"hl7v2\"\nurl = \"http://127.0.0.1:{port}/ingest\"\nbackoff_ms = 20\nmax_backoff_ms = 50\n\
         [destination.auth]\noauth2 = {{ token_url = \"http://127.0.0.1:{port}/token\", client_id = \"passerelle\", client_secret = \"s3cr&t\" }}\n\
         [[route]]\nname = \"all\"\nto = [\"api\"]\n"
    );
    let gw = passerelle_gateway::start(config(&tmp.path().join("j.db"), &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    for n in 0..3 {
        let (code, _, _) = client.send(&adt(&format!("OAUTH-{n}"), &format!("IPP-OAUTH-{n}"), n)).await;
        assert_eq!(code, "AA");
    }
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 3, Duration::from_secs(20)).await;
    assert_eq!(server.accepted.load(Ordering::SeqCst), 3);
    assert_eq!(server.tokens_issued.load(Ordering::SeqCst), 2, "one token, and one more after the 401");
    gw.shutdown().await;
}
