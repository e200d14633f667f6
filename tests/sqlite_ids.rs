//! A SQLite column without a declared type keeps each id in the storage class its writer
//! used: one aggregate's id can be INTEGER in some rows and TEXT in others, and ids can be
//! REAL or BLOB. An id is its text as rewind shows it (`42`, `1.5`, `x'00ff'`): the
//! aggregate list, every command that opens an aggregate and the store-wide commands agree
//! on it, and text that only means the same number (`042`) is another id.

mod support;

use rusqlite::types::Value as Sql;
use serde_json::{json, Value};
use support::{bad_input, json, run, Store};

/// The store of issue #14 item 12: aggregate 42 written once as INTEGER and once as TEXT,
/// and ids stored as REAL and as BLOB.
fn mixed_store() -> Store {
    let store = Store::with_schema(
        "CREATE TABLE events(aggregate_id, aggregate_type TEXT, version INTEGER,
             event_type TEXT, event_data TEXT, metadata TEXT, timestamp TEXT);
         CREATE TABLE snapshots(aggregate_id, version, state, created_at);",
    );
    let rows = [
        (
            Sql::Integer(42),
            1,
            "A",
            r#"{"a": 1}"#,
            "2026-01-01T00:00:00Z",
        ),
        (
            Sql::Text("42".into()),
            2,
            "B",
            r#"{"b": 1}"#,
            "2026-01-01T00:00:01Z",
        ),
        (
            Sql::Real(1.5),
            1,
            "C",
            r#"{"c": 1}"#,
            "2026-01-01T00:00:02Z",
        ),
        (
            Sql::Blob(vec![0x00, 0xff]),
            1,
            "D",
            r#"{"d": 1}"#,
            "2026-01-01T00:00:03Z",
        ),
    ];
    for (id, version, event_type, data, at) in rows {
        store
            .conn
            .execute(
                "INSERT INTO events VALUES (?1, 't', ?2, ?3, ?4, '{}', ?5)",
                rusqlite::params![id, version, event_type, data, at],
            )
            .unwrap();
    }
    store
}

fn aggregates(store: &Store) -> Vec<Value> {
    let list = json(&run(&["aggregates", &store.arg(), "--format", "json"]));
    list.as_array().unwrap().clone()
}

fn event_types(store: &Store, id: &str) -> Vec<String> {
    let events = json(&run(&["events", &store.arg(), id, "--format", "json"]));
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_id_stored_as_integer_and_as_text_lists_once_with_both_events() {
    let store = mixed_store();
    let list = aggregates(&store);
    let ids: Vec<&str> = list.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids.iter().filter(|id| **id == "42").count(),
        1,
        "42 lists once: {ids:?}"
    );
    assert_eq!(ids.len(), 3, "{ids:?}");
    let merged = list.iter().find(|a| a["id"] == "42").unwrap();
    assert_eq!(merged["events"], 2, "{merged}");
    assert_eq!(
        merged["first_timestamp"], "2026-01-01T00:00:00Z",
        "{merged}"
    );
    assert_eq!(merged["last_timestamp"], "2026-01-01T00:00:01Z", "{merged}");
}

#[test]
fn opening_an_id_reads_the_rows_of_every_storage_class_that_show_as_it() {
    let store = mixed_store();
    assert_eq!(event_types(&store, "42"), ["A", "B"]);
    let state = json(&run(&["state", &store.arg(), "42", "--format", "json"]));
    assert_eq!(state, json!({"a": 1, "b": 1}));
    assert_eq!(event_types(&store, "1.5"), ["C"]);
    assert_eq!(event_types(&store, "x'00ff'"), ["D"]);
}

#[test]
fn text_that_only_means_the_same_number_is_another_id() {
    let store = mixed_store();
    for other in ["042", "42.0", "1.50", "00ff", "x'00FF'"] {
        let err = bad_input(&["events", &store.arg(), other]);
        assert!(err.contains("no aggregate"), "{other}: {err}");
    }
}

#[test]
fn a_typed_integer_column_does_not_open_42_for_042() {
    // INTEGER affinity turns '042' into 42 when SQLite compares them; rewind does not.
    let store = Store::with_schema(
        "CREATE TABLE events(aggregate_id INTEGER, aggregate_type TEXT, version INTEGER,
             event_type TEXT, event_data TEXT, metadata TEXT, timestamp TEXT);",
    );
    store
        .conn
        .execute(
            "INSERT INTO events VALUES (42, 't', 1, 'A', '{}', '{}', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    assert_eq!(event_types(&store, "42"), ["A"]);
    let err = bad_input(&["events", &store.arg(), "042"]);
    assert!(err.contains("no aggregate"), "{err}");
}

#[test]
fn store_wide_commands_agree_with_the_list() {
    let store = mixed_store();
    let all = json(&run(&["state", &store.arg(), "--all", "--format", "json"]));
    assert_eq!(
        all,
        json!({"42": {"a": 1, "b": 1}, "1.5": {"c": 1}, "x'00ff'": {"d": 1}})
    );
    let log = run(&["log", &store.arg(), "--format", "json"]);
    assert!(log.status.success());
    let ids: Vec<String> = String::from_utf8(log.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            event["aggregate_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids, ["42", "42", "1.5", "x'00ff'"]);
}

#[test]
fn snapshots_of_an_id_in_either_storage_class_count_and_load() {
    let store = mixed_store();
    store
        .conn
        .execute_batch(
            "INSERT INTO snapshots VALUES (42, 1, '{\"a\": 1}', NULL);
             INSERT INTO snapshots VALUES ('42', 2, '{\"a\": 1, \"b\": 1}', NULL);",
        )
        .unwrap();
    let list = aggregates(&store);
    let merged = list.iter().find(|a| a["id"] == "42").unwrap();
    assert_eq!(merged["snapshots"], 2, "{merged}");
    let verify = json(&run(&["verify", &store.arg(), "42", "--format", "json"]));
    assert_eq!(verify["snapshots_checked"], 2, "{verify}");
    assert_eq!(verify["drifting"], 0, "{verify}");
}
