//! Drives the real binary in a real terminal (tmux): open the demo, filter, open an
//! aggregate, step, jump, set marks, compare, quit, checking the screen at every step.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.
//! The terminal-safety cases (panics, tiny terminals, stty) are in tests/tui_resilience.rs.

mod support;

use std::time::{Duration, Instant};
use support::tmux::{shell_command, tmux_available, Tmux};

use support::kafka::Rec;

#[test]
fn browse_the_demo_from_list_to_compare_and_quit() {
    if !tmux_available() {
        return;
    }
    let tmux = Tmux::start("demo", &shell_command("demo"));
    tmux.wait_for(&["aggregates", "acc-0001", "58 of 58", "? help"]);
    // The demo's invariant marks acc-0007's negative balance in the health column.
    let screen = tmux.wait_for(&["¬1"]);
    let acc7 = screen.lines().find(|l| l.contains("acc-0007")).unwrap();
    assert!(acc7.contains("¬1"), "{screen}");

    tmux.keys(&["/", "order-0012"]);
    let screen = tmux.wait_for(&["filter: order-0012", "1 of 58"]);
    assert!(!screen.contains("acc-0001"), "filtered out:\n{screen}");

    tmux.keys(&["Enter", "Enter"]);
    // An aggregate opens at its latest event.
    tmux.wait_for(&["order-0012 · order", "v6/6", "OrderPlaced", "1 State"]);
    tmux.keys(&["g"]);
    tmux.wait_for(&["v1/6"]);

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
    // With only A set, Compare follows the cursor while you scrub.
    tmux.keys(&["4", "l"]);
    tmux.wait_for(&["A v1 → cursor v2:"]);
    tmux.keys(&["l"]);
    tmux.wait_for(&["A v1 → cursor v3:"]);
    tmux.keys(&["End", "b"]);
    tmux.wait_for(&["mark B at v6; press c to compare"]);
    tmux.keys(&["c"]);
    tmux.wait_for(&["A v1 → B v6:", "--- v1", "+++ v6"]);

    tmux.keys(&["?"]);
    tmux.wait_for(&["? or Esc closes", "jump to a version"]);
    tmux.keys(&["Escape"]);
    tmux.wait_until_gone(&["? or Esc closes"]);
    tmux.wait_for(&["A v1 → B v6:"]);

    tmux.keys(&["q"]);
    tmux.wait_for(&["filter: order-0012", "1 of 58"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["58 of 58"]);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for(&["rewind exited 0"]);
    assert!(
        !screen.contains("58 of 58"),
        "the alternate screen is gone:\n{screen}"
    );
}

#[test]
fn a_tiny_terminal_gets_a_message_and_resizing_relayouts() {
    if !tmux_available() {
        return;
    }
    let tmux = Tmux::start("tiny", &shell_command("demo"));
    tmux.wait_for(&["58 of 58"]);
    tmux.run(&["resize-window", "-t", "e2e", "-x", "60", "-y", "15"]);
    tmux.wait_for(&["Terminal too small", "60×15"]);
    tmux.run(&["resize-window", "-t", "e2e", "-x", "160", "-y", "45"]);
    tmux.wait_for(&["58 of 58"]);
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
    colored.wait_for(&["58 of 58"]);
    colored.keys(&["j", "j", "Enter", "2"]);
    colored.wait_for(&["what v69 changed"]);
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
    plain.wait_for(&["58 of 58"]);
    plain.keys(&["j", "j", "Enter", "2"]);
    plain.wait_for(&["what v69 changed"]);
    let escaped =
        String::from_utf8_lossy(&plain.run(&["capture-pane", "-p", "-e", "-t", "e2e"]).stdout)
            .into_owned();
    assert_eq!(color_codes(&escaped), Vec::<String>::new());
}

#[test]
fn filter_blame_and_export_from_the_ui() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Exports go to the current directory: start rewind inside a scratch one.
    let command = format!(
        "sh -c 'cd {} && {} demo; echo rewind exited $?; sleep 60'",
        dir.path().display(),
        env!("CARGO_BIN_EXE_rewind")
    );
    let tmux = Tmux::start("inspect", &command);
    tmux.wait_for(&["58 of 58"]);
    tmux.keys(&["/", "acc-0007", "Enter", "Enter"]);
    tmux.wait_for(&["acc-0007 · account", "v49/49"]);

    tmux.keys(&["/", ".balance < 0", "Enter"]);
    tmux.wait_for(&[
        "1 match for .balance < 0",
        "v31/49",
        "events · .balance < 0 1 match",
    ]);

    // Focus the State tab, down to the "balance" line, blame it.
    tmux.keys(&["Tab", "j", "j", "j", "j", "j", "B"]);
    tmux.wait_for(&["blame .balance · 40 changes", "2817.58 → -35.5"]);
    tmux.keys(&["k", "Enter"]);
    tmux.wait_for(&["v29/49", "state after v29"]);
    tmux.keys(&["n"]);
    tmux.wait_for(&["v31/49"]);

    tmux.keys(&["e"]);
    tmux.wait_for(&["export the whole history as: m Markdown"]);
    tmux.keys(&["m"]);
    tmux.wait_for(&["write Markdown to: acc-0007.md"]);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for(&["wrote ", "acc-0007.md (49 events)"]);
    let written = dir.path().join("acc-0007.md");
    assert!(written.is_file(), "no {}:\n{screen}", written.display());
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.contains("acc-0007"), "{text}");

    tmux.keys(&["e", "m", "Enter"]);
    tmux.wait_for(&["acc-0007.md exists; replace it? y replace · n keep it"]);
    tmux.keys(&["n"]);
    tmux.wait_for(&["not exported: the file is left as it was"]);

    tmux.keys(&["q", "q", "q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

/// A Kafka topic is opened inside the UI: the first frame does not wait for the brokers,
/// and a failure to reach them is a message on screen, not a crash.
#[test]
fn a_kafka_source_draws_at_once_and_reports_an_unreachable_broker() {
    if !tmux_available() {
        return;
    }
    let started = Instant::now();
    let tmux = Tmux::start(
        "kafka-down",
        &shell_command("kafka://127.0.0.1:9/accounts --kafka-timeout 3 --no-cache"),
    );
    tmux.wait_for(&["aggregates", "kafka://127.0.0.1:9/accounts", "? help"]);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "drawn before the 3 s broker timeout ran out"
    );
    tmux.wait_for(&["could not list aggregates"]);
    tmux.keys(&["q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_kafka_topic_opens_in_the_ui() {
    if !tmux_available() {
        return;
    }
    let Some(broker) = support::kafka::Broker::start("tui_e2e") else {
        return;
    };
    broker.create_topic("accounts", 1);
    let opened = [("event_type", "Opened")];
    let deposited = [("event_type", "Deposited")];
    broker.produce(
        "accounts",
        &[
            Rec::json("acc-1", r#"{"owner":"ada","balance":0}"#).headers(&opened),
            Rec::json("acc-2", r#"{"owner":"bob","balance":0}"#).headers(&opened),
            Rec::json("acc-1", r#"{"balance":10}"#).headers(&deposited),
        ],
    );
    let tmux = Tmux::start(
        "kafka",
        &shell_command(&format!("{} --no-cache", broker.url("accounts"))),
    );
    tmux.wait_for(&["2 of 2", "acc-1", "acc-2"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["acc-1 · ", "v2/2"]);
    tmux.keys(&["G"]);
    tmux.wait_for(&["v2/2", "\"balance\": 10"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

/// With a cache file, the UI reads an open Kafka history's payloads back from it (the
/// source's second reader) as it scrubs: far versions show their own state.
#[test]
fn a_cached_kafka_topic_scrubs_in_the_ui() {
    if !tmux_available() {
        return;
    }
    let Some(broker) = support::kafka::Broker::start("tui_e2e_cached") else {
        return;
    };
    broker.create_topic("ledger", 1);
    let values: Vec<String> = (1..=900).map(|i| format!(r#"{{"balance":{i}}}"#)).collect();
    let records: Vec<Rec> = values.iter().map(|v| Rec::json("acc-1", v)).collect();
    broker.produce("ledger", &records);
    let cache = tempfile::tempdir().unwrap();
    let line = format!(
        "{} --cache-dir {}",
        broker.url("ledger"),
        cache.path().display()
    );
    let tmux = Tmux::start("kafka-cached", &shell_command(&line));
    tmux.wait_for(&["1 of 1", "acc-1"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&["acc-1 · ", "v900/900", "\"balance\": 900"]);
    tmux.keys(&[":", "37", "Enter"]);
    tmux.wait_for(&["v37/900", "\"balance\": 37"]);
    tmux.keys(&["g"]);
    tmux.wait_for(&["v1/900", "\"balance\": 1"]);
    tmux.keys(&[":", "611", "Enter"]);
    tmux.wait_for(&["v611/900", "\"balance\": 611"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}
