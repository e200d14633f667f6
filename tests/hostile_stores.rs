//! Hostile SQLite stores: views that never end or build huge strings are stopped with a
//! line naming the query and the flag that raises the limit; ids stored as INTEGER or BLOB
//! open as they are listed; an eventsourcing store with one bad payload is read, the bad
//! event flagged; payloads nested as deep as stores allow export to transcripts that read
//! back.

mod support;

use std::time::{Duration, Instant};

use support::{fingerprint, json, run, stderr, stdout, Store};

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
    let output = support::under_address_limit(1_500_000_000)
        .args(["events", &store.arg(), "acc-1"])
        .output()
        .unwrap();
    let err = one_line_error(&output);
    assert!(err.contains("a value is longer than 64 MiB"), "{err}");
}

#[test]
fn ids_stored_as_integers_or_blobs_open_as_they_are_listed() {
    // No declared types: SQLite keeps each id as it was written.
    let store = Store::with_schema(
        "CREATE TABLE events(event_id, aggregate_id, aggregate_type, event_type, event_data,
             metadata, version, timestamp);
         CREATE TABLE snapshots(aggregate_id, version, state, created_at);",
    );
    let insert = |id: rusqlite::types::Value, version: i64, data: &str| {
        store
            .conn
            .execute(
                "INSERT INTO events VALUES (?1, ?2, 'account', 'Set', ?3, NULL, ?4, '2026-01-01T10:00:00Z')",
                rusqlite::params![format!("e{version}-{data}"), id, data, version],
            )
            .unwrap();
    };
    use rusqlite::types::Value as Sql;
    insert(Sql::Integer(42), 1, r#"{"n": 1}"#);
    insert(Sql::Integer(42), 2, r#"{"n": 2}"#);
    insert(Sql::Blob(vec![0xc0, 0xff, 0xee]), 1, r#"{"b": true}"#);
    // A text id that lists like the blob's hex is its own aggregate, read on its own.
    insert(Sql::Text("c0ffee".into()), 1, r#"{"text": true}"#);
    store
        .conn
        .execute(
            "INSERT INTO snapshots VALUES (42, 2, '{\"n\": 2}', NULL)",
            [],
        )
        .unwrap();

    let list = json(&run(&["aggregates", &store.arg(), "--format", "json"]));
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    // The blob lists as a blob literal, never like the text of its hex.
    assert!(
        ids.contains(&"42") && ids.contains(&"c0ffee") && ids.contains(&"x'c0ffee'"),
        "{ids:?}"
    );

    let state = json(&run(&["state", &store.arg(), "42", "--format", "json"]));
    assert_eq!(state, serde_json::json!({"n": 2}));
    let events = json(&run(&["events", &store.arg(), "42", "--format", "json"]));
    assert_eq!(events.as_array().unwrap().len(), 2);
    let verify = json(&run(&["verify", &store.arg(), "42", "--format", "json"]));
    assert_eq!(verify["snapshots_checked"], 1, "{verify}");
    assert_eq!(verify["drifting"], 0, "{verify}");
    // Each opens as listed.
    let state = json(&run(&["state", &store.arg(), "c0ffee", "--format", "json"]));
    assert_eq!(state, serde_json::json!({"text": true}));
    let state = json(&run(&[
        "state",
        &store.arg(),
        "x'c0ffee'",
        "--format",
        "json",
    ]));
    assert_eq!(state, serde_json::json!({"b": true}));
    // An id is its text as listed: bare hex names no blob, even where no text matches it
    // (it did while blobs listed as bare hex); the error points at the blob's literal.
    store
        .conn
        .execute("DELETE FROM events WHERE aggregate_id = 'c0ffee'", [])
        .unwrap();
    let err = support::bad_input(&["state", &store.arg(), "c0ffee"]);
    assert!(err.contains("did you mean x'c0ffee'"), "{err}");
}

#[test]
fn one_random_bytes_event_is_flagged_not_taken_for_an_encrypted_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.db");
    std::fs::copy("tests/fixtures/eventsourcing/bank.db", &path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (id, version): (String, i64) = conn
        .query_row(
            "SELECT originator_id, MAX(originator_version) FROM stored_events GROUP BY originator_id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // Placed first in the table, where the old check looked.
    conn.execute(
        "INSERT INTO stored_events(rowid, originator_id, originator_version, topic, state)
         VALUES (-1, ?1, ?2, 'bank.domain:BankAccount.Noise', x'b26978e570d3a1')",
        rusqlite::params![id, version + 1],
    )
    .unwrap();
    drop(conn);
    let path = path.to_string_lossy().into_owned();
    let list = json(&run(&["aggregates", &path, "--format", "json"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    let events = json(&run(&["events", &path, &id, "--format", "json"]));
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "Noise");
    assert!(
        last["error"]
            .as_str()
            .unwrap()
            .contains("neither JSON nor zlib"),
        "{last}"
    );
    // The real encrypted fixture is still refused at open.
    let output = run(&["aggregates", "tests/fixtures/eventsourcing/bank-aes.db"]);
    assert!(one_line_error(&output).contains("looks encrypted"));
}

/// `[[[…]]]` nested `depth` levels deep, under a key.
fn nested(depth: usize) -> String {
    format!(
        "{{\"deep\": {}{}}}",
        "[".repeat(depth - 1),
        "]".repeat(depth - 1)
    )
}

#[test]
fn payloads_as_deep_as_stores_allow_export_to_transcripts_that_read_back() {
    let mut store = Store::native();
    for depth in 120..=128 {
        store.event(
            "acc-1",
            depth as i64 - 119,
            "Deep",
            &nested(depth),
            "2026-01-01T10:00:00Z",
        );
    }
    // A snapshot that differs from replay deep down: its differences sit deepest in a line.
    store.snapshot("acc-1", 9, &nested(128).replacen("[]", "[1]", 1));
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("deep.jsonl");
    let transcript = transcript.to_string_lossy();
    let output = run(&["export", &store.arg(), "acc-1", "-o", &transcript]);
    assert!(output.status.success(), "{}", stderr(&output));
    for version in ["1", "5", "9"] {
        let from_store = run(&[
            "state",
            &store.arg(),
            "acc-1",
            "--at-version",
            version,
            "--format",
            "json",
        ]);
        let from_transcript = run(&[
            "state",
            &transcript,
            "acc-1",
            "--at-version",
            version,
            "--format",
            "json",
        ]);
        assert!(
            from_transcript.status.success(),
            "v{version}: {}",
            stderr(&from_transcript)
        );
        assert_eq!(from_transcript.stdout, from_store.stdout, "v{version}");
    }
    let verify = run(&["verify", &transcript, "--format", "json"]);
    assert_eq!(verify.status.code(), Some(1), "{}", stderr(&verify));
    // One level more is refused at the store, as JSON a transcript could not hold.
    store.event("acc-2", 1, "Deeper", &nested(129), "2026-01-01T10:00:00Z");
    let events = json(&run(&["events", &store.arg(), "acc-2", "--format", "json"]));
    assert!(events[0]["error"]
        .as_str()
        .unwrap()
        .contains("nested deeper than 128"));
}

/// Runs rewind with its address space capped, so a parse that grows far past its text
/// fails the test instead of the machine.
fn run_capped(cap_bytes: u64, args: &[&str]) -> std::process::Output {
    support::under_address_limit(cap_bytes)
        .args(args)
        .output()
        .expect("prlimit runs")
}

/// Commands that need the states only (`state`, `diff`, `blame`) leave the snapshots in the
/// store: 40 snapshots of 5 MB each (200 MB) are not read into a process capped at 150 MB.
#[test]
fn commands_that_need_no_snapshots_leave_them_in_the_store() {
    let mut store = Store::native();
    let filler = "y".repeat(5 << 20);
    for version in 1..=40 {
        let data = format!("{{\"n\": {version}}}");
        store.event("acc-1", version, "Set", &data, "2026-01-01T10:00:00Z");
        store.snapshot(
            "acc-1",
            version,
            &format!("{{\"n\": {version}, \"filler\": \"{filler}\"}}"),
        );
    }
    drop(filler);
    let cap = 150_000_000;
    let state = run_capped(cap, &["state", &store.arg(), "acc-1", "--format", "json"]);
    assert!(state.status.success(), "{}", stderr(&state));
    assert_eq!(json(&state), serde_json::json!({"n": 40}));
    let diff = run_capped(
        cap,
        &["diff", &store.arg(), "acc-1", "--from", "3", "--to", "4"],
    );
    assert!(diff.status.success(), "{}", stderr(&diff));
    let blame = run_capped(cap, &["blame", &store.arg(), "acc-1", ".n"]);
    assert!(blame.status.success(), "{}", stderr(&blame));
    assert_eq!(
        String::from_utf8_lossy(&blame.stdout).lines().count(),
        41,
        "a header and 40 changes"
    );
}

/// A snapshot row whose version is no whole number cannot be placed on the timeline: the
/// list counts it, and `verify` says it was not checked instead of leaving it out silently.
#[test]
fn snapshots_without_a_whole_number_version_are_said_not_checked() {
    let mut store = Store::with_schema(
        "CREATE TABLE events(event_id TEXT PRIMARY KEY, aggregate_id TEXT, aggregate_type TEXT,
             event_type TEXT, event_data TEXT, metadata TEXT, version INTEGER, timestamp TEXT);
         CREATE TABLE snapshots(aggregate_id TEXT, version, state TEXT, created_at TEXT);",
    );
    store.event("acc-1", 1, "Set", r#"{"n": 1}"#, "2026-01-01T10:00:00Z");
    store.event("acc-1", 2, "Set", r#"{"n": 2}"#, "2026-01-01T11:00:00Z");
    store.snapshot("acc-1", 2, r#"{"n": 2}"#);
    for version in ["'two'", "1.5"] {
        let sql = format!("INSERT INTO snapshots VALUES ('acc-1', {version}, '{{}}', NULL)");
        store.conn.execute(&sql, []).unwrap();
    }
    let list = json(&run(&["aggregates", &store.arg(), "--format", "json"]));
    assert_eq!(list[0]["snapshots"], 3, "{list}");
    for args in [
        vec!["verify", &store.arg()],
        vec!["verify", &store.arg(), "acc-1"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("1 snapshot in 1 aggregate checked"),
            "{}",
            stdout(&out)
        );
        let err = stderr(&out);
        assert!(
            err.contains(
                "2 snapshots of acc-1 have no whole-number version, so they were not checked"
            ),
            "{err}"
        );
    }
}

/// Commands that compare snapshots with replay (`verify`, `aggregates --health`, `export`)
/// read one snapshot's state at a time: 40 snapshots of 5 MB each (200 MB), all agreeing
/// with a state that carries the same 5 MB, are checked in a process capped at 150 MB.
#[test]
fn commands_that_check_snapshots_read_one_at_a_time() {
    let mut store = Store::native();
    let filler = "y".repeat(5 << 20);
    let first = format!("{{\"n\": 1, \"filler\": \"{filler}\"}}");
    store.event("acc-1", 1, "Opened", &first, "2026-01-01T10:00:00Z");
    for version in 2..=40 {
        let data = format!("{{\"n\": {version}}}");
        store.event("acc-1", version, "Set", &data, "2026-01-01T10:00:00Z");
    }
    for version in 1..=40 {
        let state = format!("{{\"n\": {version}, \"filler\": \"{filler}\"}}");
        store.snapshot("acc-1", version, &state);
    }
    drop(filler);
    let cap = 150_000_000;
    let verify = run_capped(cap, &["verify", &store.arg(), "--format", "json"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let verdict = json(&verify);
    assert_eq!(verdict["snapshots_checked"], 40, "{verdict}");
    let health = run_capped(
        cap,
        &["aggregates", &store.arg(), "--health", "--format", "json"],
    );
    assert!(health.status.success(), "{}", stderr(&health));
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("acc-1.jsonl");
    let export = run_capped(
        cap,
        &[
            "export",
            &store.arg(),
            "acc-1",
            "--from",
            "38",
            "--to",
            "40",
            "--format",
            "jsonl",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(export.status.success(), "{}", stderr(&export));
    let written = std::fs::read_to_string(&file).unwrap();
    let marks = written.matches("\"check\":\"agrees\"").count();
    assert_eq!(
        marks, 2,
        "the snapshots at v39 and v40, each with its state"
    );
}

/// 40 MB of `[0,0,…]` is 20 million values: well over a gigabyte parsed. Such a payload
/// and such a snapshot are flagged (as too deep ones are), read in bounded memory, and the
/// rest of the aggregate replays.
#[test]
fn a_payload_of_millions_of_tiny_values_is_flagged_not_parsed() {
    let mut store = Store::native();
    let zeros = format!("{{\"zeros\": [{}0]}}", "0,".repeat(20_000_000));
    store.event(
        "acc-1",
        1,
        "Opened",
        r#"{"balance": 1}"#,
        "2026-01-01T10:00:00Z",
    );
    store.event("acc-1", 2, "Flood", &zeros, "2026-01-01T10:01:00Z");
    store.event(
        "acc-1",
        3,
        "Deposited",
        r#"{"balance": 5}"#,
        "2026-01-01T10:02:00Z",
    );
    store.snapshot("acc-1", 2, &zeros);
    drop(zeros);
    let cap = 1_200_000_000;

    let events = run_capped(cap, &["events", &store.arg(), "acc-1", "--format", "json"]);
    assert!(events.status.success(), "{}", stderr(&events));
    let events = json(&events);
    let flood = &events[1];
    assert_eq!(flood["type"], "Flood");
    assert!(
        flood["error"]
            .as_str()
            .unwrap()
            .contains("holds more than 2097152 values"),
        "{}",
        flood["error"]
    );
    let state = run_capped(cap, &["state", &store.arg(), "acc-1", "--format", "json"]);
    assert!(state.status.success(), "{}", stderr(&state));
    assert_eq!(json(&state), serde_json::json!({"balance": 5}));
    let err = stderr(&state);
    assert!(
        err.contains("1 event of acc-1 did not decode") && err.contains("at v2"),
        "the flagged step is said: {err}"
    );
    // The snapshot of the flood is flagged rather than compared; blame reads past it.
    let verify = run_capped(cap, &["verify", &store.arg(), "acc-1", "--format", "json"]);
    assert!(
        matches!(verify.status.code(), Some(0 | 1)),
        "{}",
        stderr(&verify)
    );
    let blame = run_capped(cap, &["blame", &store.arg(), "acc-1", ".balance"]);
    assert!(blame.status.success(), "{}", stderr(&blame));
    assert!(stdout(&blame).contains("Deposited"), "{}", stdout(&blame));
}

/// A transcript line is bounded the same way: one holding more values than any line
/// rewind writes is refused at open with one line, in bounded memory.
#[test]
fn a_transcript_line_of_millions_of_values_is_refused_in_bounded_memory() {
    let mut store = Store::native();
    store.event(
        "acc-1",
        1,
        "Opened",
        r#"{"balance": 1}"#,
        "2026-01-01T10:00:00Z",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let shown = path.to_string_lossy().into_owned();
    let output = run(&["export", &store.arg(), "acc-1", "-o", &shown]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&path).unwrap();
    let flood = format!("\"state\":[{}0]", "0,".repeat(9_000_000));
    let text = text.replacen("\"state\":{\"balance\":1}", &flood, 1);
    assert!(text.len() > 18_000_000, "the step's state was replaced");
    std::fs::write(&path, text).unwrap();
    let output = run_capped(
        1_000_000_000,
        &["state", &shown, "acc-1", "--format", "json"],
    );
    let err = one_line_error(&output);
    assert!(err.contains("holds more than 8388608 values"), "{err}");
}

/// Under this address-space cap the replay below peaks at about 90 MB resident; with one
/// batch of all its events it failed under 600 MB.
const ADDRESS_SPACE_FOR_LARGE_PAYLOADS: u64 = 300_000_000;

/// Events are handed from the store to the fold in batches of at most 16 MiB of payload
/// text, not 2,048 events whatever their size: 48 payloads of 10 MB replay in the memory
/// of a few, where one batch of them all took half a gigabyte.
#[test]
fn a_history_of_large_payloads_is_read_a_few_at_a_time() {
    let mut store = Store::native();
    let blob = "x".repeat(10_000_000);
    for version in 1..=48 {
        let data = format!("{{\"n\": {version}, \"blob\": \"{blob}\"}}");
        store.event("acc-1", version, "Big", &data, "2026-01-01T10:00:00Z");
    }
    drop(blob);
    let state = run_capped(
        ADDRESS_SPACE_FOR_LARGE_PAYLOADS,
        &["state", &store.arg(), "acc-1", "--format", "json"],
    );
    assert!(state.status.success(), "{}", stderr(&state));
    assert_eq!(json(&state)["n"], 48);
}
