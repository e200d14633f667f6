//! Hostile jq programs against the real binary: a stack overflow, a runaway step, a memory
//! hog or a state too deep is one failed step, reported, never an abort; a stopped step is
//! killed with its worker process, and no worker outlives rewind.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{bad_input, cpu_seconds, demo_store, rewind, rss_kb, stderr, stdout};

fn demo() -> String {
    demo_store().to_string_lossy().into_owned()
}

/// Runs rewind with `args`: it must exit by itself (not by a signal) with `code`.
fn exits_with(args: &[&str], code: i32) -> (String, String) {
    let output = rewind().args(args).output().unwrap();
    exited_with(args, output, code)
}

/// As `exits_with`, for a step that is to fail by its depth bound: filling the worker's
/// 256 MB stack takes well under the default 1 s alone, but not always on a loaded machine
/// (CI ran into the time limit first), so time is taken out of the question.
fn overflows_with(args: &[&str], code: i32) -> (String, String) {
    let output = rewind()
        .args(args)
        .args(["--jq-timeout", "60"])
        .output()
        .unwrap();
    exited_with(args, output, code)
}

fn exited_with(args: &[&str], output: std::process::Output, code: i32) -> (String, String) {
    let (out, err) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    (out, err)
}

fn reducer_file(dir: &tempfile::TempDir, code: &str) -> String {
    let path = dir.path().join("reducer.jq");
    std::fs::write(&path, code).unwrap();
    path.to_string_lossy().into_owned()
}

/// Workers whose budget is `marker` (one no other test uses, so a test finds its own
/// workers even after they are orphaned).
fn workers_with(marker: &str) -> Vec<u32> {
    support::processes_with(&["__jq-worker", marker])
}

/// The `--memory` argument a worker gets for a budget of `mb` MiB.
fn marker(mb: u64) -> String {
    (mb << 20).to_string()
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn where_that_overflows_the_stack_prints_the_table_and_reports_the_step() {
    let (out, err) = overflows_with(
        &["events", &demo(), "acc-0001", "--where", "def f: [f]; f"],
        0,
    );
    assert!(out.starts_with("VERSION"), "the events table: {out}");
    assert!(
        err.contains("--where failed on 1500 events (first at v1: --where recursed too deeply (stack overflow)"),
        "{err}"
    );
}

#[test]
fn until_that_overflows_the_stack_is_a_failed_predicate_not_an_abort() {
    let (out, err) = overflows_with(
        &["bisect", &demo(), "acc-0001", "--until", "def f: [f]; f"],
        1,
    );
    assert!(out.contains("never became true"), "{out}");
    assert!(err.contains("stack overflow"), "{err}");
}

#[test]
fn reducers_that_overflow_the_stack_fail_their_steps() {
    let dir = tempfile::tempdir().unwrap();
    for code in ["def f: 1 + f; f", "def f: {a: f}; f | tojson"] {
        let reducer = reducer_file(&dir, code);
        let (out, err) = overflows_with(
            &[
                "state",
                &demo(),
                "acc-0001",
                "--reducer",
                &reducer,
                "--format",
                "json",
            ],
            0,
        );
        assert_eq!(out.trim(), "null", "{code}: no step applied");
        assert!(
            err.contains("reducer failed on 1500 events of acc-0001")
                && err.contains("(first at v1:")
                && err.contains("recursed too deeply (stack overflow)"),
            "{code}: {err}"
        );
        let (table, _) = overflows_with(&["events", &demo(), "acc-0001", "--reducer", &reducer], 0);
        assert!(table.contains("reducer failed"), "{table}");
    }
}

#[test]
fn a_reducer_returning_a_state_too_deep_fails_that_step_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let reducer = reducer_file(
        &dir,
        "if $event.version == 1 then reduce range(100000) as $i (null; {a: .}) \
         else (. // {}) | .events += 1 end",
    );
    let (out, err) = overflows_with(
        &[
            "state",
            &demo(),
            "acc-0001",
            "--reducer",
            &reducer,
            "--format",
            "json",
        ],
        0,
    );
    assert_eq!(out.trim(), r#"{"events":1499}"#);
    assert!(
        err.contains("reducer failed on 1 event of acc-0001")
            && err.contains("(first at v1: state nested deeper than 127 levels)"),
        "{err}"
    );
}

#[test]
fn a_step_past_the_memory_budget_is_stopped_and_named() {
    let started = Instant::now();
    let (out, err) = exits_with(
        &[
            "events",
            &demo(),
            "acc-0001",
            "--jq-memory",
            "32",
            "--jq-timeout",
            "120",
            "--where",
            "[range(1e9)] | length > 0",
        ],
        0,
    );
    assert!(out.starts_with("VERSION"), "{out}");
    assert!(
        err.contains("--where exceeded the jq memory budget of 32 MB and was stopped"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "stopped by memory, not time"
    );
}

#[test]
fn jq_memory_in_rewind_toml_sets_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rewind.toml");
    std::fs::write(&config, "jq_memory = 24\njq_timeout = 120\n").unwrap();
    let (_, err) = exits_with(
        &[
            "events",
            &demo(),
            "acc-0001",
            "--config",
            config.to_str().unwrap(),
            "--where",
            "[range(1e9)] | length > 0",
        ],
        0,
    );
    assert!(err.contains("jq memory budget of 24 MB"), "{err}");
}

#[test]
fn a_jq_memory_out_of_range_is_bad_input() {
    for mb in ["0", "15", "2000000"] {
        let err = bad_input(&[
            "events",
            &demo(),
            "acc-0001",
            "--jq-memory",
            mb,
            "--where",
            "true",
        ]);
        assert!(err.contains("out of range"), "{err}");
    }
}

#[test]
fn a_timed_out_step_is_killed_and_its_memory_released() {
    let budget = 97;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args([
            "events",
            &demo(),
            "acc-0001",
            "--follow",
            "--interval",
            "0.2",
        ])
        .args(["--jq-timeout", "0.3", "--jq-memory", &budget.to_string()])
        .args(["--where", "[range(1e9)] | length > 0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let lines = support::stdout_lines(&mut child);
    let header = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("the table's header");
    assert!(header.starts_with("VERSION"), "{header}");
    // Given up after three stops: the follow loop runs on with no worker and no busy thread.
    let settled = wait_until(Duration::from_secs(20), || {
        workers_with(&marker(budget)).is_empty()
    });
    let before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_seconds(pid) - before;
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    let rss = rss_kb(pid);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        settled,
        "a worker still runs: {:?}",
        workers_with(&marker(budget))
    );
    assert!(
        spent < 0.3,
        "rewind used {spent} CPU seconds in a second of following"
    );
    assert!(threads <= 2, "{threads} threads left running");
    assert!(rss < 200 * 1024, "rewind holds {rss} KiB");
}

#[test]
fn no_worker_outlives_rewind() {
    let budget = 93;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", &demo(), "acc-0001", "--jq-timeout", "3600"])
        .args(["--jq-memory", &budget.to_string(), "--where", "def f: f; f"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let spinning = wait_until(Duration::from_secs(20), || {
        !workers_with(&marker(budget)).is_empty()
    });
    assert!(spinning, "the worker started");
    // SIGKILL: rewind cannot clean up; the worker must notice on its own.
    let _ = child.kill();
    let _ = child.wait();
    let gone = wait_until(Duration::from_secs(5), || {
        workers_with(&marker(budget)).is_empty()
    });
    assert!(
        gone,
        "orphaned workers: {:?}",
        workers_with(&marker(budget))
    );
}

#[test]
fn a_missing_worker_executable_is_a_clear_error() {
    let output = rewind()
        .env("REWIND_JQ_WORKER_EXE", "/nonexistent/rewind")
        .args(["events", &demo(), "acc-0001", "--where", "true"])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("rewind: cannot run jq: cannot start the jq worker /nonexistent/rewind"),
        "{err}"
    );
}

#[test]
fn a_worker_claiming_a_huge_message_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake-worker");
    // Claims a 4 GiB frame, then sits there.
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf '\\377\\377\\377\\377'\nexec sleep 30\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let output = rewind()
        .env("REWIND_JQ_WORKER_EXE", &fake)
        .args(["events", &demo(), "acc-0001", "--where", "true"])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("over the") && err.contains("cap"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
