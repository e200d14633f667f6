//! Pinned screens: each `.snap` under `snapshots/` was reviewed by eye. The backend prints
//! only characters, so colors are checked separately (NO_COLOR test).

use ratatui::layout::Rect;
use ratatui::style::Color;

use crate::tui::action::{Action, Tab};
use crate::tui::testing::{create_store, insert, open_store, row, Harness};
use crate::tui::theme::Theme;

fn at_version(h: &mut Harness, version: u64) {
    h.send(Action::JumpToVersion);
    h.type_text(&version.to_string());
    h.send(Action::Confirm);
}

#[test]
fn aggregate_list() {
    let h = Harness::demo();
    insta::assert_snapshot!(h.terminal().backend());
}

/// At 80 columns LAST ACTIVITY keeps its whole value: the gaps narrow first (it was cut
/// mid-value, `2026-08-07T03:38:`, with blank cells after it).
#[test]
fn aggregate_list_at_80_columns() {
    let mut h = Harness::demo();
    h.send(Action::Resize {
        width: 80,
        height: 24,
    });
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn filtered_list() {
    let mut h = Harness::demo();
    h.send(Action::Filter);
    h.type_text("order-001");
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn timeline_with_snapshot_markers_and_marks() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 20);
    h.send(Action::MarkA);
    at_version(&mut h, 50);
    h.send(Action::MarkB);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn state_tab_highlights_what_changed() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    at_version(&mut h, 31);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn diff_tab() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    at_version(&mut h, 31);
    h.send(Action::SelectTab(Tab::Diff));
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn event_tab_with_a_decode_error() {
    let mut h = Harness::demo();
    h.open("order-0012");
    at_version(&mut h, 4);
    h.send(Action::SelectTab(Tab::Event));
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn event_tab_with_a_warning() {
    let mut h = Harness::demo();
    h.open("order-0020");
    at_version(&mut h, 5);
    h.send(Action::SelectTab(Tab::Event));
    let screen = h.screen();
    assert!(screen.contains("! timestamp goes backwards"), "{screen}");
}

#[test]
fn compare_tab() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 10);
    h.send(Action::MarkA);
    at_version(&mut h, 50);
    h.send(Action::MarkB);
    h.send(Action::OpenCompare);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn folded_state() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send_all([Action::FocusNext, Action::Down, Action::ToggleFold]);
    let screen = h.screen();
    assert!(screen.contains("\"address\": {…},  2 keys"), "{screen}");
}

/// With the events list focused, its keys come first, then those of both panes, then the
/// detail pane's.
#[test]
fn help_overlay() {
    let mut h = Harness::demo();
    h.app.size = Rect::new(0, 0, 130, 40);
    h.open("acc-0003");
    h.send(Action::ToggleHelp);
    insta::assert_snapshot!(h.terminal().backend());
}

/// With the detail pane focused, what ↑/↓, /, n/N and Esc do there comes first.
#[test]
fn help_overlay_with_the_detail_pane_focused() {
    let mut h = Harness::demo();
    h.app.size = Rect::new(0, 0, 130, 40);
    h.open("acc-0003");
    h.send(Action::FocusNext);
    h.send(Action::ToggleHelp);
    insta::assert_snapshot!(h.terminal().backend());
}

#[test]
fn help_overlay_over_the_value_viewer() {
    let mut h = Harness::demo();
    h.app.size = Rect::new(0, 0, 130, 40);
    h.open("acc-0003");
    h.send_all([Action::FocusNext, Action::OpenValue, Action::ToggleHelp]);
    insta::assert_snapshot!(h.terminal().backend());
}

/// On the aggregate list the legend of the HEALTH column follows the list's keys.
#[test]
fn help_overlay_on_the_list_explains_the_health_marks() {
    let mut h = Harness::demo();
    h.app.size = Rect::new(0, 0, 130, 40);
    h.send(Action::ToggleHelp);
    insta::assert_snapshot!(h.terminal().backend());
}

/// A wide window shows every description whole (the box was 124 cells at most, so at 200
/// columns descriptions were cut).
#[test]
fn help_at_200_columns_shows_every_description_whole() {
    let mut h = Harness::demo();
    h.app.size = Rect::new(0, 0, 200, 160);
    h.open("acc-0003");
    h.send(Action::ToggleHelp);
    let screen = h.screen();
    let help = crate::tui::keymap::HelpFor {
        context: crate::tui::keymap::Context::Aggregate,
        focus: crate::tui::app::Focus::Events,
    };
    for (_, bindings) in crate::tui::keymap::help_sections_for(help) {
        for binding in bindings {
            assert!(
                screen.contains(binding.help),
                "{:?} is cut:\n{screen}",
                binding.help
            );
        }
    }
}

/// At 80 columns (one column) and 130 (two), every description reads whole: wrapped onto
/// further rows under its first, never cut at the border (at 120 columns some were).
#[test]
fn help_descriptions_wrap_whole_in_narrow_and_two_column_windows() {
    for width in [80u16, 130] {
        let mut h = Harness::demo();
        h.app.size = Rect::new(0, 0, width, 200);
        h.open("acc-0003");
        h.send(Action::ToggleHelp);
        let screen = h.screen();
        // Each column's text, its rows joined: a wrapped description reads as one.
        let body = usize::from(width) - 2;
        let split = if width < 110 { body } else { body / 2 };
        let mut columns = [String::new(), String::new()];
        let popup: Vec<&str> = screen
            .lines()
            .skip_while(|l| !l.contains(" keys "))
            .collect();
        for line in popup.iter().filter(|l| l.starts_with('│')) {
            let cells: Vec<char> = line.chars().skip(1).take(body).collect();
            let (left, right) = cells.split_at(split.min(cells.len()));
            for (column, part) in columns.iter_mut().zip([left, right]) {
                column.push(' ');
                column.extend(part.iter());
            }
        }
        let joined = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let [left, right] = columns.map(|c| joined(&c));
        let cut = popup.iter().any(|l| l.contains("…│") || l.contains("… │"));
        assert!(!cut, "nothing is cut at {width} columns:\n{screen}");
        let help = crate::tui::keymap::HelpFor {
            context: crate::tui::keymap::Context::Aggregate,
            focus: crate::tui::app::Focus::Events,
        };
        for (_, bindings) in crate::tui::keymap::help_sections_for(help) {
            for binding in bindings {
                let whole = joined(binding.help);
                assert!(
                    left.contains(&whole) || right.contains(&whole),
                    "{whole:?} does not read whole at {width} columns:\n{screen}"
                );
            }
        }
    }
}

#[test]
fn small_terminal_asks_for_a_bigger_window() {
    let mut h = Harness::demo();
    h.send(Action::Resize {
        width: 60,
        height: 15,
    });
    insta::assert_snapshot!(h.terminal().backend());
    h.send(Action::Resize {
        width: 120,
        height: 32,
    });
    assert!(h.screen().contains("acc-0001"), "resizing back relayouts");
}

#[test]
fn jump_prompt_shows_its_error() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::JumpToVersion);
    h.type_text("abc");
    h.send(Action::Confirm);
    let screen = h.screen();
    let status = screen.lines().last().unwrap();
    assert!(status.contains("jump to version: abc"), "{status}");
    assert!(status.contains("is not a version"), "{status}");
}

#[test]
fn status_bar_says_where_the_cursor_is() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 37);
    let screen = h.screen();
    let status = screen.lines().last().unwrap();
    assert!(status.contains("acc-0003 │ v37/69 │ 2026-"), "{status}");
    assert!(status.contains("? help"), "{status}");
}

#[test]
fn no_color_means_no_color_anywhere() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::SelectTab(Tab::Diff));
    let colored = h.terminal();
    let uses_color = |t: &ratatui::Terminal<ratatui::backend::TestBackend>| {
        t.backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != Color::Reset || c.bg != Color::Reset)
    };
    assert!(uses_color(&colored));
    h.app.theme = Theme::plain();
    assert!(!uses_color(&h.terminal()));
    h.send(Action::ToggleHelp);
    assert!(!uses_color(&h.terminal()));
}

#[test]
fn escape_sequences_in_store_content_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.db");
    let conn = create_store(&path);
    let id = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J";
    insert(
        &conn,
        &[
            row(
                id,
                1,
                "Opened\u{1b}[31m",
                "{\"k\u{1b}[1m\": \"v\\u001b[5m\"}",
            ),
            row(id, 2, "Broken\r\n", "not json \u{1b}[?1049l"),
        ],
    );
    let mut h = Harness::new(open_store(&path), 120, 32);
    let list = h.screen();
    assert!(list.contains("evil␛]0;pwned␇␛[2J"), "{list}");
    h.send(Action::Confirm);
    for tab in Tab::ALL {
        h.send(Action::SelectTab(tab));
        for version in [1, 2] {
            at_version(&mut h, version);
            let screen = h.screen();
            assert!(!screen.contains('\u{1b}'), "{tab:?} v{version}:\n{screen}");
            assert!(
                !screen.chars().any(|c| c.is_control() && c != '\n'),
                "{tab:?} v{version}"
            );
        }
    }
    h.send(Action::SelectTab(Tab::Event));
    assert!(h.screen().contains("not json ␛[?1049l"));
}

#[test]
fn a_5000_character_id_leaves_the_status_bar_room_for_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long-id.db");
    let conn = create_store(&path);
    let id = "日".repeat(2500) + &"x".repeat(2500);
    insert(&conn, &[row(&id, 1, "Opened", "{\"n\": 1}")]);
    let mut h = Harness::new(open_store(&path), 80, 24);
    h.send(Action::Confirm);
    assert!(h.app.view.is_some(), "the only aggregate opens");
    h.send(Action::NextSnapshot);
    let message = h
        .app
        .message
        .as_ref()
        .expect("a message is set")
        .text
        .clone();
    let screen = h.screen();
    let status = screen.lines().last().unwrap();
    assert!(status.contains(&message), "{status}");
    // The test backend shows a wide character's second cell as a space.
    assert!(
        status.contains("日 … │"),
        "the id is cut with an ellipsis: {status}"
    );
}
