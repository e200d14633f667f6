//! Issue 15's daily-driver paths in a real terminal (tmux): the deep link
//! `rewind SOURCE AGGREGATE --at POS`, keeping your place, Esc that never leaves, readline
//! prompts, searching and copying from the detail pane, the message log.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.

mod support;

use support::tmux::{shell_command, tmux_available, Tmux};

fn demo_store() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db");
    support::tmux::sh_quote(&path.to_string_lossy())
}

#[test]
fn a_deep_link_opens_the_aggregate_there_and_a_reopened_aggregate_is_where_it_was_left() {
    if !tmux_available() {
        return;
    }
    let command = shell_command(&format!("{} acc-0007 --at 31", demo_store()));
    let tmux = Tmux::start("deep-link", &command);
    tmux.wait_for(&["acc-0007 · account", "v31/49", "state after v31"]);
    tmux.keys(&["a", ":", "40", "Enter"]);
    tmux.wait_for(&["v40/49"]);
    tmux.keys(&["Escape"]);
    tmux.wait_for(&["nothing to cancel; q goes back to the list", "v40/49"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["58 of 58"]);
    tmux.keys(&["Enter"]);
    // The list's cursor is on acc-0001: a fresh aggregate opens at its latest event…
    tmux.wait_for(&["acc-0001 · account", "v1500/1500"]);
    tmux.keys(&["q", "/", "acc-0007", "Enter", "Enter"]);
    // …and the one left earlier opens where it was, mark A included.
    tmux.wait_for(&["acc-0007 · account", "v40/49"]);
    tmux.keys(&["b", "c"]);
    tmux.wait_for(&["A v31 → B v40:"]);
    tmux.keys(&["q", "q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_deep_link_in_a_pipe_says_what_to_use_instead() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args([
            &format!("{}/demo-data/demo.db", env!("CARGO_MANIFEST_DIR")),
            "acc-0007",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("opens the terminal UI; in a script use `rewind state`"),
        "{stderr}"
    );
}

#[test]
fn prompts_edit_like_readline_and_recall_what_was_typed() {
    if !tmux_available() {
        return;
    }
    let command = shell_command(&format!("{} acc-0007", demo_store()));
    let tmux = Tmux::start("readline", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    tmux.keys(&[":", "31", "Enter"]);
    tmux.wait_for(&["v31/49"]);
    // ↑ brings back 31; ← and typing edit in the middle; Ctrl-U cuts what is before the
    // cursor, Ctrl-E goes to the end.
    tmux.keys(&[":", "Up"]);
    tmux.wait_for(&["jump to version: 31"]);
    tmux.keys(&["Left", "2"]);
    tmux.wait_for(&["jump to version: 321"]);
    tmux.keys(&["C-u", "C-e", "5", "Enter"]);
    tmux.wait_for(&["v15/49"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn the_detail_pane_is_searched_and_copied_from_and_messages_are_kept() {
    if !tmux_available() {
        return;
    }
    let command = shell_command(&format!("{} acc-0003 --at 50", demo_store()));
    let tmux = Tmux::start("search-copy", &command);
    // tmux takes OSC 52 from the program into its paste buffer.
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
    tmux.wait_for(&["acc-0003 · account", "v50/69"]);
    tmux.keys(&["Tab", "/", "daily", "Enter"]);
    tmux.wait_for(&["\"daily\": match 1 of 1", "/daily · n/N"]);
    tmux.keys(&["Y"]);
    tmux.wait_for(&["copied the path .limits.daily"]);
    let buffer = wait_for_buffer(&tmux);
    assert_eq!(buffer, ".limits.daily");
    tmux.keys(&["!"]);
    tmux.wait_for(&[
        "messages · ",
        "copied the path .limits.daily",
        "\"daily\": match 1 of 1",
    ]);
    tmux.keys(&["Escape"]);
    tmux.wait_until_gone(&["messages · "]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

/// The paste buffer, once the terminal has handed it over.
fn wait_for_buffer(tmux: &Tmux) -> String {
    let started = std::time::Instant::now();
    loop {
        let out = tmux.run(&["show-buffer"]);
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(
            started.elapsed() < support::tmux::TIMEOUT,
            "no paste buffer: {out:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
