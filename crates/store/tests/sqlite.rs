//! The SQLite backend against the shared conformance suite, plus durability across reopen.

use passerelle_store::{AppendOutcome, Journal, Lease, MessageQuery, NewMessage, Outbox, SqliteStore};

#[tokio::test]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("journal.db");
    passerelle_store::conformance::run_all(|node, duration_ms| SqliteStore::open_as(&path, Lease { owner: node.into(), duration_ms }).expect("open")).await;
}

#[tokio::test]
async fn committed_messages_survive_reopen_and_concurrent_appends_group_commit() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("journal.db");
    {
        let store = SqliteStore::open(&path).expect("open");
        let mut tasks = Vec::new();
        for i in 0..200 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let m = NewMessage {
                    received_at_ms: 1,
                    listener: "l".into(),
                    format: "hl7v2".into(),
                    message_type: "ADT^A01".into(),
                    control_id: format!("c{i}"),
                    sender: "s".into(),
                    content_hash: format!("h{i}"),
                    status: passerelle_store::MessageStatus::Accepted,
                    patient: Default::default(),
                    identifiers: Vec::new(),
                    raw: vec![b'x'; 100],
                    normalised: None,
                    ack: b"ack".to_vec(),
                    diagnostics: String::new(),
                    deliveries: vec![passerelle_store::NewDelivery {
                        destination: "d".into(),
                        partition_key: format!("p{}", i % 7),
                        rendering: Default::default(),
                    }],
                };
                store.append(m).await
            }));
        }
        for t in tasks {
            assert!(matches!(t.await.expect("join").expect("append"), AppendOutcome::Stored { .. }));
        }
    }
    let store = SqliteStore::open(&path).expect("reopen");
    let all = store.search(MessageQuery { limit: 1000, ..Default::default() }).await.expect("search");
    assert_eq!(all.len(), 200);
    assert_eq!(store.depth().await.expect("depth"), vec![("d".to_string(), 200)]);
}
