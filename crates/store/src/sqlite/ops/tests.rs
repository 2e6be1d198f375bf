//! Query-plan regression tests of the SQLite journal's statements (a search or a claim that
//! scans instead of seeking is a bug, found once each).

use super::*;

/// Found before landing (issue 13): a search written `(?1 IS NULL OR id IN (…))` made SQLite
/// scan every message (60 ms at a million); each condition is now written only when asked
/// for, and an identifier search is a lookup in the identifier index.
#[test]
fn a_search_with_is_null_or_conditions_scanned_every_message() {
    let conn = Connection::open_in_memory().expect("open");
    migrate(&conn).expect("migrate");
    let queries = [
        MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), "279035121518989".into())), ..Default::default() },
        MessageQuery { patient: Some("IPP100234".into()), ..Default::default() },
        MessageQuery { control_id: Some("MSG-1".into()), ..Default::default() },
        // The partial index of documents (a message without one writes no entry).
        MessageQuery { document_type: Some("11488-4".into()), ..Default::default() },
    ];
    for q in queries {
        let (clause, params) = crate::search_sql::search_where(&q, |n| format!("?{n}"));
        let sql = format!("EXPLAIN QUERY PLAN SELECT id FROM messages{clause} ORDER BY id DESC LIMIT 100");
        let mut stmt = conn.prepare(&sql).expect("plan");
        let steps: Vec<String> = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| r.get::<_, String>(3)).expect("plan").flatten().collect();
        assert!(!steps.iter().any(|s| s.starts_with("SCAN messages") || s.starts_with("SCAN identifiers")), "{clause}: {steps:?}");
    }
}

/// Found before landing: a claim written with `OR` between the two statuses made SQLite scan
/// every outbox row of the destination (delivered ones included) on each claim, which cut
/// end-to-end delivery from ~4,400 to ~1,600 msg/s in the load test.
#[test]
fn a_claim_with_an_or_scanned_every_outbox_row() {
    let conn = Connection::open_in_memory().expect("open");
    migrate(&conn).expect("migrate");
    for due in [DUE_EXPIRED, DUE_PENDING] {
        let mut plan = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", claim_sql(due))).expect("plan");
        let steps: Vec<String> =
            plan.query_map(params!["d", 0, 10], |r| r.get::<_, String>(3)).expect("rows").collect::<std::result::Result<_, _>>().expect("plan rows");
        let outbox = steps.iter().find(|s| s.contains(" o ") || s.ends_with(" o")).expect("outbox step");
        // The walk must be bounded by the status, not cover every row of the destination.
        assert!(outbox.starts_with("SEARCH") && outbox.contains("(destination=? AND status=?)"), "{due}: {steps:?}");
        assert!(!steps.iter().any(|s| s.contains("TEMP B-TREE")), "{due}: no sort of the whole backlog: {steps:?}");
    }
}
