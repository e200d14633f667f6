//! `w` in the detail pane: wrapped lines scroll by rows, the cursor stays in sight, and
//! every row of a long value can be reached.

use crate::tui::action::Action;
use crate::tui::testing::{create_store, insert, open_store, row, Harness};

/// One event whose state holds a 1,200-character string (taller than the pane) among other keys, opened with the
/// detail pane focused and wrapping.
fn long_string(dir: &tempfile::TempDir) -> Harness {
    let path = dir.path().join("long.db");
    let note = format!("START{}THE-END", "0123456789".repeat(120));
    let data = serde_json::json!({
        "alpha": 1, "beta": 2, "gamma": 3, "note": note, "omega": 4, "zeta": 5
    });
    insert(
        &create_store(&path),
        &[row("acc", 1, "Opened", &data.to_string())],
    );
    let mut h = Harness::new(open_store(&path), 100, 20);
    h.open("acc");
    h.send(Action::FocusNext);
    h.send(Action::ToggleWrap);
    h
}

/// The detail pane's rows below its title, from its left border on.
fn pane_rows(h: &Harness) -> Vec<Vec<char>> {
    let screen = h.screen();
    let mut lines = screen.lines();
    let title: Vec<char> = lines.next().unwrap().chars().collect();
    let left = title
        .iter()
        .rposition(|&c| c == '┌')
        .expect("the detail pane");
    let height = h.app.size.height as usize - 3;
    lines
        .take(height)
        .map(|l| l.chars().skip(left).collect())
        .collect()
}

fn cursor_shown(rows: &[Vec<char>]) -> bool {
    rows.iter().any(|r| r.get(2) == Some(&'▶'))
}

#[test]
fn wrapped_the_cursor_stays_in_sight_and_every_row_can_be_reached() {
    for step in [Action::PageDown, Action::Down] {
        let dir = tempfile::tempdir().unwrap();
        let mut h = long_string(&dir);
        let mut reached_end = false;
        for n in 0..40 {
            let rows = pane_rows(&h);
            let text: String = rows.iter().map(|r| r.iter().collect::<String>()).collect();
            assert!(
                cursor_shown(&rows),
                "{step:?} {n}: no cursor\n{}",
                h.screen()
            );
            reached_end |= text.contains("THE-END");
            // Continuation rows of the long string leave the gutter (● ▶) clear, but for
            // the cursor's own gutter on the top row once its first row scrolled away.
            let continued = |r: &&Vec<char>| r.get(3).is_some_and(char::is_ascii_digit);
            for row in rows.iter().filter(continued).filter(|r| r[2] != '▶') {
                assert_eq!(
                    row[1],
                    ' ',
                    "{step:?} {n}: {}",
                    row.iter().collect::<String>()
                );
            }
            h.send(step.clone());
        }
        assert!(reached_end, "{step:?}: the end of the string never showed");
        let screen = h.screen();
        assert!(screen.contains("●▶}"), "{step:?}: the last line\n{screen}");
        // And back up to the top, the cursor in sight all the way.
        for n in 0..40 {
            assert!(cursor_shown(&pane_rows(&h)), "up {n}\n{}", h.screen());
            h.send(Action::Up);
        }
        assert!(h.screen().contains("●▶{"), "{}", h.screen());
    }
}

#[test]
fn a_line_taller_than_the_pane_is_read_row_by_row_with_its_cursor_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = long_string(&dir);
    for _ in 0..4 {
        h.send(Action::Down);
    }
    assert!(
        h.screen().contains("●▶  \"note\": \"START"),
        "{}",
        h.screen()
    );
    // Past what fits, Down scrolls through the line; its top row keeps the ▶.
    let mut seen = String::new();
    while !seen.contains("THE-END") {
        h.send(Action::Down);
        let rows = pane_rows(&h);
        assert_eq!(rows[0][2], '▶', "{}", h.screen());
        seen = rows.iter().map(|r| r.iter().collect::<String>()).collect();
    }
    let view = h.app.view.as_ref().unwrap();
    assert_eq!(
        view.line_path().map(|p| p.to_string()).as_deref(),
        Some(".note")
    );
}

#[test]
fn wrapped_the_event_tab_scrolls_to_its_last_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = long_string(&dir);
    h.send(Action::SelectTab(crate::tui::action::Tab::Event));
    for _ in 0..10 {
        h.send(Action::PageDown);
    }
    let screen = h.screen();
    assert!(screen.contains("-END\","), "the string's end: {screen}");
    assert!(screen.contains("no warnings"), "the last line: {screen}");
}
