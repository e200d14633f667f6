//! Headless transitions: actions in, state out, against real SQLite stores.

use super::*;
use crate::tui::action::{Action, Tab};
use crate::tui::layout;
use crate::tui::testing::Harness;

fn view(h: &Harness) -> &AggregateView {
    h.app.view.as_ref().expect("an aggregate is open")
}

#[test]
fn the_list_loads_filters_and_sorts() {
    let mut h = Harness::demo();
    assert_eq!(h.app.list.status, ListStatus::Ready);
    assert_eq!(h.app.list.shown.len(), 58);

    h.send(Action::Filter);
    h.type_text("ORDER-001");
    let ids: Vec<&str> = h
        .app
        .list
        .shown
        .iter()
        .map(|&i| h.app.list.all[i].id.as_str())
        .collect();
    assert_eq!(ids.len(), 10, "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("order-001")));

    h.send(Action::InputBackspace);
    assert!(h.app.list.shown.len() > 10);
    h.send(Action::Back);
    assert!(h.app.list.filter_text().is_empty() && !h.app.list.filtering);
    assert_eq!(h.app.list.shown.len(), 58);

    let kept = h.app.list.selected_summary().unwrap().id.clone();
    h.send(Action::CycleSort);
    assert_eq!(h.app.list.sort, SortKey::Events);
    assert_eq!(
        h.app.list.selected_summary().unwrap().id,
        kept,
        "the selection follows the aggregate"
    );
    h.send(Action::First);
    assert_eq!(
        h.app.list.selected_summary().unwrap().id,
        "acc-0001",
        "1500 events, the most"
    );
    h.send(Action::CycleSort);
    assert_eq!(h.app.list.sort, SortKey::LastActivity);
    assert_eq!(h.app.list.selected_summary().unwrap().id, "acc-0001");
    h.send(Action::Down);
    let second = h.app.list.selected_summary().unwrap().last_timestamp;
    assert!(second <= h.app.list.all[h.app.list.shown[0]].last_timestamp);
}

#[test]
fn q_in_the_list_quits_but_first_clears_a_filter() {
    let mut h = Harness::demo();
    h.send(Action::Filter);
    h.type_text("acc");
    h.send(Action::Confirm);
    h.send(Action::Back);
    assert!(!h.app.should_quit());
    assert!(h.app.list.filter_text().is_empty());
    h.send(Action::Back);
    assert!(h.app.should_quit());
}

#[test]
fn stepping_paging_and_jumping_to_the_ends() {
    let mut h = Harness::demo();
    h.open("acc-0001");
    assert_eq!(view(&h).len(), 1500);
    assert!(!view(&h).loading);
    assert_eq!(h.cursor_version(), 1);
    h.send_all([Action::StepForward, Action::Down, Action::Down]);
    assert_eq!(h.cursor_version(), 4);
    h.send_all([Action::StepBack, Action::Up]);
    assert_eq!(h.cursor_version(), 2);
    h.send(Action::PageDown);
    assert_eq!(h.cursor_version(), 12);
    h.send(Action::PageUp);
    h.send(Action::PageUp);
    assert_eq!(h.cursor_version(), 1, "paging stops at the first event");
    h.send(Action::Last);
    assert_eq!(h.cursor_version(), 1500);
    h.send(Action::StepForward);
    assert_eq!(h.cursor_version(), 1500, "stepping stops at the last event");
    let rows = layout::aggregate(h.app.size).event_rows.height as usize;
    let v = view(&h);
    assert!(
        v.offset <= v.cursor && v.cursor < v.offset + rows,
        "cursor row kept in view"
    );
    h.send(Action::First);
    assert_eq!(h.cursor_version(), 1);
    assert_eq!(view(&h).offset, 0);
}

#[test]
fn the_detail_follows_the_cursor() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::Last);
    let detail = view(&h).detail.as_ref().unwrap();
    assert_eq!(detail.index, 68);
    assert!(
        detail.diff[0].text.starts_with("v69 "),
        "{:?}",
        detail.diff[0]
    );
}

#[test]
fn jump_to_version_and_time() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::JumpToVersion);
    assert_eq!(h.app.context(), crate::tui::keymap::Context::Prompt);
    h.type_text("v37");
    h.send(Action::Confirm);
    assert!(h.app.prompt.is_none());
    assert_eq!(h.cursor_version(), 37);

    h.send(Action::JumpToVersion);
    h.type_text("500");
    h.send(Action::Confirm);
    let error = h.app.prompt.as_ref().and_then(|p| p.error.clone()).unwrap();
    assert!(error.contains("versions end at 69"), "{error}");
    h.send(Action::Back);
    assert_eq!(
        h.cursor_version(),
        37,
        "a failed jump leaves the cursor alone"
    );

    h.send(Action::JumpToTime);
    let prefilled = h.app.prompt.as_ref().unwrap().input().to_string();
    let cursor_time = h
        .app
        .view
        .as_ref()
        .unwrap()
        .current_entry()
        .unwrap()
        .timestamp;
    assert_eq!(
        Some(prefilled),
        cursor_time.as_ref().map(crate::model::format_time)
    );
    h.send(Action::Edit(crate::tui::action::Edit::KillToStart));
    h.type_text("2026-01-15 10:30");
    h.send(Action::Confirm);
    // v4 was stamped 02:34 that day and v5 the next morning.
    assert_eq!(h.cursor_version(), 4);
    // A time of day is read on the cursor's day; a step from the cursor's time.
    h.send(Action::JumpToTime);
    h.send(Action::Edit(crate::tui::action::Edit::KillToStart));
    h.type_text("02:00");
    h.send(Action::Confirm);
    assert_eq!(
        h.cursor_version(),
        3,
        "v3 is the last before 02:00 on the 15th"
    );
    h.send(Action::JumpToTime);
    h.send(Action::Edit(crate::tui::action::Edit::KillToStart));
    h.type_text("+1d");
    h.send(Action::Confirm);
    // v3's time plus a day is still before v5's morning: the last event by then is v4.
    assert_eq!(h.cursor_version(), 4);

    h.send(Action::JumpToTime);
    h.send(Action::Edit(crate::tui::action::Edit::KillToStart));
    h.type_text("yesterday");
    h.send(Action::Confirm);
    let error = h.app.prompt.as_ref().and_then(|p| p.error.clone()).unwrap();
    assert!(error.contains("is not a time"), "{error}");
}

#[test]
fn snapshots_are_checked_and_reachable_with_brackets() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    let marks: Vec<(u64, bool)> = view(&h)
        .snapshots
        .iter()
        .map(|m| (m.version, m.verdict == SnapshotVerdict::Agrees))
        .collect();
    assert_eq!(marks, vec![(25, true), (50, false)]);
    h.send(Action::NextSnapshot);
    assert_eq!(h.cursor_version(), 25);
    h.send(Action::NextSnapshot);
    assert_eq!(h.cursor_version(), 50);
    h.send(Action::NextSnapshot);
    assert_eq!(h.cursor_version(), 50);
    assert_eq!(h.app.message.as_ref().unwrap().text, "no later snapshot");
    h.send(Action::PrevSnapshot);
    assert_eq!(h.cursor_version(), 25);
}

#[test]
fn marks_and_compare() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::OpenCompare);
    assert_eq!(view(&h).tab, Tab::Compare);
    assert!(h.app.message.as_ref().unwrap().text.contains("set mark A"));
    h.send_all([Action::PageDown, Action::MarkA]);
    h.send(Action::Last);
    h.send(Action::MarkB);
    assert_eq!(view(&h).marks, [Some(10), Some(68)]);
    assert!(h.app.message.as_ref().unwrap().text.contains("press c"));
    let comparison = view(&h)
        .comparison
        .as_ref()
        .expect("compare tab is showing");
    assert_eq!(comparison.marks, (10, 68));
    assert!(
        comparison.lines[0].text.starts_with("A v11 → B v69"),
        "{:?}",
        comparison.lines[0]
    );
}

#[test]
fn play_steps_on_ticks_and_any_key_stops_it() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::TogglePlay);
    assert!(h.app.is_playing());
    h.send(Action::Faster);
    assert!(h.app.is_playing(), "speed keys keep playing");
    assert_eq!(view(&h).speed_per_second(), 20);
    h.send_all([Action::PlayTick, Action::PlayTick]);
    assert_eq!(h.cursor_version(), 3);
    h.send(Action::StepForward);
    assert!(!h.app.is_playing());
    assert_eq!(
        h.cursor_version(),
        3,
        "the key that stops playback does nothing else"
    );

    h.send(Action::JumpToVersion);
    h.type_text("68");
    h.send(Action::Confirm);
    h.send(Action::TogglePlay);
    h.send_all([Action::PlayTick, Action::PlayTick]);
    assert_eq!(h.cursor_version(), 69);
    assert!(!h.app.is_playing(), "playback stops at the end");
}

#[test]
fn folding_objects_in_the_state_tab() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::FocusNext);
    assert_eq!(view(&h).focus, Focus::Detail);
    let before = view(&h).detail.as_ref().unwrap().visible.len();
    // Line 1 is `"address": {`.
    h.send(Action::Down);
    h.send(Action::ToggleFold);
    let detail = view(&h).detail.as_ref().unwrap();
    assert_eq!(detail.visible.len(), before - 3);
    assert!(view(&h)
        .folds
        .contains(&crate::diff::JsonPath::parse(".address").unwrap()));
    // Folds survive moving the cursor.
    h.send(Action::StepForward);
    assert_eq!(view(&h).detail.as_ref().unwrap().index, 1);
    assert!(view(&h)
        .folds
        .contains(&crate::diff::JsonPath::parse(".address").unwrap()));
    h.send(Action::ToggleFold);
    assert!(view(&h).folds.is_empty());
}

#[test]
fn clicking_the_timeline_scrubs() {
    let mut h = Harness::demo();
    h.open("acc-0001");
    let bar = layout::aggregate(h.app.size).bar;
    h.send(Action::Click {
        column: bar.right() - 1,
        row: bar.y + 1,
    });
    assert_eq!(h.cursor_version(), 1500);
    h.send(Action::Drag {
        column: bar.x + bar.width / 2,
        row: bar.y + 1,
    });
    assert_eq!(h.cursor_version(), 751);
    let events = layout::aggregate(h.app.size).event_rows;
    let offset = view(&h).offset;
    h.send(Action::Click {
        column: events.x + 3,
        row: events.y,
    });
    assert_eq!(view(&h).cursor, offset);
    h.send(Action::WheelDown {
        column: events.x + 3,
        row: events.y,
    });
    assert_eq!(view(&h).cursor, offset + 1);
}

#[test]
fn malformed_events_are_marked_and_explained() {
    let mut h = Harness::demo();
    h.open("order-0012");
    assert_eq!(view(&h).problems, vec![3]);
    h.send(Action::JumpToVersion);
    h.type_text("4");
    h.send(Action::Confirm);
    let detail = view(&h).detail.as_ref().unwrap();
    assert!(detail
        .event
        .iter()
        .any(|l| l.text.starts_with("decode error: invalid JSON")));
    assert!(detail
        .diff
        .iter()
        .any(|l| l.text.starts_with("state unchanged")));
}

#[test]
fn help_opens_and_closes_and_swallows_other_keys() {
    let mut h = Harness::demo();
    h.send(Action::ToggleHelp);
    assert!(h.app.help);
    h.send(Action::Down);
    assert_eq!(h.app.list.selected, 0);
    h.send(Action::Back);
    assert!(!h.app.help);
    assert!(!h.app.should_quit());
}

#[test]
fn clicking_a_tab_title_selects_it_and_a_click_in_the_pane_focuses_it() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    let detail = layout::aggregate(h.app.size).detail;
    let screen = h.screen();
    let top: Vec<char> = screen
        .lines()
        .nth(detail.y as usize)
        .unwrap()
        .chars()
        .collect();
    let diff_column = (0..top.len())
        .find(|&i| top[i..].starts_with(&['2', ' ', 'D', 'i', 'f', 'f']))
        .expect("the tab bar shows 2 Diff") as u16;
    h.send(Action::Click {
        column: diff_column + 3,
        row: detail.y,
    });
    assert_eq!(view(&h).tab, Tab::Diff);
    assert_eq!(view(&h).focus, Focus::Events);
    h.send(Action::Click {
        column: detail.x + 10,
        row: detail.y + 5,
    });
    assert_eq!(view(&h).focus, Focus::Detail);
}

#[test]
fn a_short_terminal_scrolls_the_help() {
    let mut h = Harness::demo();
    h.send(Action::Resize {
        width: 80,
        height: 20,
    });
    h.send(Action::ToggleHelp);
    assert!(h.screen().contains("↑↓ scroll"));
    assert!(!h.screen().contains("Compare tab"));
    // The list's keys come first; the timeline's are further down.
    for _ in 0..80 {
        if h.screen().contains("Compare tab") {
            break;
        }
        h.send(Action::Down);
    }
    assert!(h.screen().contains("Compare tab"), "{}", h.screen());
    assert!(h.app.help_scroll > 0);
    assert_eq!(h.app.list.selected, 0, "the list underneath did not move");
}

#[test]
fn shrinking_the_terminal_keeps_the_selected_aggregate_in_view() {
    let mut h = Harness::demo();
    h.send(Action::Last);
    h.send(Action::Resize {
        width: 100,
        height: 20,
    });
    let rows = layout::list(h.app.size).rows.height as usize;
    let list = &h.app.list;
    assert!(list.offset <= list.selected && list.selected < list.offset + rows);
    assert!(h.screen().contains("order-0030"));
}

/// The list filter edits like the prompts (keys through the real keymap), and ↑/↓ still
/// move between the matches.
#[test]
fn the_list_filter_edits_like_a_prompt() {
    use crate::tui::keymap::{action_for, Context};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut h = Harness::demo();
    let press = |h: &mut Harness, code: KeyCode, modifiers: KeyModifiers| {
        let action = action_for(Context::Filtering, KeyEvent::new(code, modifiers))
            .expect("the key is bound while filtering");
        h.send(action);
    };
    h.send(Action::Filter);
    h.type_text("acc-0003");
    press(&mut h, KeyCode::Left, KeyModifiers::NONE);
    press(&mut h, KeyCode::Left, KeyModifiers::NONE);
    press(&mut h, KeyCode::Backspace, KeyModifiers::NONE);
    assert_eq!(
        h.app.list.filter_text(),
        "acc-003",
        "deleted where the cursor is"
    );
    assert_eq!(h.app.list.filter_cursor(), 5);
    press(&mut h, KeyCode::Char('a'), KeyModifiers::CONTROL);
    h.type_text("x");
    assert_eq!(h.app.list.filter_text(), "xacc-003");
    press(&mut h, KeyCode::Char('e'), KeyModifiers::CONTROL);
    press(&mut h, KeyCode::Char('w'), KeyModifiers::CONTROL);
    assert_eq!(h.app.list.filter_text(), "xacc-", "Ctrl-W cuts a word");
    press(&mut h, KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert_eq!(h.app.list.filter_text(), "", "Ctrl-U cuts to the start");
    h.type_text("order");
    let first = h.app.list.selected_summary().unwrap().id.clone();
    press(&mut h, KeyCode::Down, KeyModifiers::NONE);
    assert_ne!(
        h.app.list.selected_summary().unwrap().id,
        first,
        "↓: next match"
    );
    assert!(h.screen().contains("filter: order█"), "{}", h.screen());
}

/// The list's columns are as wide as the widest id of the whole list, not of the rows on
/// screen: scrolling to a long id far down moves no column.
#[test]
fn list_columns_keep_their_widths_while_scrolling() {
    use crate::tui::testing::{create_store, insert, open_store, row};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.db");
    let conn = create_store(&path);
    let mut ids: Vec<String> = (10..70).map(|n| format!("a-{n}")).collect();
    ids.push("z-an-aggregate-id-much-longer-than-the-others".into());
    let rows: Vec<_> = ids.iter().map(|id| row(id, 1, "Made", "{}")).collect();
    insert(&conn, &rows);
    let mut h = Harness::new(open_store(&path), 120, 20);
    let type_column = |h: &Harness| {
        let screen = h.screen();
        let line = screen
            .lines()
            .find(|l| l.contains("a-") && l.contains("thing"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("a row: {screen}"));
        line.find("thing").unwrap()
    };
    let at_top = type_column(&h);
    assert!(
        !h.screen().contains("z-an-aggregate"),
        "the long id is below the first page"
    );
    h.send(Action::Last);
    assert!(h.screen().contains("z-an-aggregate"), "{}", h.screen());
    assert_eq!(type_column(&h), at_top, "{}", h.screen());
}
