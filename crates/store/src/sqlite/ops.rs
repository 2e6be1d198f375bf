//! The SQL of the SQLite backend, as plain functions on a connection (run by the writer thread or a reader).

use crate::types::*;
use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

pub fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version).map_err(|_| StoreError::Migration("negative schema version".into()))?;
    if version > crate::migrations::SQLITE.len() {
        return Err(StoreError::Migration(format!("database schema {version} is newer than this binary")));
    }
    for (i, sql) in crate::migrations::SQLITE.iter().enumerate().skip(version) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql).map_err(|e| StoreError::Migration(format!("step {i}: {e}")))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

pub fn append(conn: &Connection, m: &NewMessage) -> Result<AppendOutcome> {
    if m.status == MessageStatus::Accepted {
        let existing = conn
            .prepare_cached("SELECT id, ack FROM messages WHERE sender = ?1 AND control_id = ?2 AND content_hash = ?3 AND status = 'accepted' LIMIT 1")?
            .query_row(params![m.sender, m.control_id, m.content_hash], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .optional()?;
        if let Some((message_id, ack)) = existing {
            return Ok(AppendOutcome::Duplicate { message_id, ack });
        }
    }
    conn.prepare_cached(
        "INSERT INTO messages (received_at_ms, listener, format, message_type, control_id, sender, content_hash, status, ins, niss, ipp, raw, normalised, ack, diagnostics)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        m.received_at_ms,
        m.listener,
        m.format,
        m.message_type,
        m.control_id,
        m.sender,
        m.content_hash,
        m.status.as_str(),
        m.patient.ins,
        m.patient.niss,
        m.patient.ipp,
        m.raw,
        m.normalised,
        m.ack,
        m.diagnostics
    ])?;
    let message_id = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached(
        "INSERT INTO outbox (message_id, destination, partition_key, status, next_attempt_ms, updated_ms) VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
    )?;
    for d in &m.deliveries {
        insert.execute(params![message_id, d.destination, d.partition_key, m.received_at_ms])?;
    }
    Ok(AppendOutcome::Stored { message_id })
}

pub fn claim(conn: &Connection, destination: &str, limit: usize, now_ms: i64) -> Result<Vec<OutboxItem>> {
    let mut select = conn.prepare_cached(
        "SELECT o.id, o.message_id, o.partition_key, o.attempts, m.received_at_ms, m.raw, m.normalised
         FROM outbox o JOIN messages m ON m.id = o.message_id
         WHERE o.destination = ?1 AND o.status = 'pending' AND o.next_attempt_ms <= ?2
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination AND p.partition_key = o.partition_key
                           AND p.id < o.id AND p.status IN ('pending', 'inflight'))
         ORDER BY o.id LIMIT ?3",
    )?;
    let items = select
        .query_map(params![destination, now_ms, limit as i64], |r| {
            Ok(OutboxItem {
                id: r.get(0)?,
                message_id: r.get(1)?,
                destination: destination.to_owned(),
                partition_key: r.get(2)?,
                attempts: r.get(3)?,
                received_at_ms: r.get(4)?,
                raw: r.get(5)?,
                normalised: r.get(6)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut mark = conn.prepare_cached("UPDATE outbox SET status = 'inflight', updated_ms = ?2 WHERE id = ?1")?;
    for item in &items {
        mark.execute(params![item.id, now_ms])?;
    }
    Ok(items)
}

pub fn set_status(conn: &Connection, id: i64, status: OutboxStatus, next_ms: i64, error: Option<&str>, count_attempt: bool) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET status = ?2, next_attempt_ms = ?3, updated_ms = ?3, last_error = COALESCE(?4, last_error),
         attempts = attempts + ?5 WHERE id = ?1",
    )?
    .execute(params![id, status.as_str(), next_ms, error, i64::from(count_attempt)])?;
    Ok(())
}

pub fn transition(conn: &Connection, id: i64, from: OutboxStatus, to: OutboxStatus, now_ms: i64, error: Option<&str>) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET status = ?3, next_attempt_ms = ?4, updated_ms = ?4, last_error = COALESCE(?5, last_error) WHERE id = ?1 AND status = ?2",
        )?
        .execute(params![id, from.as_str(), to.as_str(), now_ms, error])?;
    Ok(n == 1)
}

pub fn recover_in_flight(conn: &Connection) -> Result<u64> {
    Ok(conn.execute("UPDATE outbox SET status = 'pending' WHERE status = 'inflight'", [])? as u64)
}

pub fn purge(conn: &Connection, before_ms: i64) -> Result<u64> {
    let n = conn.execute(
        "DELETE FROM messages WHERE received_at_ms < ?1
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = messages.id AND o.status IN ('pending', 'inflight'))",
        params![before_ms],
    )?;
    Ok(n as u64)
}

pub fn list(conn: &Connection, f: &OutboxFilter) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.message_id, o.destination, o.status, o.attempts, o.next_attempt_ms, o.last_error, m.control_id, m.message_type
         FROM outbox o JOIN messages m ON m.id = o.message_id
         WHERE (?1 IS NULL OR o.destination = ?1) AND (?2 IS NULL OR o.status = ?2)
         ORDER BY o.id DESC LIMIT ?3",
    )?;
    let limit = if f.limit == 0 { 100 } else { f.limit } as i64;
    let rows = stmt
        .query_map(params![f.destination, f.status.map(OutboxStatus::as_str), limit], |r| {
            let status: String = r.get(3)?;
            Ok(OutboxRow {
                id: r.get(0)?,
                message_id: r.get(1)?,
                destination: r.get(2)?,
                status: OutboxStatus::parse(&status).unwrap_or(OutboxStatus::Pending),
                attempts: r.get(4)?,
                next_attempt_ms: r.get(5)?,
                last_error: r.get(6)?,
                control_id: r.get(7)?,
                message_type: r.get(8)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn depth(conn: &Connection) -> Result<Vec<(String, u64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT destination, COUNT(*) FROM outbox WHERE status IN ('pending', 'inflight') GROUP BY destination ORDER BY destination")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn search(conn: &Connection, q: &MessageQuery) -> Result<Vec<MessageSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, received_at_ms, listener, format, message_type, control_id, sender, status, ins, niss, ipp, diagnostics FROM messages
         WHERE (?1 IS NULL OR ins = ?1 OR niss = ?1 OR ipp = ?1) AND (?2 IS NULL OR control_id = ?2) AND (?3 IS NULL OR status = ?3)
         ORDER BY id DESC LIMIT ?4",
    )?;
    let limit = if q.limit == 0 { 100 } else { q.limit } as i64;
    let rows = stmt
        .query_map(params![q.patient, q.control_id, q.status.map(MessageStatus::as_str), limit], |r| {
            let status: String = r.get(7)?;
            Ok(MessageSummary {
                id: r.get(0)?,
                received_at_ms: r.get(1)?,
                listener: r.get(2)?,
                format: r.get(3)?,
                message_type: r.get(4)?,
                control_id: r.get(5)?,
                sender: r.get(6)?,
                status: if status == "accepted" { MessageStatus::Accepted } else { MessageStatus::Rejected },
                patient: PatientKeys { ins: r.get(8)?, niss: r.get(9)?, ipp: r.get(10)? },
                diagnostics: r.get(11)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}
