//! Hostile SQLite stores: views that never end or build huge strings are stopped with a
//! line naming the query and the flag that raises the limit; ids stored as INTEGER or BLOB
//! open as they are listed; an eventsourcing store with one bad payload is read, the bad
//! event flagged; payloads nested as deep as stores allow export to transcripts that read
//! back.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{fingerprint, run, stderr, Store};

/// The native columns, as a view the test fills with `select`.
fn view_store(select: &str) -> Store {
    Store::with_schema(&format!("CREATE VIEW events AS {select};"))
}

const ENDLESS: &str = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) \
     SELECT 'e' || i AS event_id, 'acc-1' AS aggregate_id, 'account' AS aggregate_type, \
     'Tick' AS event_type, '{}' AS event_data, NULL AS metadata, i AS version, \
     '2026-01-01T00:00:00Z' AS timestamp FROM r";

fn one_line_error(output: &std::process::Output) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn a_view_that_never_ends_is_stopped_by_the_query_timeout() {
    let store = view_store(ENDLESS);
    let before = fingerprint(&store.path);
    for (args, doing) in [
        (vec!["aggregates", &store.arg()], "list aggregates"),
        (vec!["events", &store.arg(), "acc-1"], "read events"),
        (vec!["state", &store.arg(), "acc-1"], "read events"),
    ] {
        let started = Instant::now();
        let output = run(&[&args[..], &["--query-timeout", "1"]].concat());
        let err = one_line_error(&output);
        assert!(
            err.contains(&format!("stopped the query to {doing} after 1 s of work")),
            "{err}"
        );
        assert!(err.contains("raise --query-timeout"), "{err}");
        // A count and the read itself get a second each; the rest is start-up.
        assert!(started.elapsed() < Duration::from_secs(30), "{args:?}");
    }
    // rewind.toml sets it too.
    let config = store.dir.path().join("rewind.toml");
    std::fs::write(&config, "query_timeout = 0.5\n").unwrap();
    let output = run(&[
        "aggregates",
        &store.arg(),
        "--config",
        &config.to_string_lossy(),
    ]);
    let err = one_line_error(&output);
    assert!(err.contains("after 0.5 s of work"), "{err}");
    assert_eq!(fingerprint(&store.path), before);
}

#[test]
fn a_view_building_100_mb_strings_is_an_error_not_an_allocation() {
    let store = view_store(
        "SELECT 'e1' AS event_id, 'acc-1' AS aggregate_id, 'account' AS aggregate_type, \
         'Tick' AS event_type, hex(zeroblob(50000000)) AS event_data, NULL AS metadata, \
         1 AS version, '2026-01-01T00:00:00Z' AS timestamp",
    );
    let output = Command::new("prlimit")
        .arg("--as=1500000000")
        .arg(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", &store.arg(), "acc-1"])
        .output()
        .unwrap();
    let err = one_line_error(&output);
    assert!(err.contains("a value is longer than 64 MiB"), "{err}");
}
