//! The store log and the trace view in a real terminal (tmux): list → log → an aggregate
//! at an event → back to the same log row; timeline → trace → jump; and a Kafka topic over
//! three partitions paged end to end.
//!
//! Needs tmux (`scripts/install-test-deps`); set REWIND_SKIP_TUI_E2E=1 to skip without it.

mod support;

use support::kafka::Rec;
use support::tmux::{shell_command, tmux_available, Tmux};

#[test]
fn list_to_log_to_an_aggregate_at_an_event_and_back_to_the_same_row() {
    if !tmux_available() {
        return;
    }
    let tmux = Tmux::start("log", &shell_command("demo"));
    tmux.wait_for(&["58 of 58", "L log"]);
    tmux.keys(&["L"]);
    tmux.wait_for(&["store log", "position 1 ", "acc-0023"]);

    tmux.keys(&["/", "req-7a1f", "Enter"]);
    tmux.wait_for(&["store log · filter: req-7a1f", "order-0031", "acc-0004"]);
    let first = status_position(&tmux.wait_for(&["│ position "]));
    tmux.keys(&["j"]);
    let started = std::time::Instant::now();
    let position = loop {
        let screen = tmux.screen();
        if screen.contains("│ position ") && status_position(&screen) != first {
            break status_position(&screen);
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "j moved nothing:\n{screen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };

    tmux.keys(&["Enter"]);
    tmux.wait_for(&["acc-0004 · account", "v68/", "state after v68"]);
    tmux.keys(&["q"]);
    // The title and the status line both: tmux can be caught halfway through the redraw.
    let screen = tmux.wait_for(&["store log · filter: req-7a1f", "store log │ position "]);
    assert_eq!(
        status_position(&screen),
        position,
        "back on the same row:\n{screen}"
    );

    // The whole store: its end, and back to its start, a page at a time.
    tmux.keys(&["Escape"]);
    tmux.wait_until_gone(&["filter: req-7a1f"]);
    tmux.keys(&["G"]);
    let last = demo_last_position();
    tmux.wait_for(&[&format!("│ position {last} ")]);
    tmux.keys(&["g"]);
    tmux.wait_for(&["│ position 1 "]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn timeline_to_trace_to_an_event_of_another_aggregate() {
    if !tmux_available() {
        return;
    }
    let tmux = Tmux::start("trace", &shell_command("demo"));
    tmux.wait_for(&["58 of 58"]);
    tmux.keys(&["/", "order-0033", "Enter", "Enter"]);
    tmux.wait_for(&["order-0033 · order", "v3/3"]);
    tmux.keys(&["T"]);
    tmux.wait_for(&[
        "trace req-9d4b: 4 events in 2 aggregates",
        "└─ acc-0011 v65 Withdrawn",
        "! caused by evt-999999",
    ]);
    // The trace opens on the event it was asked from (v3, the last); its second is acc-0011's.
    tmux.keys(&["g", "j", "Enter"]);
    tmux.wait_for(&["acc-0011 · account", "v65/", "state after v65"]);
    tmux.keys(&["T"]);
    tmux.wait_for(&["trace req-9d4b"]);
    tmux.keys(&["Escape"]);
    tmux.wait_until_gone(&["trace req-9d4b"]);
    // Back to the list, its filter cleared, quit.
    tmux.keys(&["q", "q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

#[test]
fn a_kafka_topic_over_three_partitions_pages_to_its_end_and_back() {
    if !tmux_available() {
        return;
    }
    let Some(broker) = support::kafka::Broker::start("tui_log") else {
        return;
    };
    broker.create_topic("ledger", 3);
    let headers = [("event_type", "Booked")];
    let keys: Vec<String> = (0..450).map(|i| format!("acc-{:03}", i % 45)).collect();
    let values: Vec<String> = (0..450).map(|i| format!("{{\"n\": {i}}}")).collect();
    let base = 1_767_225_600_000i64;
    let records: Vec<Rec<'_>> = (0..450)
        .map(|i| {
            Rec::json(&keys[i], &values[i])
                .headers(&headers)
                .partition((i % 3) as i32)
                .at(base + i as i64 * 1000)
        })
        .collect();
    broker.produce("ledger", &records);
    let tmux = Tmux::start(
        "kafka-log",
        &shell_command(&format!("{} --no-cache", broker.url("ledger"))),
    );
    tmux.wait_for(&["45 of 45"]);
    tmux.keys(&["L"]);
    // Record 0 went to partition 0 at offset 0; record 449 to partition 2, offset 149.
    tmux.wait_for(&["store log", "│ position 0:0 "]);
    tmux.keys(&["G"]);
    tmux.wait_for(&["│ position 2:149 ", "2026-01-01T00:07:29Z"]);
    for _ in 0..20 {
        tmux.keys(&["PageUp"]);
    }
    tmux.wait_for(&["│ position 0:0 ", "2026-01-01T00:00:00Z"]);
    tmux.keys(&["q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

/// The `position N` the status bar shows.
fn status_position(screen: &str) -> String {
    let status = screen
        .lines()
        .rev()
        .find(|l| l.contains("store log │ position "))
        .unwrap_or_else(|| panic!("no position in the status bar:\n{screen}"));
    let after = status.split("│ position ").nth(1).unwrap();
    after.split_whitespace().next().unwrap().to_string()
}

fn demo_last_position() -> i64 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db");
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row("SELECT MAX(rowid) FROM events", [], |row| row.get(0))
        .unwrap()
}
