//! Issue 15's daily-driver paths in a real terminal (tmux): the deep link
//! `rewind SOURCE AGGREGATE --at POS`, keeping your place, Esc that never leaves.
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
