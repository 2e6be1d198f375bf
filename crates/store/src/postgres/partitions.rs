//! Time partitions of the PostgreSQL journal: `messages`, `identifiers` and `outbox` are
//! partitioned by 7-day period of reception. Every node makes sure the current and next periods'
//! partitions exist (at start and hourly); retention drops whole periods, run by one node at a
//! time (an advisory lock) and once per horizon (`passerelle_retention` records each run).

use super::ops::PERIOD_MS;
use super::pool::Conn;
use crate::Result;

const TABLES: [&str; 3] = ["messages", "identifiers", "outbox"];

/// Creates the partitions of the previous, current and next two periods that are missing, one
/// node at a time. A period whose rows already went to the DEFAULT partition cannot get its own:
/// it stays there (retention deletes those rows one by one) and this is logged.
pub async fn ensure(conn: &Conn, now_ms: i64) -> Result<()> {
    let client = &conn.client;
    let current = now_ms.div_euclid(PERIOD_MS);
    for period in current - 1..=current + 2 {
        for table in TABLES {
            let name = format!("{table}_p{period}");
            let exists: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name]).await?.get(0);
            if exists {
                continue;
            }
            let create = format!(
                "BEGIN; SELECT pg_advisory_xact_lock(hashtext('passerelle-partitions:' || current_schema()));
                 CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} FOR VALUES FROM ({period}) TO ({}); COMMIT;",
                period + 1
            );
            if let Err(e) = client.batch_execute(&create).await {
                let _ = client.batch_execute("ROLLBACK").await;
                tracing::warn!(partition = %name, error = %crate::StoreError::from(e), "cannot create the journal partition; its rows stay in the default partition");
            }
        }
    }
    Ok(())
}

/// The periods that have their own partition of `messages`, oldest first.
async fn periods(conn: &Conn) -> Result<Vec<i64>> {
    let rows = conn
        .client
        .query(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'messages'::regclass AND c.relname LIKE 'messages\\_p%'",
            &[],
        )
        .await?;
    let mut periods: Vec<i64> = rows.iter().filter_map(|r| r.get::<_, &str>(0).strip_prefix("messages_p").and_then(|p| p.parse().ok())).collect();
    periods.sort_unstable();
    Ok(periods)
}

/// Retention: every period wholly before `before_ms` whose outbox rows are all finished is
/// dropped (its three partitions, no DELETE); a period with undelivered rows is kept and logged.
/// Then finished messages before `before_ms` left elsewhere (a kept period, the default
/// partition, a horizon inside a period) are deleted row by row. Skipped (0) when another node
/// holds the retention lock or a run already reached this horizon. Returns the messages removed.
pub async fn purge(conn: &Conn, before_ms: i64, node: &str, now_ms: i64) -> Result<u64> {
    let client = &conn.client;
    let lock = "hashtext('passerelle-retention:' || current_schema())";
    let locked: bool = client.query_one(&format!("SELECT pg_try_advisory_lock({lock})"), &[]).await?.get(0);
    if !locked {
        return Ok(0);
    }
    let result = purge_locked(conn, before_ms, node, now_ms).await;
    let unlocked = client.batch_execute(&format!("SELECT pg_advisory_unlock({lock})")).await;
    let removed = result?;
    unlocked?;
    Ok(removed)
}

async fn purge_locked(conn: &Conn, before_ms: i64, node: &str, now_ms: i64) -> Result<u64> {
    let client = &conn.client;
    let done: bool = client.query_one("SELECT EXISTS (SELECT 1 FROM passerelle_retention WHERE cutoff_ms >= $1)", &[&before_ms]).await?.get(0);
    if done {
        return Ok(0);
    }
    let (mut removed, mut dropped) = (0u64, 0i32);
    for period in periods(conn).await?.into_iter().filter(|p| (p + 1) * PERIOD_MS <= before_ms) {
        let open: bool =
            client.query_one(&format!("SELECT EXISTS (SELECT 1 FROM outbox_p{period} WHERE status IN ('pending', 'inflight'))"), &[]).await?.get(0);
        if open {
            tracing::warn!(period, "retention keeps a journal period that still has undelivered outbox rows");
            continue;
        }
        let count: i64 = client.query_one(&format!("SELECT COUNT(*) FROM messages_p{period}"), &[]).await?.get(0);
        client.batch_execute(&format!("DROP TABLE outbox_p{period}, identifiers_p{period}, messages_p{period}")).await?;
        removed += u64::try_from(count).unwrap_or_default();
        dropped += 1;
    }
    let deleted: i64 = client
        .query_one(
            "WITH gone AS (
                DELETE FROM messages m WHERE m.received_at_ms < $1
                  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id AND o.week = m.week AND o.status IN ('pending', 'inflight'))
                RETURNING m.id, m.week
            ), i AS (
                DELETE FROM identifiers USING gone WHERE identifiers.message_id = gone.id AND identifiers.week = gone.week
            ), o AS (
                DELETE FROM outbox USING gone WHERE outbox.message_id = gone.id AND outbox.week = gone.week
            )
            SELECT COUNT(*) FROM gone",
            &[&before_ms],
        )
        .await?
        .get(0);
    // The attempts of the rows removed, by a dropped period or one by one.
    client
        .execute(
            "DELETE FROM delivery_attempts a WHERE a.at_ms < $1 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = a.outbox_id AND o.week = a.week)",
            &[&before_ms],
        )
        .await?;
    client
        .execute(
            "INSERT INTO passerelle_retention (cutoff_ms, at_ms, node, dropped, deleted) VALUES ($1, $2, $3, $4, $5)",
            &[&before_ms, &now_ms, &node, &dropped, &deleted],
        )
        .await?;
    if dropped > 0 || deleted > 0 {
        tracing::info!(dropped_periods = dropped, deleted_rows = deleted, "retention: journal periods dropped");
    }
    Ok(removed + u64::try_from(deleted).unwrap_or_default())
}

/// Where a retention horizon should fall so that it removes whole periods only: the start of
/// the period that holds `before_ms`.
pub fn horizon(before_ms: i64) -> i64 {
    before_ms.div_euclid(PERIOD_MS) * PERIOD_MS
}
