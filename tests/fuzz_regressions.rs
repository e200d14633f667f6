//! Inputs the fuzzers found (fuzz/regressions/TARGET/*), replayed on every test run.

use std::path::Path;

fn replay(target: &str, check: impl Fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        check(&bytes);
    }
}

fn text(check: fn(&str)) -> impl Fn(&[u8]) {
    move |bytes| {
        if let Ok(text) = std::str::from_utf8(bytes) {
            check(text);
        }
    }
}

#[test]
fn payload_regressions() {
    replay("payload", rewind::fuzzing::payload);
}

#[test]
fn json_path_regressions() {
    replay("json_path", text(rewind::fuzzing::json_path));
}

#[test]
fn position_regressions() {
    replay("position", text(rewind::fuzzing::position));
}

#[test]
fn transcript_regressions() {
    replay("transcript", rewind::fuzzing::transcript);
}

#[test]
fn terminal_output_regressions() {
    replay("terminal_output", text(rewind::fuzzing::terminal_output));
}

#[test]
fn hostile_jq_regressions() {
    replay("hostile_jq", rewind::fuzzing::hostile_jq);
}
