//! The terminal is always given back: after a panic inside the UI (raw mode, alternate
//! screen), on a terminal too small to draw in, and live follow sees rows another process
//! appends. Runs the real binary in tmux (tests/support/tmux.rs).

mod support;

use support::tmux::{sh_quote, shell_command, tmux_available, Tmux};
use support::Store;

/// `stty -a` flags, as words (`icanon`, `-icanon`, `echo`, …).
fn stty_flags(screen: &str) -> Vec<&str> {
    screen.split_whitespace().collect()
}

#[test]
fn a_panic_inside_the_ui_restores_the_terminal_and_prints_one_line() {
    if !tmux_available() {
        return;
    }
    if !cfg!(debug_assertions) {
        // The trigger (REWIND_TEST_PANIC) exists in debug builds only.
        eprintln!("release build: the test-only panic trigger is compiled out; skipping");
        return;
    }
    let script = format!(
        "REWIND_TEST_PANIC=1 RUST_BACKTRACE=0 {} demo; echo rewind exited $?; stty -a; sleep 60",
        sh_quote(env!("CARGO_BIN_EXE_rewind"))
    );
    // Once the list is in, the health column folds every aggregate with the (panicking)
    // reducer in the background: the panic comes while the UI holds the terminal.
    let tmux = Tmux::start("panic", &format!("sh -c {}", sh_quote(&script)));
    let screen = tmux.wait_for(&["rewind exited", "speed"]);

    assert!(
        !tmux.alternate_on(),
        "still in the alternate screen:\n{screen}"
    );
    assert!(
        screen.contains("rewind exited 101"),
        "a panic exits with 101:\n{screen}"
    );
    let before_exit: Vec<&str> = screen
        .lines()
        .take_while(|l| !l.contains("rewind exited"))
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        before_exit.len(),
        1,
        "one line, nothing left of the UI:\n{screen}"
    );
    assert!(
        before_exit[0].starts_with("rewind: internal error (a bug in rewind, please report it): ")
            && before_exit[0]
                .contains("REWIND_TEST_PANIC is set (a second line) at src/cli/panic.rs:"),
        "{screen}"
    );
    let flags = stty_flags(&screen);
    for restored in ["icanon", "echo", "isig"] {
        assert!(
            flags.contains(&restored) && !flags.contains(&format!("-{restored}").as_str()),
            "stty shows {restored} not restored:\n{screen}"
        );
    }
}

#[test]
fn a_terminal_too_small_says_enlarge_and_quits_cleanly() {
    if !tmux_available() {
        return;
    }
    let tmux = Tmux::start_sized("tiny30x8", &shell_command("demo"), 30, 8);
    tmux.wait_for(&["Terminal too small", "30×8", "enlarge"]);
    tmux.keys(&["C-c"]);
    tmux.wait_for(&["rewind exited 0"]);
    assert!(!tmux.alternate_on());
}

#[test]
fn follow_mode_shows_rows_another_process_appends() {
    if !tmux_available() {
        return;
    }
    let mut store = Store::native();
    for v in 1..=3 {
        store.event(
            "acc",
            v,
            "Counted",
            &format!(r#"{{"n": {v}}}"#),
            "2026-01-15T10:00:00Z",
        );
    }
    let tmux = Tmux::start("follow", &shell_command(&sh_quote(&store.arg())));
    tmux.wait_for(&["acc", "1 of 1"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["acc · account", "/3"]);
    tmux.keys(&["f"]);
    tmux.wait_for(&["following"]);

    // The test process writes while rewind reads: a committed row shows up, whole.
    store.event(
        "acc",
        4,
        "LateArrival",
        r#"{"n": 4}"#,
        "2026-01-15T11:00:00Z",
    );
    tmux.wait_for(&["LateArrival", "/4"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_filter_that_overflows_the_stack_is_an_error_and_the_ui_goes_on() {
    if !tmux_available() {
        return;
    }
    // A jq budget no other test uses marks this UI's workers.
    let (budget, marker) = ("91", (91u64 << 20).to_string());
    let workers = || support::processes_with(&["__jq-worker", &marker]);
    let script = format!(
        // A limit a loaded machine's stack overflow comes well inside.
        "{} demo --jq-timeout 2 --jq-memory {budget}; echo rewind exited $?; stty -a; sleep 60",
        sh_quote(env!("CARGO_BIN_EXE_rewind"))
    );
    // Wide enough for the whole status line, error included.
    let command = format!("sh -c {}", sh_quote(&script));
    let tmux = Tmux::start_sized("overflow", &command, 320, 45);
    tmux.wait_for(&["58 of 58"]);
    // The demo's invariant keeps its one worker, idle, for the health column (worked out
    // once the title stops counting): the filters' workers are the others.
    tmux.wait_until_gone(&["health "]);
    let idle = workers();
    assert_eq!(idle.len(), 1, "{idle:?}");
    tmux.keys(&["/", "acc-0007", "Enter", "Enter"]);
    // An aggregate opens at its latest event.
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);

    tmux.keys(&["/", "(def f: [f]; f)", "Enter"]);
    tmux.wait_for_within(
        std::time::Duration::from_secs(60),
        &["the filter failed on 49 event(s)", "stack overflow"],
    );
    assert!(tmux.alternate_on(), "the UI still runs");
    // Still answering keys.
    tmux.keys(&["Escape", "End"]);
    tmux.wait_for(&["v49/49"]);

    // A filter that eats memory is stopped at the budget; the UI itself stays small.
    tmux.keys(&["/", "([range(1e9)] | length > 0)", "Enter"]);
    tmux.wait_for_within(
        std::time::Duration::from_secs(60),
        &[
            "the filter failed on 49 event(s)",
            "exceeded the jq memory budget of 91 MB",
        ],
    );
    let ui = support::processes_with(&["demo", "--jq-memory", budget]);
    assert_eq!(ui.len(), 1, "the UI's process: {ui:?}");
    let rss_mb = support::rss_kb(ui[0]) / 1024;
    assert!(rss_mb < 200, "the UI holds {rss_mb} MB");
    let started = std::time::Instant::now();
    while workers() != idle && started.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(workers(), idle, "a stopped worker is gone");
    tmux.keys(&["Escape"]);

    // A filter that never ends is stopped, and nothing of it keeps running in the open UI.
    tmux.keys(&["/", "(def f: f; f)", "Enter"]);
    tmux.wait_for_within(
        std::time::Duration::from_secs(60),
        &["the filter failed on 49 event(s)", "limit and was stopped"],
    );
    let ui = support::processes_with(&["demo", "--jq-memory", budget]);
    assert_eq!(ui.len(), 1, "the UI's process: {ui:?}");
    let before = support::cpu_seconds(ui[0]);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let spent = support::cpu_seconds(ui[0]) - before;
    assert!(spent < 0.3, "the UI used {spent} CPU seconds while idle");
    assert_eq!(workers(), idle, "workers left running");

    // Clear the event filter, back to the list, clear its filter, quit.
    tmux.keys(&["Escape", "q", "q", "q"]);
    let screen = tmux.wait_for(&["rewind exited 0", "speed"]);
    assert!(
        !tmux.alternate_on(),
        "still in the alternate screen:\n{screen}"
    );
    let flags = stty_flags(&screen);
    for restored in ["icanon", "echo", "isig"] {
        assert!(
            flags.contains(&restored) && !flags.contains(&format!("-{restored}").as_str()),
            "stty shows {restored} not restored:\n{screen}"
        );
    }
    assert_eq!(workers(), Vec::<u32>::new(), "workers outlived the UI");
}
