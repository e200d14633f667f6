//! Widths in terminal cells: wide and joined text, sub-second times and long versions keep
//! every column in place, and a cut line says it was cut.

use unicode_width::UnicodeWidthStr;

use crate::tui::action::{Action, Tab};
use crate::tui::testing::{create_store, insert, open_store, row, Harness};

const WIDE_ID: &str = "wallet-🦀-ü-日本語";
const JOINED_ID: &str = "dev-👩\u{200D}💻-نمی\u{200C}خواهم";

/// The screen as a person reads it: a wide character's second cell is not a space.
fn screen(h: &Harness) -> String {
    let terminal = h.terminal();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        let mut x = 0;
        while x < buffer.area.width {
            let symbol = buffer[(x, y)].symbol();
            text.push_str(symbol);
            x += symbol.width().max(1) as u16;
        }
        text.push('\n');
    }
    text
}

fn store(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("cells.db");
    let conn = create_store(&path);
    let mut rows = vec![
        row(WIDE_ID, 99_998, "入金", r#"{"balance": 185.62}"#),
        row(WIDE_ID, 99_999, "Deposited", r#"{"balance": 961.46}"#),
        row(
            WIDE_ID,
            100_000,
            "Deposited",
            r#"{"note": "a very long note that cannot fit in the detail pane of this screen at all", "balance": 961.46}"#,
        ),
        row(JOINED_ID, 1, "Joined", r#"{"who": "👩‍💻"}"#),
    ];
    rows[1].timestamp = "2026-01-15T10:00:00.25Z".into();
    insert(&conn, &rows);
    path
}

#[test]
fn wide_and_joined_ids_are_shown_whole_in_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::new(open_store(&store(&dir)), 120, 20);
    let screen = screen(&h);
    assert!(screen.contains(WIDE_ID), "{screen}");
    // The joiners survive the UI path: no replacement character where they stood.
    assert!(screen.contains("👩\u{200D}💻"), "{screen}");
    assert!(screen.contains("نمی\u{200C}خواهم"), "{screen}");
    assert!(!screen.contains('\u{FFFD}'), "{screen}");
}

#[test]
fn columns_line_up_with_wide_types_sub_second_times_and_long_versions() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(open_store(&store(&dir)), 120, 20);
    h.open(WIDE_ID);
    let screen = screen(&h);
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with("│") && l.contains("2026-01-15T"))
        .collect();
    assert_eq!(rows.len(), 3, "{screen}");
    // Every row's time starts in the same cell and has the same width as the others.
    let cell_of = |line: &str, needle: &str| line[..line.find(needle).unwrap()].width();
    let starts: Vec<usize> = rows.iter().map(|l| cell_of(l, "2026-01-15T")).collect();
    assert!(starts.iter().all(|&s| s == starts[0]), "{screen}");
    assert!(
        rows[0].contains("2026-01-15T10:38:00.000Z  入金"),
        "{screen}"
    );
    assert!(
        rows[1].contains("2026-01-15T10:00:00.250Z  Deposited"),
        "{screen}"
    );
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn a_line_too_long_for_the_pane_ends_with_an_ellipsis() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(open_store(&store(&dir)), 100, 20);
    h.open(WIDE_ID);
    h.send(Action::Last);
    h.send(Action::SelectTab(Tab::Event));
    let screen = screen(&h);
    assert!(screen.contains("a very long note"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("a very long note") && l.contains("…│")),
        "{screen}"
    );
    assert!(!screen.contains("of this screen at all"), "{screen}");
}
