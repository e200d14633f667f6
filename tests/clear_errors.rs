//! Mistakes in a store or a program, said once and completely: every missing mapped
//! column at once, a negative version as negative, a jq typo by line and column.

mod support;

use support::{bad_input, json, run, Store};

#[test]
fn every_missing_mapped_column_is_named_at_once() {
    let store = Store::native();
    let err = bad_input(&[
        "aggregates",
        &store.arg(),
        "--map",
        "events.version=seq",
        "--map",
        "events.event_type=kind",
        "--map",
        "events.timestamp=recorded_at",
    ]);
    for part in [
        "no column \"seq\" for version",
        "no column \"kind\" for event_type",
        "no column \"recorded_at\" for timestamp",
    ] {
        assert!(err.contains(part), "{part} missing from: {err}");
    }
}

/// `seq = -5` is one warning that says it is negative, not also a gap or a duplicate.
#[test]
fn a_negative_version_is_said_to_be_negative_once() {
    let store = Store::with_schema(
        "CREATE TABLE events(event_id TEXT, aggregate_id TEXT, aggregate_type TEXT,
             event_type TEXT, event_data TEXT, metadata TEXT, seq INTEGER, timestamp TEXT);",
    );
    store
        .conn
        .execute_batch(
            "INSERT INTO events VALUES ('a', 'acc-1', 'account', 'Odd', '{}', NULL, -7, '2026-01-15T09:00:00Z');
             INSERT INTO events VALUES ('b', 'acc-1', 'account', 'Odd', '{}', NULL, -5, '2026-01-15T09:30:00Z');",
        )
        .unwrap();
    for (version, at) in [(1, "10"), (2, "11")] {
        store
            .conn
            .execute(
                "INSERT INTO events VALUES (?1, 'acc-1', 'account', 'Fine', '{}', NULL, ?2, ?3)",
                rusqlite::params![
                    format!("e{version}"),
                    version,
                    format!("2026-01-15T{at}:00:00Z")
                ],
            )
            .unwrap();
    }
    let events = json(&run(&[
        "events",
        &store.arg(),
        "acc-1",
        "--map",
        "events.version=seq",
        "--format",
        "json",
    ]));
    let warnings: Vec<Vec<String>> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_value(e["warnings"].clone()).unwrap())
        .collect();
    assert_eq!(
        warnings,
        vec![
            vec!["version -7 is negative (versions count from 1)".to_string()],
            vec!["version -5 is negative (versions count from 1)".to_string()],
            vec![],
            vec![],
        ]
    );
    // Held as v0, they do not make v0 anything but the state before the first event.
    let at = |version: &str| {
        json(&run(&[
            "state",
            &store.arg(),
            "acc-1",
            "--map",
            "events.version=seq",
            "--at-version",
            version,
            "--format",
            "json",
        ]))
    };
    assert_eq!(at("0"), serde_json::Value::Null);
    assert_eq!(at("1"), serde_json::json!({}));
}

#[test]
fn a_jq_typo_is_placed_by_line_and_column() {
    let mut store = Store::native();
    store.event("acc-1", 1, "Opened", "{}", "2026-01-15T09:00:00Z");
    let dir = tempfile::tempdir().unwrap();
    let reducer = dir.path().join("reducer.jq");
    std::fs::write(
        &reducer,
        "if $event.type == \"Opened\" then\n  {balance: 0}\nelse\n  .balance +* 1\nend\n",
    )
    .unwrap();
    let err = bad_input(&[
        "state",
        &store.arg(),
        "acc-1",
        "--reducer",
        &reducer.to_string_lossy(),
    ]);
    assert!(err.contains("at line 4, column 12"), "{err}");
    let err = bad_input(&["events", &store.arg(), "acc-1", "--where", ".a |\n| .b"]);
    assert!(err.contains("line 2, column 1"), "{err}");
}
