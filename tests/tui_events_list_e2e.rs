//! The events list in a real terminal (tmux): the data preview column, the matching-only
//! view with its counter, and h from v1 onto v0.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.

mod support;

use support::tmux::{shell_command, tmux_available, Tmux};

fn demo_store() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db");
    support::tmux::sh_quote(&path.to_string_lossy())
}

#[test]
fn data_preview_and_matching_events_only() {
    if !tmux_available() {
        return;
    }
    let command = shell_command(&format!("{} acc-0007", demo_store()));
    let tmux = Tmux::start("events-list", &command);
    tmux.wait_for(&["acc-0007 · account", "v49/49", "▶ events"]);
    tmux.keys(&["p"]);
    tmux.wait_for(&[
        "DATA",
        "previews each event's data",
        "{\"balance\":10423.03,\"last_transaction\":{",
    ]);
    tmux.keys(&["/", "withdrawn", "Enter"]);
    tmux.wait_for(&["16 matches for withdrawn"]);
    tmux.keys(&["m"]);
    tmux.wait_for(&["only the 16 events matching withdrawn", "/16 matches "]);
    tmux.wait_until_gone(&["Deposited"]);
    tmux.keys(&["g", "j", "j"]);
    tmux.wait_for(&[" 3/16 matches ", "v7/49"]);
    tmux.keys(&["m"]);
    tmux.wait_for(&["every event listed again", " 7/49 ", "Deposited"]);
    tmux.keys(&["Escape", "g", "h"]);
    tmux.wait_for(&["v0/49", "empty state, before the first event"]);
    tmux.keys(&["l"]);
    tmux.wait_for(&["v1/49"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}
