//! The bad-input matrix: every case gets a clear one-line error (exit 2) or a flagged event
//! (exit 0), never a panic, and the store is left byte-identical.
//!
//! The rest of the matrix lives with its subject, not repeated here: a jq reducer that errors
//! or runs away at one event (tests/debugging.rs); an unreachable broker, an unknown topic,
//! tombstones, binary and non-JSON values (tests/kafka.rs); truncated, damaged and
//! future-version transcripts (tests/export.rs); a terminal too small and a panic inside the
//! UI (tests/tui_resilience.rs, tests/tui_e2e.rs); a store locked by a writer
//! (tests/sqlite_store.rs).

mod support;

use rusqlite::params;
use serde_json::Value;
use support::{bad_input, fingerprint, json, run, stderr, stdout, Store};

/// Runs a command that must succeed without touching the store; returns its JSON output.
fn flagged(store: &Store, args: &[&str]) -> Value {
    let before = fingerprint(&store.path);
    let output = run(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("panicked"));
    assert_eq!(
        fingerprint(&store.path),
        before,
        "{args:?} changed the store"
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn raw_event(store: &Store, id: &str, version: Value, ty: Value, data: Value, ts: Value) {
    let sql = |v: &Value| -> rusqlite::types::Value {
        match v {
            Value::Null => rusqlite::types::Value::Null,
            Value::Number(n) => rusqlite::types::Value::Integer(n.as_i64().unwrap()),
            Value::String(s) => rusqlite::types::Value::Text(s.clone()),
            other => rusqlite::types::Value::Text(other.to_string()),
        }
    };
    store
        .conn
        .execute(
            "INSERT INTO events VALUES (?1, ?2, 'account', ?3, ?4, NULL, ?5, ?6)",
            params![
                format!("{id}-{version}"),
                id,
                sql(&ty),
                sql(&data),
                sql(&version),
                sql(&ts)
            ],
        )
        .unwrap();
}

/// The native schema without NOT NULL constraints, as sloppy real stores have it.
fn loose_store() -> Store {
    Store::with_schema(
        "CREATE TABLE events(event_id TEXT, aggregate_id TEXT, aggregate_type TEXT, event_type TEXT,
             event_data, metadata TEXT, version, timestamp);",
    )
}

#[test]
fn a_truncated_database_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(support::demo_store()).unwrap();
    for keep in [100, 4096, bytes.len() / 3] {
        let path = dir.path().join(format!("cut-{keep}.db"));
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let before = fingerprint(&path);
        let output = run(&[
            "events",
            &path.to_string_lossy(),
            "acc-0001",
            "--format",
            "json",
        ]);
        let err = stderr(&output);
        // Depending on where the cut falls, SQLite sees a damaged file or missing pages.
        assert_eq!(output.status.code(), Some(2), "cut at {keep}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("damaged") || err.contains("not a SQLite") || err.contains("no table"),
            "{err}"
        );
        assert_eq!(fingerprint(&path), before);
    }
}

#[test]
fn nulls_in_required_columns_are_flagged_not_fatal() {
    let store = loose_store();
    raw_event(
        &store,
        "a",
        1.into(),
        "Opened".into(),
        r#"{"n":1}"#.into(),
        "2026-01-15T10:00:00Z".into(),
    );
    raw_event(
        &store,
        "a",
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
    );
    let events = flagged(&store, &["events", &store.arg(), "a", "--format", "json"]);
    let bad = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["error"] != Value::Null)
        .unwrap();
    assert!(bad["error"].as_str().unwrap().contains("NULL"));
    let warnings = bad["warnings"].to_string();
    assert!(
        warnings.contains("event_type is NULL") && warnings.contains("version"),
        "{warnings}"
    );
}

#[test]
fn non_utf8_payloads_are_flagged_with_a_preview() {
    let store = loose_store();
    store
        .conn
        .execute(
            "INSERT INTO events VALUES ('x', 'a', 't', 'Bin', ?1, NULL, 1, '2026-01-15T10:00:00Z')",
            params![vec![0xffu8, 0xfe, b'{', b'}']],
        )
        .unwrap();
    let events = flagged(&store, &["events", &store.arg(), "a", "--format", "json"]);
    assert!(events[0]["error"].as_str().unwrap().contains("not UTF-8"));
}

#[test]
fn a_20_mb_payload_is_read_and_replayed() {
    let store = loose_store();
    let big = format!(r#"{{"blob": "{}"}}"#, "x".repeat(20 << 20));
    raw_event(
        &store,
        "a",
        1.into(),
        "Big".into(),
        big.into(),
        "2026-01-15T10:00:00Z".into(),
    );
    let state = flagged(&store, &["state", &store.arg(), "a", "--format", "json"]);
    assert_eq!(state["blob"].as_str().unwrap().len(), 20 << 20);
}

#[test]
fn json_nested_100000_levels_deep_is_flagged_without_overflowing_the_stack() {
    let store = loose_store();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    raw_event(
        &store,
        "a",
        1.into(),
        "Deep".into(),
        deep.into(),
        "2026-01-15T10:00:00Z".into(),
    );
    raw_event(
        &store,
        "a",
        2.into(),
        "Fine".into(),
        r#"{"ok":true}"#.into(),
        "2026-01-15T10:01:00Z".into(),
    );
    let events = flagged(&store, &["events", &store.arg(), "a", "--format", "json"]);
    assert!(
        events[0]["error"]
            .as_str()
            .unwrap()
            .contains("nested deeper than 128"),
        "{}",
        events[0]["error"]
    );
    let state = flagged(&store, &["state", &store.arg(), "a", "--format", "json"]);
    assert_eq!(state, serde_json::json!({"ok": true}));
}

#[test]
fn duplicate_versions_gaps_and_backwards_or_unparseable_timestamps_are_warnings() {
    let store = loose_store();
    let ev = |v: i64, ts: &str| {
        raw_event(
            &store,
            "a",
            v.into(),
            "T".into(),
            format!(r#"{{"v":{v}}}"#).into(),
            ts.into(),
        )
    };
    ev(1, "2026-01-15T10:00:00Z");
    ev(1, "2026-01-15T10:01:00Z");
    ev(4, "2026-01-15T09:00:00Z");
    ev(5, "the day after tomorrow");
    let events = flagged(&store, &["events", &store.arg(), "a", "--format", "json"]);
    let warnings: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["warnings"].to_string())
        .collect();
    assert!(warnings[1].contains("duplicate version"), "{warnings:?}");
    assert!(
        warnings[2].contains("version gap") && warnings[2].contains("backwards"),
        "{warnings:?}"
    );
    assert!(
        warnings[3].contains("unparseable timestamp"),
        "{warnings:?}"
    );
    let table = run(&["events", &store.arg(), "a"]);
    assert!(stdout(&table).contains("!! duplicate version"));
}

#[test]
fn control_characters_in_ids_never_reach_the_terminal_raw() {
    let store = loose_store();
    let hostile = "acc\u{1b}]0;pwned\u{7}\u{1b}[2J";
    raw_event(
        &store,
        hostile,
        1.into(),
        "T\u{1b}[31m".into(),
        "{}".into(),
        "2026-01-15T10:00:00Z".into(),
    );
    let list = run(&["aggregates", &store.arg()]);
    let text = stdout(&list);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("acc\\u{1b}]0;pwned"), "{text}");
    let events = run(&["events", &store.arg(), hostile]);
    assert!(!stdout(&events).contains('\u{1b}'));
    let err = bad_input(&["state", &store.arg(), "nope\u{1b}[2J"]);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    // JSON output keeps the id exactly, escaped by JSON itself.
    let list = json(&run(&["aggregates", &store.arg(), "--format", "json"]));
    assert_eq!(list[0]["id"], hostile);
}

#[test]
fn hostile_table_and_column_names_are_quoted_not_injected() {
    let store = Store::native();
    let before = fingerprint(&store.path);
    for map in [
        "events.table=events\"; DROP TABLE events; --",
        "events.aggregate_id=aggregate_id) FROM events; DELETE FROM events; --",
        "events.version=version`",
    ] {
        let err = bad_input(&["aggregates", &store.arg(), "--map", map]);
        assert!(
            err.contains("no table") || err.contains("no column"),
            "{err}"
        );
    }
    assert_eq!(fingerprint(&store.path), before);
    let count: i64 = store
        .conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert!(count >= 2, "tables still there");
}

#[test]
fn a_column_named_like_sql_works_when_it_really_exists() {
    let store = Store::with_schema(
        r#"CREATE TABLE "my events"("agg id" TEXT, "select" TEXT, "da""ta" TEXT, "order" INT);"#,
    );
    store
        .conn
        .execute(
            r#"INSERT INTO "my events" VALUES ('a', 'T', '{"k":1}', 1)"#,
            [],
        )
        .unwrap();
    let state = json(&run(&[
        "state",
        &store.arg(),
        "a",
        "--format",
        "json",
        "--map",
        "events.table=my events",
        "--map",
        "events.aggregate_id=agg id",
        "--map",
        "events.event_type=select",
        "--map",
        "events.event_data=da\"ta",
        "--map",
        "events.version=order",
        "--map",
        "events.aggregate_type=",
        "--map",
        "events.metadata=",
        "--map",
        "events.timestamp=",
    ]));
    assert_eq!(state, serde_json::json!({"k": 1}));
}

// jq reducers that error or run away at one event are covered in tests/debugging.rs
// (a_runaway_or_failing_reducer_is_reported_at_its_event_and_replay_goes_on). Here: a
// reducer that never ends at every event, and predicates that never end, stay bounded.

fn looping_store(events: i64) -> Store {
    let mut store = Store::native();
    for v in 1..=events {
        store.event("a", v, "T", r#"{"n": 1}"#, "2026-01-15T10:00:00Z");
    }
    store
}

#[test]
fn a_reducer_that_loops_forever_at_every_event_is_given_up_on_in_bounded_time() {
    let store = looping_store(20);
    let reducer = store.dir.path().join("forever.jq");
    std::fs::write(&reducer, "until(false; .)").unwrap();
    let reducer = reducer.to_string_lossy().into_owned();
    let before = fingerprint(&store.path);
    let started = std::time::Instant::now();
    let events = json(&run(&[
        "events",
        &store.arg(),
        "a",
        "--reducer",
        &reducer,
        "--jq-timeout",
        "0.2",
        "--format",
        "json",
    ]));
    // Three time-outs, then the program is not run again: far less than 20 × 0.2 s.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 20);
    for event in events {
        assert_ne!(event["warnings"], serde_json::json!([]), "{event}");
    }
    assert!(
        events[0]["warnings"].to_string().contains("limit"),
        "{}",
        events[0]["warnings"]
    );
    assert_eq!(fingerprint(&store.path), before);
}

#[test]
fn predicates_that_loop_forever_are_stopped_by_the_time_limit() {
    let store = looping_store(3);
    let before = fingerprint(&store.path);
    for args in [
        vec!["events", "--where", "until(false; .)"],
        vec!["bisect", "--until", "def f: f; f"],
    ] {
        let started = std::time::Instant::now();
        let mut full = vec![args[0], store.path.to_str().unwrap(), "a"];
        full.extend(&args[1..]);
        full.extend(["--jq-timeout", "0.2"]);
        let output = run(&full);
        let err = stderr(&output);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{full:?} took {:?}",
            started.elapsed()
        );
        assert!(!err.contains("panicked"), "{err}");
        // The predicate never holds (events: none listed, exit 0; bisect: exit 1), and one
        // line says it was stopped.
        let expected = if args[0] == "events" { 0 } else { 1 };
        assert_eq!(output.status.code(), Some(expected), "{full:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("limit and was stopped"), "{err}");
    }
    assert_eq!(fingerprint(&store.path), before);
}

#[test]
fn html_transcripts_escape_markup_in_every_field() {
    // The browser-level check is tests/export.rs (html_shows_script_payloads_as_text_in_a_real_browser);
    // this one needs no browser, so it runs everywhere.
    let mut store = Store::native();
    let tag = "<script>alert(1)</script>";
    store.event(
        &format!("acc{tag}"),
        1,
        &format!("Opened{tag}"),
        &serde_json::json!({ "owner": tag, tag: "key" }).to_string(),
        "2026-01-15T10:00:00Z",
    );
    store.event(
        &format!("acc{tag}"),
        2,
        "Broken",
        &format!("not json {tag}"),
        "2026-01-15T10:01:00Z",
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("t.html");
    let output = run(&[
        "export",
        &store.arg(),
        &format!("acc{tag}"),
        "-o",
        page.to_str().unwrap(),
        "--with-state",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "a raw script tag in the page"
    );
    assert!(
        html.contains("&lt;script&gt;"),
        "the payload is shown, escaped"
    );
}
