//! `rewind aggregates --health`, the real binary on the demo store: the same figures the
//! UI's aggregate list shows.

mod support;

use support::{demo_store, json, run, stdout};

#[test]
fn health_names_the_demos_planted_anomalies() {
    let demo = demo_store().to_string_lossy().into_owned();
    let output = run(&["aggregates", &demo, "--health"]);
    assert!(output.status.success());
    let text = stdout(&output);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no {id} in:\n{text}"))
            .to_string()
    };
    assert!(text.lines().next().unwrap().contains("HEALTH"), "{text}");
    assert!(line("acc-0003").ends_with("1 snapshot drift"), "{text}");
    assert!(line("order-0012").ends_with("1 malformed event"), "{text}");
    assert!(line("order-0020").ends_with("1 warning"), "{text}");
    assert!(line("acc-0001").ends_with("ok"), "{text}");

    let list = json(&run(&["aggregates", &demo, "--health", "--format", "json"]));
    let acc3 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "acc-0003")
        .unwrap();
    assert_eq!(acc3["health"]["drifts"], 1);
    assert_eq!(acc3["health"]["warnings"], 0);
    assert_eq!(acc3["events"], 69, "the usual fields are still there");
}

/// The demo's domain rule: no account below its overdraft limit (orders have no balance).
const RULE: &str = ".balance == null or .balance >= -(.limits.overdraft // 0)";

#[test]
fn an_invariant_names_the_aggregates_whose_states_break_it() {
    let demo = demo_store().to_string_lossy().into_owned();
    let text = stdout(&run(&[
        "aggregates",
        &demo,
        "--health",
        "--invariant",
        RULE,
    ]));
    let unhealthy: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with(" ok"))
        .collect();
    assert_eq!(unhealthy.len(), 4, "the four planted anomalies:\n{text}");
    assert!(
        unhealthy
            .iter()
            .any(|l| l.starts_with("acc-0007") && l.ends_with("1 invariant break")),
        "{text}"
    );

    // From rewind.toml too, with JSON's count.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rewind.toml");
    std::fs::write(&config, format!("invariant = {RULE:?}\n")).unwrap();
    let config = config.to_string_lossy();
    let list = json(&run(&[
        "aggregates",
        &demo,
        "--health",
        "--format",
        "json",
        "--config",
        &config,
    ]));
    let of = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()["health"]
            .clone()
    };
    assert_eq!(of("acc-0007")["invariant_breaks"], 1);
    assert_eq!(of("acc-0001")["invariant_breaks"], 0);
}

#[test]
fn an_invariant_that_does_not_compile_is_bad_input() {
    let demo = demo_store().to_string_lossy().into_owned();
    let err = support::bad_input(&["aggregates", &demo, "--health", "--invariant", ".balance >"]);
    assert!(
        err.contains("--invariant") && err.contains("line 1, column 11"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn an_invariant_that_cannot_judge_a_state_says_so_once() {
    let demo = demo_store().to_string_lossy().into_owned();
    let output = run(&[
        "aggregates",
        &demo,
        "--health",
        "--invariant",
        ".balance | error",
    ]);
    assert!(output.status.success());
    let err = support::stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("rewind: --invariant could not judge some states, counted as breaks (first at acc-0001 v1: "),
        "{err}"
    );
}
