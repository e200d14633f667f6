//! Stored times as stores really keep them, read by the real binary: epoch numbers in a
//! TEXT column, mixed formats and offsets, times inside compressed payloads.

mod support;

use rusqlite::params;
use serde_json::Value;
use support::{json, run, Store};

fn aggregates(store: &str) -> Vec<Value> {
    let list = json(&run(&["aggregates", store, "--format", "json"]));
    list.as_array().unwrap().clone()
}

fn listed<'a>(list: &'a [Value], id: &str) -> &'a Value {
    list.iter().find(|a| a["id"] == id).unwrap()
}

/// The README's schema declares `timestamp TEXT`, so an inserted integer is stored as text.
#[test]
fn epoch_numbers_stored_as_text_are_times() {
    let store = Store::native();
    for (version, at) in [(1, 1_772_359_200_i64), (2, 1_772_362_800_000)] {
        store
            .conn
            .execute(
                "INSERT INTO events VALUES (?1, 'acc-1', 'account', 'Opened', '{}', NULL, ?2, ?3)",
                params![format!("e{version}"), version, at],
            )
            .unwrap();
    }
    let stored: String = store
        .conn
        .query_row("SELECT timestamp FROM events WHERE version = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, "1772359200", "the column keeps the integer as text");
    let events = json(&run(&["events", &store.arg(), "acc-1", "--format", "json"]));
    assert_eq!(events[0]["timestamp"], "2026-03-01T10:00:00Z");
    assert_eq!(events[1]["timestamp"], "2026-03-01T11:00:00Z");
    for event in events.as_array().unwrap() {
        assert_eq!(event["warnings"], serde_json::json!([]), "{event}");
    }
    let list = aggregates(&store.arg());
    assert_eq!(list[0]["first_timestamp"], "2026-03-01T10:00:00Z");
    assert_eq!(list[0]["last_timestamp"], "2026-03-01T11:00:00Z");
}

/// FIRST and LAST are the earliest and latest instants, not the least and greatest text.
#[test]
fn first_and_last_compare_instants_across_formats_and_offsets() {
    let mut store = Store::native();
    store.event("mixed", 1, "A", "{}", "2026-01-15T09:00:00Z");
    store.event("mixed", 2, "B", "{}", "2026-01-15 10:00:00");
    store.event("mixed", 3, "C", "{}", "2026-01-15T11:00:00+05:00");
    store.event("offsets", 1, "A", "{}", "2026-01-15T23:30:00-02:00");
    store.event("offsets", 2, "B", "{}", "2026-01-16T00:15:00+00:00");
    // Same width, so text order would pass for time order: a DST change, and a lowercase
    // `t` that only rewind reads.
    store.event("dst", 1, "A", "{}", "2026-03-29T01:30:00+01:00");
    store.event("dst", 2, "B", "{}", "2026-03-29T01:45:00+02:00");
    store.event("lower", 1, "A", "{}", "2026-01-15T09:00:00Z");
    store.event("lower", 2, "B", "{}", "2026-01-14t09:00:00z");
    store.event("uniform", 1, "A", "{}", "2026-01-15T08:00:00Z");
    store.event("uniform", 2, "B", "{}", "2026-01-16T08:00:00Z");
    store.event("units", 1, "A", "{}", "x");
    store
        .conn
        .execute_batch(
            "UPDATE events SET timestamp = 1768460400 WHERE aggregate_id = 'units';
             INSERT INTO events VALUES ('u2', 'units', 'account', 'B', '{}', NULL, 2, 1768464000000);",
        )
        .unwrap();
    let list = aggregates(&store.arg());
    let range = |id: &str| {
        let a = listed(&list, id);
        (
            a["first_timestamp"].as_str().unwrap().to_string(),
            a["last_timestamp"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        range("mixed"),
        ("2026-01-15T06:00:00Z".into(), "2026-01-15T10:00:00Z".into())
    );
    assert_eq!(
        range("offsets"),
        ("2026-01-16T00:15:00Z".into(), "2026-01-16T01:30:00Z".into())
    );
    assert_eq!(
        range("dst"),
        ("2026-03-28T23:45:00Z".into(), "2026-03-29T00:30:00Z".into())
    );
    assert_eq!(
        range("lower"),
        ("2026-01-14T09:00:00Z".into(), "2026-01-15T09:00:00Z".into())
    );
    assert_eq!(
        range("uniform"),
        ("2026-01-15T08:00:00Z".into(), "2026-01-16T08:00:00Z".into())
    );
    assert_eq!(
        range("units"),
        ("2026-01-15T07:00:00Z".into(), "2026-01-15T08:00:00Z".into())
    );
}

/// The eventsourcing library keeps the time inside the (here zlib-compressed) state.
#[test]
fn eventsourcing_times_inside_compressed_payloads_are_listed() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let plain = fixtures.join("eventsourcing/bank.db");
    let zlib = fixtures.join("eventsourcing/bank-zlib.db");
    let plain = aggregates(&plain.to_string_lossy());
    let zlib = aggregates(&zlib.to_string_lossy());
    assert_eq!(plain.len(), zlib.len());
    for (a, b) in plain.iter().zip(&zlib) {
        assert!(a["first_timestamp"].is_string(), "{a}");
        assert_eq!(a["first_timestamp"], b["first_timestamp"], "{b}");
        assert_eq!(a["last_timestamp"], b["last_timestamp"], "{b}");
    }
    assert_eq!(zlib[0]["first_timestamp"], "2026-01-15T10:00:00Z");
    assert_eq!(zlib[0]["last_timestamp"], "2026-01-15T10:05:00Z");
}
