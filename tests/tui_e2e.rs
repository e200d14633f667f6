//! Drives the real binary in a real terminal (tmux): open the demo, filter, open an
//! aggregate, step, jump, set marks, compare, quit, checking the screen at every step.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.
//! The terminal-safety cases (panics, tiny terminals, stty) are in tests/tui_resilience.rs.

mod support;

use support::tmux::{shell_command, tmux_available, Tmux};

#[test]
fn browse_the_demo_from_list_to_compare_and_quit() {
    if !tmux_available() {
        return;
    }
    let tmux = Tmux::start("demo", &shell_command("demo"));
    tmux.wait_for(&["aggregates", "acc-0001", "54 of 54", "? help"]);

    tmux.keys(&["/", "order-0012"]);
    let screen = tmux.wait_for(&["filter: order-0012", "1 of 54"]);
    assert!(!screen.contains("acc-0001"), "filtered out:\n{screen}");

    tmux.keys(&["Enter", "Enter"]);
    tmux.wait_for(&["order-0012 · order", "v1/6", "OrderPlaced", "1 State"]);

    tmux.keys(&["l"]);
    tmux.wait_for(&["v2/6", "state after v2", "\"SKU-623\""]);
    tmux.keys(&["j"]);
    tmux.wait_for(&["v3/6"]);
    tmux.keys(&["h"]);
    tmux.wait_for(&["v2/6"]);

    tmux.keys(&["G"]);
    tmux.wait_for(&["v6/6", "state after v6"]);

    tmux.keys(&[":", "4", "Enter", "3"]);
    tmux.wait_for(&["v4/6", "decode error: invalid JSON"]);

    tmux.keys(&["g", "a"]);
    tmux.wait_for(&["mark A at v1"]);
    tmux.keys(&["End", "b"]);
    tmux.wait_for(&["mark B at v6; press c to compare"]);
    tmux.keys(&["c"]);
    tmux.wait_for(&["A v1 → B v6:", "--- v1", "+++ v6"]);

    tmux.keys(&["?"]);
    tmux.wait_for(&["keys · ? or Esc closes", "jump to a version"]);
    tmux.keys(&["Escape"]);
    tmux.wait_until_gone(&["keys · ? or Esc closes"]);
    tmux.wait_for(&["A v1 → B v6:"]);

    tmux.keys(&["q"]);
    tmux.wait_for(&["filter: order-0012", "1 of 54"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["54 of 54"]);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for(&["rewind exited 0"]);
    assert!(
        !screen.contains("54 of 54"),
        "the alternate screen is gone:\n{screen}"
    );
}

#[test]
fn a_tiny_terminal_gets_a_message_and_resizing_relayouts() {
    if !tmux_available() {
        return;
    }
    let tmux = Tmux::start("tiny", &shell_command("demo"));
    tmux.wait_for(&["54 of 54"]);
    tmux.run(&["resize-window", "-t", "e2e", "-x", "60", "-y", "15"]);
    tmux.wait_for(&["Terminal too small", "60×15"]);
    tmux.run(&["resize-window", "-t", "e2e", "-x", "160", "-y", "45"]);
    tmux.wait_for(&["54 of 54"]);
    tmux.keys(&["C-c"]);
    tmux.wait_for(&["rewind exited 0"]);
}

/// SGR parameters that set a foreground or background color (not the defaults 39/49).
fn color_codes(screen: &str) -> Vec<String> {
    let mut found = Vec::new();
    for sequence in screen.split("\u{1b}[").skip(1) {
        let Some(end) = sequence.find('m') else {
            continue;
        };
        let params = &sequence[..end];
        if !params.chars().all(|c| c.is_ascii_digit() || c == ';') {
            continue;
        }
        let colored = params
            .split(';')
            .filter_map(|p| p.parse::<u32>().ok())
            .any(|p| matches!(p, 30..=38 | 40..=48 | 90..=97 | 100..=107));
        if colored {
            found.push(params.to_string());
        }
    }
    found
}

#[test]
fn no_color_turns_every_color_off() {
    if !tmux_available() {
        return;
    }
    let colored = Tmux::start("color", &shell_command("demo"));
    colored.wait_for(&["54 of 54"]);
    colored.keys(&["j", "j", "Enter", "2"]);
    colored.wait_for(&["what v1 changed"]);
    let escaped = String::from_utf8_lossy(
        &colored
            .run(&["capture-pane", "-p", "-e", "-t", "e2e"])
            .stdout,
    )
    .into_owned();
    assert!(
        !color_codes(&escaped).is_empty(),
        "colors are on by default"
    );

    let plain = Tmux::start(
        "plain",
        &format!("env NO_COLOR=1 {}", shell_command("demo")),
    );
    plain.wait_for(&["54 of 54"]);
    plain.keys(&["j", "j", "Enter", "2"]);
    plain.wait_for(&["what v1 changed"]);
    let escaped =
        String::from_utf8_lossy(&plain.run(&["capture-pane", "-p", "-e", "-t", "e2e"]).stdout)
            .into_owned();
    assert_eq!(color_codes(&escaped), Vec::<String>::new());
}
