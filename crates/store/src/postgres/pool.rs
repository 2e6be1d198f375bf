//! A small pool of PostgreSQL connections: at most `size` in use at once, a connection found
//! closed (the server restarted, the network dropped) is replaced on the next use, and connections
//! are opened only when needed (so a node starts, and recovers, while the database is away).

use crate::{Result, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Statement};

/// One connection and the statements prepared on it (each SQL text is prepared once per
/// connection, so a query afterwards is a single round trip).
pub struct Conn {
    pub client: Client,
    statements: Mutex<HashMap<&'static str, Statement>>,
}

impl Conn {
    /// `sql` prepared on this connection.
    pub async fn prepared(&self, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.statements.lock().ok().and_then(|s| s.get(sql).cloned()) {
            return Ok(statement);
        }
        let statement = self.client.prepare(sql).await?;
        if let Ok(mut statements) = self.statements.lock() {
            statements.insert(sql, statement.clone());
        }
        Ok(statement)
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

pub struct Pool {
    config: tokio_postgres::Config,
    connector: super::tls::Connector,
    idle: Mutex<Vec<Arc<Conn>>>,
    permits: Arc<Semaphore>,
}

/// A connection taken from the pool, used by one task at a time; it goes back when dropped,
/// unless it has closed.
pub struct Pooled<'a> {
    conn: Arc<Conn>,
    pool: &'a Pool,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if !self.conn.is_closed()
            && let Ok(mut idle) = self.pool.idle.lock()
        {
            idle.push(Arc::clone(&self.conn));
        }
    }
}

impl Pool {
    pub fn new(config: tokio_postgres::Config, connector: super::tls::Connector, size: usize) -> Self {
        Self { config, connector, idle: Mutex::default(), permits: Arc::new(Semaphore::new(size.max(1))) }
    }

    /// A connection: an idle one that is still open, else a new one.
    pub async fn get(&self) -> Result<Pooled<'_>> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let reused = {
            let mut idle = self.idle.lock().map_err(|_| StoreError::Database("connection pool poisoned".into()))?;
            idle.retain(|c| !c.is_closed());
            idle.pop()
        };
        let conn = match reused {
            Some(conn) => conn,
            None => Arc::new(Conn { client: self.connect().await?, statements: Mutex::default() }),
        };
        Ok(Pooled { conn, pool: self, _permit: permit })
    }

    async fn connect(&self) -> Result<Client> {
        super::tls::connect(&self.config, &self.connector, None).await
    }
}
