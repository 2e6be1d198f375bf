//! Message search at scale (issue 13): seeds N journaled messages (default 1,000,000) of 100,000
//! patients into a fresh SQLite journal, each with its INS and IPP in the identifier table, then
//! times the searches the console runs through the store: by INS (system|value), by any
//! identifier value (IPP), by control id, by document type (one message in ten carries one), and
//! the newest page without a filter; 50 queries each,
//! on patients spread over the whole journal. Run: `cargo run --release -p passerelle-benches
//! --example search_at_scale [N]`.

use passerelle_store::{Journal, MessageQuery, SqliteStore};
use std::time::Instant;

fn nir(n: u64) -> String {
    let body = format!("1{:02}{:02}75{:03}{:03}", 70 + n % 30, 1 + n % 12, n % 1000, n / 1000 % 1000);
    let key = 97 - body.parse::<u64>().unwrap_or(0) % 97;
    format!("{body}{key:02}")
}

fn seed(path: &std::path::Path, n: u64) -> rusqlite::Result<()> {
    let mut conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    let tx = conn.transaction()?;
    {
        let mut message = tx.prepare(
            "INSERT INTO messages (id, received_at_ms, listener, format, message_type, control_id, sender, content_hash, status, ins, niss, ipp, raw, normalised, ack, diagnostics, dedupe, document_type)
             VALUES (?1, ?2, 'mllp-in', 'hl7v2', 'ADT^A01', ?3, 'APP|FAC', ?4, 'accepted', ?5, NULL, ?6, x'4d5348', NULL, x'4d5348', '', 1, ?7)",
        )?;
        let mut identifier = tx.prepare("INSERT INTO identifiers (message_id, kind, system, value) VALUES (?1, ?2, ?3, ?4)")?;
        for i in 1..=n as i64 {
            let patient = (i as u64 * 7919) % 100_000;
            let (ins, ipp) = (nir(patient), format!("IPP{patient:07}"));
            // One message in ten carries a document, of 20 types.
            let document = (i % 10 == 0).then(|| document_type(i as u64 / 10));
            message.execute(rusqlite::params![i, 1_795_000_000_000 + i * 100, format!("MSG{i:09}"), format!("{i:x}"), ins, ipp, document])?;
            identifier.execute(rusqlite::params![i, "ins-nir-test", "urn:oid:1.2.250.1.213.1.4.10", ins])?;
            identifier.execute(rusqlite::params![i, "ipp", "urn:oid:1.2.250.1.999.1.1", ipp])?;
        }
    }
    tx.commit()
}

/// One of 20 document type codes (LOINC-shaped).
fn document_type(n: u64) -> String {
    format!("{}-{}", 11_000 + n % 20, n % 10)
}

/// A search for patient number n.
type QueryOf = Box<dyn Fn(u64) -> MessageQuery>;

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("journal.db");
    drop(SqliteStore::open(&path).expect("migrate"));
    let started = Instant::now();
    seed(&path, n).expect("seed");
    println!("seeded {n} messages ({} identifiers) in {:.1} s", n * 2, started.elapsed().as_secs_f64());
    let store = SqliteStore::open(&path).expect("open");
    let cases: [(&str, QueryOf); 6] = [
        (
            "by INS (system|value)",
            Box::new(|p| MessageQuery { identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), nir(p))), limit: 100, ..Default::default() }),
        ),
        ("by any identifier value (IPP)", Box::new(|p| MessageQuery { patient: Some(format!("IPP{p:07}")), limit: 100, ..Default::default() })),
        ("by control id", Box::new(|p| MessageQuery { control_id: Some(format!("MSG{:09}", p * 9 + 1)), limit: 100, ..Default::default() })),
        ("newest 100, no filter", Box::new(|_| MessageQuery { limit: 100, ..Default::default() })),
        ("by document type", Box::new(|p| MessageQuery { document_type: Some(document_type(p)), limit: 100, ..Default::default() })),
        (
            "by document type and INS",
            Box::new(|p| MessageQuery {
                identifier: Some(("urn:oid:1.2.250.1.213.1.4.10".into(), nir(p))),
                document_type: Some(document_type(p)),
                limit: 100,
                ..Default::default()
            }),
        ),
    ];
    for (name, query) in cases {
        let mut times = Vec::new();
        let mut found = 0;
        for k in 0..50u64 {
            let patient = (k * 1999 + 17) % 100_000;
            let t = Instant::now();
            found += store.search(query(patient)).await.expect("search").len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("{name:32} p50 {:.2} ms, max {:.2} ms ({:.1} rows per query)", percentile(times.clone(), 0.5), percentile(times, 1.0), found as f64 / 50.0);
    }
}
