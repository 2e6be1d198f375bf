//! Large blobs (a document's raw bytes, its renderings) in a table of their own, as the last
//! column of their row: inserted as a zeroblob and written in place, read back through a blob
//! handle into one exactly sized buffer. Bound as a parameter, SQLite would copy such a blob once
//! to bind it and again to build the row (a zeroblob stays unexpanded only in a row's last column).

use crate::{Result, StoreError};
use rusqlite::{Connection, params};
use std::io::{Read, Write};

/// Blobs from this size on go to `large_blobs` (the row itself keeps an empty blob).
pub const LARGE_BLOB: usize = 256 * 1024;

/// What a large blob belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Message(i64),
    Outbox(i64),
}

/// The bytes to store in the row itself: the blob when small, nothing when it goes to `large_blobs`.
pub fn inline(bytes: &[u8]) -> &[u8] {
    if bytes.len() >= LARGE_BLOB { &[] } else { bytes }
}

/// Stores a large blob for `owner` (nothing for a small one, which its row holds).
pub fn store(conn: &Connection, owner: Owner, bytes: &[u8]) -> Result<()> {
    if bytes.len() < LARGE_BLOB {
        return Ok(());
    }
    let (message_id, outbox_id) = match owner {
        Owner::Message(id) => (Some(id), None),
        Owner::Outbox(id) => (None, Some(id)),
    };
    conn.prepare_cached("INSERT INTO large_blobs (message_id, outbox_id, data) VALUES (?1, ?2, zeroblob(?3))")?.execute(params![
        message_id,
        outbox_id,
        bytes.len() as i64
    ])?;
    let mut blob = conn.blob_open(rusqlite::MAIN_DB, "large_blobs", "data", conn.last_insert_rowid(), false)?;
    blob.write_all(bytes).map_err(|e| StoreError::Database(format!("writing a large blob: {e}")))?;
    Ok(())
}

/// Reads the large blob `id` (a `large_blobs` row id) into one buffer of its size.
pub fn read(conn: &Connection, id: i64) -> Result<Vec<u8>> {
    let mut blob = conn.blob_open(rusqlite::MAIN_DB, "large_blobs", "data", id, true)?;
    let mut out = Vec::with_capacity(blob.len());
    blob.read_to_end(&mut out).map_err(|e| StoreError::Database(format!("reading a large blob: {e}")))?;
    Ok(out)
}

/// The row id of `owner`'s large blob, if it has one (SQL for a correlated subquery column).
pub const OUTBOX_BLOB_ID: &str = "(SELECT b.id FROM large_blobs b WHERE b.outbox_id = o.id)";
pub const MESSAGE_BLOB_ID: &str = "(SELECT b.id FROM large_blobs b WHERE b.message_id = messages.id)";

/// The bytes of a row: its large blob when it has one, else what the row holds.
pub fn resolve(conn: &Connection, inline: Vec<u8>, large: Option<i64>) -> Result<Vec<u8>> {
    match large {
        Some(id) => read(conn, id),
        None => Ok(inline),
    }
}
