//! Hostile files: transcripts whose header lies about its size, FIFOs, devices, /proc files
//! and pipes named as sources. Each is one clear line and exit 2, in bounded time and
//! memory (memory-bound cases run under `prlimit --as`, never by exhausting the machine).

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{rewind, stderr, Store};

/// A small store and its JSONL transcript, as text.
fn transcript_text() -> String {
    let mut store = Store::native();
    store.event(
        "acc-1",
        1,
        "Opened",
        r#"{"balance": 0}"#,
        "2026-01-01T10:00:00Z",
    );
    store.event(
        "acc-1",
        2,
        "Deposited",
        r#"{"balance": 5}"#,
        "2026-01-01T11:00:00Z",
    );
    let output = rewind()
        .args(["export", &store.arg(), "acc-1", "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// rewind under an address-space limit, so a runaway allocation fails instead of swapping.
fn limited(args: &[&str]) -> std::process::Output {
    support::under_address_limit(2_000_000_000)
        .args(args)
        .output()
        .expect("prlimit runs")
}

fn one_line_error(output: &std::process::Output) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    err
}

/// A transcript that is one endless line (here 1.1 GB of NUL bytes, a sparse file that
/// takes no disk) is refused at the line limit with one line, under an address-space limit
/// it would have exceeded had the line been read whole.
#[test]
fn one_endless_line_is_refused_at_the_line_limit_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // As the first line, and after a header line (the line buffer then starts the long
    // line from what the header left it).
    let header = transcript_text().lines().next().unwrap().to_string() + "\n";
    for first in ["", header.as_str()] {
        let path = dir.path().join("endless.jsonl");
        std::fs::write(&path, first).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(1100 << 20).unwrap();
        drop(file);
        let output = support::under_address_limit(1_000_000_000)
            .args(["aggregates", &path.to_string_lossy()])
            .output()
            .expect("prlimit runs");
        let err = one_line_error(&output);
        let line = if first.is_empty() { "line 1" } else { "line 2" };
        assert!(
            err.contains("longer than 256 MiB") && err.contains(line),
            "{err}"
        );
    }
}

#[test]
fn a_header_announcing_huge_step_counts_is_an_error_not_an_allocation() {
    let good = transcript_text();
    assert!(good.len() < 2000, "a small file: {} bytes", good.len());
    let dir = tempfile::tempdir().unwrap();
    for steps in [
        "1000000000000000000",
        "1099511627776",
        "18446744073709551615",
    ] {
        let lying = good.replacen("\"steps\":2,", &format!("\"steps\":{steps},"), 1);
        assert_ne!(lying, good);
        let path = dir.path().join(format!("lying-{steps}.jsonl"));
        std::fs::write(&path, &lying).unwrap();
        let err = one_line_error(&limited(&["aggregates", &path.to_string_lossy()]));
        assert!(
            err.contains(&format!(
                "the header announces {steps} steps but the file has 2"
            )),
            "{err}"
        );
    }
}

#[test]
fn devices_and_proc_files_are_refused_at_once() {
    for (source, expected) in [
        (
            "/dev/zero",
            "/dev/zero is a character device; give a regular file",
        ),
        ("transcript:/dev/zero", "/dev/zero is a character device"),
        ("sqlite:/dev/urandom", "/dev/urandom is a character device"),
        ("/proc/self/mem", "is not a regular file on disk"),
        (
            "transcript:/proc/self/status",
            "is not a regular file on disk",
        ),
    ] {
        let started = Instant::now();
        let err = one_line_error(&limited(&["aggregates", source]));
        assert!(err.contains(expected), "{source}: {err}");
        assert!(!err.contains("empty (0 bytes)"), "{source}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{source} took long"
        );
    }
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("store.db");
    // A FIFO named like a transcript too: its name makes it one, as a file's would.
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .arg(dir.path().join("store.db.jsonl"))
        .status()
        .unwrap();
    assert!(made.success());
    let fifo = fifo.to_string_lossy().into_owned();
    for (source, needs) in [
        (fifo.clone(), "SQLite stores need random access"),
        (
            format!("transcript:{fifo}"),
            "transcripts need random access",
        ),
        (format!("sqlite:{fifo}"), "SQLite stores need random access"),
        (format!("{fifo}.jsonl"), "transcripts need random access"),
    ] {
        // A timeout turns a hang into a failure: opening a FIFO blocks until a writer comes.
        let output = Command::new("timeout")
            .args(["20", env!("CARGO_BIN_EXE_rewind"), "aggregates", &source])
            .output()
            .unwrap();
        let err = one_line_error(&output);
        assert!(
            err.contains(&format!("is a FIFO; give a regular file ({needs})")),
            "{source}: {err}"
        );
        if needs.starts_with("transcripts") {
            // A transcript is not a SQLite store: the message names what was asked for.
            assert!(!err.contains("SQLite"), "{source}: {err}");
        }
    }
}

#[test]
fn a_process_substitution_gets_a_hint_to_copy_it_to_a_file() {
    let demo = support::demo_store();
    let script = format!(
        "exec {} aggregates <(cat {})",
        env!("CARGO_BIN_EXE_rewind"),
        demo.display()
    );
    let output = Command::new("timeout")
        .args(["20", "bash", "-c", &script])
        .output()
        .unwrap();
    let err = one_line_error(&output);
    assert!(err.contains("is a pipe (process substitution?)"), "{err}");
    assert!(err.contains("copy it to a file first"), "{err}");
}

#[test]
fn a_transcript_past_the_size_cap_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.jsonl");
    // Sparse: 65 GiB claimed, nothing written.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(65 << 30).unwrap();
    drop(file);
    let err = one_line_error(&limited(&["aggregates", &path.to_string_lossy()]));
    assert!(err.contains("is larger than 64 GiB"), "{err}");
}
