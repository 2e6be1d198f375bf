//! The PostgreSQL backend's patient records and reads: stable identities (resolved under
//! per-identifier advisory locks, so concurrent first messages about one person on several nodes
//! find one identity), consents, visit states, the audit trail, search and the full message.

use super::pool::Conn;
use crate::Result;
use crate::types::*;
use tokio_postgres::Row;

pub async fn find_identities(conn: &Conn, identifiers: &[(String, String)]) -> Result<Vec<i64>> {
    let (systems, values): (Vec<&str>, Vec<&str>) = identifiers.iter().map(|(s, v)| (s.as_str(), v.as_str())).unzip();
    let rows = conn
        .client
        .query(
            "SELECT DISTINCT k.identity_id FROM identity_keys k JOIN unnest($1::text[], $2::text[]) AS u (system, value)
             ON k.system = u.system AND k.value = u.value ORDER BY 1",
            &[&systems, &values],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub async fn identity_keys(conn: &Conn, identity: i64) -> Result<Vec<(String, String)>> {
    let rows = conn.client.query("SELECT system, value FROM identity_keys WHERE identity_id = $1 ORDER BY system, value", &[&identity]).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// In one transaction: a lock per identifier (in a fixed order, so two resolutions never wait on
/// each other in a cycle), then find, create if none, and attach every identifier.
pub async fn resolve_identity(conn: &Conn, identifiers: &[(String, String)], now_ms: i64) -> Result<IdentityResolution> {
    let client = &conn.client;
    client.batch_execute("BEGIN").await?;
    let resolved = resolve_in_transaction(conn, identifiers, now_ms).await;
    let end = if resolved.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = client.batch_execute(end).await;
    let resolved = resolved?;
    ended?;
    Ok(resolved)
}

async fn resolve_in_transaction(conn: &Conn, identifiers: &[(String, String)], now_ms: i64) -> Result<IdentityResolution> {
    let client = &conn.client;
    let mut keys: Vec<String> = identifiers.iter().map(|(s, v)| format!("passerelle-identity:{s}|{v}")).collect();
    keys.sort_unstable();
    keys.dedup();
    client.execute("SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest($1::text[]) AS k ORDER BY k", &[&keys]).await?;
    let known = find_identities(conn, identifiers).await?;
    let (id, created) = match known.as_slice() {
        [] => (client.query_one("INSERT INTO identities (created_ms) VALUES ($1) RETURNING id", &[&now_ms]).await?.get(0), true),
        [one] => (*one, false),
        _ => return Ok(IdentityResolution::Conflict(known)),
    };
    let (systems, values): (Vec<&str>, Vec<&str>) = identifiers.iter().map(|(s, v)| (s.as_str(), v.as_str())).unzip();
    client
        .execute(
            "INSERT INTO identity_keys (system, value, identity_id) SELECT u.system, u.value, $3 FROM unnest($1::text[], $2::text[]) AS u (system, value)
             ON CONFLICT DO NOTHING",
            &[&systems, &values, &id],
        )
        .await?;
    Ok(if created { IdentityResolution::Created(id) } else { IdentityResolution::Known(id) })
}

pub async fn audit(conn: &Conn, e: &AuditEntry) -> Result<()> {
    conn.client
        .execute("INSERT INTO audit (at_ms, role, remote, action, target) VALUES ($1, $2, $3, $4, $5)", &[&e.at_ms, &e.role, &e.remote, &e.action, &e.target])
        .await?;
    Ok(())
}

pub async fn audit_since(conn: &Conn, since_ms: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows =
        conn.client.query("SELECT at_ms, role, remote, action, target FROM audit WHERE at_ms >= $1 ORDER BY at_ms, id LIMIT $2", &[&since_ms, &limit]).await?;
    Ok(rows.iter().map(|r| AuditEntry { at_ms: r.get(0), role: r.get(1), remote: r.get(2), action: r.get(3), target: r.get(4) }).collect())
}

pub async fn visit_state(conn: &Conn, system: &str, value: &str) -> Result<Option<String>> {
    Ok(conn.client.query_opt("SELECT state FROM visit_states WHERE system = $1 AND value = $2", &[&system, &value]).await?.map(|r| r.get(0)))
}

/// The most recent feeding choice among the identifiers' (the first listed wins a tie).
pub async fn latest_consent(conn: &Conn, identifiers: &[(String, String)]) -> Result<Option<String>> {
    let (systems, values): (Vec<&str>, Vec<&str>) = identifiers.iter().map(|(s, v)| (s.as_str(), v.as_str())).unzip();
    let row = conn
        .client
        .query_opt(
            "SELECT c.feeding FROM consents c JOIN unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (system, value, n)
             ON c.system = u.system AND c.value = u.value ORDER BY c.updated_ms DESC, u.n LIMIT 1",
            &[&systems, &values],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

const SUMMARY_COLUMNS: &str = "id, received_at_ms, listener, format, message_type, control_id, sender, status, ins, niss, ipp, diagnostics, withheld";

fn summary_row(r: &Row) -> MessageSummary {
    let status: &str = r.get(7);
    let withheld: Option<String> = r.get(12);
    MessageSummary {
        id: r.get(0),
        received_at_ms: r.get(1),
        listener: r.get(2),
        format: r.get(3),
        message_type: r.get(4),
        control_id: r.get(5),
        sender: r.get(6),
        status: match (status, &withheld) {
            ("accepted", Some(_)) => MessageStatus::Withheld,
            ("accepted", None) => MessageStatus::Accepted,
            _ => MessageStatus::Rejected,
        },
        patient: PatientKeys { ins: r.get(8), niss: r.get(9), ipp: r.get(10) },
        diagnostics: r.get(11),
        withheld,
    }
}

pub async fn message(conn: &Conn, id: i64) -> Result<Option<StoredMessage>> {
    let sql = format!("SELECT {SUMMARY_COLUMNS}, raw, normalised, ack, routes FROM messages WHERE id = $1");
    let Some(row) = conn.client.query_opt(&sql, &[&id]).await? else { return Ok(None) };
    let deliveries = super::ops::deliveries_of(conn, id).await?;
    let attempts = conn
        .client
        .query(
            "SELECT a.outbox_id, a.at_ms, a.outcome, a.detail FROM delivery_attempts a
              WHERE a.outbox_id IN (SELECT id FROM outbox WHERE message_id = $1) ORDER BY a.at_ms",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| DeliveryAttempt { outbox_id: r.get(0), at_ms: r.get(1), outcome: r.get(2), detail: r.get(3) })
        .collect();
    Ok(Some(StoredMessage {
        summary: summary_row(&row),
        raw: row.get(13),
        normalised: row.get(14),
        ack: row.get(15),
        deliveries,
        routes: row.get(16),
        attempts,
    }))
}

pub async fn search(conn: &Conn, q: &MessageQuery) -> Result<Vec<MessageSummary>> {
    let (clause, params) = crate::search_sql::search_where(q, |n| format!("${n}::text"));
    let limit = if q.limit == 0 { 100 } else { q.limit } as i64;
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM messages{clause} ORDER BY id DESC LIMIT ${}", params.len() + 1);
    let mut values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params.iter().map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
    values.push(&limit);
    let rows = conn.client.query(&sql, &values).await?;
    Ok(rows.iter().map(summary_row).collect())
}

pub async fn heartbeat(conn: &Conn, b: &NodeBeat) -> Result<()> {
    conn.client
        .execute(
            "INSERT INTO nodes (node, started_ms, seen_ms, config_version, binary_version) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (node) DO UPDATE SET started_ms = excluded.started_ms, seen_ms = excluded.seen_ms,
               config_version = excluded.config_version, binary_version = excluded.binary_version",
            &[&b.node, &b.started_ms, &b.seen_ms, &b.config_version, &b.binary_version],
        )
        .await?;
    Ok(())
}

pub async fn nodes(conn: &Conn) -> Result<Vec<NodeBeat>> {
    let rows = conn.client.query("SELECT node, started_ms, seen_ms, config_version, binary_version FROM nodes ORDER BY node", &[]).await?;
    Ok(rows.iter().map(|r| NodeBeat { node: r.get(0), started_ms: r.get(1), seen_ms: r.get(2), config_version: r.get(3), binary_version: r.get(4) }).collect())
}

pub async fn recent_models(conn: &Conn, since_ms: i64, limit: usize) -> Result<Vec<RecentModel>> {
    let rows = conn
        .client
        .query(
            "SELECT id, received_at_ms, sender, diagnostics, normalised FROM messages
              WHERE status = 'accepted' AND received_at_ms >= $1 AND normalised IS NOT NULL ORDER BY id DESC LIMIT $2",
            &[&since_ms, &(limit as i64)],
        )
        .await?;
    Ok(rows.iter().map(|r| RecentModel { id: r.get(0), received_at_ms: r.get(1), sender: r.get(2), diagnostics: r.get(3), normalised: r.get(4) }).collect())
}
