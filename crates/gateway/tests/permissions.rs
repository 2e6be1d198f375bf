//! Files holding patient data are private: the journal's directory is created 0700, the journal and
//! its WAL 0600, the file destination's directory 0700 and its outputs 0600 (they were 0644,
//! readable by every local user); an existing journal readable by others is made private.

mod support;

use passerelle_store::OutboxStatus;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;
use support::*;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_and_outputs_are_readable_by_their_owner_only() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (data, out) = (tmp.path().join("data"), tmp.path().join("out"));
    let extra = format!(
        "[[destination]]\nname = \"ehr\"\nkind = \"file\"\nformat = \"hl7v2\"\ndir = \"{}\"\n[[route]]\nname = \"all\"\nto = [\"ehr\"]\n",
        out.display()
    );
    let journal = data.join("journal.db");
    let gw = passerelle_gateway::start(config(&journal, &extra)).await.expect("start");
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let (code, _, _) = client.send(&std::fs::read(workspace_root().join("fixtures/hl7v2/ok/fr_a01_ins_qualified_utf8.hl7")).expect("fixture")).await;
    assert_eq!(code, "AA");
    wait_for_outbox(gw.store.as_ref(), OutboxStatus::Delivered, 1, Duration::from_secs(10)).await;
    assert_eq!(mode(&data), 0o700, "journal directory");
    assert_eq!(mode(&journal), 0o600, "journal");
    assert_eq!(mode(&data.join("journal.db-wal")), 0o600, "WAL");
    assert_eq!(mode(&out), 0o700, "output directory");
    let outputs = files_with_ext(&out, "hl7");
    assert_eq!(outputs.len(), 1);
    assert_eq!(mode(&outputs[0]), 0o600, "output");
    gw.shutdown().await;

    // A journal someone left world-readable is made private when the gateway opens it.
    std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let gw = passerelle_gateway::start(config(&journal, "")).await.expect("restart");
    assert_eq!(mode(&journal), 0o600);
    gw.shutdown().await;
}
