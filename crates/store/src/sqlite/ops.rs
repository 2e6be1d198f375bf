//! The SQL of the SQLite backend, as plain functions on a connection (run by the writer thread or a reader).

use super::large_blobs::{self, MESSAGE_BLOB_ID, OUTBOX_BLOB_ID, Owner};
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
    // A withheld message was accepted (AA): it deduplicates like one.
    let accepted = matches!(m.status, MessageStatus::Accepted | MessageStatus::Withheld);
    // The unique index decides: a resend of an accepted message inserts nothing, atomically.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO messages (received_at_ms, listener, format, message_type, control_id, sender, content_hash, status, ins, niss, ipp, raw, normalised, ack, diagnostics, dedupe, withheld, document_type, routes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
             ON CONFLICT DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                m.received_at_ms,
                m.listener,
                m.format,
                m.message_type,
                m.control_id,
                m.sender,
                m.content_hash,
                stored_status(m.status),
                m.patient.ins,
                m.patient.niss,
                m.patient.ipp,
                large_blobs::inline(&m.raw),
                m.normalised,
                m.ack,
                m.diagnostics,
                accepted.then_some(1),
                m.withheld,
                m.document_type,
                m.routes
            ],
            |r| r.get::<_, i64>(0),
        )
        .optional()?;
    let Some(message_id) = inserted else {
        let (message_id, ack) = conn
            .prepare_cached("SELECT id, ack FROM messages WHERE control_id = ?1 AND sender = ?2 AND content_hash = ?3 AND dedupe = 1")?
            .query_row(params![m.control_id, m.sender, m.content_hash], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        return Ok(AppendOutcome::Duplicate { message_id, ack });
    };
    large_blobs::store(conn, Owner::Message(message_id), &m.raw)?;
    let mut identifier = conn.prepare_cached("INSERT OR IGNORE INTO identifiers (message_id, kind, system, value) VALUES (?1, ?2, ?3, ?4)")?;
    for i in &m.identifiers {
        identifier.execute(params![message_id, i.kind, i.system, i.value])?;
    }
    if let Some(feeding) = m.consent.as_deref().filter(|_| accepted) {
        let mut consent = conn.prepare_cached(
            "INSERT INTO consents (system, value, feeding, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (system, value) DO UPDATE SET feeding = excluded.feeding, updated_ms = excluded.updated_ms
             WHERE excluded.updated_ms >= consents.updated_ms",
        )?;
        for i in &m.identifiers {
            consent.execute(params![i.system, i.value, feeding, m.received_at_ms])?;
        }
    }
    if let Some((system, value, state)) = m.visit_state.as_ref().filter(|_| accepted) {
        conn.prepare_cached(
            "INSERT INTO visit_states (system, value, state, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (system, value) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms
             WHERE excluded.updated_ms >= visit_states.updated_ms",
        )?
        .execute(params![system, value, state, m.received_at_ms])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO outbox (message_id, destination, partition_key, status, next_attempt_ms, updated_ms, received_at_ms, content_type, reference)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?4, ?5, ?6)",
    )?;
    let mut rendering = conn.prepare_cached("INSERT INTO renderings (outbox_id, payload) VALUES (?1, ?2)")?;
    for d in &m.deliveries {
        insert.execute(params![message_id, d.destination, d.partition_key, m.received_at_ms, d.rendering.content_type, d.rendering.reference])?;
        let outbox_id = conn.last_insert_rowid();
        rendering.execute(params![outbox_id, large_blobs::inline(&d.rendering.bytes)])?;
        large_blobs::store(conn, Owner::Outbox(outbox_id), &d.rendering.bytes)?;
    }
    Ok(AppendOutcome::Stored { message_id })
}

/// Claims due rows for `node`: pending rows whose time has come and in-flight rows whose lease
/// has expired (their node died or stalled), oldest of each partition only. Two index walks (one
/// per status) rather than one `OR`, which SQLite can only answer by scanning every row of the
/// destination, delivered ones included.
pub fn claim(conn: &Connection, destination: &str, limit: usize, now_ms: i64, lease: &Lease) -> Result<Vec<OutboxItem>> {
    let mut items = select_claimable(conn, DUE_EXPIRED, destination, limit, now_ms)?;
    if items.len() < limit {
        items.extend(select_claimable(conn, DUE_PENDING, destination, limit - items.len(), now_ms)?);
        items.sort_by_key(|i| i.id);
    }
    let mut mark = conn.prepare_cached("UPDATE outbox SET status = 'inflight', updated_ms = ?2, lease_owner = ?3, lease_expires_ms = ?4 WHERE id = ?1")?;
    for item in &items {
        mark.execute(params![item.id, now_ms, lease.owner, now_ms + lease.duration_ms])?;
    }
    Ok(items)
}

fn claim_sql(due: &str) -> String {
    format!(
        "SELECT o.id, o.message_id, o.partition_key, o.attempts,
                COALESCE(o.received_at_ms, (SELECT m.received_at_ms FROM messages m WHERE m.id = o.message_id)),
                {PAYLOAD}, o.content_type, o.reference, {OUTBOX_BLOB_ID}
         FROM outbox o
         WHERE o.destination = ?1 AND {due}
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.destination = o.destination AND p.partition_key = o.partition_key
                           AND p.id < o.id AND p.status IN ('pending', 'inflight'))
         ORDER BY o.id LIMIT ?3"
    )
}

/// A row's rendering: in `renderings` (schema 15), or in the row itself for rows of before.
const PAYLOAD: &str = "COALESCE((SELECT r.payload FROM renderings r WHERE r.outbox_id = o.id), o.payload)";

const DUE_EXPIRED: &str = "o.status = 'inflight' AND o.lease_expires_ms <= ?2";
const DUE_PENDING: &str = "o.status = 'pending' AND o.next_attempt_ms <= ?2";

fn select_claimable(conn: &Connection, due: &str, destination: &str, limit: usize, now_ms: i64) -> Result<Vec<OutboxItem>> {
    let mut select = conn.prepare_cached(&claim_sql(due))?;
    let rows = select
        .query_map(params![destination, now_ms, limit as i64], |r| {
            let item = OutboxItem {
                id: r.get(0)?,
                message_id: r.get(1)?,
                destination: destination.to_owned(),
                partition_key: r.get(2)?,
                attempts: r.get(3)?,
                received_at_ms: r.get(4)?,
                rendering: Rendering { bytes: r.get::<_, Option<Vec<u8>>>(5)?.unwrap_or_default().into(), content_type: r.get(6)?, reference: r.get(7)? },
            };
            Ok((item, r.get::<_, Option<i64>>(8)?))
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(mut item, large)| {
            item.rendering.bytes = large_blobs::resolve(conn, std::mem::take(&mut item.rendering.bytes).into(), large)?.into();
            Ok(item)
        })
        .collect()
}

/// Extends this node's leases on `ids`; returns how many it still holds.
pub fn renew(conn: &Connection, ids: &[i64], now_ms: i64, lease: &Lease) -> Result<u64> {
    let mut renew = conn.prepare_cached("UPDATE outbox SET lease_expires_ms = ?2 WHERE id = ?1 AND status = 'inflight' AND lease_owner = ?3")?;
    let mut held = 0;
    for id in ids {
        held += renew.execute(params![id, now_ms + lease.duration_ms, lease.owner])? as u64;
    }
    Ok(held)
}

/// Records the outcome of this node's attempt; a row whose lease another node has taken over
/// since is left alone (returns false).
pub fn record_outcome(
    conn: &Connection,
    id: i64,
    status: OutboxStatus,
    next_ms: i64,
    error: Option<&str>,
    answer: Option<&str>,
    lease: &Lease,
) -> Result<bool> {
    if status == OutboxStatus::Delivered {
        // The successful attempt stays on the row (see migration 14): one row written, not two.
        let n = conn
            .prepare_cached(
                "UPDATE outbox SET status = 'delivered', next_attempt_ms = ?2, updated_ms = ?2, answer = ?3,
                 delivered_ms = CAST(unixepoch('subsec') * 1000 AS INTEGER),
                 attempts = attempts + 1, lease_owner = NULL, lease_expires_ms = NULL
                 WHERE id = ?1 AND status = 'inflight' AND lease_owner = ?4",
            )?
            .execute(params![id, next_ms, answer.unwrap_or_default(), lease.owner])?;
        return Ok(n == 1);
    }
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET status = ?2, next_attempt_ms = ?3, updated_ms = ?3, last_error = COALESCE(?4, last_error),
             attempts = attempts + 1, lease_owner = NULL, lease_expires_ms = NULL
             WHERE id = ?1 AND status = 'inflight' AND lease_owner = ?5",
        )?
        .execute(params![id, status.as_str(), next_ms, error, lease.owner])?;
    if n == 1 {
        conn.prepare_cached(
            "INSERT INTO delivery_attempts (outbox_id, at_ms, outcome, detail) VALUES (?1, CAST(unixepoch('subsec') * 1000 AS INTEGER), ?2, COALESCE(?3, ''))",
        )?
        .execute(params![id, attempt_outcome(status), error.or(answer)])?;
    }
    Ok(n == 1)
}

pub fn record_attempt(conn: &Connection, id: i64, attempt: &AttemptRecord, now_ms: i64, lease: &Lease) -> Result<bool> {
    let (status, next_ms, error, answer) = attempt.row_update(now_ms);
    record_outcome(conn, id, status, next_ms, error, answer, lease)
}

/// How an attempt that left its row in `status` is named.
pub fn attempt_outcome(status: OutboxStatus) -> &'static str {
    match status {
        OutboxStatus::Delivered => "delivered",
        OutboxStatus::Dead => "dead",
        _ => "retry",
    }
}

pub fn transition(conn: &Connection, id: i64, from: OutboxStatus, to: OutboxStatus, now_ms: i64, error: Option<&str>) -> Result<Transition> {
    if from == OutboxStatus::Delivered {
        // The successful attempt kept on the row joins the row's attempts before it is sent again.
        conn.prepare_cached(
            "INSERT INTO delivery_attempts (outbox_id, at_ms, outcome, detail)
             SELECT id, delivered_ms, 'delivered', COALESCE(answer, '') FROM outbox WHERE id = ?1 AND status = 'delivered' AND delivered_ms IS NOT NULL",
        )?
        .execute(params![id])?;
        conn.prepare_cached("UPDATE outbox SET delivered_ms = NULL, answer = NULL WHERE id = ?1 AND status = 'delivered'")?.execute(params![id])?;
    }
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET status = ?3, next_attempt_ms = ?4, updated_ms = ?4, last_error = COALESCE(?5, last_error) WHERE id = ?1 AND status = ?2",
        )?
        .execute(params![id, from.as_str(), to.as_str(), now_ms, error])?;
    if n == 1 {
        return Ok(Transition::Done);
    }
    let status: Option<String> = conn.prepare_cached("SELECT status FROM outbox WHERE id = ?1")?.query_row(params![id], |r| r.get(0)).optional()?;
    Ok(match status.as_deref().and_then(OutboxStatus::parse) {
        None => Transition::NoSuchRow,
        Some(s) => Transition::WrongStatus(s),
    })
}

/// At a node's start: its own claims cannot be in flight any more (it just started), so they go
/// back to pending at once. Other nodes' claims are left to their leases.
pub fn release_own_claims(conn: &Connection, lease: &Lease) -> Result<u64> {
    Ok(conn.execute(
        "UPDATE outbox SET status = 'pending', lease_owner = NULL, lease_expires_ms = NULL WHERE status = 'inflight' AND lease_owner = ?1",
        params![lease.owner],
    )? as u64)
}

pub fn purge(conn: &Connection, before_ms: i64) -> Result<u64> {
    let n = conn.execute(
        "DELETE FROM messages WHERE received_at_ms < ?1
           AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = messages.id AND o.status IN ('pending', 'inflight'))",
        params![before_ms],
    )?;
    Ok(n as u64)
}

const LIST_SELECT: &str = "SELECT o.id, o.message_id, o.destination, o.status, o.attempts, o.next_attempt_ms, o.last_error, m.control_id, m.message_type
     FROM outbox o JOIN messages m ON m.id = o.message_id";

fn outbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
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
}

pub fn list(conn: &Connection, f: &OutboxFilter) -> Result<Vec<OutboxRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("{LIST_SELECT} WHERE (?1 IS NULL OR o.destination = ?1) AND (?2 IS NULL OR o.status = ?2) ORDER BY o.id DESC LIMIT ?3"))?;
    let limit = if f.limit == 0 { 100 } else { f.limit } as i64;
    let rows = stmt.query_map(params![f.destination, f.status.map(OutboxStatus::as_str), limit], outbox_row)?.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn rendering(conn: &Connection, id: i64) -> Result<Option<Rendering>> {
    let found = conn
        .prepare_cached(&format!("SELECT {PAYLOAD}, content_type, reference, {OUTBOX_BLOB_ID} FROM outbox o WHERE id = ?1"))?
        .query_row(params![id], |r| {
            Ok((
                Rendering { bytes: r.get::<_, Option<Vec<u8>>>(0)?.unwrap_or_default().into(), content_type: r.get(1)?, reference: r.get(2)? },
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .optional()?;
    let Some((mut rendering, large)) = found else { return Ok(None) };
    rendering.bytes = large_blobs::resolve(conn, std::mem::take(&mut rendering.bytes).into(), large)?.into();
    Ok(Some(rendering))
}

pub fn depth(conn: &Connection) -> Result<Vec<(String, u64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT destination, COUNT(*) FROM outbox WHERE status IN ('pending', 'inflight') GROUP BY destination ORDER BY destination")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn oldest_queued(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.destination, MIN(m.received_at_ms) FROM outbox o JOIN messages m ON m.id = o.message_id
         WHERE o.status IN ('pending', 'inflight') GROUP BY o.destination ORDER BY o.destination",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn heartbeat(conn: &Connection, b: &NodeBeat) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO nodes (node, started_ms, seen_ms, config_version, binary_version) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (node) DO UPDATE SET started_ms = excluded.started_ms, seen_ms = excluded.seen_ms,
           config_version = excluded.config_version, binary_version = excluded.binary_version",
    )?
    .execute(params![b.node, b.started_ms, b.seen_ms, b.config_version, b.binary_version])?;
    Ok(())
}

pub fn nodes(conn: &Connection) -> Result<Vec<NodeBeat>> {
    let mut select = conn.prepare_cached("SELECT node, started_ms, seen_ms, config_version, binary_version FROM nodes ORDER BY node")?;
    let rows = select
        .query_map([], |r| Ok(NodeBeat { node: r.get(0)?, started_ms: r.get(1)?, seen_ms: r.get(2)?, config_version: r.get(3)?, binary_version: r.get(4)? }))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

const SUMMARY_COLUMNS: &str = "id, received_at_ms, listener, format, message_type, control_id, sender, status, ins, niss, ipp, diagnostics, withheld";

/// The stored status: a withheld message is stored as accepted (with its reason beside it).
fn stored_status(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Withheld => "accepted",
        other => other.as_str(),
    }
}

/// The distinct identities the identifiers name, in ascending order.
pub fn find_identities(conn: &Connection, identifiers: &[(String, String)]) -> Result<Vec<i64>> {
    let mut find = conn.prepare_cached("SELECT identity_id FROM identity_keys WHERE system = ?1 AND value = ?2")?;
    let mut known: Vec<i64> = Vec::new();
    for (system, value) in identifiers {
        if let Some(id) = find.query_row(params![system, value], |r| r.get::<_, i64>(0)).optional()?
            && !known.contains(&id)
        {
            known.push(id);
        }
    }
    known.sort_unstable();
    Ok(known)
}

pub fn identity_keys(conn: &Connection, identity: i64) -> Result<Vec<(String, String)>> {
    let mut select = conn.prepare_cached("SELECT system, value FROM identity_keys WHERE identity_id = ?1 ORDER BY system, value")?;
    let rows = select.query_map(params![identity], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub fn resolve_identity(conn: &Connection, identifiers: &[(String, String)], now_ms: i64) -> Result<IdentityResolution> {
    let known = find_identities(conn, identifiers)?;
    let (id, created) = match known.as_slice() {
        [] => {
            conn.prepare_cached("INSERT INTO identities (created_ms) VALUES (?1)")?.execute(params![now_ms])?;
            (conn.last_insert_rowid(), true)
        }
        [one] => (*one, false),
        _ => return Ok(IdentityResolution::Conflict(known)),
    };
    let mut insert = conn.prepare_cached("INSERT OR IGNORE INTO identity_keys (system, value, identity_id) VALUES (?1, ?2, ?3)")?;
    for (system, value) in identifiers {
        insert.execute(params![system, value, id])?;
    }
    Ok(if created { IdentityResolution::Created(id) } else { IdentityResolution::Known(id) })
}

pub fn audit(conn: &Connection, e: &AuditEntry) -> Result<()> {
    conn.prepare_cached("INSERT INTO audit (at_ms, role, remote, action, target) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![e.at_ms, e.role, e.remote, e.action, e.target])?;
    Ok(())
}

pub fn audit_since(conn: &Connection, since_ms: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut select = conn.prepare_cached("SELECT at_ms, role, remote, action, target FROM audit WHERE at_ms >= ?1 ORDER BY at_ms, id LIMIT ?2")?;
    let rows = select.query_map(params![since_ms, limit as i64], |r| {
        Ok(AuditEntry { at_ms: r.get(0)?, role: r.get(1)?, remote: r.get(2)?, action: r.get(3)?, target: r.get(4)? })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

pub fn visit_state(conn: &Connection, system: &str, value: &str) -> Result<Option<String>> {
    Ok(conn.prepare_cached("SELECT state FROM visit_states WHERE system = ?1 AND value = ?2")?.query_row(params![system, value], |r| r.get(0)).optional()?)
}

pub fn latest_consent(conn: &Connection, identifiers: &[(String, String)]) -> Result<Option<String>> {
    let mut select = conn.prepare_cached("SELECT feeding, updated_ms FROM consents WHERE system = ?1 AND value = ?2")?;
    let mut latest: Option<(String, i64)> = None;
    for (system, value) in identifiers {
        if let Some((feeding, at)) = select.query_row(params![system, value], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).optional()?
            && latest.as_ref().is_none_or(|(_, t)| at > *t)
        {
            latest = Some((feeding, at));
        }
    }
    Ok(latest.map(|(feeding, _)| feeding))
}

fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MessageSummary> {
    let status: String = r.get(7)?;
    let withheld: Option<String> = r.get(12)?;
    Ok(MessageSummary {
        id: r.get(0)?,
        received_at_ms: r.get(1)?,
        listener: r.get(2)?,
        format: r.get(3)?,
        message_type: r.get(4)?,
        control_id: r.get(5)?,
        sender: r.get(6)?,
        status: match (status.as_str(), &withheld) {
            ("accepted", Some(_)) => MessageStatus::Withheld,
            ("accepted", None) => MessageStatus::Accepted,
            _ => MessageStatus::Rejected,
        },
        patient: PatientKeys { ins: r.get(8)?, niss: r.get(9)?, ipp: r.get(10)? },
        diagnostics: r.get(11)?,
        withheld,
    })
}

pub fn message(conn: &Connection, id: i64) -> Result<Option<StoredMessage>> {
    let found = conn
        .prepare_cached(&format!("SELECT {SUMMARY_COLUMNS}, raw, normalised, ack, {MESSAGE_BLOB_ID}, routes FROM messages WHERE id = ?1"))?
        .query_row(params![id], |r| {
            Ok((
                (summary_row(r)?, r.get::<_, Option<String>>(17)?),
                r.get::<_, Vec<u8>>(13)?,
                r.get::<_, Option<Vec<u8>>>(14)?,
                r.get::<_, Vec<u8>>(15)?,
                r.get::<_, Option<i64>>(16)?,
            ))
        })
        .optional()?;
    let Some(((summary, routes), raw, normalised, ack, large)) = found else { return Ok(None) };
    let raw = large_blobs::resolve(conn, raw, large)?;
    let mut rows = conn.prepare_cached(&format!("{LIST_SELECT} WHERE o.message_id = ?1 ORDER BY o.id"))?;
    let deliveries = rows.query_map(params![id], outbox_row)?.collect::<std::result::Result<Vec<_>, _>>()?;
    let attempts = conn
        .prepare_cached(
            // The attempt kept on its row (on_row = 1) is the latest: a replay moves it first.
            "SELECT a.outbox_id, a.at_ms, a.outcome, a.detail, 0 AS on_row, a.rowid FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id WHERE o.message_id = ?1
             UNION ALL SELECT id, delivered_ms, 'delivered', COALESCE(answer, ''), 1, 0 FROM outbox WHERE message_id = ?1 AND delivered_ms IS NOT NULL
             ORDER BY 5, 2, 6",
        )?
        .query_map(params![id], |r| Ok(DeliveryAttempt { outbox_id: r.get(0)?, at_ms: r.get(1)?, outcome: r.get(2)?, detail: r.get(3)? }))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Some(StoredMessage { summary, raw, normalised, ack, deliveries, routes, attempts }))
}

pub fn search(conn: &Connection, q: &MessageQuery) -> Result<Vec<MessageSummary>> {
    let (clause, mut params) = crate::search_sql::search_where(q, |n| format!("?{n}"));
    let limit = if q.limit == 0 { 100 } else { q.limit };
    params.push(limit.to_string());
    let sql = format!(
        "SELECT id, received_at_ms, listener, format, message_type, control_id, sender, status, ins, niss, ipp, diagnostics, withheld FROM messages{clause}
         ORDER BY id DESC LIMIT CAST(?{} AS INTEGER)",
        params.len()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), summary_row)?.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn recent_models(conn: &Connection, since_ms: i64, limit: usize) -> Result<Vec<RecentModel>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, received_at_ms, sender, diagnostics, normalised FROM messages
          WHERE status = 'accepted' AND received_at_ms >= ?1 AND normalised IS NOT NULL ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = statement.query_map(params![since_ms, limit as i64], |r| {
        Ok(RecentModel { id: r.get(0)?, received_at_ms: r.get(1)?, sender: r.get(2)?, diagnostics: r.get(3)?, normalised: r.get(4)? })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

#[cfg(test)]
mod tests;
