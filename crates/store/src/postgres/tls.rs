//! Connections to PostgreSQL, in clear or through TLS (rustls with ring, the one TLS provider of
//! the build): the server's certificate verified against the CA file given, its name or address
//! against the URL's host, and a client certificate when one is given (mutual TLS). With a CA the
//! connection requires TLS (`sslmode=require`), whatever the URL says: no silent downgrade.

use crate::{Result, StoreError};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, Client, Config, Socket};

/// `[store.tls]`: the CA that signed the server's certificate, and ours for mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTlsFiles {
    pub ca: String,
    pub cert: Option<String>,
    pub key: Option<String>,
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| StoreError::Database(format!("postgresql tls: cannot read {path}: {e}")))
}

/// The rustls client configuration of `files`.
pub fn client_config(files: &PgTlsFiles) -> Result<Arc<rustls::ClientConfig>> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| StoreError::Database(format!("postgresql tls: {what}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&read(&files.ca)?) {
        roots.add(cert.map_err(|e| invalid(&files.ca, &e))?).map_err(|e| invalid(&files.ca, &e))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| invalid("versions", &e))?
        .with_root_certificates(roots);
    let config = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(&read(cert)?).collect::<std::result::Result<_, _>>().map_err(|e| invalid(cert, &e))?;
            let key_der = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| invalid(key, &e))?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| invalid(cert, &e))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(StoreError::Database("postgresql tls: cert and key go together".into())),
    };
    Ok(Arc::new(config))
}

/// How this store reaches its server.
#[derive(Clone)]
pub enum Connector {
    Plain,
    Tls(Arc<rustls::ClientConfig>),
}

/// Opens a connection and spawns its driver; each notification (LISTEN) is sent to `notifications`.
pub async fn connect(config: &Config, connector: &Connector, notifications: Option<tokio::sync::mpsc::UnboundedSender<()>>) -> Result<Client> {
    let failed = |e: tokio_postgres::Error| {
        // The driver's message alone ("error performing TLS handshake") does not say why.
        let mut why = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            why.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        StoreError::Database(format!("cannot connect to postgresql: {why}"))
    };
    match connector {
        Connector::Plain => {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(failed)?;
            tokio::spawn(drive(connection, notifications));
            Ok(client)
        }
        Connector::Tls(tls) => {
            let mut config = config.clone();
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
            let (client, connection) = config.connect(MakeRustls(Arc::clone(tls))).await.map_err(failed)?;
            tokio::spawn(drive(connection, notifications));
            Ok(client)
        }
    }
}

/// Runs a connection until the server goes away (the client then reads as closed).
async fn drive<S, T>(mut connection: tokio_postgres::Connection<S, T>, notifications: Option<tokio::sync::mpsc::UnboundedSender<()>>)
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
        match (message, &notifications) {
            (Ok(AsyncMessage::Notification(_)), Some(tx)) => {
                if tx.send(()).is_err() {
                    break;
                }
            }
            (Ok(_), _) => {}
            (Err(_), _) => break,
        }
    }
}

/// tokio-postgres' TLS hook over tokio-rustls.
#[derive(Clone)]
struct MakeRustls(Arc<rustls::ClientConfig>);

struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl MakeTlsConnect<Socket> for MakeRustls {
    type Stream = RustlsStream;
    type TlsConnect = RustlsConnect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, host: &str) -> std::result::Result<RustlsConnect, Self::Error> {
        Ok(RustlsConnect { config: Arc::clone(&self.0), name: ServerName::try_from(host.to_owned())? })
    }
}

impl TlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream>> + Send>>;

    fn connect(self, socket: Socket) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move { connector.connect(self.name, socket).await.map(|s| RustlsStream(Box::new(s))) })
    }
}

/// The TLS stream of one connection (no channel binding: SCRAM without it, as libpq's `prefer`).
struct RustlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl tokio_postgres::tls::TlsStream for RustlsStream {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for RustlsStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}
