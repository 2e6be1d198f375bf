//! The SQL of the PostgreSQL backend. The ingest path is one statement (the message, its
//! identifiers, consent, visit state and outbox rows in data-modifying CTEs): one round trip and
//! one transaction per message; claims take only the head of each (destination, patient) lane
//! with `FOR UPDATE SKIP LOCKED`, so nodes never claim the same row nor overtake a patient's
//! earlier message.

use super::pool::Conn;
use crate::types::*;
use crate::{Result, StoreError};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// Applies pending migrations, under an advisory lock so that nodes starting together apply each
/// step once.
pub async fn migrate(conn: &Conn) -> Result<()> {
    let client = &conn.client;
    client.batch_execute("SELECT pg_advisory_lock(hashtext('passerelle-migrate:' || current_schema()))").await?;
    let applied = apply_migrations(conn).await;
    let unlocked = client.batch_execute("SELECT pg_advisory_unlock(hashtext('passerelle-migrate:' || current_schema()))").await;
    applied?;
    unlocked?;
    Ok(())
}

async fn apply_migrations(conn: &Conn) -> Result<()> {
    let client = &conn.client;
    client.batch_execute("CREATE TABLE IF NOT EXISTS passerelle_schema (version INTEGER NOT NULL)").await?;
    let version: i64 = client.query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM passerelle_schema", &[]).await?.get(0);
    let version = usize::try_from(version).map_err(|_| StoreError::Migration("negative schema version".into()))?;
    if version > crate::migrations::POSTGRES.len() {
        return Err(StoreError::Migration(format!("database schema {version} is newer than this binary")));
    }
    for (i, sql) in crate::migrations::POSTGRES.iter().enumerate().skip(version) {
        let step = format!("BEGIN; {sql}; INSERT INTO passerelle_schema (version) VALUES ({}); COMMIT;", i + 1);
        if let Err(e) = client.batch_execute(&step).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(StoreError::Migration(format!("step {i}: {}", StoreError::from(e))));
        }
    }
    Ok(())
}

/// The journal's 7-day period of a reception time: its partition (`week` in every table).
pub const PERIOD_MS: i64 = 604_800_000;

/// The period (`week`) of a message received at `received_at_ms`, as the append computes it.
pub fn period_of(received_at_ms: i64) -> i32 {
    i32::try_from(received_at_ms.div_euclid(PERIOD_MS)).unwrap_or(i32::MAX)
}

/// An accepted message is inserted unless an accepted copy exists in any period (the unique
/// index covers the message's own period, including a racing copy, which it waits for).
const APPEND: &str = "WITH m AS (
    INSERT INTO messages (week, received_at_ms, listener, format, message_type, control_id, sender, content_hash, status, ins, niss, ipp, raw, normalised, ack, diagnostics, withheld, document_type, routes)
    SELECT ($1::bigint / 604800000)::int, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $31, $32
    WHERE $8::text <> 'accepted'
       OR NOT EXISTS (SELECT 1 FROM messages d WHERE d.control_id = $5 AND d.sender = $6 AND d.content_hash = $7 AND d.status = 'accepted')
    ON CONFLICT DO NOTHING RETURNING id, week
), identifier AS (
    INSERT INTO identifiers (message_id, week, kind, system, value)
    SELECT m.id, m.week, u.kind, u.system, u.value FROM m, unnest($17::text[], $18::text[], $19::text[]) AS u (kind, system, value)
    ON CONFLICT DO NOTHING
), consent AS (
    INSERT INTO consents (system, value, feeding, updated_ms)
    SELECT u.system, u.value, $20, $1 FROM m, unnest($21::text[], $22::text[]) AS u (system, value) WHERE $20::text IS NOT NULL
    ON CONFLICT (system, value) DO UPDATE SET feeding = excluded.feeding, updated_ms = excluded.updated_ms
    WHERE excluded.updated_ms >= consents.updated_ms
), visit AS (
    INSERT INTO visit_states (system, value, state, updated_ms)
    SELECT $23, $24, $25, $1 FROM m WHERE $23::text IS NOT NULL
    ON CONFLICT (system, value) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms
    WHERE excluded.updated_ms >= visit_states.updated_ms
), delivery AS (
    INSERT INTO outbox (message_id, week, destination, partition_key, status, next_attempt_ms, updated_ms, payload, content_type, reference)
    SELECT m.id, m.week, u.destination, u.partition_key, 'pending', $1, $1, u.payload, u.content_type, u.reference
    FROM m, unnest($26::text[], $27::text[], $28::bytea[], $29::text[], $30::text[]) WITH ORDINALITY AS u (destination, partition_key, payload, content_type, reference, n)
    ORDER BY u.n
)
SELECT id FROM m";

const ORIGINAL: &str = "SELECT id, ack FROM messages WHERE control_id = $1 AND sender = $2 AND content_hash = $3 AND status = 'accepted'";

pub async fn append(conn: &Conn, m: &NewMessage) -> Result<AppendOutcome> {
    // A withheld message was accepted (AA): it deduplicates like one.
    let accepted = matches!(m.status, MessageStatus::Accepted | MessageStatus::Withheld);
    let kinds: Vec<&str> = m.identifiers.iter().map(|i| i.kind.as_str()).collect();
    let systems: Vec<&str> = m.identifiers.iter().map(|i| i.system.as_str()).collect();
    let values: Vec<&str> = m.identifiers.iter().map(|i| i.value.as_str()).collect();
    // One consent row per (system, value): an upsert may not touch a row twice in one statement.
    let mut consent_keys: Vec<(&str, &str)> = m.identifiers.iter().map(|i| (i.system.as_str(), i.value.as_str())).collect();
    consent_keys.sort_unstable();
    consent_keys.dedup();
    let (consent_systems, consent_values): (Vec<&str>, Vec<&str>) = consent_keys.into_iter().unzip();
    let consent = m.consent.as_deref().filter(|_| accepted);
    let visit = m.visit_state.as_ref().filter(|_| accepted);
    let destinations: Vec<&str> = m.deliveries.iter().map(|d| d.destination.as_str()).collect();
    let partitions: Vec<&str> = m.deliveries.iter().map(|d| d.partition_key.as_str()).collect();
    let payloads: Vec<&[u8]> = m.deliveries.iter().map(|d| &d.rendering.bytes[..]).collect();
    let content_types: Vec<&str> = m.deliveries.iter().map(|d| d.rendering.content_type.as_str()).collect();
    let references: Vec<&str> = m.deliveries.iter().map(|d| d.rendering.reference.as_str()).collect();
    let status = if accepted { "accepted" } else { m.status.as_str() };
    let raw: &[u8] = &m.raw;
    let params: [&(dyn ToSql + Sync); 32] = [
        &m.received_at_ms,
        &m.listener,
        &m.format,
        &m.message_type,
        &m.control_id,
        &m.sender,
        &m.content_hash,
        &status,
        &m.patient.ins,
        &m.patient.niss,
        &m.patient.ipp,
        &raw,
        &m.normalised,
        &m.ack,
        &m.diagnostics,
        &m.withheld,
        &kinds,
        &systems,
        &values,
        &consent,
        &consent_systems,
        &consent_values,
        &visit.map(|v| v.0.as_str()),
        &visit.map(|v| v.1.as_str()),
        &visit.map(|v| v.2.as_str()),
        &destinations,
        &partitions,
        &payloads,
        &content_types,
        &references,
        &m.document_type,
        &m.routes,
    ];
    let statement = conn.prepared(APPEND).await?;
    if let Some(row) = conn.client.query_opt(&statement, &params).await? {
        return Ok(AppendOutcome::Stored { message_id: row.get(0) });
    }
    // A resend of an accepted message: the unique index let nothing in (it waited for a racing
    // first copy to commit); answer with the original's ACK.
    let statement = conn.prepared(ORIGINAL).await?;
    let row = conn.client.query_one(&statement, &[&m.control_id, &m.sender, &m.content_hash]).await?;
    Ok(AppendOutcome::Duplicate { message_id: row.get(0), ack: row.get(1) })
}

/// Pending rows whose time has come and in-flight rows whose lease expired, each the oldest open
/// row of its lane; a row another node is claiming right now is skipped, not waited for. The lane
/// head is looked up per candidate (a correlated subquery on `outbox_open_partition`), walking
/// candidates in id order on `outbox_due`: an anti-join here let the planner, on a young table
/// without statistics, compare every open row with every other (3 s per claim at 3,000 rows).
/// The claimed rows are then updated through each partition's primary key (id and period: a
/// join on the id alone let the planner hash every partition), and each row's reception time is
/// looked up by its message's key.
pub(super) const CLAIM: &str = "WITH c AS (
    SELECT o.id, o.week FROM outbox o
    WHERE o.destination = $1 AND o.status IN ('pending', 'inflight')
      AND ((o.status = 'pending' AND o.next_attempt_ms <= $2) OR (o.status = 'inflight' AND o.lease_expires_ms <= $2))
      AND o.id = (SELECT p.id FROM outbox p WHERE p.destination = o.destination AND p.partition_key = o.partition_key
                  AND p.status IN ('pending', 'inflight') ORDER BY p.id LIMIT 1)
    ORDER BY o.id LIMIT $3
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox o SET status = 'inflight', updated_ms = $2, lease_owner = $4, lease_expires_ms = $2 + $5
FROM c WHERE o.id = c.id AND o.week = c.week
RETURNING o.id, o.message_id, o.partition_key, o.attempts,
    (SELECT m.received_at_ms FROM messages m WHERE m.id = o.message_id AND m.week = o.week), o.payload, o.content_type, o.reference";

pub async fn claim(conn: &Conn, destination: &str, limit: usize, now_ms: i64, lease: &Lease) -> Result<Vec<OutboxItem>> {
    let statement = conn.prepared(CLAIM).await?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = conn.client.query(&statement, &[&destination, &now_ms, &limit, &lease.owner, &lease.duration_ms]).await?;
    let mut items: Vec<OutboxItem> = rows
        .iter()
        .map(|r| OutboxItem {
            id: r.get(0),
            message_id: r.get(1),
            destination: destination.to_owned(),
            partition_key: r.get(2),
            attempts: u32::try_from(r.get::<_, i32>(3)).unwrap_or_default(),
            received_at_ms: r.get(4),
            rendering: Rendering { bytes: r.get::<_, Vec<u8>>(5).into(), content_type: r.get(6), reference: r.get(7) },
        })
        .collect();
    items.sort_by_key(|i| i.id);
    Ok(items)
}

/// Renews this node's leases on `ids`; `periods` (each row's, when known) lets each row be
/// found in its own partition.
pub async fn renew(conn: &Conn, ids: &[i64], periods: Option<&[i32]>, now_ms: i64, lease: &Lease) -> Result<u64> {
    const RENEW: &str = "UPDATE outbox SET lease_expires_ms = $2 WHERE id = ANY($1) AND status = 'inflight' AND lease_owner = $3";
    const RENEW_IN: &str = "UPDATE outbox o SET lease_expires_ms = $2 FROM unnest($1::bigint[], $4::int[]) AS k (id, week)
         WHERE o.id = k.id AND o.week = k.week AND o.status = 'inflight' AND o.lease_owner = $3";
    let until = now_ms + lease.duration_ms;
    Ok(match periods {
        Some(periods) => conn.client.execute(&conn.prepared(RENEW_IN).await?, &[&ids, &until, &lease.owner, &periods]).await?,
        None => conn.client.execute(&conn.prepared(RENEW).await?, &[&ids, &until, &lease.owner]).await?,
    })
}

/// Records the outcome of this node's send of row `id` (in period `week` when known).
pub async fn record_outcome(
    conn: &Conn,
    (id, week): (i64, Option<i32>),
    status: OutboxStatus,
    next_ms: i64,
    (error, answer): (Option<&str>, Option<&str>),
    lease: &Lease,
) -> Result<bool> {
    // The outcome and its attempt in one statement (one round trip): the attempt is written only
    // when the row was this node's to record.
    const OUTCOME: &str = "WITH u AS (UPDATE outbox SET status = $2, next_attempt_ms = $3, updated_ms = $3, last_error = COALESCE($4, last_error),
         attempts = attempts + 1, lease_owner = NULL, lease_expires_ms = NULL
         WHERE id = $1 AND status = 'inflight' AND lease_owner = $5 RETURNING id, week)
         INSERT INTO delivery_attempts (outbox_id, week, at_ms, outcome, detail)
         SELECT id, week, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, $6, COALESCE($4, $7, '') FROM u";
    const OUTCOME_IN: &str = "WITH u AS (UPDATE outbox SET status = $2, next_attempt_ms = $3, updated_ms = $3, last_error = COALESCE($4, last_error),
         attempts = attempts + 1, lease_owner = NULL, lease_expires_ms = NULL
         WHERE id = $1 AND week = $8 AND status = 'inflight' AND lease_owner = $5 RETURNING id, week)
         INSERT INTO delivery_attempts (outbox_id, week, at_ms, outcome, detail)
         SELECT id, week, (extract(epoch FROM clock_timestamp()) * 1000)::bigint, $6, COALESCE($4, $7, '') FROM u";
    let outcome = match status {
        OutboxStatus::Delivered => "delivered",
        OutboxStatus::Dead => "dead",
        _ => "retry",
    };
    let status = status.as_str();
    let changed = match week {
        Some(week) => conn.client.execute(&conn.prepared(OUTCOME_IN).await?, &[&id, &status, &next_ms, &error, &lease.owner, &outcome, &answer, &week]).await?,
        None => conn.client.execute(&conn.prepared(OUTCOME).await?, &[&id, &status, &next_ms, &error, &lease.owner, &outcome, &answer]).await?,
    };
    Ok(changed == 1)
}

/// A round's outcomes in one transaction: one WAL flush for the round instead of one per row.
pub async fn record_attempts(conn: &Conn, rows: &[(i64, Option<i32>, AttemptRecord)], now_ms: i64, lease: &Lease) -> Result<Vec<bool>> {
    conn.client.batch_execute("BEGIN").await?;
    let mut recorded = Vec::with_capacity(rows.len());
    let mut failed = None;
    for (id, week, attempt) in rows {
        let (status, next_ms, error, answer) = attempt.row_update(now_ms);
        match record_outcome(conn, (*id, *week), status, next_ms, (error, answer), lease).await {
            Ok(held) => recorded.push(held),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let ended = conn.client.batch_execute(if failed.is_none() { "COMMIT" } else { "ROLLBACK" }).await;
    if let Some(e) = failed {
        return Err(e);
    }
    ended?;
    Ok(recorded)
}

pub async fn transition(conn: &Conn, id: i64, from: OutboxStatus, to: OutboxStatus, now_ms: i64, error: Option<&str>) -> Result<Transition> {
    const TRANSITION: &str =
        "UPDATE outbox SET status = $3, next_attempt_ms = $4, updated_ms = $4, last_error = COALESCE($5, last_error) WHERE id = $1 AND status = $2";
    let statement = conn.prepared(TRANSITION).await?;
    if conn.client.execute(&statement, &[&id, &from.as_str(), &to.as_str(), &now_ms, &error]).await? == 1 {
        return Ok(Transition::Done);
    }
    let row = conn.client.query_opt("SELECT status FROM outbox WHERE id = $1", &[&id]).await?;
    Ok(match row.map(|r| r.get::<_, String>(0)).as_deref().and_then(OutboxStatus::parse) {
        None => Transition::NoSuchRow,
        Some(s) => Transition::WrongStatus(s),
    })
}

pub async fn release_own_claims(conn: &Conn, lease: &Lease) -> Result<u64> {
    Ok(conn
        .client
        .execute(
            "UPDATE outbox SET status = 'pending', lease_owner = NULL, lease_expires_ms = NULL WHERE status = 'inflight' AND lease_owner = $1",
            &[&lease.owner],
        )
        .await?)
}

const LIST_SELECT: &str = "SELECT o.id, o.message_id, o.destination, o.status, o.attempts, o.next_attempt_ms, o.last_error, m.control_id, m.message_type
     FROM outbox o JOIN messages m ON m.id = o.message_id AND m.week = o.week";

fn outbox_row(r: &Row) -> OutboxRow {
    OutboxRow {
        id: r.get(0),
        message_id: r.get(1),
        destination: r.get(2),
        status: OutboxStatus::parse(r.get(3)).unwrap_or(OutboxStatus::Pending),
        attempts: u32::try_from(r.get::<_, i32>(4)).unwrap_or_default(),
        next_attempt_ms: r.get(5),
        last_error: r.get(6),
        control_id: r.get(7),
        message_type: r.get(8),
    }
}

pub async fn list(conn: &Conn, f: &OutboxFilter) -> Result<Vec<OutboxRow>> {
    let sql = format!("{LIST_SELECT} WHERE ($1::text IS NULL OR o.destination = $1) AND ($2::text IS NULL OR o.status = $2) ORDER BY o.id DESC LIMIT $3");
    let limit = if f.limit == 0 { 100 } else { f.limit } as i64;
    let rows = conn.client.query(&sql, &[&f.destination, &f.status.map(OutboxStatus::as_str), &limit]).await?;
    Ok(rows.iter().map(outbox_row).collect())
}

pub async fn rendering(conn: &Conn, id: i64) -> Result<Option<Rendering>> {
    let row = conn.client.query_opt("SELECT payload, content_type, reference FROM outbox WHERE id = $1", &[&id]).await?;
    Ok(row.map(|r| Rendering { bytes: r.get::<_, Vec<u8>>(0).into(), content_type: r.get(1), reference: r.get(2) }))
}

pub async fn depth(conn: &Conn) -> Result<Vec<(String, u64)>> {
    let rows = conn
        .client
        .query("SELECT destination, COUNT(*) FROM outbox WHERE status IN ('pending', 'inflight') GROUP BY destination ORDER BY destination", &[])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), u64::try_from(r.get::<_, i64>(1)).unwrap_or_default())).collect())
}

pub async fn oldest_queued(conn: &Conn) -> Result<Vec<(String, i64)>> {
    let rows = conn
        .client
        .query(
            "SELECT o.destination, MIN(m.received_at_ms) FROM outbox o JOIN messages m ON m.id = o.message_id AND m.week = o.week
             WHERE o.status IN ('pending', 'inflight') GROUP BY o.destination ORDER BY o.destination",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

pub use super::records::*;

/// The outbox rows made from message `id`, oldest first.
pub async fn deliveries_of(conn: &Conn, id: i64) -> Result<Vec<OutboxRow>> {
    let rows = conn.client.query(&format!("{LIST_SELECT} WHERE o.message_id = $1 ORDER BY o.id"), &[&id]).await?;
    Ok(rows.iter().map(outbox_row).collect())
}
