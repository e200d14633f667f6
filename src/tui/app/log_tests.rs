//! The store log and the trace view, headless, against real stores: paging in both
//! directions with bounded memory, jumps, filters, follow, and the way into a timeline and
//! back.

use rusqlite::params;

use super::*;
use crate::inspect::Link;
use crate::model::{parse_time, StorePosition};
use crate::tui::action::Action;
use crate::tui::log_pages::{PAGE_ROWS, WINDOW_ROWS};
use crate::tui::testing::{create_store, insert, insert_counting, open_store, row, Harness};

fn log(h: &Harness) -> &LogView {
    h.app.log.as_ref().expect("the store log is open")
}

fn positions(h: &Harness) -> Vec<i64> {
    log(h)
        .rows
        .iter()
        .map(|row| match row.position {
            StorePosition::Seq(n) => n,
            other => panic!("a SQLite position is a number, not {other:?}"),
        })
        .collect()
}

fn current_position(h: &Harness) -> StorePosition {
    log(h).current().expect("a row under the cursor").position
}

/// Rows are consecutive store positions with nothing left out or repeated.
fn assert_consecutive(h: &Harness) {
    let found = positions(h);
    assert!(
        found.windows(2).all(|w| w[1] == w[0] + 1),
        "the window skips or repeats rows: {:?}…",
        &found[..found.len().min(20)]
    );
}

/// A store of `aggregates` × `each` events, interleaved in store order: positions 1….
fn interleaved_store(dir: &tempfile::TempDir, aggregates: u64, each: u64) -> Harness {
    let path = dir.path().join("log.db");
    let conn = create_store(&path);
    for version in 1..=each {
        for a in 0..aggregates {
            let id = format!("agg-{a:02}");
            let data = format!("{{\"n\": {version}}}");
            let mut r = row(&id, version, if a % 2 == 0 { "Even" } else { "Odd" }, &data);
            let minutes = version * aggregates + a;
            r.timestamp = format!(
                "2026-01-{:02}T{:02}:{:02}:00Z",
                1 + minutes / 1440,
                (minutes / 60) % 24,
                minutes % 60
            );
            insert(&conn, &[r]);
        }
    }
    Harness::new(open_store(&path), 120, 32)
}

#[test]
fn the_log_opens_on_its_first_page_in_store_order() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    assert_eq!(h.app.context(), crate::tui::keymap::Context::Log);
    let found = positions(&h);
    assert_eq!(found.first(), Some(&1));
    assert_eq!(
        found.len(),
        PAGE_ROWS,
        "one page, not the store's 3,508 events"
    );
    assert_consecutive(&h);
    assert!(log(&h).at_start && !log(&h).at_end);
    let screen = h.screen();
    assert!(screen.contains("store log"), "{screen}");
    assert!(
        screen.contains("acc-0023    v1   AccountOpened"),
        "{screen}"
    );
}

#[test]
fn scrolling_reads_the_pages_beyond_and_keeps_the_window_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = interleaved_store(&dir, 5, 600);
    h.send(Action::OpenLog);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        h.send(Action::PageDown);
        assert!(
            log(&h).rows.len() <= WINDOW_ROWS,
            "the window grows past its bound"
        );
        assert_consecutive(&h);
        seen.insert(current_position(&h));
    }
    assert!(log(&h).at_end, "paging down reached the end of the store");
    assert_eq!(current_position(&h), StorePosition::Seq(3000));
    assert!(!log(&h).at_start, "the first pages were let go");
    for _ in 0..200 {
        h.send(Action::PageUp);
        assert!(log(&h).rows.len() <= WINDOW_ROWS);
        assert_consecutive(&h);
    }
    assert!(log(&h).at_start, "paging up read the earlier pages back");
    assert_eq!(current_position(&h), StorePosition::Seq(1));
}

#[test]
fn g_and_shift_g_jump_to_the_ends_of_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = interleaved_store(&dir, 3, 500);
    h.send(Action::OpenLog);
    h.send(Action::Last);
    assert_eq!(current_position(&h), StorePosition::Seq(1500));
    assert!(log(&h).at_end && !log(&h).at_start);
    assert_eq!(log(&h).rows.len(), PAGE_ROWS);
    assert_consecutive(&h);
    let shown = h.screen();
    let rows_drawn = shown.lines().filter(|l| l.contains("agg-")).count();
    assert!(
        rows_drawn >= 25,
        "the end of the log fills the screen:\n{shown}"
    );
    h.send(Action::Up);
    assert_eq!(current_position(&h), StorePosition::Seq(1499));
    h.send(Action::First);
    assert_eq!(current_position(&h), StorePosition::Seq(1));
}

#[test]
fn the_end_is_found_across_gaps_in_the_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaps.db");
    let conn = create_store(&path);
    insert_counting(&conn, "a", 1, 300);
    // Rows deleted and rowids far apart: the end is not where the count says.
    conn.execute("DELETE FROM events WHERE version BETWEEN 100 AND 250", [])
        .unwrap();
    for (rowid, version) in [(90_000i64, 301u64), (1_000_000, 302), (1_000_001, 303)] {
        conn.execute(
            "INSERT INTO events(rowid, event_id, aggregate_id, aggregate_type, event_type, event_data, metadata, version, timestamp)
             VALUES (?1, ?2, 'a', 'thing', 'Counted', '{}', '{}', ?3, '2026-01-16T00:00:00Z')",
            params![rowid, format!("a-{version}"), version],
        )
        .unwrap();
    }
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.send(Action::OpenLog);
    h.send(Action::Last);
    assert_eq!(current_position(&h), StorePosition::Seq(1_000_001));
    assert_eq!(log(&h).current().unwrap().version, 303);
    h.send_all(std::iter::repeat_n(Action::PageUp, 30));
    assert!(log(&h).at_start);
    assert_eq!(current_position(&h), StorePosition::Seq(1));
    let versions: Vec<u64> = log(&h).rows.iter().map(|r| r.version).collect();
    let expected: Vec<u64> = (1..100).chain(251..=303).collect();
    assert_eq!(versions, expected, "every event once, in store order");
}

#[test]
fn t_jumps_to_the_first_event_at_or_after_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = interleaved_store(&dir, 4, 300);
    h.send(Action::OpenLog);
    h.send(Action::JumpToTime);
    let prompt = h.app.prompt.as_ref().expect("the time prompt");
    assert_eq!(
        prompt.input(),
        "2026-01-01T00:04:00Z",
        "prefilled with the cursor's time"
    );
    h.send_all(std::iter::repeat_n(Action::InputBackspace, 40));
    h.type_text("2026-01-01 10:30");
    h.send(Action::Confirm);
    assert!(h.app.prompt.is_none());
    let wanted = parse_time("2026-01-01T10:30:00Z");
    let row = log(&h).current().unwrap().clone();
    assert_eq!(row.timestamp, wanted, "{row:?}");
    h.send(Action::Up);
    assert!(
        log(&h).current().unwrap().timestamp < wanted,
        "the row before is earlier"
    );
    // As in the timeline: a step from the cursor's time, and a time of day on its day.
    h.send(Action::Down);
    h.send(Action::JumpToTime);
    h.send_all(std::iter::repeat_n(Action::InputBackspace, 40));
    h.type_text("+2h");
    h.send(Action::Confirm);
    assert_eq!(
        log(&h).current().unwrap().timestamp,
        parse_time("2026-01-01T12:30:00Z"),
        "{}",
        h.screen()
    );
    h.send(Action::JumpToTime);
    h.send_all(std::iter::repeat_n(Action::InputBackspace, 40));
    h.type_text("10:30");
    h.send(Action::Confirm);
    assert_eq!(log(&h).current().unwrap().timestamp, wanted);

    h.send(Action::JumpToTime);
    h.send_all(std::iter::repeat_n(Action::InputBackspace, 40));
    h.type_text("yesterday");
    h.send(Action::Confirm);
    let prompt = h
        .app
        .prompt
        .as_ref()
        .expect("a bad time keeps the prompt open");
    assert!(
        prompt.error.as_deref().unwrap_or("").contains("not a time"),
        "{prompt:?}"
    );
}

#[test]
fn a_text_filter_keeps_matching_rows_and_esc_clears_it_on_the_same_event() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send(Action::Filter);
    h.type_text("frozen");
    h.send(Action::Confirm);
    let rows = &log(&h).rows;
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.event_type.to_lowercase().contains("frozen")),
        "{:?}",
        rows.iter().map(|r| &r.event_type).collect::<Vec<_>>()
    );
    assert!(h.screen().contains("filter: frozen"));
    h.send(Action::Down);
    let here = current_position(&h);
    h.send(Action::Cancel);
    assert!(log(&h).query.is_none(), "Esc clears the filter");
    assert_eq!(current_position(&h), here, "and stays on the same event");
    assert!(log(&h).rows.len() > 2);
    h.send(Action::Cancel);
    assert!(h.app.log.is_some(), "Esc with nothing to cancel stays");
    h.send(Action::Back);
    assert!(h.app.log.is_none(), "q goes back to the list");
}

#[test]
fn a_text_filter_finds_a_correlation_id() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send(Action::Filter);
    h.type_text("req-7a1f");
    h.send(Action::Confirm);
    let found: Vec<(String, u64)> = log(&h)
        .rows
        .iter()
        .map(|r| (r.aggregate_id.clone(), r.version))
        .collect();
    assert_eq!(
        found,
        vec![
            ("order-0031".into(), 1),
            ("acc-0004".into(), 68),
            ("order-0031".into(), 2),
            ("order-0031".into(), 3),
            ("order-0031".into(), 4),
        ]
    );
}

#[test]
fn a_jq_filter_reads_each_aggregates_state() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send(Action::Filter);
    // Orders have no balance, and jq orders null before numbers.
    h.type_text("(.balance // 0) < 0");
    h.send(Action::Confirm);
    let first = log(&h)
        .rows
        .first()
        .expect("acc-0007 goes negative")
        .clone();
    assert_eq!(
        (first.aggregate_id.as_str(), first.version),
        ("acc-0007", 31)
    );
    assert!(log(&h).rows.iter().all(|r| r.aggregate_id == "acc-0007"));
}

#[test]
fn a_jq_typo_keeps_the_prompt_open_and_the_old_filter() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send(Action::Filter);
    h.type_text("withdrawn");
    h.send(Action::Confirm);
    h.send(Action::Filter);
    h.send_all(std::iter::repeat_n(Action::InputBackspace, 20));
    h.type_text(".balance <");
    h.send(Action::Confirm);
    let prompt = h.app.prompt.as_ref().expect("the prompt stays open");
    assert_eq!(prompt.input(), ".balance <");
    assert!(prompt.error.is_some(), "with the error inline");
    assert_eq!(log(&h).query.as_ref().unwrap().text, "withdrawn");
}

#[test]
fn enter_opens_the_aggregate_at_the_event_and_back_returns_to_the_same_row() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send_all(std::iter::repeat_n(Action::Down, 250));
    let row = log(&h).current().unwrap().clone();
    let (offset, cursor) = (log(&h).offset, log(&h).cursor);
    h.send(Action::Confirm);
    let view = h.app.view.as_ref().expect("the aggregate opened");
    assert_eq!(view.summary.id, row.aggregate_id);
    assert_eq!(h.cursor_version(), row.version);
    assert_eq!(view.position_of(view.cursor), row.position);
    h.send(Action::Back);
    assert!(h.app.view.is_none());
    assert_eq!(current_position(&h), row.position, "back on the same row");
    assert_eq!((log(&h).offset, log(&h).cursor), (offset, cursor));
}

#[test]
fn follow_appends_what_is_stored_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let conn = create_store(&path);
    insert_counting(&conn, "a", 1, 450);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.send(Action::OpenLog);
    h.send(Action::ToggleFollow);
    assert!(h.app.is_following());
    assert_eq!(
        current_position(&h),
        StorePosition::Seq(450),
        "follow starts at the end"
    );
    h.send(Action::FollowTick);
    assert_eq!(log(&h).rows.len(), PAGE_ROWS, "nothing new, nothing read");
    insert_counting(&conn, "b", 1, 3);
    h.send(Action::FollowTick);
    assert_eq!(
        current_position(&h),
        StorePosition::Seq(453),
        "the cursor stays on the last"
    );
    assert_eq!(log(&h).current().unwrap().aggregate_id, "b");
    assert!(h.screen().contains("3 new event(s)"));
    h.send(Action::ToggleFollow);
    assert!(!h.app.is_following());
}

/// The demo's store log filtered to `request`, and its trace opened from there.
fn traced_from_the_log(request: &str) -> Harness {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    h.send(Action::Filter);
    h.type_text(request);
    h.send(Action::Confirm);
    h.send(Action::Trace);
    h
}

#[test]
fn a_trace_from_the_log_shows_the_request_and_jumps_into_its_aggregates() {
    let mut h = traced_from_the_log("req-9d4b");
    let trace = h.app.trace.as_ref().expect("the trace opened");
    let tree = trace.tree.as_ref().expect("and was read");
    assert_eq!(tree.trace.events.len(), 4);
    assert_eq!(
        tree.trace.events[3].link,
        Link::Dangling("evt-999999".into()),
        "the dangling cause is marked"
    );
    let screen = h.screen();
    assert!(
        screen.contains("! caused by evt-999999, which is not in thi…"),
        "cut with an ellipsis:\n{screen}"
    );
    assert!(screen.contains("└─ acc-0011 v65 Withdrawn"), "{screen}");
    h.send(Action::Down);
    h.send(Action::Confirm);
    assert!(h.app.trace.is_none());
    assert_eq!(h.app.view.as_ref().unwrap().summary.id, "acc-0011");
    assert_eq!(h.cursor_version(), 65);
    h.send(Action::Back);
    assert!(
        h.app.log.is_some(),
        "back to the log the trace was asked from"
    );
}

#[test]
fn a_trace_from_the_timeline_jumps_within_and_across_aggregates() {
    let mut h = Harness::demo();
    h.open("order-0031");
    h.send(Action::Trace);
    let tree = h.app.trace.as_ref().unwrap().tree.clone().unwrap();
    assert_eq!(
        tree.trace.id, "req-7a1f",
        "the correlation id of order-0031 v1"
    );
    assert_eq!(tree.trace.aggregates(), 2);
    // The last event of the tree is order-0031 v4: the same aggregate, another event.
    h.send(Action::Last);
    h.send(Action::Confirm);
    assert_eq!(h.app.view.as_ref().unwrap().summary.id, "order-0031");
    assert_eq!(h.cursor_version(), 4);
    h.send(Action::Trace);
    assert_eq!(
        h.app.trace.as_ref().unwrap().selected,
        4,
        "opens on the event it came from"
    );
    h.send_all([Action::First, Action::Down, Action::Confirm]);
    assert_eq!(h.app.view.as_ref().unwrap().summary.id, "acc-0004");
    assert_eq!(h.cursor_version(), 68);
    h.send(Action::Back);
    assert!(
        h.app.view.is_none() && h.app.log.is_none(),
        "back to the list"
    );
}

#[test]
fn an_event_is_traced_by_its_own_id_and_without_ids_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let conn = create_store(&path);
    insert_counting(&conn, "a", 1, 3);
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.open("a");
    h.send(Action::Trace);
    // Without a correlation id the event's own id is traced.
    let trace = h.app.trace.as_ref().expect("the event id is traced");
    assert_eq!(trace.id, "a-1");
    assert_eq!(trace.tree.as_ref().unwrap().trace.events.len(), 1);
    h.send(Action::Back);
    assert!(h.app.trace.is_none());

    conn.execute("UPDATE events SET event_id = NULL", [])
        .unwrap();
    let mut h = Harness::new(open_store(&path), 120, 32);
    h.open("a");
    h.send(Action::Trace);
    assert!(h.app.trace.is_none());
    let said = h.app.message.as_ref().unwrap();
    assert!(
        said.error && said.text.contains("no correlation id or event id"),
        "{said:?}"
    );
}

#[test]
fn a_click_picks_a_log_row_and_the_wheel_scrolls() {
    let mut h = Harness::demo();
    h.send(Action::OpenLog);
    let rows = crate::tui::layout::list(h.app.size).rows;
    h.send(Action::Click {
        column: rows.x + 2,
        row: rows.y + 4,
    });
    assert_eq!(log(&h).cursor, 4, "the fifth row on screen");
    let clicked = current_position(&h);
    h.send(Action::WheelDown {
        column: rows.x,
        row: rows.y,
    });
    assert_eq!(log(&h).cursor, 7);
    h.send(Action::WheelUp {
        column: rows.x,
        row: rows.y,
    });
    assert_eq!(current_position(&h), clicked);
    // A click outside the rows (the status line) moves nothing.
    h.send(Action::Click {
        column: 2,
        row: h.app.size.height - 1,
    });
    assert_eq!(current_position(&h), clicked);
    let aggregate = log(&h).rows[log(&h).cursor].aggregate_id.clone();
    h.send(Action::Confirm);
    assert_eq!(
        h.app.view.as_ref().map(|v| v.summary.id.clone()),
        Some(aggregate),
        "Enter opens the clicked row's aggregate"
    );
}

#[test]
fn a_click_picks_a_trace_event_and_enter_opens_it() {
    let mut h = traced_from_the_log("req-9d4b");
    let events: Vec<(String, u64)> = h
        .app
        .trace
        .as_ref()
        .unwrap()
        .tree
        .as_ref()
        .unwrap()
        .trace
        .events
        .iter()
        .map(|e| (e.event.aggregate_id.clone(), e.event.version))
        .collect();
    assert_eq!(events.len(), 4);
    // Rows start below the summary line and the header.
    let rows = crate::tui::layout::list(h.app.size).rows;
    h.send(Action::Click {
        column: rows.x + 2,
        row: rows.y + 1 + 2,
    });
    assert_eq!(h.app.trace.as_ref().unwrap().selected, 2);
    h.send(Action::WheelDown {
        column: rows.x,
        row: rows.y,
    });
    assert_eq!(h.app.trace.as_ref().unwrap().selected, 3);
    h.send(Action::WheelUp {
        column: rows.x,
        row: rows.y,
    });
    h.send(Action::Confirm);
    assert_eq!(h.app.view.as_ref().unwrap().summary.id, events[2].0);
    assert_eq!(h.cursor_version(), events[2].1);
}
