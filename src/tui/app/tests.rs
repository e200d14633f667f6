//! Headless transitions: actions in, state out, against real SQLite stores.

use super::*;
use crate::tui::action::{Action, Tab};
use crate::tui::layout;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::tui::loader::{perform, Report, Request};
use crate::tui::testing::{create_store, insert, insert_counting, open_store, row, Harness};

fn view(h: &Harness) -> &AggregateView {
    h.app.view.as_ref().expect("an aggregate is open")
}

#[test]
fn the_list_loads_filters_and_sorts() {
    let mut h = Harness::demo();
    assert_eq!(h.app.list.status, ListStatus::Ready);
    assert_eq!(h.app.list.shown.len(), 54);

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
    assert!(h.app.list.filter.is_empty() && !h.app.list.filtering);
    assert_eq!(h.app.list.shown.len(), 54);

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
    assert!(h.app.list.filter.is_empty());
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
    h.type_text("2026-01-15 10:30");
    h.send(Action::Confirm);
    // v4 was stamped 02:34 that day and v5 the next morning.
    assert_eq!(h.cursor_version(), 4);

    h.send(Action::JumpToTime);
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
fn back_returns_to_the_list_and_stale_reports_are_ignored() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    let old = view(&h).generation;
    h.send(Action::Back);
    assert!(h.app.view.is_none());
    h.send(Action::Confirm);
    assert_eq!(view(&h).summary.id, "acc-0003");
    assert!(view(&h).generation > old);
    let len = view(&h).len();
    h.send(Action::Loaded(Report::Events {
        generation: old,
        events: view(&h).replay.events()[..3].to_vec(),
    }));
    assert_eq!(
        view(&h).len(),
        len,
        "reports for an older generation change nothing"
    );
}

#[test]
fn a_newer_request_stops_an_older_load_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let conn = create_store(&path);
    insert_counting(&conn, "big", 1, 5000);
    let source = open_store(&path);
    let latest = AtomicU64::new(1);
    let mut reports = Vec::new();
    let request = Request::LoadHistory {
        generation: 1,
        aggregate_id: "big".into(),
    };
    perform(source.as_ref(), request.clone(), &latest, &mut |report| {
        reports.push(report);
        // The user opens something else while the first chunk is on its way.
        latest.store(2, Ordering::SeqCst);
    });
    assert_eq!(reports.len(), 1, "one chunk of three, and no Finished");
    assert!(matches!(&reports[0], Report::Events { events, .. } if events.len() == 2048));
    let mut late = Vec::new();
    perform(source.as_ref(), request, &latest, &mut |r| late.push(r));
    assert!(late.is_empty(), "an outdated request is not even started");
}

#[test]
fn back_during_a_load_cancels_it() {
    let mut h = Harness::demo();
    h.app.update(Action::Confirm);
    h.app.take_requests();
    h.app.update(Action::Back);
    let requests = h.app.take_requests();
    assert!(
        matches!(requests.as_slice(), [Request::Cancel { generation: 2 }]),
        "{requests:?}"
    );
}

#[test]
fn a_long_history_can_be_scrubbed_while_it_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let conn = create_store(&path);
    insert_counting(&conn, "big", 1, 5000);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.app.update(Action::Confirm);
    let request = h.app.take_requests().pop().unwrap();
    let mut reports = h.perform(request).into_iter();
    h.app.update(Action::Loaded(reports.next().unwrap()));
    assert!(view(&h).loading);
    assert_eq!(view(&h).len(), DIGEST_BATCH, "replayed in batches");
    assert_eq!(view(&h).span(), 5000);
    h.digest_all();
    assert!(view(&h).loading);
    assert_eq!(view(&h).len(), 2048);
    assert_eq!(view(&h).span(), 5000);
    h.app.update(Action::Last);
    assert_eq!(h.cursor_version(), 2048);
    assert!(h.screen().contains("loading 2048/5000"));
    for report in reports {
        h.app.update(Action::Loaded(report));
    }
    assert!(view(&h).loading, "not done until every event is replayed");
    h.digest_all();
    assert!(!view(&h).loading);
    assert_eq!(
        h.cursor_version(),
        5000,
        "a cursor on the last event rides the load"
    );
}

#[test]
fn follow_appends_new_events_and_keeps_an_end_cursor_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let conn = create_store(&path);
    insert_counting(&conn, "live", 1, 5);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.send(Action::Confirm);
    h.send(Action::Last);
    h.send(Action::FollowTick);
    assert!(h.app.take_requests().is_empty(), "no polling until f");
    h.send(Action::ToggleFollow);
    assert!(h.app.is_following());

    insert_counting(&conn, "live", 6, 2);
    h.send(Action::FollowTick);
    assert_eq!(view(&h).len(), 7);
    assert_eq!(
        h.cursor_version(),
        7,
        "the cursor was at the end, so it stays there"
    );

    h.send(Action::First);
    insert_counting(&conn, "live", 8, 1);
    h.send(Action::FollowTick);
    assert_eq!(view(&h).len(), 8);
    assert_eq!(h.cursor_version(), 1, "a cursor elsewhere does not move");

    h.send(Action::ToggleFollow);
    insert_counting(&conn, "live", 9, 1);
    h.send(Action::FollowTick);
    assert_eq!(view(&h).len(), 8);
}

#[test]
fn a_failing_source_shows_a_message_instead_of_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.db");
    let conn = create_store(&path);
    insert(&conn, &[row("x", 1, "Made", "{}")]);
    drop(conn);
    let source = open_store(&path);
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let h = Harness::new(source, 120, 32);
    let ListStatus::Failed(error) = &h.app.list.status else {
        panic!("expected a failure, got {:?}", h.app.list.status);
    };
    assert!(h.app.message.as_ref().unwrap().error);
    assert!(h.screen().contains("could not list aggregates"), "{error}");
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
    for _ in 0..12 {
        h.send(Action::Down);
    }
    assert!(h.screen().contains("Compare tab"), "{}", h.screen());
    assert_eq!(h.app.list.selected, 0, "the list underneath did not move");
}

#[test]
fn the_reducer_given_to_the_ui_folds_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sum.db");
    let conn = create_store(&path);
    insert_counting(&conn, "sum", 1, 4);
    let reducer = crate::replay::JqReducer::new(
        "{total: ((.total // 0) + $event.data.n)}",
        "sum.jq",
        std::time::Duration::from_secs(1),
    )
    .unwrap();
    let mut h = Harness::with_reducer(open_store(&path), std::sync::Arc::new(reducer), 120, 32);
    h.send(Action::Confirm);
    h.send(Action::Last);
    let screen = h.screen();
    assert!(
        screen.contains("\"total\": 10"),
        "1+2+3+4 by the jq program:\n{screen}"
    );
}
