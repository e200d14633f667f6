//! The last of issue 15's reading aids in a real terminal (tmux): v0 before the first event,
//! marks set by typed version, times in the local zone `TZ` names, a State value full
//! screen, a pane zoomed to the whole screen.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.

mod support;

use support::tmux::{shell_command, tmux_available, Tmux};

fn demo_store() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db");
    support::tmux::sh_quote(&path.to_string_lossy())
}

#[test]
fn v0_marks_by_version_and_local_times_under_tz() {
    if !tmux_available() {
        return;
    }
    // Kolkata has no summer time: +05:30 all year.
    let command = format!(
        "env TZ=Asia/Kolkata {}",
        shell_command(&format!("{} acc-0007", demo_store()))
    );
    let tmux = Tmux::start("reading-zone", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    tmux.keys(&[":", "0", "Enter"]);
    tmux.wait_for(&["v0/49", "empty state", "v0 is the empty state"]);
    tmux.keys(&["l"]);
    tmux.wait_for(&["v1/49", "2026-01-10T22:00:00Z"]);
    tmux.keys(&["u"]);
    tmux.wait_for(&["2026-01-11T03:30:00+05:30 local", "times in the local zone"]);
    tmux.keys(&["M", "a 12", "Enter"]);
    tmux.wait_for(&["mark A at v12", "v12/49"]);
    tmux.keys(&["u"]);
    tmux.wait_until_gone(&["+05:30"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_state_value_full_screen_and_a_zoomed_pane() {
    if !tmux_available() {
        return;
    }
    let command = shell_command(&format!("{} acc-0007", demo_store()));
    let tmux = Tmux::start("reading-viewer", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);
    // The State tab's first line is the whole state.
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for(&[". at v49 ·", "unfolded"]);
    tmux.keys(&["1"]);
    tmux.wait_for(&["folded to depth 1", "\"address\": {…},  2 keys"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["VER  TIME", "1 State"]);
    tmux.keys(&["o"]);
    tmux.wait_until_gone(&["VER  TIME"]);
    tmux.wait_for(&["the detail fills the screen"]);
    tmux.keys(&["o"]);
    tmux.wait_for(&["VER  TIME", "all panes again"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}
