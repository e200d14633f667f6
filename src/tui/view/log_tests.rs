//! Pinned screens of the store log and the trace view (reviewed by eye).

use crate::tui::action::Action;
use crate::tui::testing::Harness;

fn filtered_log(h: &mut Harness, text: &str) {
    h.send(Action::OpenLog);
    h.send(Action::Filter);
    h.type_text(text);
    h.send(Action::Confirm);
}

#[test]
fn store_log_first_page() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send_all([Action::Down, Action::Down]);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn store_log_of_a_saga_that_stopped_halfway() {
    let mut h = Harness::demo();
    filtered_log(&mut h, "req-5c2e");
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn trace_with_a_dangling_cause() {
    let mut h = Harness::demo();
    h.open("order-0033");
    h.send(Action::Last);
    h.send(Action::Trace);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn help_in_the_store_log_starts_with_its_keys() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send(Action::ToggleHelp);
    let screen = h.screen();
    let first = screen
        .lines()
        .find_map(|l| {
            ["Store log", "Timeline", "Aggregate list", "Everywhere"]
                .into_iter()
                .find(|title| l.contains(title))
        })
        .unwrap();
    assert_eq!(first, "Store log", "{screen}");
    assert!(
        screen.contains("open the aggregate at this event"),
        "{screen}"
    );
}
