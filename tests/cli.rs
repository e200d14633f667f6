//! The scripting CLI, run as the real binary against real SQLite files.

mod support;

use serde_json::{json, Value};
use support::{bad_input, demo_store, json, run, stdout, Store};

fn demo() -> String {
    demo_store().to_string_lossy().into_owned()
}

#[test]
fn aggregates_table_lists_every_aggregate_aligned() {
    let output = run(&["aggregates", &demo()]);
    assert!(output.status.success());
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn aggregates_json_has_the_documented_fields() {
    let list = json(&run(&["aggregates", &demo(), "--format", "json"]));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 58);
    let first = &list[0];
    for field in [
        "id",
        "type",
        "events",
        "first_timestamp",
        "last_timestamp",
        "snapshots",
    ] {
        assert!(first.get(field).is_some(), "missing {field} in {first}");
    }
    insta::assert_json_snapshot!(&list[..3]);
}

#[test]
fn sqlite_prefix_is_accepted() {
    let plain = run(&["aggregates", &demo(), "--format", "json"]);
    let prefixed = run(&[
        "aggregates",
        &format!("sqlite:{}", demo()),
        "--format",
        "json",
    ]);
    assert_eq!(plain.stdout, prefixed.stdout);
}

#[test]
fn events_flag_malformed_payloads_and_keep_going() {
    let output = run(&["events", &demo(), "order-0012"]);
    insta::assert_snapshot!(stdout(&output));
    let events = json(&run(&["events", &demo(), "order-0012", "--format", "json"]));
    let bad = &events[3];
    assert_eq!(bad["version"], 4);
    assert!(bad["error"].as_str().unwrap().contains("invalid JSON"));
    assert!(bad["raw"].as_str().unwrap().starts_with("{\"items\""));
    assert_eq!(events[4]["error"], Value::Null);
    for field in ["version", "type", "timestamp", "data", "metadata", "error"] {
        assert!(events[0].get(field).is_some(), "missing {field}");
    }
}

#[test]
fn events_report_timestamps_going_backwards() {
    let events = json(&run(&["events", &demo(), "order-0020", "--format", "json"]));
    let warnings = events[4]["warnings"].as_array().unwrap();
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .contains("timestamp goes backwards"));
}

#[test]
fn state_json_is_the_value_alone() {
    let output = run(&[
        "state",
        &demo(),
        "acc-0007",
        "--at-version",
        "31",
        "--format",
        "json",
    ]);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    let state: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(state["balance"], json!(-35.5));
}

#[test]
fn state_pretty_has_a_header_and_sorted_json() {
    let output = run(&["state", &demo(), "order-0005", "--at-version", "v2"]);
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn state_at_version_zero_is_null_and_latest_is_default() {
    let zero = json(&run(&[
        "state",
        &demo(),
        "acc-0002",
        "--at-version",
        "0",
        "--format",
        "json",
    ]));
    assert_eq!(zero, Value::Null);
    let latest = json(&run(&["state", &demo(), "acc-0002", "--format", "json"]));
    let last = json(&run(&[
        "state",
        &demo(),
        "acc-0002",
        "--at-version",
        "78",
        "--format",
        "json",
    ]));
    assert_eq!(latest, last);
}

#[test]
fn state_at_time_is_after_the_last_event_not_later_than_it() {
    let mut store = Store::native();
    store.event("a", 1, "Opened", r#"{"n": 1}"#, "2026-01-15T10:00:00Z");
    store.event("a", 2, "Bumped", r#"{"n": 2}"#, "2026-01-15T10:30:00Z");
    store.event("a", 3, "Bumped", r#"{"n": 3}"#, "2026-01-15T11:00:00Z");
    let at = |time: &str| {
        json(&run(&[
            "state",
            &store.arg(),
            "a",
            "--at",
            time,
            "--format",
            "json",
        ]))
    };
    assert_eq!(at("2026-01-15T09:59:59Z"), Value::Null);
    assert_eq!(at("2026-01-15T10:30:00Z"), json!({"n": 2}));
    assert_eq!(at("2026-01-15 10:45"), json!({"n": 2}));
    assert_eq!(at("2026-01-15T12:00:00+01:00"), json!({"n": 3}));
}

#[test]
fn diff_patch_turns_from_state_into_to_state() {
    let d = demo();
    let from = json(&run(&[
        "state",
        &d,
        "order-0003",
        "--at-version",
        "2",
        "--format",
        "json",
    ]));
    let to = json(&run(&[
        "state",
        &d,
        "order-0003",
        "--at-version",
        "7",
        "--format",
        "json",
    ]));
    let patch = json(&run(&[
        "diff",
        &d,
        "order-0003",
        "--from",
        "v2",
        "--to",
        "7",
        "--format",
        "patch",
    ]));
    let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
    let mut patched = from.clone();
    json_patch::patch(&mut patched, &patch).unwrap();
    assert_eq!(patched, to);
    assert_ne!(from, to);
}

#[test]
fn diff_accepts_times_and_prints_unified_and_json() {
    let d = demo();
    let unified = run(&["diff", &d, "acc-0007", "--from", "30", "--to", "31"]);
    insta::assert_snapshot!(stdout(&unified));
    let by_time = run(&[
        "diff",
        &d,
        "acc-0007",
        "--from",
        "2026-01-28T00:00:00Z",
        "--to",
        "2026-01-29T00:00:00Z",
        "--format",
        "json",
    ]);
    let report = json(&by_time);
    let changes = report["changes"].as_array().unwrap();
    assert!(changes
        .iter()
        .any(|c| c["path"] == ".balance" && c["new"] == json!(-35.5)));
}

#[test]
fn custom_schema_through_map_options_and_config_file() {
    let store = Store::with_schema(
        "CREATE TABLE domain_events(stream TEXT, seq INTEGER, kind TEXT, body TEXT, at INTEGER);",
    );
    for (seq, body) in [(1, r#"{"count": 1}"#), (2, r#"{"count": 2, "flag": true}"#)] {
        store
            .conn
            .execute(
                "INSERT INTO domain_events VALUES ('s-1', ?1, 'Counted', ?2, ?3)",
                rusqlite::params![seq, body, 1_768_473_000 + seq],
            )
            .unwrap();
    }
    let maps = [
        "events.table=domain_events",
        "events.aggregate_id=stream",
        "events.version=seq",
        "events.event_type=kind",
        "events.event_data=body",
        "events.timestamp=at",
        "events.aggregate_type=",
        "events.metadata=",
    ];
    let mut args = vec![
        "state".to_string(),
        store.arg(),
        "s-1".into(),
        "--format".into(),
        "json".into(),
    ];
    for map in maps {
        args.extend(["--map".to_string(), map.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(json(&run(&args)), json!({"count": 2, "flag": true}));

    let config = store.dir.path().join("rewind.toml");
    std::fs::write(
        &config,
        "[sqlite.events]\ntable = \"domain_events\"\naggregate_id = \"stream\"\nversion = \"seq\"\n\
         event_type = \"kind\"\nevent_data = \"body\"\ntimestamp = \"at\"\naggregate_type = \"\"\nmetadata = \"\"\n",
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    // An empty string in the file switches an optional column off, as `--map` does.
    let list = run(&[
        "aggregates",
        &store.arg(),
        "--config",
        &config,
        "--format",
        "json",
    ]);
    let list = json(&list);
    assert_eq!(list[0]["id"], "s-1");
    assert_eq!(list[0]["events"], 2);
    assert_eq!(list[0]["first_timestamp"], "2026-01-15T10:30:01Z");
}

#[test]
fn errors_are_one_line_with_exit_code_2() {
    let d = demo();
    let missing = bad_input(&["aggregates", "/nonexistent/store.db"]);
    assert!(missing.contains("no such file"), "{missing}");

    let unknown = bad_input(&["state", &d, "acc-07"]);
    assert!(
        unknown.contains("no aggregate \"acc-07\"") && unknown.contains("acc-0007"),
        "{unknown}"
    );

    let position = bad_input(&["diff", &d, "acc-0007", "--from", "yesterday"]);
    assert!(
        position.contains("\"yesterday\" is not a position"),
        "{position}"
    );

    let beyond = bad_input(&["state", &d, "acc-0007", "--at-version", "999"]);
    assert!(
        beyond.contains("no version 999") && beyond.contains("49"),
        "{beyond}"
    );

    let bad_map = bad_input(&["aggregates", &d, "--map", "events.tabel=x"]);
    assert!(bad_map.contains("unknown mapping key"), "{bad_map}");
}

#[test]
fn missing_table_and_column_errors_name_them_and_the_mapping() {
    let store = Store::with_schema("CREATE TABLE other(x TEXT);");
    let err = bad_input(&["aggregates", &store.arg()]);
    assert!(
        err.contains("no table \"events\"") && err.contains("tables: other"),
        "{err}"
    );
    assert!(err.contains("mapping in use: events.table=events"), "{err}");

    let store = Store::with_schema(
        "CREATE TABLE events(aggregate_id TEXT, event_type TEXT, event_data TEXT, version INT);",
    );
    let err = bad_input(&["aggregates", &store.arg()]);
    assert!(err.contains("no column \"aggregate_type\""), "{err}");
    assert!(err.contains("--map"), "{err}");
}

#[test]
fn files_that_are_not_stores_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = bad_input(&["aggregates", &empty.to_string_lossy()]);
    assert!(err.contains("is empty"), "{err}");

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    let err = bad_input(&["aggregates", &junk.to_string_lossy()]);
    assert!(err.contains("is not a SQLite database"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let output = run(&["state"]);
    assert_eq!(output.status.code(), Some(2));
    let output = run(&["diff", &demo(), "acc-0001", "--format", "colourful"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", &demo(), "acc-0001", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // stdout is closed here; rewind must notice and exit quietly.
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(output.status.code(), Some(0), "{err}");
}

#[test]
fn commands_leave_the_store_byte_identical() {
    let before = support::fingerprint(&demo_store());
    let d = demo();
    for args in [
        vec!["aggregates", d.as_str()],
        vec!["events", &d, "acc-0003"],
        vec!["state", &d, "acc-0003", "--at-version", "50"],
        vec!["diff", &d, "acc-0003", "--from", "1", "--to", "60"],
    ] {
        assert!(run(&args).status.success());
    }
    assert_eq!(support::fingerprint(&demo_store()), before);
}

#[test]
fn trace_draws_the_demo_requests_as_causation_trees() {
    let mut text = String::new();
    for id in ["req-7a1f", "req-9d4b", "req-5c2e", "transfer-0042"] {
        let output = run(&["trace", &demo(), id]);
        assert!(output.status.success());
        text.push_str(&stdout(&output));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn log_is_a_table_in_store_order() {
    let output = run(&["log", &demo(), "--since", "3505", "--limit", "8"]);
    assert!(output.status.success());
    insta::assert_snapshot!(stdout(&output));
}
