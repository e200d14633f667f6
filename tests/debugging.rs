//! verify, bisect, blame, --where and jq reducers, on the demo store's planted anomalies.

mod support;

use serde_json::{json, Value};
use support::{bad_input, demo_store, json, run, stdout, Store};

fn demo() -> String {
    demo_store().to_string_lossy().into_owned()
}

#[test]
fn verify_finds_the_drifting_snapshot_and_exits_1() {
    let output = run(&["verify", &demo()]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&output));
    let report: Value =
        serde_json::from_slice(&run(&["verify", &demo(), "--format", "json"]).stdout).unwrap();
    assert_eq!(report["drifting"], 1);
    let mismatch = &report["mismatches"][0];
    assert_eq!(mismatch["aggregate"], "acc-0003");
    assert_eq!(mismatch["version"], 50);
    assert_eq!(mismatch["differences"][0]["path"], ".balance");
}

#[test]
fn verify_of_a_clean_aggregate_or_with_ignored_paths_exits_0() {
    assert_eq!(run(&["verify", &demo(), "acc-0002"]).status.code(), Some(0));
    let ignored = run(&["verify", &demo(), "acc-0003", "--ignore", ".balance"]);
    assert_eq!(ignored.status.code(), Some(0), "{}", stdout(&ignored));
}

#[test]
fn bisect_finds_where_the_balance_went_negative() {
    let output = run(&[
        "bisect",
        &demo(),
        "acc-0007",
        "--until",
        ".balance < 0",
        "--format",
        "json",
    ]);
    let found = json(&output);
    assert_eq!(found["version"], 31);
    assert_eq!(found["type"], "Withdrawn");
    let change = found["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == ".balance")
        .unwrap();
    assert_eq!(change["new"], json!(-35.5));
}

#[test]
fn bisect_can_use_the_event_and_exits_1_when_nothing_matches() {
    let found = json(&run(&[
        "bisect",
        &demo(),
        "order-0003",
        "--until",
        r#"$event.type == "OrderShipped""#,
        "--format",
        "json",
    ]));
    assert_eq!(found["type"], "OrderShipped");
    let never = run(&["bisect", &demo(), "acc-0002", "--until", ".balance < 0"]);
    assert_eq!(never.status.code(), Some(1));
    assert!(stdout(&never).contains("never became true"));
}

#[test]
fn blame_lists_every_change_of_a_path() {
    let lines = json(&run(&[
        "blame",
        &demo(),
        "acc-0007",
        ".limits.daily",
        "--format",
        "json",
    ]));
    let lines = lines.as_array().unwrap();
    assert_eq!(lines[0]["version"], 1);
    assert_eq!(lines[0]["old"], Value::Null);
    for pair in lines.windows(2) {
        assert_eq!(
            pair[0]["new"], pair[1]["old"],
            "each change starts where the last ended"
        );
    }
    let last = json(&run(&["state", &demo(), "acc-0007", "--format", "json"]));
    assert_eq!(lines.last().unwrap()["new"], last["limits"]["daily"]);
    let table = run(&["blame", &demo(), "order-0005", ".status"]);
    insta::assert_snapshot!(stdout(&table));
}

#[test]
fn where_filters_events_by_event_and_state() {
    let withdrawals = json(&run(&[
        "events",
        &demo(),
        "acc-0007",
        "--where",
        r#"$event.type == "Withdrawn""#,
        "--format",
        "json",
    ]));
    let withdrawals = withdrawals.as_array().unwrap();
    assert!(!withdrawals.is_empty());
    assert!(withdrawals.iter().all(|e| e["type"] == "Withdrawn"));
    let negative = json(&run(&[
        "events",
        &demo(),
        "acc-0007",
        "--where",
        ".balance < 0",
        "--format",
        "json",
    ]));
    assert_eq!(negative[0]["version"], 31);
}

#[test]
fn bad_jq_and_bad_paths_are_one_line_errors() {
    let err = bad_input(&["bisect", &demo(), "acc-0007", "--until", ".balance <"]);
    assert!(err.contains("--until"), "{err}");
    let err = bad_input(&["blame", &demo(), "acc-0007", "balance"]);
    assert!(err.contains("is not a path"), "{err}");
    let err = bad_input(&["events", &demo(), "acc-0007", "--where", "env.HOME"]);
    assert!(err.contains("not available"), "{err}");
}

#[test]
fn jq_reducer_for_the_demo_gives_the_merge_states() {
    for aggregate in ["acc-0003", "order-0012", "order-0020"] {
        let merged = json(&run(&["state", &demo(), aggregate, "--format", "json"]));
        let jq = json(&run(&[
            "state",
            &demo(),
            aggregate,
            "--reducer",
            "assets/reducers/demo.jq",
            "--format",
            "json",
        ]));
        assert_eq!(merged, jq, "{aggregate}");
    }
}

fn counter_store() -> Store {
    let mut store = Store::native();
    for (v, ty) in [(1, "Add"), (2, "Spin"), (3, "Fail"), (4, "Add")] {
        store.event("c", v, ty, r#"{"n": 1}"#, "2026-01-15T10:00:00Z");
    }
    store
}

#[test]
fn a_runaway_or_failing_reducer_is_reported_at_its_event_and_replay_goes_on() {
    let store = counter_store();
    let reducer = store.dir.path().join("counter.jq");
    std::fs::write(
        &reducer,
        r#"if $event.type == "Spin" then def f: f; f
           elif $event.type == "Fail" then error("no such account")
           else (. // {}) | .count += $event.data.n end"#,
    )
    .unwrap();
    let reducer = reducer.to_string_lossy().into_owned();
    let started = std::time::Instant::now();
    let args = [
        "events",
        &store.arg(),
        "c",
        "--reducer",
        &reducer,
        "--jq-timeout",
        "0.3",
        "--format",
        "json",
    ];
    let events = json(&run(&args));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let warnings = |i: usize| events[i]["warnings"].to_string();
    assert!(warnings(1).contains("limit"), "{}", warnings(1));
    assert!(warnings(2).contains("no such account"), "{}", warnings(2));
    let state = json(&run(&[
        "state",
        &store.arg(),
        "c",
        "--reducer",
        &reducer,
        "--jq-timeout",
        "0.3",
        "--format",
        "json",
    ]));
    assert_eq!(state, json!({"count": 2}));
}

#[test]
fn a_reducer_that_does_not_compile_or_exist_is_a_clear_error() {
    let store = counter_store();
    let err = bad_input(&["state", &store.arg(), "c", "--reducer", "/nonexistent.jq"]);
    assert!(err.contains("cannot read reducer"), "{err}");
    let broken = store.dir.path().join("broken.jq");
    std::fs::write(&broken, "if . then").unwrap();
    let err = bad_input(&[
        "state",
        &store.arg(),
        "c",
        "--reducer",
        &broken.to_string_lossy(),
    ]);
    assert!(err.contains("does not compile"), "{err}");
}

/// A reducer that fails on every event must not pass for one that worked: every command
/// that replays says so on stderr, whether the step errored, produced nothing or ran out
/// of time.
#[test]
fn every_replaying_command_reports_a_failing_reducer() {
    let dir = tempfile::tempdir().unwrap();
    for (name, code) in [
        ("boom.jq", r#"error("boom")"#),
        ("empty.jq", "empty"),
        ("slow.jq", "def f: f; f"),
    ] {
        let reducer = dir.path().join(name);
        std::fs::write(&reducer, code).unwrap();
        let reducer = reducer.to_string_lossy().into_owned();
        for args in [
            vec!["state", "acc-0010"],
            vec!["diff", "acc-0010"],
            vec!["blame", "acc-0010", ".balance"],
            vec!["verify", "acc-0010"],
            vec!["events", "acc-0010"],
            vec!["export", "acc-0010", "--format", "md"],
        ] {
            let store = demo();
            let mut full = vec![args[0], store.as_str()];
            full.extend(&args[1..]);
            full.extend(["--reducer", &reducer, "--jq-timeout", "0.05"]);
            let output = run(&full);
            let err = support::stderr(&output);
            assert!(
                err.contains("reducer failed on") && err.contains(" of acc-0010"),
                "{name} {args:?}: {err}"
            );
            assert!(err.contains("first at v1"), "{name} {args:?}: {err}");
        }
    }
}
