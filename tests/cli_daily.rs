//! The CLI a person lives in, run as the real binary: colored diffs at a terminal only, a
//! summary diff, slices of the event list, rewind.toml found where it is kept, the
//! position a state resolved to, and the store's event ids.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::{bad_input, demo_store, json, rewind, run, stderr, stdout, Store};

fn demo() -> String {
    demo_store().to_string_lossy().into_owned()
}

fn versions(events: &Value) -> Vec<u64> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect()
}

/// Runs rewind under a pseudo-terminal (`script`), as a person at a terminal would, with
/// `NO_COLOR` as given; the raw bytes it wrote.
fn at_a_terminal(args: &[&str], no_color: Option<&str>) -> String {
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_rewind"))
        .chain(args.iter().copied())
        .map(support::tmux::sh_quote)
        .collect();
    let mut command = Command::new("script");
    command
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    let output = command.output().expect("script (util-linux) runs");
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8(output.stdout)
        .unwrap()
        .replace("\r\n", "\n")
}

#[test]
fn diffs_are_colored_at_a_terminal_unless_no_color_and_never_when_piped() {
    let args = ["diff", &demo(), "acc-0003", "--from", "49", "--to", "50"];
    let colored = at_a_terminal(&args, None);
    assert!(
        colored.contains("\u{1b}[1m--- acc-0003@v49\u{1b}[0m\n"),
        "{colored:?}"
    );
    assert!(
        colored.contains("\u{1b}[31m-  \"balance\": 2425.3,\u{1b}[0m\n"),
        "{colored:?}"
    );
    assert!(
        colored.contains("\u{1b}[32m+  \"balance\": 1829.39,\u{1b}[0m\n"),
        "{colored:?}"
    );
    assert!(
        colored.contains("\n     \"city\""),
        "context lines stay plain: {colored:?}"
    );
    let summary = at_a_terminal(&[&args[..], &["--format", "summary"]].concat(), None);
    assert!(
        summary.starts_with("\u{1b}[33m~ .balance: 2425.3 → 1829.39\u{1b}[0m\n"),
        "{summary:?}"
    );

    let plain = stdout(&run(&args));
    assert!(!plain.contains('\u{1b}'), "piped: {plain:?}");
    assert_eq!(
        at_a_terminal(&args, Some("1")),
        plain,
        "NO_COLOR=1 at a terminal"
    );
    assert!(
        at_a_terminal(&args, Some("")).contains('\u{1b}'),
        "an empty NO_COLOR is unset"
    );
}

#[test]
fn summary_diff_is_one_line_per_change() {
    let output = run(&[
        "diff",
        &demo(),
        "acc-0003",
        "--from",
        "49",
        "--to",
        "50",
        "--format",
        "summary",
    ]);
    assert_eq!(
        stdout(&output),
        "~ .balance: 2425.3 → 1829.39\n\
         ~ .last_transaction.amount: 183.79 → 595.91\n\
         ~ .last_transaction.kind: \"deposit\" → \"withdrawal\"\n\
         ~ .last_transaction.reference: \"TX-0003-00049\" → \"TX-0003-00050\"\n"
    );
    let same = run(&[
        "diff",
        &demo(),
        "acc-0003",
        "--from",
        "5",
        "--to",
        "5",
        "--format",
        "summary",
    ]);
    assert_eq!(stdout(&same), "no change\n");
    // The first event makes the state from nothing: one line per key, not `~ .: null → {…}`.
    let first = run(&[
        "diff",
        &demo(),
        "acc-0003",
        "--from",
        "0",
        "--to",
        "1",
        "--format",
        "summary",
    ]);
    let lines: Vec<String> = stdout(&first).lines().map(str::to_string).collect();
    assert!(lines.len() > 3, "{lines:?}");
    assert!(lines.iter().all(|l| l.starts_with("+ .")), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("+ .owner: ")),
        "{lines:?}"
    );
}

#[test]
fn events_take_a_range_a_limit_and_a_tail() {
    let store = demo();
    let list = |extra: &[&str]| {
        let args = [
            &["events", store.as_str(), "acc-0003", "--format", "json"],
            extra,
        ]
        .concat();
        versions(&json(&run(&args)))
    };
    assert_eq!(list(&["--from", "47", "--to", "50"]), [48, 49, 50]);
    assert_eq!(list(&["--from", "0", "--limit", "2"]), [1, 2]);
    assert_eq!(list(&["--tail", "3"]), [67, 68, 69]);
    assert_eq!(list(&["--to", "10", "--tail", "2"]), [9, 10]);
    let reversed = run(&["events", &store, "acc-0003", "--from", "20", "--to", "10"]);
    assert_eq!(reversed.status.code(), Some(2));
    assert!(
        stderr(&reversed).contains("--from 20 comes after --to 10"),
        "{}",
        stderr(&reversed)
    );
    assert!(stdout(&reversed).is_empty());
    // A time is the state at that instant: v50 is the first event after midnight.
    assert_eq!(list(&["--from", "2026-02-11", "--limit", "1"]), [50]);
    assert_eq!(
        list(&[
            "--where",
            "$event.type == \"Withdrawn\"",
            "--from",
            "40",
            "--limit",
            "2"
        ]),
        [43, 44]
    );
    let table = stdout(&run(&["events", &demo(), "acc-0003", "--tail", "1"]));
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .trim_start()
            .starts_with("69  evt-"),
        "{table}"
    );
    let err = bad_input(&["events", &demo(), "acc-0003", "--from", "500"]);
    assert!(err.contains("no version 500"), "{err}");
    let err = bad_input(&["events", &demo(), "acc-0003", "--from", "soon"]);
    assert!(err.contains("--from: \"soon\" is not a position"), "{err}");
}

#[test]
fn follow_with_tail_prints_the_last_few_then_what_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.db");
    std::fs::copy(demo_store(), &store).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args([
            "events",
            store.to_str().unwrap(),
            "acc-0003",
            "--follow",
            "--tail",
            "2",
        ])
        .args(["--format", "json", "--interval", "0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = support::stdout_lines(&mut child);
    let next = || -> Value {
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("a line");
        serde_json::from_str(&line).unwrap()
    };
    assert_eq!(
        (next()["version"].clone(), next()["version"].clone()),
        (json!(68), json!(69))
    );
    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute(
        "INSERT INTO events VALUES ('evt-new', 'acc-0003', 'account', 'Deposited', '{}',
                 NULL, 70, '2026-03-01T00:00:00Z')",
        [],
    )
    .unwrap();
    let appended = next();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(appended["version"], 70);
}

/// A store whose schema needs a mapping, and the mapping kept in rewind.toml.
fn mapped_store() -> Store {
    Store::with_schema(
        "CREATE TABLE domain_events(msg TEXT, stream TEXT, kind TEXT, body TEXT, seq INTEGER, at TEXT);
         INSERT INTO domain_events VALUES ('m-1', 's-1', 'Opened', '{\"n\":1}', 1, '2026-01-15T10:00:00Z');
         INSERT INTO domain_events VALUES ('m-2', 's-1', 'Bumped', '{\"n\":2}', 2, '2026-01-15T11:00:00Z');",
    )
}

const MAPPING: &str = "[sqlite.events]\ntable = \"domain_events\"\naggregate_id = \"stream\"\n\
    aggregate_type = \"\"\nevent_type = \"kind\"\nevent_data = \"body\"\nmetadata = \"\"\n\
    version = \"seq\"\ntimestamp = \"at\"\nevent_id = \"msg\"\n\n[sqlite.snapshots]\ntable = \"\"\n";

/// rewind with no config of the user's own: a fresh HOME and config directory.
fn isolated(cwd: &std::path::Path, home: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = rewind();
    cmd.current_dir(cwd)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME");
    cmd
}

#[test]
fn rewind_toml_is_found_in_the_current_then_the_user_config_directory() {
    let store = mapped_store();
    let (work, home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let events_with = |cmd: &mut assert_cmd::Command, extra: &[&str]| {
        let output = cmd
            .args(["events", &store.arg(), "s-1", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        (output.status.code(), stdout(&output), stderr(&output))
    };
    let events = |cmd: &mut assert_cmd::Command| events_with(cmd, &[]);
    let (code, _, err) = events(&mut isolated(work.path(), home.path()));
    assert_eq!(code, Some(2));
    assert!(err.contains("no table \"events\""), "{err}");

    let user = home.path().join(".config/rewind");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(user.join("rewind.toml"), MAPPING).unwrap();
    let (code, out, err) = events(&mut isolated(work.path(), home.path()));
    assert_eq!(code, Some(0), "{err}");
    let found: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(versions(&found), [1, 2]);

    let xdg = tempfile::tempdir().unwrap();
    let (code, _, _) =
        events(isolated(work.path(), home.path()).env("XDG_CONFIG_HOME", xdg.path()));
    assert_eq!(code, Some(2), "XDG_CONFIG_HOME replaces ~/.config");

    // The current directory's file wins over the user's, and --config over both.
    std::fs::write(
        work.path().join("rewind.toml"),
        "[sqlite.events]\ntable = \"nope\"\n",
    )
    .unwrap();
    let (code, _, err) = events(&mut isolated(work.path(), home.path()));
    assert_eq!(code, Some(2));
    assert!(err.contains("\"nope\""), "{err}");
    let explicit = user.join("rewind.toml");
    let (code, _, err) = events_with(
        &mut isolated(work.path(), home.path()),
        &["--config", &explicit.to_string_lossy()],
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn state_with_position_says_what_a_time_resolved_to() {
    let line = stdout(&run(&[
        "state",
        &demo(),
        "acc-0003",
        "--at",
        "2026-02-11T12:00:00Z",
        "--format",
        "json",
        "--with-position",
    ]));
    assert_eq!(line.lines().count(), 1, "{line}");
    let found: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(found["version"], 50);
    assert_eq!(found["events"], 50);
    assert_eq!(found["timestamp"], "2026-02-11T10:13:00Z");
    assert!(found["position"].is_i64(), "{found}");
    assert!(
        found["event_id"].as_str().unwrap().starts_with("evt-"),
        "{found}"
    );
    assert_eq!(found["state"]["balance"], json!(1829.39));
    let plain = json(&run(&[
        "state",
        &demo(),
        "acc-0003",
        "--at-version",
        "50",
        "--format",
        "json",
    ]));
    assert_eq!(found["state"], plain);
    let empty: Value = serde_json::from_str(&stdout(&run(&[
        "state",
        &demo(),
        "acc-0003",
        "--at-version",
        "0",
        "--format",
        "json",
        "--with-position",
    ])))
    .unwrap();
    assert_eq!(
        (
            empty["version"].clone(),
            empty["timestamp"].clone(),
            empty["state"].clone()
        ),
        (json!(0), Value::Null, Value::Null)
    );
    let err = bad_input(&["state", &demo(), "acc-0003", "--with-position"]);
    assert!(
        err.contains("--with-position is for --format json"),
        "{err}"
    );
}

#[test]
fn event_ids_are_shown_and_mappable() {
    let events = json(&run(&[
        "events",
        &demo(),
        "acc-0003",
        "--format",
        "json",
        "--limit",
        "1",
    ]));
    assert_eq!(events[0]["event_id"], "evt-000208");
    let store = mapped_store();
    let config = store.dir.path().join("mapping.toml");
    std::fs::write(&config, MAPPING.replace("event_id = \"msg\"\n", "")).unwrap();
    let (source, config_arg) = (store.arg(), config.to_string_lossy().into_owned());
    let mapped = |extra: &[&str]| {
        let args = [
            &[
                "events",
                source.as_str(),
                "s-1",
                "--config",
                config_arg.as_str(),
            ],
            extra,
        ]
        .concat();
        run(&args)
    };
    let json_of = |extra: &[&str]| json(&mapped(&[extra, &["--format", "json"]].concat()));
    assert_eq!(json_of(&[])[0]["event_id"], Value::Null);
    let with_ids = json_of(&["--map", "events.event_id=msg"]);
    assert_eq!(
        (
            with_ids[0]["event_id"].clone(),
            with_ids[1]["event_id"].clone()
        ),
        (json!("m-1"), json!("m-2"))
    );
    let table = stdout(&mapped(&["--map", "events.event_id=msg"]));
    assert!(table.starts_with("VERSION  EVENT ID  TIMESTAMP"), "{table}");
    assert!(
        table.contains("      1  m-1       2026-01-15T10:00:00Z"),
        "{table}"
    );
    let without = stdout(&mapped(&[]));
    assert!(without.starts_with("VERSION  TIMESTAMP"), "{without}");
    let err = bad_input(&[
        "events",
        &store.arg(),
        "s-1",
        "--config",
        &config.to_string_lossy(),
        "--map",
        "events.event_id=nope",
    ]);
    assert!(err.contains("no column \"nope\" for event_id"), "{err}");
}
