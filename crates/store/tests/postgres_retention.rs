//! The PostgreSQL journal partitioned by 7-day period: retention drops whole periods (all three
//! tables), keeps a period with undelivered rows, runs once per horizon however many nodes ask
//! at once; a resend in a later period is still recognised as a duplicate.

use passerelle_store::conformance::sample_message;
use passerelle_store::{AppendOutcome, Journal, Lease, MessageQuery, Outbox, PostgresStore};
use passerelle_testkit::PgSchema;

const PERIOD_MS: i64 = 604_800_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

/// Makes the three partitions of `period`, as a node running back then would have.
async fn make_period(pg: &PgSchema, period: i64) {
    for table in ["messages", "identifiers", "outbox"] {
        let sql = format!("CREATE TABLE {s}.{table}_p{period} PARTITION OF {s}.{table} FOR VALUES FROM ({period}) TO ({})", period + 1, s = pg.schema);
        pg.admin.batch_execute(&sql).await.expect("partition");
    }
}

async fn exists(pg: &PgSchema, table: &str) -> bool {
    pg.admin.query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("{}.{table}", pg.schema)]).await.expect("regclass").get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_drops_finished_periods_whole_and_keeps_one_with_undelivered_rows() {
    let Some(pg) = PgSchema::create("retention").await else { return };
    let lease = |owner: &str| Lease { owner: owner.into(), duration_ms: 30_000 };
    let a = PostgresStore::open(&pg.url, 4, lease("node-a")).await.expect("open a");
    let b = PostgresStore::open(&pg.url, 4, lease("node-b")).await.expect("open b");
    let current = now_ms() / PERIOD_MS;
    assert!(exists(&pg, &format!("messages_p{current}")).await && exists(&pg, &format!("outbox_p{}", current + 1)).await, "periods made ahead at open");
    let (finished, open) = (current - 6, current - 5);
    make_period(&pg, finished).await;
    make_period(&pg, open).await;
    let at = |period: i64, control: &str, destinations: &[&str]| {
        let mut m = sample_message(control, &format!("pat-{control}"), destinations);
        m.received_at_ms = period * PERIOD_MS + 3_600_000;
        m
    };
    for i in 0..5 {
        a.append(at(finished, &format!("old-{i}"), &["ehr"])).await.expect("append");
    }
    a.append(at(open, "stuck-1", &["lab"])).await.expect("append");
    a.append(at(open, "done-1", &[])).await.expect("append");
    a.append(at(current, "new-1", &["ehr"])).await.expect("append");
    // A resend of old-0 today is the same message, although its period is another.
    let resend = at(current, "old-0", &["ehr"]);
    assert!(matches!(a.append(resend).await.expect("append"), AppendOutcome::Duplicate { .. }), "a resend in a later period is a duplicate");
    // Everything of ehr delivered; lab's row stays pending.
    let claimed = a.claim("ehr", 100, now_ms()).await.expect("claim");
    assert_eq!(claimed.len(), 6);
    for item in claimed {
        assert!(a.mark_delivered(item.id, now_ms()).await.expect("delivered"));
    }

    // Two nodes run retention at once, for a horizon four periods back.
    let horizon = a.purge_horizon(now_ms() - 4 * PERIOD_MS);
    assert_eq!(horizon % PERIOD_MS, 0, "the horizon falls on a period boundary");
    let (ra, rb) = tokio::join!(a.purge(horizon), b.purge(horizon));
    let removed = ra.expect("purge a") + rb.expect("purge b");
    assert_eq!(removed, 6, "the finished period's five messages, and the finished message of the kept period");
    for table in ["messages", "identifiers", "outbox"] {
        assert!(!exists(&pg, &format!("{table}_p{finished}")).await, "{table} of the finished period dropped");
        assert!(exists(&pg, &format!("{table}_p{open}")).await, "{table} of the period with an undelivered row kept");
    }
    let runs: i64 = pg.admin.query_one(&format!("SELECT COUNT(*) FROM {}.passerelle_retention", pg.schema), &[]).await.expect("runs").get(0);
    assert_eq!(runs, 1, "one node ran it");
    assert_eq!(b.purge(horizon).await.expect("again"), 0, "a horizon already reached is not run again");
    let left = |control: &str| MessageQuery { control_id: Some(control.into()), ..Default::default() };
    assert_eq!(a.search(left("stuck-1")).await.expect("search").len(), 1, "the undelivered message is kept");
    assert!(a.search(left("done-1")).await.expect("search").is_empty());
    assert_eq!(a.search(left("new-1")).await.expect("search").len(), 1, "this period untouched");
    assert!(a.search(left("old-3")).await.expect("search").is_empty());
    pg.drop_schema().await;
}

/// A hub database of schema 2 (before partitioning): its messages, identifiers and outbox rows
/// move to the partitioned tables at the next start, ids continue, a resend is still a duplicate
/// and the pending row is still delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_2_hub_database_is_partitioned_in_place() {
    let Some(pg) = PgSchema::create("upgrade").await else { return };
    let steps = passerelle_store::postgres_migrations_for_tests();
    let s = &pg.schema;
    let old = format!(
        "SET search_path = {s}; CREATE TABLE passerelle_schema (version INTEGER NOT NULL); {}; {}; INSERT INTO passerelle_schema VALUES (1), (2);
         INSERT INTO messages (received_at_ms, listener, format, message_type, control_id, sender, content_hash, status, raw, ack)
             VALUES (1000, 'mllp', 'hl7v2', 'ADT^A01', 'before-1', 'APP|FAC', 'hash-before-1', 'accepted', 'MSH', 'ACK before-1');
         INSERT INTO identifiers (message_id, kind, system, value) VALUES (1, 'ipp', 'CHU-TEST', 'pat-1');
         INSERT INTO outbox (message_id, destination, partition_key, status, next_attempt_ms, updated_ms, payload) VALUES (1, 'ehr', 'pat-1', 'pending', 0, 0, 'x');
         RESET search_path;",
        steps[0], steps[1]
    );
    pg.admin.batch_execute(&old).await.expect("schema 2");
    let store = PostgresStore::open(&pg.url, 2, Lease::default()).await.expect("open upgrades");
    let found = store.search(MessageQuery { identifier: Some(("CHU-TEST".into(), "pat-1".into())), ..Default::default() }).await.expect("search");
    assert_eq!(found.len(), 1, "the message and its identifier moved");
    let mut resend = sample_message("before-1", "pat-1", &[]);
    resend.content_hash = "hash-before-1".into();
    assert!(matches!(store.append(resend).await.expect("append"), AppendOutcome::Duplicate { .. }));
    let AppendOutcome::Stored { message_id } = store.append(sample_message("after-1", "pat-1", &["ehr"])).await.expect("append") else { panic!("stored") };
    assert_eq!(message_id, 2, "ids continue after the moved rows");
    let claimed = store.claim("ehr", 10, now_ms()).await.expect("claim");
    assert_eq!(claimed.first().map(|c| c.message_id), Some(1), "the moved pending row is delivered first");
    pg.drop_schema().await;
}
