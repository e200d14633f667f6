//! Pinned screens of the events list's data preview and matching-only view, and of focus:
//! which pane has the keys must show on its title and its cursor row, without color too.

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

use crate::tui::action::{Action, Tab};
use crate::tui::app::Focus;
use crate::tui::testing::Harness;
use crate::tui::theme::Theme;

fn withdrawals_only() -> Harness {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Filter);
    h.type_text("withdrawn");
    h.send(Action::Confirm);
    h.send_all([Action::ToggleMatchingOnly, Action::Down, Action::Down]);
    h
}

#[test]
fn events_list_with_a_data_preview() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::TogglePreview);
    h.send_all([Action::Down, Action::Down]);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn events_list_of_matching_events_only() {
    let h = withdrawals_only();
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn matching_only_with_the_preview_zoomed() {
    let mut h = withdrawals_only();
    h.send_all([Action::TogglePreview, Action::ToggleZoom]);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn detail_pane_with_focus() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::SelectTab(Tab::State));
    h.send(Action::FocusNext);
    h.send_all([Action::Down, Action::Down]);
    insta::assert_snapshot!(h.terminal().backend());
}

/// The modifiers of the cells of row `y` from `x`, over `width` cells.
fn modifiers(buffer: &Buffer, x: u16, y: u16, width: u16) -> Vec<Modifier> {
    (x..x + width).map(|x| buffer[(x, y)].modifier).collect()
}

fn find(buffer: &Buffer, text: &str) -> (u16, u16) {
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        if let Some(at) = line.find(text) {
            return (line[..at].chars().count() as u16, y);
        }
    }
    panic!("{text:?} is not on screen");
}

#[test]
fn focus_shows_on_titles_and_cursor_rows_without_color() {
    let mut h = Harness::demo();
    h.app.theme = Theme::plain();
    h.open("acc-0007");
    h.send(Action::SelectTab(Tab::State));
    h.send(Action::Down);
    let reversed = |m: &Modifier| m.contains(Modifier::REVERSED);
    let underlined = |m: &Modifier| m.contains(Modifier::UNDERLINED);

    // The events list has the keys: its title and cursor row are reversed.
    let screen = h.terminal();
    let buffer = screen.backend().buffer();
    let (x, y) = find(buffer, "▶ events");
    assert!(modifiers(buffer, x, y, 8).iter().all(reversed));
    let (x, y) = find(buffer, "v2 ");
    assert!(modifiers(buffer, x, y, 10).iter().all(reversed), "strong");
    // The State tab's line cursor, without focus: underlined, not reversed, no ▶.
    let (x, y) = find(buffer, "{");
    assert!(x > buffer.area.width / 3, "the state's first line");
    let line = modifiers(buffer, x, y, 1);
    assert!(line.iter().all(underlined) && !line.iter().any(reversed));
    assert!(find(buffer, "1 State").0 > 0);

    h.send(Action::FocusNext);
    assert_eq!(h.app.view.as_ref().unwrap().focus, Focus::Detail);
    let screen = h.terminal();
    let buffer = screen.backend().buffer();
    let (x, y) = find(buffer, "▶ 1 State");
    assert!(modifiers(buffer, x, y, 2).iter().all(reversed));
    let (x, y) = find(buffer, " events ");
    assert!(!modifiers(buffer, x, y, 8).iter().any(reversed), "no focus");
    let (x, y) = find(buffer, "v2 ");
    let row = modifiers(buffer, x, y, 10);
    assert!(
        row.iter().all(underlined) && !row.iter().any(reversed),
        "dim"
    );
    let (x, y) = find(buffer, "{");
    assert!(modifiers(buffer, x, y, 1).iter().all(reversed), "line 1");
}

/// At 80 columns one microsecond time made every TIME 31 cells and TYPE only `…`: the
/// times give up fraction digits first, so the type stays readable.
#[test]
fn events_list_at_80_columns_with_a_microsecond_time() {
    use crate::tui::testing::{create_store, insert, open_store, row};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("micro.db");
    let mut rows: Vec<_> = (1..=3)
        .map(|v| row("acc", v, "WithdrawalRequested", "{\"n\": 1}"))
        .collect();
    rows[1].timestamp = "2026-01-15T00:02:00.123456Z".into();
    insert(&create_store(&path), &rows);
    let mut h = Harness::new(open_store(&path), 80, 24);
    h.open("acc");
    insta::assert_snapshot!(h.terminal().backend());
}

/// The demo at 80 columns: whole types; `p` shows no DATA column of only `…`, and leaves
/// the screen as it was but for the status line saying why.
#[test]
fn events_list_at_80_columns_with_the_preview_asked_for() {
    let mut h = Harness::demo();
    h.send(Action::Resize {
        width: 80,
        height: 24,
    });
    h.open("acc-0003");
    let screen = h.screen();
    assert!(screen.contains(" Withdrawn "), "{screen}");
    h.send(Action::TogglePreview);
    insta::assert_snapshot!(h.terminal().backend());
}
