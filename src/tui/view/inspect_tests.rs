//! Pinned screens of blame, the event filter, export and opening a Kafka topic; each
//! `.snap` was reviewed by eye.

use crate::tui::action::{Action, Tab};
use crate::tui::app::{Focus, ListStatus};
use crate::tui::loader::{ReadingProgress, Report};
use crate::tui::testing::Harness;

fn at_version(h: &mut Harness, version: u64) {
    h.send(Action::JumpToVersion);
    h.type_text(&version.to_string());
    h.send(Action::Confirm);
}

/// acc-0007 at v31 with the State tab focused and its line cursor on `.balance`.
fn on_the_balance_line() -> Harness {
    let mut h = Harness::demo();
    h.open("acc-0007");
    at_version(&mut h, 31);
    h.send(Action::SelectTab(Tab::State));
    h.send(Action::FocusNext);
    assert_eq!(h.app.view.as_ref().unwrap().focus, Focus::Detail);
    // {, "address": {, city, street, }, "balance"
    h.send_all(std::iter::repeat_n(Action::Down, 5));
    h
}

#[test]
fn state_tab_with_a_selected_line() {
    let h = on_the_balance_line();
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn blame_view() {
    let mut h = on_the_balance_line();
    h.send(Action::Blame);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn blame_view_while_blaming() {
    let mut h = on_the_balance_line();
    h.app.update(Action::Blame);
    let screen = h.screen();
    assert!(screen.contains("blame .balance"), "{screen}");
    assert!(
        screen.contains("blaming .balance over 49 events…"),
        "{screen}"
    );
}

#[test]
fn event_filter_with_matches() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Filter);
    h.type_text("withdrawn");
    h.send(Action::Confirm);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn event_filter_prompt_tells_text_from_jq() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Filter);
    h.type_text("$event.type == \"Withdrawn\"");
    let screen = h.screen();
    let status = screen.lines().last().unwrap();
    assert!(status.contains("filter events: $event.type"), "{status}");
    assert!(status.contains("jq (. is the state"), "{status}");
}

#[test]
fn export_prompt() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    at_version(&mut h, 12);
    h.send(Action::MarkA);
    at_version(&mut h, 31);
    h.send(Action::MarkB);
    h.send(Action::Export);
    let screen = h.screen();
    let status = screen.lines().last().unwrap();
    assert!(
        status.contains("export v12 → v31 (marks A–B) as: m Markdown · j JSON Lines · h HTML"),
        "{status}"
    );
    h.send(Action::InputChar('m'));
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn kafka_loading_gauge() {
    let fresh = crate::tui::app::App::new(
        "kafka://localhost:9092/accounts".into(),
        None,
        crate::tui::theme::Theme::plain(),
        ratatui::layout::Rect::new(0, 0, 120, 32),
    );
    assert!(fresh.connecting, "a topic's UI starts out connecting");
    let mut h = Harness::demo();
    h.app.list = Default::default();
    assert_eq!(h.app.list.status, ListStatus::Loading);
    h.app.source_name = "kafka://localhost:9092/accounts".into();
    h.app.connecting = true;
    let screen = h.screen();
    assert!(
        screen.contains("connecting to kafka://localhost:9092/accounts…"),
        "before the brokers answer: {screen}"
    );
    h.send(Action::Loaded(Report::Reading(ReadingProgress {
        topic: "accounts".into(),
        read: 31_500,
        expected: 84_000,
    })));
    insta::assert_snapshot!(h.terminal().backend());
    h.send(Action::Loaded(Report::Opened(
        "kafka://localhost:9092/accounts".into(),
    )));
    assert!(h.app.reading.is_none());
    assert!(h.screen().contains("loading aggregates…"));
    h.send(Action::Loaded(Report::Aggregates(Err(
        "could not reach the brokers at localhost:9092: connection refused".into(),
    ))));
    let screen = h.screen();
    let pane: Vec<&str> = screen.lines().filter(|l| l.starts_with('│')).collect();
    assert!(
        pane.iter().any(|l| l.contains("connection refused")),
        "the broker error is in the list pane, not only the status bar: {screen}"
    );
}
