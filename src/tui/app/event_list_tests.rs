//! The events list's data preview (`p`), matching-only view (`m`), and `h` onto v0,
//! headless against real SQLite stores (their payloads are read back, not held).

use super::*;
use crate::tui::action::Action;
use crate::tui::testing::{create_store, insert, insert_counting, open_store, row, Harness};

fn view(h: &Harness) -> &AggregateView {
    h.app.view.as_ref().expect("an aggregate is open")
}

fn message(h: &Harness) -> String {
    h.app
        .message
        .as_ref()
        .map_or(String::new(), |m| m.text.clone())
}

fn filter(h: &mut Harness, query: &str) {
    h.send(Action::Filter);
    h.type_text(query);
    h.send(Action::Confirm);
}

fn versions_listed(h: &Harness) -> Vec<u64> {
    let v = view(h);
    (v.offset..v.offset + h.app.event_rows())
        .map_while(|row| v.row_index(row))
        .map(|i| v.version_of(i))
        .collect()
}

/// The preview of row `index`, checked to be the event's data, whole.
fn preview_of(h: &mut Harness, index: usize) -> String {
    let preview = view(h)
        .events_pane
        .preview(index)
        .expect("read")
        .to_string();
    let view = h.app.view.as_mut().unwrap();
    let data = view.replay.event(index).unwrap().data.json().unwrap();
    let shown: serde_json::Value = serde_json::from_str(&preview).expect(&preview);
    assert_eq!(shown, data);
    preview
}

#[test]
fn p_previews_the_data_of_the_visible_rows_only() {
    let mut h = Harness::demo();
    h.open("acc-0001");
    assert!(view(&h).replay.is_paged(), "payloads stay in the store");
    assert_eq!(
        view(&h).events_pane.preview(0),
        None,
        "nothing read before p"
    );
    h.send(Action::TogglePreview);
    assert!(message(&h).contains("previews"), "{}", message(&h));
    let rows = h.app.event_rows();
    let first = preview_of(&mut h, 0);
    assert!(!first.contains('\n') && !first.contains(": "), "{first}");
    assert!(view(&h).events_pane.preview(rows - 1).is_some());
    assert_eq!(
        view(&h).events_pane.preview(rows),
        None,
        "a row below the pane is not read"
    );
    let screen = h.screen();
    assert!(
        screen.contains("TYPE") && screen.contains("DATA"),
        "{screen}"
    );
    let shown = &first[..12];
    assert!(screen.contains(shown), "{shown} in {screen}");

    // Far down, only the rows in view are held: 1,500 payloads are never all read.
    h.send(Action::Last);
    let last = view(&h).len() - 1;
    assert!(view(&h).events_pane.preview(last).is_some());
    assert_eq!(
        view(&h).events_pane.preview(0),
        None,
        "scrolled away: let go"
    );
    preview_of(&mut h, last);

    h.send(Action::TogglePreview);
    assert_eq!(view(&h).events_pane.preview(last), None);
    assert!(!h.screen().contains("DATA"));
}

#[test]
fn preview_columns_keep_their_widths_while_scrolling() {
    let mut h = Harness::demo();
    h.open("acc-0001");
    h.send(Action::TogglePreview);
    let data_column = |h: &Harness| {
        let screen = h.screen();
        let columns: Vec<usize> = screen
            .lines()
            .filter_map(|l| l.split("││").next())
            .filter(|left| left.contains("  {"))
            .map(|left| left.chars().take_while(|&c| c != '{').count())
            .collect();
        assert!(!columns.is_empty(), "{screen}");
        columns
    };
    let first = data_column(&h);
    assert!(first.iter().all(|&c| c == first[0]), "{first:?}");
    for _ in 0..3 {
        h.send(Action::PageDown);
    }
    h.send(Action::Last);
    let later = data_column(&h);
    assert!(later.iter().all(|&c| c == first[0]), "{first:?} {later:?}");
}

#[test]
fn rows_arriving_while_a_history_loads_show_a_placeholder_then_fill_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let conn = create_store(&path);
    insert_counting(&conn, "big", 1, 3000);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.app.update(Action::Confirm);
    let request = h.app.take_requests().pop().unwrap();
    let mut reports = h.perform(request).into_iter();
    for report in reports.by_ref() {
        let events = matches!(report, crate::tui::loader::Report::Events { .. });
        h.app.update(Action::Loaded(report));
        if events {
            break;
        }
    }
    assert!(view(&h).loading);
    h.app.update(Action::TogglePreview);
    let cursor = view(&h).cursor;
    assert!(view(&h).events_pane.preview(cursor).is_some());
    // The cursor rides along with the load; reading back for every batch would slow it.
    h.app.update(Action::Digest);
    assert!(view(&h).loading);
    let cursor = view(&h).cursor;
    assert_eq!(view(&h).events_pane.preview(cursor), None);
    let screen = h.screen();
    let line = screen
        .lines()
        .find(|l| l.contains(&format!("v{} ", view(&h).version_of(cursor))))
        .unwrap();
    assert!(line.contains("  …"), "a placeholder: {line}");
    // Any key (or the end of the load) fills them in.
    h.app.update(Action::ToggleZone);
    assert!(view(&h).events_pane.preview(cursor).is_some());
    for report in reports {
        h.app.update(Action::Loaded(report));
    }
    h.digest_all();
    assert!(!view(&h).loading);
    let cursor = view(&h).cursor;
    assert!(view(&h).events_pane.preview(cursor).is_some());
}

#[test]
fn hostile_payloads_are_previewed_sanitized_and_cut_with_an_ellipsis() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let conn = create_store(&path);
    let long = format!(r#"{{"note": "{}"}}"#, "x".repeat(500));
    insert(
        &conn,
        &[
            row("a", 1, "Noted", "not json \u{1b}[31m red"),
            row("a", 2, "Noted", &long),
        ],
    );
    let mut h = Harness::new(open_store(&path), 120, 24);
    h.open("a");
    h.send(Action::TogglePreview);
    let screen = h.screen();
    assert!(screen.contains("not json ␛[31m red"), "{screen}");
    assert!(!screen.contains('\u{1b}'));
    let cut = screen.lines().find(|l| l.contains("xxxx")).unwrap();
    assert!(cut.contains("xxx…"), "{cut}");
}

#[test]
fn m_lists_only_the_matches_and_keeps_the_cursor_on_them() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::ToggleMatchingOnly);
    assert!(message(&h).contains("no filter"), "{}", message(&h));
    assert!(!view(&h).events_pane.matching_only);

    filter(&mut h, "withdrawn");
    let matches = view(&h).filter.as_ref().unwrap().matches.clone().unwrap();
    assert_eq!(matches.len(), 16);
    assert_eq!(h.cursor_version(), 2, "the first match");
    h.send_all([Action::Down, Action::Down]);
    assert!(!matches.contains(&view(&h).cursor), "v4 is no withdrawal");
    h.send(Action::ToggleMatchingOnly);
    assert!(
        message(&h).contains("only the 16 events"),
        "{}",
        message(&h)
    );
    let on = view(&h).cursor;
    assert!(matches.contains(&on), "the cursor moved onto a match");
    let listed = versions_listed(&h);
    let want: Vec<u64> = matches.iter().map(|&i| view(&h).version_of(i)).collect();
    assert_eq!(listed, want[..listed.len()], "only matches are listed");
    let screen = h.screen();
    let row = matches.iter().position(|&i| i == on).unwrap() + 1;
    assert!(
        screen.contains(&format!(" {row}/16 matches ")),
        "the counter counts matches: {screen}"
    );

    h.send(Action::Down);
    assert_eq!(view(&h).cursor, matches[row]);
    h.send(Action::PageDown);
    assert_eq!(view(&h).cursor, matches[(row + 10).min(15)]);
    h.send(Action::Last);
    assert_eq!(view(&h).cursor, matches[15]);
    h.send(Action::Down);
    assert_eq!(view(&h).cursor, matches[15], "no row past the last match");
    h.send(Action::First);
    assert_eq!(view(&h).cursor, matches[0]);
    h.send(Action::StepBack);
    assert!(!view(&h).before_first, "v0 is no match");
    assert_eq!(view(&h).cursor, matches[0]);
    h.send_all([Action::Down, Action::Down]);
    let kept = view(&h).cursor;
    assert!(h.screen().contains(" 3/16 matches "));

    h.send(Action::ToggleMatchingOnly);
    assert_eq!(view(&h).cursor, kept, "the same event, in the full list");
    assert_eq!(view(&h).row_count(), view(&h).len());
    assert!(h.screen().contains(&format!(" {}/49 ", kept + 1)));
    h.send(Action::Down);
    assert_eq!(view(&h).cursor, kept + 1, "every event again");
}

#[test]
fn matching_only_waits_for_a_jq_filter_and_ends_with_it() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    filter(&mut h, ".balance > 500");
    let matches = view(&h).filter.as_ref().unwrap().matches.clone().unwrap();
    assert!(matches.len() > 1 && matches.len() < view(&h).len());
    h.send(Action::ToggleMatchingOnly);
    assert_eq!(view(&h).row_count(), matches.len());
    assert!(matches.contains(&view(&h).cursor));
    h.send(Action::Cancel);
    assert!(message(&h).contains("filter cleared"), "{}", message(&h));
    assert!(!view(&h).events_pane.matching_only);
    assert_eq!(view(&h).row_count(), view(&h).len());

    filter(&mut h, "no such type");
    h.send(Action::ToggleMatchingOnly);
    assert!(message(&h).contains("no event matches"), "{}", message(&h));
    assert!(!view(&h).events_pane.matching_only);
}

#[test]
fn leaving_and_reopening_keeps_the_preview_and_the_matching_only_view() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    filter(&mut h, "withdrawn");
    h.send_all([Action::ToggleMatchingOnly, Action::Down, Action::Down]);
    h.send(Action::TogglePreview);
    let at = view(&h).cursor;
    let version = view(&h).version_of(at);
    h.send(Action::Back);
    assert!(h.app.view.is_none());
    h.send(Action::Confirm);
    assert!(view(&h).events_pane.preview && view(&h).events_pane.matching_only);
    assert_eq!(view(&h).cursor, at);
    assert_eq!(view(&h).row_count(), 16);
    assert!(view(&h).events_pane.preview(at).is_some());
    let screen = h.screen();
    assert!(screen.contains(" 3/16 matches "), "{screen}");
    assert!(screen.contains(&format!("v{version} ")));
    assert!(screen.contains("DATA"));
}

#[test]
fn a_click_in_the_matching_only_list_picks_the_match_on_that_row() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    filter(&mut h, "withdrawn");
    h.send(Action::ToggleMatchingOnly);
    let matches = view(&h).filter.as_ref().unwrap().matches.clone().unwrap();
    let rows = h.app.aggregate_layout().event_rows;
    h.send(Action::Click {
        column: rows.x + 4,
        row: rows.y + 3,
    });
    assert_eq!(view(&h).cursor, matches[view(&h).offset + 3]);
}

#[test]
fn h_and_left_on_v1_step_back_onto_v0_and_l_returns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let conn = create_store(&path);
    let rows: Vec<_> = (1..=3).map(|v| row("a", v, "Counted", "{}")).collect();
    insert(&conn, &rows);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.open("a");
    assert_eq!(h.cursor_version(), 1);
    h.send(Action::StepBack);
    assert!(view(&h).before_first, "h on v1 shows v0");
    assert_eq!(view(&h).shown_version(), 0);
    assert!(h
        .screen()
        .contains("v0   empty state, before the first event"));
    h.send(Action::StepBack);
    assert!(view(&h).before_first, "nothing before v0");
    h.send(Action::StepForward);
    assert!(!view(&h).before_first);
    assert_eq!(h.cursor_version(), 1);
    h.send(Action::Left);
    assert!(view(&h).before_first, "← too");
    h.send(Action::Right);
    assert_eq!(h.cursor_version(), 1);
    h.send(Action::Up);
    assert!(!view(&h).before_first, "k moves among events only");
}

#[test]
fn h_on_the_first_event_of_a_history_that_starts_part_way_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let source = open_store(&crate::tui::testing::demo_path());
    let reducer = crate::load::reducer_for(source.as_ref(), "acc-0003", None);
    let mut replay = crate::load::replay(source.as_ref(), "acc-0003", reducer).unwrap();
    let options = crate::export::ExportOptions {
        format: crate::export::Format::JsonLines,
        source: "demo".into(),
        aggregate: "acc-0003".into(),
        from: Some(crate::model::Position::Version(10)),
        to: None,
        with_state: false,
        redact: Vec::new(),
        generated_at: None,
    };
    let mut text = Vec::new();
    crate::export::export(&mut replay, &options, &mut text).unwrap();
    std::fs::write(&path, text).unwrap();
    let transcript = crate::source::open(
        &path.to_string_lossy(),
        &crate::source::OpenOptions::default(),
    )
    .unwrap();
    let mut h = Harness::new(transcript, 120, 32);
    h.open("acc-0003");
    assert_eq!(h.cursor_version(), 11);
    assert!(!view(&h).has_v0(), "its start is v10's state, not v0");
    h.send(Action::StepBack);
    assert!(!view(&h).before_first);
    assert_eq!(h.cursor_version(), 11);
}

#[test]
fn playback_in_the_matching_only_list_steps_through_matches_and_stops_at_the_last() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    filter(&mut h, "withdrawn");
    h.send(Action::ToggleMatchingOnly);
    let matches = view(&h).filter.as_ref().unwrap().matches.clone().unwrap();
    h.send(Action::TogglePlay);
    assert!(h.app.is_playing());
    h.send(Action::PlayTick);
    assert_eq!(view(&h).cursor, matches[1]);
    for _ in 0..20 {
        h.send(Action::PlayTick);
    }
    assert_eq!(view(&h).cursor, matches[15]);
    assert!(!h.app.is_playing(), "stopped on the last match");
}

/// `p` in a window too narrow for a DATA column changes nothing and says why: how wide
/// the window must be (the width at which it does show), and that `+` makes room.
#[test]
fn p_in_a_narrow_window_says_how_wide_the_preview_needs_it() {
    let mut h = Harness::demo();
    h.send(Action::Resize {
        width: 80,
        height: 24,
    });
    h.open("acc-0003");
    let before = h.screen();
    h.send(Action::TogglePreview);
    assert!(!view(&h).events_pane.preview, "left off: it would not show");
    let said = message(&h);
    let needed: u16 = said
        .strip_prefix("no room for the data preview: it needs a window of ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(needed > 80, "{said}");
    assert!(said.contains("(this one has 80)"), "{said}");
    assert!(
        said.contains("+ gives the events list the whole screen"),
        "{said}"
    );
    let after = h.screen();
    assert_eq!(
        before.lines().take(23).collect::<Vec<_>>(),
        after.lines().take(23).collect::<Vec<_>>(),
        "nothing but the status line changed"
    );

    // At that width it shows, one column narrower it does not.
    for (width, shows) in [(needed - 1, false), (needed, true)] {
        h.send(Action::Resize { width, height: 24 });
        h.send(Action::TogglePreview);
        assert_eq!(
            view(&h).events_pane.preview,
            shows,
            "{width}: {}",
            message(&h)
        );
        assert_eq!(h.screen().contains("DATA"), shows, "{width}");
        if shows {
            h.send(Action::TogglePreview);
        }
    }

    // Zoomed, the events list has the whole width: there it fits at 80.
    h.send(Action::Resize {
        width: 80,
        height: 24,
    });
    h.send(Action::ToggleZoom);
    h.send(Action::TogglePreview);
    assert!(view(&h).events_pane.preview, "{}", message(&h));
    assert!(h.screen().contains("DATA"), "{}", h.screen());
}

/// The preview stays on through a window narrowed under it, but while it has no room the
/// left column is as wide as without it: the detail pane gets its width back.
#[test]
fn a_window_narrowed_under_the_preview_gives_the_detail_pane_its_width_back() {
    let mut h = Harness::demo();
    h.send(Action::Resize {
        width: 200,
        height: 30,
    });
    h.open("acc-0003");
    h.send(Action::TogglePreview);
    assert!(view(&h).events_pane.preview, "{}", message(&h));
    assert_eq!(
        h.app.aggregate_layout().events.width,
        120,
        "60% of the window"
    );
    h.send(Action::Resize {
        width: 80,
        height: 30,
    });
    assert!(view(&h).events_pane.preview, "still on");
    assert!(!h.screen().contains("DATA"));
    assert_eq!(
        h.app.aggregate_layout().events.width,
        40,
        "as without the preview"
    );
    h.send(Action::Resize {
        width: 200,
        height: 30,
    });
    assert_eq!(h.app.aggregate_layout().events.width, 120);
    assert!(h.screen().contains("DATA"));
}
