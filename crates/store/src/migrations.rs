//! Versioned schema migrations, applied in order: SQLite records its version in `PRAGMA
//! user_version`, PostgreSQL in a `passerelle_schema` table.

/// Migration N brings the schema from version N to N + 1. Never edit a released entry; append.
pub const SQLITE: &[&str] = &[
    // 0 → 1: journal and outbox.
    "CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        received_at_ms INTEGER NOT NULL,
        listener TEXT NOT NULL,
        format TEXT NOT NULL,
        message_type TEXT NOT NULL,
        control_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        ins TEXT, niss TEXT, ipp TEXT,
        raw BLOB NOT NULL,
        normalised BLOB,
        ack BLOB NOT NULL,
        diagnostics TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX messages_dedupe ON messages (sender, control_id, content_hash) WHERE status = 'accepted';
    CREATE INDEX messages_control_id ON messages (control_id);
    CREATE INDEX messages_ins ON messages (ins) WHERE ins IS NOT NULL;
    CREATE INDEX messages_niss ON messages (niss) WHERE niss IS NOT NULL;
    CREATE INDEX messages_ipp ON messages (ipp) WHERE ipp IS NOT NULL;
    CREATE INDEX messages_received ON messages (received_at_ms);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        destination TEXT NOT NULL,
        partition_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'inflight', 'delivered', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        last_error TEXT,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (destination, status, next_attempt_ms, id);
    CREATE INDEX outbox_open_partition ON outbox (destination, partition_key, id) WHERE status IN ('pending', 'inflight');
    CREATE INDEX outbox_message ON outbox (message_id);",
    // 1 → 2: claims walk pending rows in id order and stop at the limit, instead of sorting every
    // due row (the claim was O(backlog) per call with outbox_due).
    "DROP INDEX outbox_due;
    CREATE INDEX outbox_claim ON outbox (destination, status, id);",
    // 2 → 3: one index serves both deduplication and the search by control id (one B-tree fewer
    // to update per message).
    "DROP INDEX messages_dedupe;
    DROP INDEX messages_control_id;
    CREATE INDEX messages_control_id ON messages (control_id, sender, content_hash);",
    // 3 → 4, several nodes on one store: patient identifiers in their own table (searchable by
    // system and value); deduplication by a unique index (`dedupe` is 1 for accepted messages and
    // NULL for rejected ones, which never collide); claims carry a lease (owner + expiry); each
    // outbox row holds the rendering it delivers. The three key columns stay as display keys.
    "DROP INDEX messages_ins;
    DROP INDEX messages_niss;
    DROP INDEX messages_ipp;
    DROP INDEX messages_control_id;
    ALTER TABLE messages ADD COLUMN dedupe INTEGER CHECK (dedupe = 1);
    UPDATE messages SET dedupe = 1 WHERE status = 'accepted';
    CREATE UNIQUE INDEX messages_dedupe ON messages (control_id, sender, content_hash, dedupe);
    CREATE TABLE identifiers (
        message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (message_id, system, value)
    ) WITHOUT ROWID;
    CREATE INDEX identifiers_value ON identifiers (value, system);
    INSERT OR IGNORE INTO identifiers (message_id, kind, system, value)
        SELECT id, 'ins', '', ins FROM messages WHERE ins IS NOT NULL
        UNION ALL SELECT id, 'niss', '', niss FROM messages WHERE niss IS NOT NULL
        UNION ALL SELECT id, 'ipp', '', ipp FROM messages WHERE ipp IS NOT NULL;
    ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
    ALTER TABLE outbox ADD COLUMN lease_expires_ms INTEGER;
    ALTER TABLE outbox ADD COLUMN payload BLOB;
    ALTER TABLE outbox ADD COLUMN content_type TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbox ADD COLUMN reference TEXT NOT NULL DEFAULT '';",
    // 4 → 5, consent: a message kept back from a destination by a consent rule keeps its reason
    // (`withheld`, shown as status `withheld`); the latest known DMP feeding choice of each
    // patient identifier (PAM-FR ZFA-9), so a later document finds it.
    "ALTER TABLE messages ADD COLUMN withheld TEXT;
    CREATE TABLE consents (
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        feeding TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (system, value)
    ) WITHOUT ROWID;",
    // 5 → 6: large blobs (a document's raw bytes and renderings, from 256 KiB) in their own
    // table, last in the row, so that SQLite writes them in place from a zeroblob instead of
    // copying them twice at insert; deleting their message or outbox row deletes them.
    "CREATE TABLE large_blobs (
        id INTEGER PRIMARY KEY,
        message_id INTEGER REFERENCES messages (id) ON DELETE CASCADE,
        outbox_id INTEGER REFERENCES outbox (id) ON DELETE CASCADE,
        data BLOB NOT NULL
    );
    CREATE UNIQUE INDEX large_blobs_message ON large_blobs (message_id) WHERE message_id IS NOT NULL;
    CREATE UNIQUE INDEX large_blobs_outbox ON large_blobs (outbox_id) WHERE outbox_id IS NOT NULL;",
    // 6 → 7: one stable identity per person across messages (FHIR `Location: /fhir/Patient/<id>`):
    // each (system, value) identifier belongs to at most one identity, and the primary key makes
    // two concurrent first posts of the same person find one.
    "CREATE TABLE identities (id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL);
    CREATE TABLE identity_keys (
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        identity_id INTEGER NOT NULL REFERENCES identities (id),
        PRIMARY KEY (system, value)
    ) WITHOUT ROWID;
    CREATE INDEX identity_keys_identity ON identity_keys (identity_id);",
    // 7 → 8: the last state each visit was left in by an accepted message, so that a FHIR Encounter
    // back in progress after its discharge is the discharge's cancellation (A13).
    "CREATE TABLE visit_states (
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (system, value)
    ) WITHOUT ROWID;",
    // 8 → 9: the audit trail of reads of patient data through the admin API.
    "CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        role TEXT NOT NULL,
        remote TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at_ms);",
    // 9 → 10: node heartbeats (which nodes share this store, and since when they are silent).
    "CREATE TABLE nodes (
        node TEXT PRIMARY KEY,
        started_ms INTEGER NOT NULL,
        seen_ms INTEGER NOT NULL,
        config_version TEXT NOT NULL,
        binary_version TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 10 → 11: every delivery attempt of an outbox row (when, the outcome, the receiver's answer
    // or the error), the lineage an operator reads; gone with its row.
    "CREATE TABLE delivery_attempts (
        outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        at_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, at_ms);",
    // 11 → 12: the console's saved searches (a name and the query string of /messages).
    "CREATE TABLE saved_searches (name TEXT PRIMARY KEY, query TEXT NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID;",
    // 12 → 13: the type of the document a message carries (LOINC in France), for the console's
    // search (a partial index: a message without a document writes no index entry); and the
    // routes that matched it at reception, for its lineage; the destinations an operator paused
    // (every node sharing the journal holds their deliveries).
    "ALTER TABLE messages ADD COLUMN document_type TEXT;
    ALTER TABLE messages ADD COLUMN routes TEXT;
    CREATE TABLE paused_destinations (destination TEXT PRIMARY KEY, paused_ms INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX messages_document_type ON messages (document_type, id) WHERE document_type IS NOT NULL;",
    // 13 → 14: a row's successful attempt is kept on the row itself (when, and the receiver's
    // answer): the hot path writes no attempt row and no attempt index entry per delivery. A
    // replay moves it into delivery_attempts before the row is sent again.
    "ALTER TABLE outbox ADD COLUMN delivered_ms INTEGER;
    ALTER TABLE outbox ADD COLUMN answer TEXT;",
    // 14 → 15: a row's rendering in a table of its own, written once: the outbox row itself is
    // small and rewritten at each claim and outcome, and a page of them holds dozens of rows
    // instead of two or three renderings (rows of before keep theirs in outbox.payload).
    "CREATE TABLE renderings (outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE, payload BLOB NOT NULL);",
    // 15 → 16: the reception time on the outbox row, so that a claim reads no page of the
    // (large) messages table; rows of before look it up in their message.
    "ALTER TABLE outbox ADD COLUMN received_at_ms INTEGER;",
];

/// The PostgreSQL schema, versioned in `passerelle_schema` and applied under an advisory lock by
/// the first node that starts (see `postgres::ops::migrate`). Same rule: append, never edit.
/// Large values are `bytea` (TOAST stores them apart); deduplication is a partial unique index.
pub const POSTGRES: &[&str] = &[
    // 0 → 1: the whole schema of SQLite's version 9.
    "CREATE TABLE messages (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at_ms BIGINT NOT NULL,
        listener TEXT NOT NULL,
        format TEXT NOT NULL,
        message_type TEXT NOT NULL,
        control_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        ins TEXT, niss TEXT, ipp TEXT,
        raw BYTEA NOT NULL,
        normalised BYTEA,
        ack BYTEA NOT NULL,
        diagnostics TEXT NOT NULL DEFAULT '',
        withheld TEXT
    );
    CREATE UNIQUE INDEX messages_dedupe ON messages (control_id, sender, content_hash) WHERE status = 'accepted';
    CREATE INDEX messages_control_id ON messages (control_id);
    CREATE INDEX messages_received ON messages (received_at_ms);
    CREATE TABLE identifiers (
        message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (message_id, system, value)
    );
    CREATE INDEX identifiers_value ON identifiers (value, system);
    CREATE TABLE outbox (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        destination TEXT NOT NULL,
        partition_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'inflight', 'delivered', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms BIGINT NOT NULL,
        last_error TEXT,
        updated_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_expires_ms BIGINT,
        payload BYTEA NOT NULL,
        content_type TEXT NOT NULL DEFAULT '',
        reference TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX outbox_due ON outbox (destination, id) WHERE status IN ('pending', 'inflight');
    CREATE INDEX outbox_open_partition ON outbox (destination, partition_key, id) WHERE status IN ('pending', 'inflight');
    CREATE INDEX outbox_message ON outbox (message_id);
    CREATE TABLE consents (
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        feeding TEXT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (system, value)
    );
    CREATE TABLE identities (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, created_ms BIGINT NOT NULL);
    CREATE TABLE identity_keys (
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        identity_id BIGINT NOT NULL REFERENCES identities (id),
        PRIMARY KEY (system, value)
    );
    CREATE INDEX identity_keys_identity ON identity_keys (identity_id);
    CREATE TABLE visit_states (
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (system, value)
    );
    CREATE TABLE audit (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        role TEXT NOT NULL,
        remote TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at_ms);",
    // 1 → 2: node heartbeats.
    "CREATE TABLE nodes (
        node TEXT PRIMARY KEY,
        started_ms BIGINT NOT NULL,
        seen_ms BIGINT NOT NULL,
        config_version TEXT NOT NULL,
        binary_version TEXT NOT NULL
    );",
    // 2 → 3: journal, identifiers and outbox partitioned by 7-day period of reception (`week`,
    // Unix ms / 604,800,000), so that retention drops whole partitions. A DEFAULT partition takes
    // what arrives for a period without one (and the rows of before this step). Unique indexes of
    // partitioned tables must hold the partition key: the dedupe index is per period, and the
    // append looks earlier periods up itself. Foreign keys are dropped: the append writes a
    // message and its rows in one statement, and retention drops a period of all three together.
    "ALTER TABLE outbox RENAME TO outbox_unpartitioned;
    ALTER TABLE identifiers RENAME TO identifiers_unpartitioned;
    ALTER TABLE messages RENAME TO messages_unpartitioned;
    DROP INDEX messages_dedupe, messages_control_id, messages_received, identifiers_value, outbox_due, outbox_open_partition, outbox_message;
    CREATE TABLE messages (
        id BIGINT GENERATED ALWAYS AS IDENTITY,
        week INTEGER NOT NULL,
        received_at_ms BIGINT NOT NULL,
        listener TEXT NOT NULL,
        format TEXT NOT NULL,
        message_type TEXT NOT NULL,
        control_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
        ins TEXT, niss TEXT, ipp TEXT,
        raw BYTEA NOT NULL,
        normalised BYTEA,
        ack BYTEA NOT NULL,
        diagnostics TEXT NOT NULL DEFAULT '',
        withheld TEXT,
        PRIMARY KEY (id, week)
    ) PARTITION BY RANGE (week);
    CREATE TABLE messages_default PARTITION OF messages DEFAULT;
    CREATE UNIQUE INDEX messages_dedupe ON messages (control_id, sender, content_hash, week) WHERE status = 'accepted';
    CREATE INDEX messages_control_id ON messages (control_id);
    CREATE INDEX messages_received ON messages (received_at_ms);
    CREATE TABLE identifiers (
        message_id BIGINT NOT NULL,
        week INTEGER NOT NULL,
        kind TEXT NOT NULL,
        system TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (message_id, system, value, week)
    ) PARTITION BY RANGE (week);
    CREATE TABLE identifiers_default PARTITION OF identifiers DEFAULT;
    CREATE INDEX identifiers_value ON identifiers (value, system);
    CREATE TABLE outbox (
        id BIGINT GENERATED ALWAYS AS IDENTITY,
        week INTEGER NOT NULL,
        message_id BIGINT NOT NULL,
        destination TEXT NOT NULL,
        partition_key TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'inflight', 'delivered', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms BIGINT NOT NULL,
        last_error TEXT,
        updated_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_expires_ms BIGINT,
        payload BYTEA NOT NULL,
        content_type TEXT NOT NULL DEFAULT '',
        reference TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (id, week)
    ) PARTITION BY RANGE (week);
    CREATE TABLE outbox_default PARTITION OF outbox DEFAULT;
    CREATE INDEX outbox_due ON outbox (destination, id) WHERE status IN ('pending', 'inflight');
    CREATE INDEX outbox_open_partition ON outbox (destination, partition_key, id) WHERE status IN ('pending', 'inflight');
    CREATE INDEX outbox_message ON outbox (message_id);
    INSERT INTO messages (id, week, received_at_ms, listener, format, message_type, control_id, sender, content_hash, status, ins, niss, ipp, raw, normalised, ack, diagnostics, withheld)
        OVERRIDING SYSTEM VALUE
        SELECT id, (received_at_ms / 604800000)::int, received_at_ms, listener, format, message_type, control_id, sender, content_hash, status, ins, niss, ipp, raw, normalised, ack, diagnostics, withheld
        FROM messages_unpartitioned;
    INSERT INTO identifiers (message_id, week, kind, system, value)
        SELECT i.message_id, (m.received_at_ms / 604800000)::int, i.kind, i.system, i.value
        FROM identifiers_unpartitioned i JOIN messages_unpartitioned m ON m.id = i.message_id;
    INSERT INTO outbox (id, week, message_id, destination, partition_key, status, attempts, next_attempt_ms, last_error, updated_ms, lease_owner, lease_expires_ms, payload, content_type, reference)
        OVERRIDING SYSTEM VALUE
        SELECT o.id, (m.received_at_ms / 604800000)::int, o.message_id, o.destination, o.partition_key, o.status, o.attempts, o.next_attempt_ms, o.last_error, o.updated_ms,
               o.lease_owner, o.lease_expires_ms, o.payload, o.content_type, o.reference
        FROM outbox_unpartitioned o JOIN messages_unpartitioned m ON m.id = o.message_id;
    SELECT setval(pg_get_serial_sequence('messages', 'id'), COALESCE((SELECT MAX(id) FROM messages), 0) + 1, false);
    SELECT setval(pg_get_serial_sequence('outbox', 'id'), COALESCE((SELECT MAX(id) FROM outbox), 0) + 1, false);
    DROP TABLE outbox_unpartitioned, identifiers_unpartitioned, messages_unpartitioned;
    CREATE TABLE passerelle_retention (cutoff_ms BIGINT NOT NULL, at_ms BIGINT NOT NULL, node TEXT NOT NULL, dropped INTEGER NOT NULL, deleted BIGINT NOT NULL);",
    // 3 → 4: every delivery attempt of an outbox row, with the row's period (retention deletes
    // the attempts of rows it dropped).
    "CREATE TABLE delivery_attempts (
        outbox_id BIGINT NOT NULL,
        week INTEGER NOT NULL,
        at_ms BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id, at_ms);",
    // 4 → 5: the console's saved searches.
    "CREATE TABLE saved_searches (name TEXT PRIMARY KEY, query TEXT NOT NULL, created_ms BIGINT NOT NULL);",
    // 5 → 6: the type of the document a message carries, searched through a partial index; the
    // routes that matched it at reception; the destinations paused on every node of the hub.
    "ALTER TABLE messages ADD COLUMN document_type TEXT;
    ALTER TABLE messages ADD COLUMN routes TEXT;
    CREATE TABLE paused_destinations (destination TEXT PRIMARY KEY, paused_ms BIGINT NOT NULL);
    CREATE INDEX messages_document_type ON messages (document_type, id) WHERE document_type IS NOT NULL;",
];
