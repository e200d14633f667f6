//! `rewind export`: transcripts in three formats from real stores, pinned with insta; JSONL
//! transcripts opened as sources give the original replay's output; ranges, redaction,
//! atomic files, and HTML escaping checked in a real browser.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use rusqlite::params;
use serde_json::{json, Value};
use support::{bad_input, demo_store, rewind, stderr, stdout, Store};

const GENERATED_AT: &str = "2026-03-01T12:00:00Z";

/// Runs rewind with the header's time pinned.
fn run(args: &[&str]) -> Output {
    rewind()
        .env("REWIND_GENERATED_AT", GENERATED_AT)
        .args(args)
        .output()
        .unwrap()
}

/// Stdout of a command that must succeed.
fn ok(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        stderr(&output)
    );
    stdout(&output)
}

fn demo() -> String {
    demo_store().to_string_lossy().into_owned()
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// What varies between runs and machines, replaced so snapshots are stable.
fn neutral(text: &str, store: &Store) -> String {
    text.replace(&store.arg(), "[store]")
        .replace(env!("CARGO_PKG_VERSION"), "[version]")
}

/// One account: an opening, a deposit, a malformed payload, a limit change; a snapshot at
/// v2 that agrees with replay and one at v4 that does not.
fn small_store() -> Store {
    let mut store = Store::native();
    store.event(
        "acc-1",
        1,
        "Opened",
        r#"{"owner":"Ada","balance":0,"limits":{"daily":100}}"#,
        "2026-01-01T10:00:00Z",
    );
    store.event(
        "acc-1",
        2,
        "Deposited",
        r#"{"balance":50}"#,
        "2026-01-01T11:00:00Z",
    );
    store.event(
        "acc-1",
        3,
        "Deposited",
        r#"{"balance": 8"#,
        "2026-01-01T12:00:00Z",
    );
    store.event(
        "acc-1",
        4,
        "LimitChanged",
        r#"{"limits":{"daily":200}}"#,
        "2026-01-01T13:00:00Z",
    );
    store.snapshot(
        "acc-1",
        2,
        r#"{"owner":"Ada","balance":50,"limits":{"daily":100}}"#,
    );
    store.snapshot(
        "acc-1",
        4,
        r#"{"owner":"Ada","balance":60,"limits":{"daily":200}}"#,
    );
    store
}

#[test]
fn markdown_transcript_of_a_small_store() {
    let store = small_store();
    let md = ok(&[
        "export",
        &store.arg(),
        "acc-1",
        "--format",
        "md",
        "--with-state",
    ]);
    insta::assert_snapshot!(neutral(&md, &store));
}

#[test]
fn jsonl_transcript_of_a_small_store() {
    let store = small_store();
    let jsonl = ok(&["export", &store.arg(), "acc-1", "--format", "jsonl"]);
    for line in jsonl.lines() {
        serde_json::from_str::<Value>(line).expect("every line is one JSON value");
    }
    insta::assert_snapshot!(neutral(&jsonl, &store));
}

#[test]
fn html_transcript_of_a_small_store() {
    let store = small_store();
    let html = ok(&["export", &store.arg(), "acc-1", "--format", "html"]);
    insta::assert_snapshot!(neutral(&html, &store));
}

/// The section of a Markdown transcript about the step at `version`.
fn md_step(md: &str, version: u64) -> String {
    md.split("\n### ")
        .find(|section| {
            section
                .split_whitespace()
                .nth(1)
                .is_some_and(|v| v == format!("v{version}"))
        })
        .unwrap_or_else(|| panic!("no step v{version}"))
        .to_string()
}

#[test]
fn snapshot_mismatches_and_decode_errors_are_marked_at_their_step() {
    let md = ok(&["export", &demo(), "acc-0003", "--format", "md"]);
    assert!(md_step(&md, 50).contains("**SNAPSHOT MISMATCH** the snapshot stored at v50"));
    assert!(md_step(&md, 50).contains("- .balance: "));
    assert_eq!(md.matches("**SNAPSHOT MISMATCH**").count(), 1);
    assert!(!md_step(&md, 49).contains("SNAPSHOT"));

    let md = ok(&["export", &demo(), "order-0012", "--format", "md"]);
    assert!(md_step(&md, 4).contains("**DECODE ERROR**"), "{md}");
    assert!(md_step(&md, 4).contains("Raw payload (not JSON)"));
    assert_eq!(md.matches("**DECODE ERROR**").count(), 1);

    let md = ok(&["export", &demo(), "order-0020", "--format", "md"]);
    assert!(md_step(&md, 5).contains("**WARNING** `timestamp goes backwards"));

    let html = ok(&["export", &demo(), "acc-0003", "--format", "html"]);
    assert!(html.contains("<span class=\"mark mismatch\">snapshot mismatch</span>"));
    let html = ok(&["export", &demo(), "order-0012", "--format", "html"]);
    assert!(html.contains("<span class=\"mark error\">decode error</span>"));

    let jsonl = ok(&["export", &demo(), "acc-0003", "--format", "jsonl"]);
    let v50: Value = serde_json::from_str(jsonl.lines().nth(50).unwrap()).unwrap();
    assert_eq!(v50["version"], 50);
    assert_eq!(v50["snapshots"][0]["check"], "differs");
    assert_eq!(v50["snapshots"][0]["differences"][0]["path"], ".balance");
}

#[test]
fn reducer_errors_are_marked_at_their_step() {
    let store = small_store();
    let reducer = store.dir.path().join("frozen.jq");
    std::fs::write(
        &reducer,
        r#"if $event.type == "LimitChanged" then error("limits are frozen")
           else (. // {}) * $event.data end"#,
    )
    .unwrap();
    let reducer = path_arg(&reducer);
    let args = |format| {
        vec![
            "export".to_string(),
            store.arg(),
            "acc-1".into(),
            "--reducer".into(),
            reducer.clone(),
            "--format".into(),
            format,
        ]
    };
    let strings = |v: Vec<String>| ok(&refs(&v));
    let md = strings(args("md".into()));
    assert!(
        md_step(&md, 4)
            .contains("**REDUCER ERROR** `\"limits are frozen\"`: the state is unchanged."),
        "{md}"
    );
    assert!(md.contains(&format!("- **Reducer:** `jq:{reducer}`")));
    let html = strings(args("html".into()));
    assert!(html.contains("<span class=\"mark error\">reducer error</span>"));
    let jsonl = strings(args("jsonl".into()));
    let v4: Value = serde_json::from_str(jsonl.lines().nth(4).unwrap()).unwrap();
    assert_eq!(v4["problem"]["kind"], "reducer_failed");
    assert!(v4["changes"].as_array().unwrap().is_empty());
}

/// Exports a JSONL transcript of `aggregate` into `dir`, with extra arguments.
fn transcript(dir: &Path, source: &str, aggregate: &str, extra: &[&str]) -> PathBuf {
    let path = dir.join(format!("{aggregate}.jsonl"));
    let path_text = path_arg(&path);
    let mut args = vec![
        "export", source, aggregate, "--format", "jsonl", "-o", &path_text, "--force",
    ];
    args.extend_from_slice(extra);
    ok(&args);
    path
}

/// Runs the same command on the store and on the transcript and demands identical
/// stdout, stderr and exit code.
fn same_output(store_args: &[&str], transcript_args: &[&str]) {
    let (a, b) = (run(store_args), run(transcript_args));
    assert_eq!(
        (a.status.code(), stdout(&a), stderr(&a)),
        (b.status.code(), stdout(&b), stderr(&b)),
        "store: {store_args:?}\ntranscript: {transcript_args:?}"
    );
}

/// Every reading command, on the store (with `reducer` args) and on its transcript (with
/// none: the transcript replays to its recorded states).
fn assert_round_trip(store: &str, aggregate: &str, reducer: &[&str], probes: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = transcript(dir.path(), store, aggregate, reducer);
    let jsonl = path_arg(&jsonl);
    let with = |base: &[&str], extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["state", "SRC", aggregate],
        vec!["state", "SRC", aggregate, "--format", "json"],
        vec!["events", "SRC", aggregate],
        vec!["events", "SRC", aggregate, "--format", "json"],
        vec!["diff", "SRC", aggregate],
        vec!["diff", "SRC", aggregate, "--format", "json"],
        vec![
            "diff", "SRC", aggregate, "--from", "2", "--to", "4", "--format", "patch",
        ],
        vec!["verify", "SRC", aggregate],
        vec!["verify", "SRC", aggregate, "--format", "json"],
        vec!["export", "SRC", aggregate, "--format", "jsonl"],
    ];
    for probe in probes {
        commands.push(vec!["state", "SRC", aggregate, "--at-version", probe]);
    }
    for command in commands {
        let on = |source: &str, extra: &[&str]| {
            let args: Vec<&str> = command
                .iter()
                .map(|a| if *a == "SRC" { source } else { a })
                .collect();
            with(&args, extra)
        };
        let original = on(store, reducer);
        let replayed = on(&jsonl, &[]);
        if command[0] == "export" {
            // The transcript of a transcript: the same steps; only the header's source differs.
            let steps = |args: &[String]| {
                let text = ok(&refs(args));
                text.lines().skip(1).map(String::from).collect::<Vec<_>>()
            };
            assert_eq!(steps(&original), steps(&replayed), "{command:?}");
            continue;
        }
        same_output(&refs(&original), &refs(&replayed));
    }
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn jsonl_transcripts_of_demo_aggregates_replay_exactly() {
    for aggregate in ["acc-0003", "acc-0007", "order-0012", "order-0020"] {
        assert_round_trip(&demo(), aggregate, &[], &["0", "1", "5", "31", "50"]);
    }
}

#[test]
fn jsonl_transcripts_keep_the_states_of_a_jq_reducer() {
    let reducer = ["--reducer", "assets/reducers/demo.jq"];
    for aggregate in ["acc-0003", "order-0012"] {
        assert_round_trip(&demo(), aggregate, &reducer, &["0", "3", "4", "50"]);
    }
}

/// A state that grows with every event past 64 KiB: once it is that large, a step's line
/// records its changes and leaves the state out, and a reader rebuilds every state from
/// them, exactly: through object keys and array elements, a version the store repeated, a
/// payload that did not decode, and a step the reducer failed.
#[test]
fn jsonl_transcripts_of_large_states_record_changes_and_replay_exactly() {
    let repeats_allowed = support::NATIVE_SCHEMA.replace(", UNIQUE(aggregate_id, version)", "");
    let mut store = Store::with_schema(&repeats_allowed);
    let filler = "x".repeat(2000);
    for version in 1..=60i64 {
        let at = format!("2026-03-01T10:{:02}:00Z", version % 60);
        let data = match version {
            45 => "{\"broken\": ".to_string(),
            _ => format!(r#"{{"k{version:02}":"{filler}","v":{version}}}"#),
        };
        // v40 is stored twice, as a store that repeated a version would.
        let stored = if version == 41 { 40 } else { version };
        store.event("acc-big", stored, "Grew", &data, &at);
    }
    let reducer = store.dir.path().join("grow.jq");
    std::fs::write(
        &reducer,
        r#"if $event.data.v == 50 then error("refused")
           else (. // {}) * $event.data | .entries += [$event.data.v] | .entries |= .[-40:] end"#,
    )
    .unwrap();
    let reducer = path_arg(&reducer);
    for folding in [vec![], vec!["--reducer", reducer.as_str()]] {
        assert_round_trip(
            &store.arg(),
            "acc-big",
            &folding,
            &["1", "30", "40", "44", "46", "60"],
        );
        let dir = tempfile::tempdir().unwrap();
        let jsonl = transcript(dir.path(), &store.arg(), "acc-big", &folding);
        let text = std::fs::read_to_string(&jsonl).unwrap();
        let steps: Vec<&str> = text
            .lines()
            .skip(1)
            .filter(|l| l.contains("\"step\":"))
            .collect();
        let left_out = steps.iter().filter(|l| !l.contains("\"state\":")).count();
        assert!(
            left_out >= 20,
            "{left_out} of {} steps leave a large state out",
            steps.len()
        );
        // Every state whole is 2 KB + 4 KB + … + 120 KB: over 3.6 MB.
        assert!(text.len() < 2_000_000, "{} bytes", text.len());
    }
    // Changes that do not fit the state before (an edited transcript) fail that step,
    // said as such; the state stays as it was.
    let dir = tempfile::tempdir().unwrap();
    let jsonl = transcript(dir.path(), &store.arg(), "acc-big", &[]);
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let edited = text.replacen("{\"path\":\".k58\"", "{\"path\":\".nowhere.k58\"", 1);
    assert_ne!(edited, text);
    std::fs::write(&jsonl, edited).unwrap();
    let out = run(&["state", &path_arg(&jsonl), "acc-big", "--format", "json"]);
    let err = stderr(&out);
    assert!(err.contains("v58") && err.contains(".nowhere.k58"), "{err}");
    assert!(stdout(&out).contains("\"k57\"") && !stdout(&out).contains("\"k58\""));
}

/// Deltas, which only a jq reducer folds: a transcript must carry the states, since the
/// default merge reducer would compute nonsense from these events.
fn bank_store() -> (Store, String) {
    let mut store = Store::native();
    let events = [
        ("Opened", r#"{"owner":"Ada"}"#),
        ("Deposited", r#"{"amount":100}"#),
        ("Withdrawn", r#"{"amount":30}"#),
        ("Frozen", r#"{}"#),
        ("Deposited", r#"{"amount": 5"#),
        ("Deposited", r#"{"amount":7}"#),
    ];
    for (i, (kind, data)) in events.iter().enumerate() {
        let at = format!("2026-02-01T10:{:02}:00Z", i * 5);
        store.event("acc-9", i as i64 + 1, kind, data, &at);
    }
    store.snapshot("acc-9", 3, r#"{"owner":"Ada","balance":70}"#);
    store.snapshot("acc-9", 6, r#"{"owner":"Ada","balance":70}"#);
    let reducer = store.dir.path().join("bank.jq");
    std::fs::write(
        &reducer,
        r#"if $event.type == "Opened" then {owner: $event.data.owner, balance: 0}
           elif $event.type == "Deposited" then .balance += $event.data.amount
           elif $event.type == "Withdrawn" then .balance -= $event.data.amount
           else error("cannot fold \($event.type)") end"#,
    )
    .unwrap();
    let reducer = path_arg(&reducer);
    (store, reducer)
}

#[test]
fn jsonl_transcripts_keep_the_states_of_a_delta_reducer() {
    let (store, reducer) = bank_store();
    assert_round_trip(
        &store.arg(),
        "acc-9",
        &["--reducer", &reducer],
        &["0", "2", "4", "5"],
    );
    let dir = tempfile::tempdir().unwrap();
    let jsonl = path_arg(&transcript(
        dir.path(),
        &store.arg(),
        "acc-9",
        &["--reducer", &reducer],
    ));
    // bisect and blame, and the list of aggregates, work on the transcript too.
    same_output(
        &[
            "bisect",
            &store.arg(),
            "acc-9",
            "--reducer",
            &reducer,
            "--until",
            ".balance > 90",
        ],
        &["bisect", &jsonl, "acc-9", "--until", ".balance > 90"],
    );
    same_output(
        &[
            "blame",
            &store.arg(),
            "acc-9",
            ".balance",
            "--reducer",
            &reducer,
        ],
        &["blame", &jsonl, "acc-9", ".balance"],
    );
    let listed: Value =
        serde_json::from_str(&ok(&["aggregates", &jsonl, "--format", "json"])).unwrap();
    assert_eq!(listed[0]["id"], "acc-9");
    assert_eq!(listed[0]["events"], 6);
    assert_eq!(listed[0]["snapshots"], 2);
    // Without a reducer the transcript gives its recorded states; with one, the reducer
    // folds the recorded events afresh.
    let recorded = ok(&["state", &jsonl, "acc-9", "--format", "json"]);
    assert_eq!(recorded.trim(), r#"{"balance":77,"owner":"Ada"}"#);
    let merged = ok(&[
        "state",
        &jsonl,
        "acc-9",
        "--format",
        "json",
        "--reducer",
        "assets/reducers/demo.jq",
    ]);
    assert_eq!(merged.trim(), r#"{"amount":7,"owner":"Ada"}"#);
}

#[test]
fn a_range_is_honoured_and_its_transcript_starts_at_the_from_state() {
    let (store, reducer) = bank_store();
    let md = ok(&[
        "export",
        &store.arg(),
        "acc-9",
        "--reducer",
        &reducer,
        "--format",
        "md",
        "--from",
        "2",
        "--to",
        "v4",
    ]);
    let steps: Vec<&str> = md.lines().filter(|l| l.starts_with("### ")).collect();
    assert_eq!(
        steps,
        vec![
            "### 1. v3 `Withdrawn` at 2026-02-01T10:10:00Z",
            "### 2. v4 `Frozen` at 2026-02-01T10:15:00Z"
        ]
    );
    assert!(md.contains("- **Range:** v2 → v4, events 3–4 of 6 (asked for --from `v2` --to `v4`)"));
    assert!(md.contains("## Net change v2 → v4\n\n```diff\n- .balance: 100\n+ .balance: 70\n```"));

    // Times work as positions; the transcript's states match the store's at every version.
    let dir = tempfile::tempdir().unwrap();
    let jsonl = transcript(
        dir.path(),
        &store.arg(),
        "acc-9",
        &[
            "--reducer",
            &reducer,
            "--from",
            "2026-02-01T10:05",
            "--to",
            "5",
        ],
    );
    let jsonl = path_arg(&jsonl);
    let header: Value = serde_json::from_str(
        std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            header["from"]["version"].clone(),
            header["to"]["version"].clone()
        ),
        (json!(2), json!(5))
    );
    assert_eq!(header["steps"], 3);
    for version in ["2", "3", "4", "5"] {
        same_output(
            &[
                "state",
                &store.arg(),
                "acc-9",
                "--reducer",
                &reducer,
                "--at-version",
                version,
                "--format",
                "json",
            ],
            &[
                "state",
                &jsonl,
                "acc-9",
                "--at-version",
                version,
                "--format",
                "json",
            ],
        );
    }
    same_output(
        &[
            "diff",
            &store.arg(),
            "acc-9",
            "--reducer",
            &reducer,
            "--from",
            "2",
            "--to",
            "5",
        ],
        &["diff", &jsonl, "acc-9"],
    );
    // No version gap is invented where the transcript starts.
    let events: Value =
        serde_json::from_str(&ok(&["events", &jsonl, "acc-9", "--format", "json"])).unwrap();
    assert_eq!(events[0]["version"], 3);
    assert_eq!(events[0]["warnings"], json!([]));
    // Before the start, the transcript does not know the state, and says so.
    let err = bad_input(&["state", &jsonl, "acc-9", "--at-version", "1"]);
    assert!(err.contains("before this history starts"), "{err}");
    // An empty range is a transcript too: no steps, the state where it stands.
    let empty = transcript(
        dir.path(),
        &store.arg(),
        "acc-9",
        &["--reducer", &reducer, "--from", "3", "--to", "3"],
    );
    let empty = path_arg(&empty);
    same_output(
        &[
            "state",
            &store.arg(),
            "acc-9",
            "--reducer",
            &reducer,
            "--at-version",
            "3",
            "--format",
            "json",
        ],
        &["state", &empty, "acc-9", "--format", "json"],
    );
    assert!(
        ok(&["export", &empty, "acc-9", "--format", "md"]).contains("_No events in this range._")
    );
    // A range that runs backwards is refused.
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-9",
        "--format",
        "md",
        "--from",
        "4",
        "--to",
        "2",
    ]);
    assert!(err.contains("runs backwards"), "{err}");
}

const SECRET: &str = "Zebediah-Secret-7731";

#[test]
fn redacted_values_appear_nowhere_in_any_format() {
    let mut store = Store::native();
    let opened = format!(r#"{{"owner":"{SECRET}","balance":0}}"#);
    store.event("acc-z", 1, "Opened", &opened, "2026-01-01T10:00:00Z");
    store.event(
        "acc-z",
        2,
        "Deposited",
        r#"{"balance":10}"#,
        "2026-01-01T11:00:00Z",
    );
    // The secret in metadata, in a malformed payload and in a reducer's error message.
    store
        .conn
        .execute(
            "INSERT INTO events VALUES ('m', 'acc-z', 'account', 'Renamed', ?1, ?2, 3, '2026-01-01T12:00:00Z')",
            params![
                format!(r#"{{"owner":"{SECRET}-2"}}"#),
                format!(r#"{{"owner":"{SECRET}","ip":"10.0.0.1"}}"#)
            ],
        )
        .unwrap();
    let broken = format!(r#"{{"owner":"{SECRET}-3""#);
    store.event("acc-z", 4, "Renamed", &broken, "2026-01-01T13:00:00Z");
    store.event("acc-z", 5, "Audited", "{}", "2026-01-01T14:00:00Z");
    // And in a timestamp column that does not parse: the issue quotes it.
    store.event("acc-z", 6, "Stamped", "{}", SECRET);
    store.snapshot(
        "acc-z",
        2,
        &format!(r#"{{"owner":"{SECRET}","balance":10}}"#),
    );
    let reducer = store.dir.path().join("audit.jq");
    std::fs::write(
        &reducer,
        r#"if $event.type == "Audited" then error("audit failed for \(.owner)")
           else (. // {}) * $event.data end"#,
    )
    .unwrap();
    let config = store.dir.path().join("rewind.toml");
    std::fs::write(&config, "redact = [\".owner\"]\n").unwrap();
    let reducer = path_arg(&reducer);
    let config = path_arg(&config);

    let unredacted = ok(&[
        "export",
        &store.arg(),
        "acc-z",
        "--format",
        "md",
        "--reducer",
        &reducer,
        "--with-state",
    ]);
    assert!(
        unredacted.contains(&format!("audit failed for {SECRET}-2")),
        "{unredacted}"
    );

    for format in ["md", "jsonl", "html"] {
        for how in [["--redact", ".owner"], ["--config", config.as_str()]] {
            let text = ok(&[
                "export",
                &store.arg(),
                "acc-z",
                "--format",
                format,
                "--with-state",
                "--reducer",
                &reducer,
                how[0],
                how[1],
            ]);
            assert!(
                !text.contains("Zebediah"),
                "{format} {how:?} leaks:\n{text}"
            );
            assert!(!text.contains("7731"), "{format} {how:?} leaks:\n{text}");
            assert!(text.contains("[redacted]"), "{format}");
            assert!(
                text.contains("10.0.0.1"),
                "only the named path is hidden ({format})"
            );
        }
    }
    // The redacted transcript is still a transcript.
    let dir = tempfile::tempdir().unwrap();
    let jsonl = transcript(
        dir.path(),
        &store.arg(),
        "acc-z",
        &["--reducer", &reducer, "--redact", ".owner"],
    );
    let state = ok(&["state", &path_arg(&jsonl), "acc-z", "--format", "json"]);
    assert_eq!(state.trim(), r#"{"balance":10,"owner":"[redacted]"}"#);
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-z",
        "--format",
        "md",
        "--redact",
        "owner",
    ]);
    assert!(err.contains("is not a path"), "{err}");
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn files_are_written_whole_and_never_clobbered_without_force() {
    let store = small_store();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("bug.md");
    let target_arg = path_arg(&target);

    // The format follows the extension; nothing goes to stdout.
    let output = run(&["export", &store.arg(), "acc-1", "-o", &target_arg]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let written = std::fs::read_to_string(&target).unwrap();
    assert_eq!(
        written,
        ok(&["export", &store.arg(), "acc-1", "--format", "md"])
    );

    std::fs::write(&target, "my notes").unwrap();
    let err = bad_input(&["export", &store.arg(), "acc-1", "-o", &target_arg]);
    assert!(err.contains("already exists; pass --force"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "my notes");

    // A failing export leaves the existing file as it was, even with --force.
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-404",
        "-o",
        &target_arg,
        "--force",
    ]);
    assert!(err.contains("no aggregate"), "{err}");
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-1",
        "-o",
        &target_arg,
        "--force",
        "--to",
        "99",
    ]);
    assert!(err.contains("no version 99"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "my notes");
    assert_eq!(entries(dir.path()), vec!["bug.md"]);

    ok(&[
        "export",
        &store.arg(),
        "acc-1",
        "-o",
        &target_arg,
        "--force",
    ]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), written);
    assert_eq!(entries(dir.path()), vec!["bug.md"]);

    // A directory that does not exist: an error, and nothing created anywhere.
    let missing = dir.path().join("no/such/dir/t.jsonl");
    let err = bad_input(&["export", &store.arg(), "acc-1", "-o", &path_arg(&missing)]);
    assert!(
        err.contains("cannot write") && err.contains("t.jsonl"),
        "{err}"
    );
    assert_eq!(entries(dir.path()), vec!["bug.md"]);

    // Without an extension rewind cannot guess the format.
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-1",
        "-o",
        &path_arg(&dir.path().join("t")),
    ]);
    assert!(err.contains("--format md, jsonl or html"), "{err}");
}

#[test]
fn a_read_only_directory_is_an_error_and_stays_empty() {
    use std::os::unix::fs::PermissionsExt;
    let store = small_store();
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked.join("probe"), "").is_ok() {
        // Running as root, which ignores directory permissions: nothing to check here.
        std::fs::remove_file(locked.join("probe")).unwrap();
        eprintln!("skipped: permissions are not enforced for this user");
        return;
    }
    let err = bad_input(&[
        "export",
        &store.arg(),
        "acc-1",
        "-o",
        &path_arg(&locked.join("t.md")),
    ]);
    assert!(err.contains("cannot write"), "{err}");
    assert!(entries(&locked).is_empty());
}

#[test]
fn truncated_damaged_and_future_transcripts_are_one_line_errors() {
    let store = small_store();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(transcript(dir.path(), &store.arg(), "acc-1", &[])).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path_arg(&path)
    };

    let cut = write("cut.jsonl", &good[..good.len() * 2 / 3]);
    let err = bad_input(&["state", &cut, "acc-1"]);
    assert!(
        err.contains("cut.jsonl") && err.contains("truncated"),
        "{err}"
    );

    let lines: Vec<&str> = good.lines().collect();
    let no_end = write(
        "no-end.jsonl",
        &format!("{}\n", lines[..lines.len() - 1].join("\n")),
    );
    let err = bad_input(&["events", &no_end, "acc-1"]);
    assert!(
        err.contains("truncated: it stops after step 4 of 4"),
        "{err}"
    );

    let future = write(
        "future.jsonl",
        &good.replacen("{\"rewind_transcript\":2,", "{\"rewind_transcript\":3,", 1),
    );
    let err = bad_input(&["verify", &future]);
    assert!(
        err.contains("format version 3") && err.contains("upgrade rewind"),
        "{err}"
    );

    let other = write("other.jsonl", "{\"hello\":1}\n");
    let err = bad_input(&["aggregates", &other]);
    assert!(err.contains("not a rewind transcript"), "{err}");

    // The marker identifies a transcript whatever the file is called.
    let renamed = write("bug-report.txt", &good);
    assert_eq!(
        ok(&["state", &renamed, "acc-1", "--format", "json"]),
        ok(&["state", &store.arg(), "acc-1", "--format", "json"])
    );
}

const PAYLOAD: &str = "<script>document.title='pwned'</script>";
const IMG_PAYLOAD: &str = "<img src=x onerror=\"document.body.setAttribute('data-pwned','yes')\">";

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
}

/// The DOM after the page loaded (and ran any script it could), as chromium serialises it.
fn dump_dom(browser: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(output.status.success(), "chromium: {}", stderr(&output));
    stdout(&output)
}

#[test]
fn html_shows_script_payloads_as_text_in_a_real_browser() {
    let Some(browser) = chromium() else {
        if std::env::var("REWIND_SKIP_BROWSER").as_deref() == Ok("1") {
            eprintln!("skipped: no chromium and REWIND_SKIP_BROWSER=1");
            return;
        }
        panic!("chromium is not installed: run scripts/install-test-deps, or set REWIND_SKIP_BROWSER=1 to skip this test");
    };
    let dir = tempfile::tempdir().unwrap();
    // First prove that this browser runs scripts in a file page, so "did not run" means something.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        format!(
            "<html><head><title>clean</title></head><body>{PAYLOAD}{IMG_PAYLOAD}</body></html>"
        ),
    )
    .unwrap();
    let control_dom = dump_dom(&browser, &control);
    assert!(
        control_dom.contains("<title>pwned</title>"),
        "{control_dom}"
    );
    assert!(control_dom.contains("data-pwned=\"yes\""), "{control_dom}");

    let mut store = Store::native();
    let data = json!({"note": PAYLOAD, "html": IMG_PAYLOAD, "close": "</pre></details></main>"})
        .to_string();
    store.event("acc-x", 1, PAYLOAD, &data, "2026-01-01T10:00:00Z");
    store.event(
        "acc-x",
        2,
        "Noted",
        &format!("<b>{PAYLOAD}"),
        "2026-01-01T11:00:00Z",
    );
    let page = dir.path().join("t.html");
    ok(&[
        "export",
        &store.arg(),
        "acc-x",
        "-o",
        &path_arg(&page),
        "--with-state",
    ]);
    let dom = dump_dom(&browser, &page);

    assert!(
        dom.contains("<title>rewind transcript: acc-x</title>"),
        "{dom}"
    );
    assert!(
        !dom.contains("pwned</title>") && !dom.contains("data-pwned=\"yes\""),
        "{dom}"
    );
    assert!(
        !dom.to_lowercase().contains("<script"),
        "a script element was created:\n{dom}"
    );
    assert!(
        !dom.to_lowercase().contains("<img"),
        "an img element was created:\n{dom}"
    );
    // The payloads are there, as text: in the type, the data, the state, the diff and the raw payload.
    assert!(
        dom.matches("&lt;script&gt;document.title=").count() >= 5,
        "{dom}"
    );
    assert!(dom.contains("&lt;img src=x onerror="), "{dom}");
    assert_eq!(dom.matches("<details class=\"step").count(), 2, "{dom}");
    assert!(
        dom.contains("<section id=\"net\">"),
        "the page ends where it should:\n{dom}"
    );
}
