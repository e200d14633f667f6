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
