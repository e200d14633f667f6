//! The status line under pressure (long sources, ids and errors) and the `!` message log.

use crate::tui::action::Action;
use crate::tui::testing::{create_store, insert, insert_counting, open_store, row, Harness};

fn status(h: &Harness) -> String {
    h.screen().lines().last().unwrap().to_string()
}

#[test]
fn a_long_source_is_shown_whole_when_there_is_room() {
    let mut h = Harness::demo();
    let source = "sqlite:/home/someone/projects/payments/exports/2026-01/demo.db";
    h.app.source_name = source.into();
    let line = status(&h);
    assert!(line.contains(source), "{line}");
}

#[test]
fn a_long_id_never_pushes_the_version_and_time_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.db");
    let conn = create_store(&path);
    let id = "account-".repeat(40);
    insert(&conn, &[row(&id, 1, "Opened", "{\"n\": 1}")]);
    let mut h = Harness::new(open_store(&path), 80, 24);
    h.send(Action::Confirm);
    let line = status(&h);
    assert!(line.contains("v1/1 │ 2026-01-15T00:01:00Z"), "{line}");
    assert!(line.contains("account-a…"), "the id is cut: {line}");
}

#[test]
fn a_cut_error_points_to_the_log_and_the_log_shows_it_whole() {
    let mut h = Harness::new(open_store(&crate::tui::testing::demo_path()), 80, 24);
    let error = format!(
        "could not read the store: {} THE-END",
        "disk I/O error; ".repeat(12)
    );
    h.app.complain(error.clone());
    let line = status(&h);
    assert!(line.contains("… ! whole"), "{line}");
    assert!(!line.contains("THE-END"), "{line}");
    h.send(Action::MessageLog);
    assert!(h.app.messages.open);
    let screen = h.screen();
    assert!(
        screen.contains("THE-END"),
        "the whole text, wrapped: {screen}"
    );
    assert!(screen.contains("! could not read the store"), "{screen}");
    h.send(Action::Back);
    assert!(!h.app.messages.open, "Esc closes the log");
    assert!(
        h.app.view.is_none() && !h.app.should_quit(),
        "and only the log"
    );
}

#[test]
fn end_shows_a_full_page_of_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.db");
    let conn = create_store(&path);
    insert_counting(&conn, "counter", 1, 200);
    let mut h = Harness::new(open_store(&path), 100, 30);
    h.open("counter");
    h.send(Action::Last);
    let rows = crate::tui::layout::aggregate(h.app.size).event_rows.height as usize;
    let view = h.app.view.as_ref().unwrap();
    assert_eq!(view.cursor, 199);
    assert_eq!(
        view.offset,
        200 - rows,
        "the last event sits on the bottom row"
    );
}

#[test]
fn one_aggregate_is_not_one_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.db");
    insert(&create_store(&path), &[row("only", 1, "Opened", "{}")]);
    let h = Harness::new(open_store(&path), 100, 24);
    let line = status(&h);
    assert!(line.contains("│ 1 aggregate "), "{line}");
    assert!(!line.contains("1 aggregates"), "{line}");
}
