//! `rewind events --follow` on a SQLite store: each poll resumes where the last read ended,
//! so it must see rows another process appends.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

#[test]
fn follow_prints_rows_appended_to_a_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.db");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/demo-data/demo.db"),
        &store,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", store.to_str().unwrap(), "acc-0003", "--follow"])
        .args(["--format", "json", "--interval", "0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = support::stdout_lines(&mut child);
    let next = || -> Value {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("rewind printed a line");
        serde_json::from_str(&line).expect("each line is one JSON object")
    };
    let existing: Vec<Value> = (0..69).map(|_| next()).collect();
    assert_eq!(existing[68]["version"], 69);

    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute(
        "INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data,
                             metadata, version, timestamp)
         VALUES ('evt-new', 'acc-0003', 'account', 'Deposited', '{\"balance\": 12345}',
                 NULL, 70, '2026-03-01T00:00:00Z')",
        [],
    )
    .unwrap();
    let appended = next();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(appended["version"], 70);
    assert_eq!(appended["type"], "Deposited");
    assert_eq!(appended["data"]["balance"], 12345);
}
