//! Hostile input never reaches the terminal raw: a shared transcript and a store whose ids,
//! types and payloads carry escape sequences, C1 controls, bidi overrides and zero-width
//! characters are run through every command and format; nothing they print holds one
//! (bar `\n`), JSON output still parses to the same strings, and error lines stay one
//! bounded line.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use rusqlite::params;
use serde_json::{json, Value};
use support::{bad_input, demo_store, rewind, stderr, stdout, Store};

/// The reducer name of the issue's transcript: retitles the window, writes the clipboard,
/// clears the screen and prints a forged verdict over the real one.
const FORGED: &str = "merge\u{1b}]0;PWNED\u{7}\u{1b}]52;c;ZWNobyBwd25lZAo=\u{7}\u{1b}[2J\u{1b}[1;1HAll snapshots agree.";

/// One character of every unsafe class: C0 (ESC, BEL, CR, TAB), DEL, C1 (CSI, NEL), bidi
/// overrides and isolates, the Arabic letter mark, LRM, and the invisible zero-widths.
const EVIL: &str = "evil\u{1b}]0;t\u{7}\r\t\u{7f}\u{9b}31m\u{85}\u{202e}\u{2066}\u{61c}\u{200e}\u{200b}\u{2060}\u{feff}-id";

const EVIL_TYPE: &str = "Opened\u{1b}[31m\u{9b}\u{202d}";

/// An undecodable payload: copied into transcripts, where it used to be copied raw.
const RAW_PAYLOAD: &str = "not json \u{1b}]0;PWNED\u{7}\u{9b}2J\u{202e}";

/// An oracle independent of the code under test: what a terminal must never receive.
fn unsafe_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(
                    c,
                    '\u{80}'..='\u{9f}'
                        | '\u{202a}'..='\u{202e}'
                        | '\u{2066}'..='\u{2069}'
                        | '\u{61c}'
                        | '\u{200b}'
                        | '\u{200e}'
                        | '\u{200f}'
                        | '\u{2060}'
                        | '\u{feff}'
                )
        })
        .collect()
}

/// Runs rewind and checks that neither stdout nor stderr carries an unsafe character.
fn safe_run(args: &[&str]) -> Output {
    let output = rewind().args(args).output().unwrap();
    for (name, text) in [("stdout", stdout(&output)), ("stderr", stderr(&output))] {
        assert_eq!(
            unsafe_chars(&text),
            Vec::<char>::new(),
            "{args:?} {name}: {text:?}"
        );
    }
    assert!(!stderr(&output).contains("panicked"), "{args:?}");
    output
}

fn ok(args: &[&str]) -> String {
    let output = safe_run(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stderr(&output)
    );
    stdout(&output)
}

fn ok_json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap_or_else(|err| panic!("{args:?}: {err}"))
}

/// The issue's transcript: demo acc-0003 as JSON Lines, the header's reducer replaced.
fn forged_transcript(dir: &Path) -> PathBuf {
    let path = dir.join("t.jsonl");
    let demo = demo_store();
    let arg = path.to_string_lossy().into_owned();
    ok(&[
        "export",
        &demo.to_string_lossy(),
        "acc-0003",
        "--format",
        "jsonl",
        "-o",
        &arg,
    ]);
    let text = std::fs::read_to_string(&path).unwrap();
    // Edited as text: the format wants its marker key first, and a Value sorts keys.
    let forged = format!("\"reducer\":{}", Value::from(FORGED));
    assert!(text.contains("\"reducer\":\"merge\""));
    std::fs::write(&path, text.replacen("\"reducer\":\"merge\"", &forged, 1)).unwrap();
    path
}

#[test]
fn a_forged_reducer_name_in_a_transcript_is_shown_escaped_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = forged_transcript(dir.path());
    let arg = transcript.to_string_lossy().into_owned();

    let table = safe_run(&["verify", &arg]);
    assert_eq!(
        table.status.code(),
        Some(1),
        "acc-0003 has a drifting snapshot"
    );
    let text = stdout(&table);
    assert!(
        text.contains("with the merge\\u{1b}]0;PWNED\\u{7}\\u{1b}]52;c;"),
        "{text}"
    );
    // The forged verdict is on the same line as the real one, after the visible escapes.
    let verdict = text.lines().last().unwrap();
    assert!(
        verdict.ends_with("All snapshots agree. reducer: 1 drifts"),
        "{verdict}"
    );

    let json = safe_run(&["verify", &arg, "--format", "json"]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["reducer"], FORGED);
    assert!(stdout(&json).contains("\\u001b]0;PWNED\\u0007"));
}

#[test]
fn every_command_on_the_forged_transcript_is_terminal_safe() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = forged_transcript(dir.path());
    let t = transcript.to_string_lossy().into_owned();
    let t = t.as_str();
    ok(&["aggregates", t]);
    ok(&["state", t, "acc-0003"]);
    ok(&["events", t, "acc-0003"]);
    ok(&["diff", t, "acc-0003"]);
    ok(&["blame", t, "acc-0003", ".balance"]);
    for format in ["md", "html"] {
        let text = ok(&["export", t, "acc-0003", "--format", format]);
        assert!(
            text.contains("merge\\u{1b}]0;PWNED"),
            "{format}: the header names it"
        );
    }
    let jsonl = ok(&["export", t, "acc-0003", "--format", "jsonl"]);
    let header: Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(header["reducer"], FORGED, "the value survives a round trip");
}

/// A store whose id, types, payloads and snapshot carry every unsafe class.
fn hostile_store() -> Store {
    let store = Store::native();
    let insert = |version: i64, kind: &str, data: &str| {
        store
            .conn
            .execute(
                "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    format!("e{version}"),
                    EVIL,
                    EVIL_TYPE,
                    kind,
                    data,
                    json!({"by": EVIL}).to_string(),
                    version,
                    format!("2026-01-15T10:0{version}:00Z")
                ],
            )
            .unwrap();
    };
    // serde_json writes C0 as escapes and C1, bidi and zero-width raw: both kinds get in.
    let opened = json!({"owner": EVIL, EVIL: 1, "limits": {"daily": 1}}).to_string();
    insert(1, EVIL_TYPE, &opened);
    insert(
        2,
        "Renamed\u{202e}",
        &json!({"owner": format!("new {EVIL}")}).to_string(),
    );
    insert(3, "Broken\u{1b}[2J", RAW_PAYLOAD);
    insert(4, "Raised", r#"{"limits": {"daily": 5}}"#);
    store.snapshot(
        EVIL,
        2,
        &json!({"owner": format!("stored {EVIL}")}).to_string(),
    );
    store
}

#[test]
fn every_command_and_format_on_a_hostile_store_is_terminal_safe() {
    let store = hostile_store();
    let s = store.arg();
    let s = s.as_str();

    let table = ok(&["aggregates", s]);
    assert!(
        table.contains("evil\\u{1b}]0;t\\u{7}\\r\\t\\u{7f}\\u{9b}31m"),
        "{table}"
    );
    assert_eq!(
        ok_json(&["aggregates", s, "--format", "json"])[0]["id"],
        EVIL
    );

    let events = ok(&["events", s, EVIL]);
    assert_eq!(events.lines().count(), 5, "one row per event: {events}");
    let listed = ok_json(&["events", s, EVIL, "--format", "json"]);
    assert_eq!(listed[0]["type"], EVIL_TYPE);
    assert_eq!(listed[0]["data"][EVIL], 1);
    assert_eq!(listed[0]["metadata"]["by"], EVIL);
    assert_eq!(listed[2]["raw"], RAW_PAYLOAD);

    let pretty = ok(&["state", s, EVIL]);
    assert!(pretty.starts_with("# evil\\u{1b}]0;t"), "{pretty}");
    let state = ok_json(&["state", s, EVIL, "--format", "json"]);
    assert_eq!(state["owner"], format!("new {EVIL}"));
    assert_eq!(state[EVIL], 1);

    let unified = ok(&["diff", s, EVIL, "--from", "1"]);
    assert!(unified.starts_with("--- evil\\u{1b}]0;t"), "{unified}");
    let diff = ok_json(&["diff", s, EVIL, "--format", "json"]);
    assert_eq!(diff["aggregate"], EVIL);
    let patch: json_patch::Patch =
        serde_json::from_value(ok_json(&["diff", s, EVIL, "--format", "patch"])).unwrap();
    let mut patched = Value::Null;
    json_patch::patch(&mut patched, &patch).unwrap();
    assert_eq!(
        patched, state,
        "the patch holds the hostile keys and values exactly"
    );

    ok(&["blame", s, EVIL, ".owner"]);
    let blame = ok_json(&["blame", s, EVIL, ".owner", "--format", "json"]);
    assert_eq!(blame[1]["new"], format!("new {EVIL}"));

    let bisect = ok(&["bisect", s, EVIL, "--until", ".limits.daily == 5"]);
    assert!(bisect.contains("Raised"), "{bisect}");
    let found = ok_json(&[
        "bisect",
        s,
        EVIL,
        "--until",
        ".owner != null",
        "--format",
        "json",
    ]);
    assert_eq!(found["type"], EVIL_TYPE);

    let verify = safe_run(&["verify", s]);
    assert_eq!(verify.status.code(), Some(1), "the snapshot at v2 drifts");
    let verify = safe_run(&["verify", s, "--format", "json"]);
    let report: Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["mismatches"][0]["aggregate"], EVIL);
    let differences = report["mismatches"][0]["differences"].as_array().unwrap();
    assert!(
        differences
            .iter()
            .any(|d| d["expected"] == format!("stored {EVIL}")),
        "{differences:?}"
    );
}

#[test]
fn transcripts_of_a_hostile_store_show_stand_ins_on_stdout_and_in_files() {
    let store = hostile_store();
    let s = store.arg();
    let dir = tempfile::tempdir().unwrap();
    for format in ["md", "html", "jsonl"] {
        let printed = ok(&["export", &s, EVIL, "--format", format, "--with-state"]);
        let file = dir.path().join(format!("t.{format}"));
        let arg = file.to_string_lossy().into_owned();
        ok(&["export", &s, EVIL, "-o", &arg, "--with-state"]);
        let written = std::fs::read_to_string(&file).unwrap();
        for text in [&printed, &written] {
            assert_eq!(unsafe_chars(text), Vec::<char>::new(), "{format}: {text}");
        }
        if format == "jsonl" {
            // Still a transcript of the same values: it opens and lists the same id.
            let listed = ok_json(&["aggregates", &arg, "--format", "json"]);
            assert_eq!(listed[0]["id"], EVIL);
            let steps: Vec<Value> = written
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(steps[3]["raw"], RAW_PAYLOAD);
        } else {
            assert!(
                written.contains("not json \\u{1b}]0;PWNED\\u{7}\\u{9b}2J\\u{202e}"),
                "{format}: the raw payload is shown with stand-ins"
            );
        }
    }
    let html = std::fs::read_to_string(dir.path().join("t.html")).unwrap();
    assert!(
        html.contains("<title>rewind transcript: evil\\u{1b}]0;t\\u{7}\\r\\t"),
        "{html}"
    );
}

/// Ids that differ only by a joiner: the table keeps joiners (they join emoji and Persian
/// or Indic letters), JSON writes them as `\u` escapes, so the ids differ where JSON is
/// read and still parse back to the very ids.
#[test]
fn joiners_are_escaped_in_json_output() {
    let mut store = Store::native();
    let ids = ["acc-0001", "acc\u{200d}-0001", "acc-\u{200c}0001"];
    for id in ids {
        store.event(id, 1, "Opened", "{}", "2026-01-01T10:00:00Z");
    }
    let output = safe_run(&["aggregates", &store.arg(), "--format", "json"]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(!text.contains(['\u{200c}', '\u{200d}']), "{text}");
    assert!(text.contains(r#""acc\u200d-0001""#), "{text}");
    assert!(text.contains(r#""acc-\u200c0001""#), "{text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    let mut back: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    back.sort_unstable();
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    assert_eq!(back, wanted);
}

#[test]
fn followed_events_as_json_lines_are_escaped_and_parse() {
    let store = hostile_store();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", &store.arg(), EVIL, "--follow", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = support::stdout_lines(&mut child);
    let lines: Vec<String> = (0..4)
        .map(|_| rx.recv_timeout(Duration::from_secs(20)).expect("a line"))
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    for line in &lines {
        assert_eq!(unsafe_chars(line), Vec::<char>::new(), "{line}");
    }
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["type"], EVIL_TYPE);
    assert_eq!(first["data"]["owner"], EVIL);
}

/// A store with one event whose state is `size` bytes of one string.
fn big_state_store(size: usize) -> Store {
    let mut store = Store::native();
    let data = json!({"blob": "b".repeat(size)}).to_string();
    store.event("big", 1, "Filled", &data, "2026-01-15T10:00:00Z");
    store
}

fn assert_bounded_line(text: &str) {
    assert_eq!(
        text.lines().count(),
        1,
        "{:?}",
        &text[..text.len().min(300)]
    );
    assert!(text.len() < 5000, "a {}-byte line", text.len());
    assert!(text.contains(" more bytes)"), "{text}");
    assert_eq!(unsafe_chars(text.trim_end()), Vec::<char>::new());
}

#[test]
fn a_jq_error_quoting_a_huge_state_prints_a_bounded_line() {
    let store = big_state_store(5 << 20);
    for args in [
        vec!["events", "--where", "error(.)"],
        vec!["bisect", "--until", "error(.)"],
    ] {
        let mut full = vec![args[0], store.path.to_str().unwrap(), "big"];
        full.extend(&args[1..]);
        let output = safe_run(&full);
        let err = stderr(&output);
        assert!(err.starts_with("rewind: "), "{err}");
        assert_bounded_line(&err);
        // The words after the quoted state survive the cut.
        assert!(err.trim_end().ends_with("more bytes))"), "{args:?}: {err}");
    }
}

#[test]
fn a_huge_hostile_id_in_an_error_is_one_bounded_safe_line() {
    let store = hostile_store();
    let id = format!("nope{}", "\u{1b}[2J\u{202e}x".repeat(10_000));
    let err = bad_input(&["state", &store.arg(), &id]);
    assert_bounded_line(&err);
}

#[test]
fn an_io_error_names_its_cause_once() {
    // A file in a folder that does not exist: the write fails with ENOENT.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no-such-folder").join("t.md");
    let demo = demo_store();
    let err = bad_input(&[
        "export",
        &demo.to_string_lossy(),
        "acc-0003",
        "-o",
        &target.to_string_lossy(),
    ]);
    let cause = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(err.matches(&cause).count(), 1, "{err}");
}

/// rewind under a pseudo-terminal (`script`, util-linux), as a person types it: clap strips
/// escapes when its output is not a terminal, so only a terminal shows what it would send.
fn at_a_terminal(args: &[&str]) -> (Option<i32>, String) {
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_rewind"))
        .chain(args.iter().copied())
        .map(support::tmux::sh_quote)
        .collect();
    let output = std::process::Command::new("script")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n");
    (output.status.code(), text)
}

#[test]
fn usage_errors_quote_what_was_typed_terminal_safe() {
    let demo = demo_store().to_string_lossy().into_owned();
    let format = format!("--format=x{FORGED}");
    let flag = format!("--bogus{EVIL}");
    for args in [
        vec!["state", &demo, "acc-0001", &format],
        vec![&flag],
        vec!["events", &demo, EVIL, "--limit", EVIL],
    ] {
        let (code, text) = at_a_terminal(&args);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert!(text.starts_with("error: "), "{text}");
        assert_eq!(
            unsafe_chars(&text),
            Vec::<char>::new(),
            "{args:?}: {text:?}"
        );
        assert!(
            text.contains("\\u{1b}"),
            "the escape shows as itself: {text}"
        );
    }
    // --help keeps clap's own rendering, and exits 0.
    let (code, text) = at_a_terminal(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(text.contains("Usage:"), "{text}");
}
