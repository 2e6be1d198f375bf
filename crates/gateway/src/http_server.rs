//! The server loop of the HTTP listeners and the admin port (instead of `axum::serve`, which
//! bounds nothing): connections
//! admitted per listener and per remote address, request headers due within
//! `first_read_timeout_secs` (also between keep-alive requests, so an idle connection gives its
//! slot back), graceful shutdown of every connection. Bodies are read by the handlers, within
//! `max_frame_bytes` and `body_timeout_secs` (see `listeners::read_body`).

use crate::config::ListenerConfig;
use crate::limits::{Connection, serve_connections};
use crate::metrics::Metrics;
use crate::tls::ListenerTls;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub async fn serve_http(
    listener: TcpListener,
    settings: tokio::sync::watch::Receiver<ListenerConfig>,
    app: Router,
    metrics: Arc<Metrics>,
    tls: Option<Arc<ListenerTls>>,
    intake: Option<Arc<crate::intake::Intake>>,
    shutdown: CancellationToken,
) {
    let (stop, listener_settings) = (shutdown.clone(), settings.clone());
    let handle = move |stream: Connection, peer: SocketAddr| {
        let header_timeout = Duration::from_secs(settings.borrow().first_read_timeout_secs.max(1));
        // The peer address reaches the handlers as axum's ConnectInfo (the admin audit trail uses it).
        let app = app.clone().layer(axum::Extension(axum::extract::ConnectInfo(peer)));
        let shutdown = stop.clone();
        async move { serve_connection(stream, app, header_timeout, &shutdown).await }
    };
    serve_connections(listener, listener_settings, metrics, tls, intake, shutdown, handle).await;
}

/// HTTP/1.1 on one connection (plain or TLS), shut down gracefully with the listener.
async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(stream: S, app: Router, header_timeout: Duration, shutdown: &CancellationToken) {
    let service = TowerToHyperService::new(app);
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own read buffer per connection stays small (its default grows to ~400 KiB), so
    // that what the bytes-in-flight budget counts is what memory holds.
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true).max_buf_size(64 * 1024);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
