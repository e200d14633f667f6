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
    let tmux = Tmux::start("panic", &format!("sh -c {}", sh_quote(&script)));
    tmux.wait_for(&["58 of 58"]);
    assert!(tmux.alternate_on(), "the UI runs in the alternate screen");

    // Opening an aggregate folds its events with the (panicking) reducer on the UI thread.
    tmux.keys(&["Enter"]);
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
