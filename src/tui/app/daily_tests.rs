//! Issue 15's bugs and the daily-driver behaviours, headless against real stores.

use super::*;
use crate::tui::action::{Action, Tab};
use crate::tui::testing::{create_store, insert, open_store, row, Harness};

fn view(h: &Harness) -> &AggregateView {
    h.app.view.as_ref().expect("an aggregate is open")
}

fn message(h: &Harness) -> String {
    h.app
        .message
        .as_ref()
        .map_or(String::new(), |m| m.text.clone())
}

fn store_with(dir: &tempfile::TempDir, rows: &[crate::tui::testing::Row<'_>]) -> Harness {
    let path = dir.path().join("store.db");
    let conn = create_store(&path);
    insert(&conn, rows);
    Harness::new(open_store(&path), 120, 32)
}

#[test]
fn the_detail_pane_scroll_is_clamped_when_the_next_event_is_shorter() {
    let dir = tempfile::tempdir().unwrap();
    let long: String = format!(
        "{{{}}}",
        (0..200)
            .map(|i| format!("\"k{i:03}\": {i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut h = store_with(
        &dir,
        &[
            row("a", 1, "Big", &long),
            row("a", 2, "Small", r#"{"k000": -1}"#),
        ],
    );
    h.open("a");
    h.send_all([
        Action::First,
        Action::SelectTab(Tab::Event),
        Action::FocusNext,
    ]);
    h.send_all([Action::PageDown, Action::PageDown, Action::PageDown]);
    assert!(view(&h).scroll[Tab::Event.index()] > 0);
    h.send(Action::StepForward);
    assert_eq!(
        view(&h).scroll[Tab::Event.index()],
        0,
        "clamped to the short event"
    );
    let screen = h.screen();
    assert!(
        screen.contains("v2 Small at"),
        "the short event shows, not a blank pane:\n{screen}"
    );
}

#[test]
fn a_jq_typo_keeps_the_prompt_its_text_and_the_old_filter() {
    let mut h = Harness::demo();
    h.open("acc-0007");
    h.send(Action::Filter);
    h.type_text("withdrawn");
    h.send(Action::Confirm);
    let before = view(&h).filter.clone().expect("a text filter");
    h.send(Action::Filter);
    h.send_all(std::iter::repeat_n(Action::InputBackspace, 20));
    h.type_text(".balance <");
    h.send(Action::Confirm);
    let prompt = h.app.prompt.as_ref().expect("the prompt stays open");
    assert_eq!(prompt.input(), ".balance <");
    assert!(prompt.error.is_some(), "with the error inline");
    assert_eq!(
        view(&h).filter.as_ref(),
        Some(&before),
        "the old filter stays"
    );
    h.send(Action::Back);
    assert!(h.app.prompt.is_none());
    h.send(Action::Cancel);
    assert!(view(&h).filter.is_none(), "Esc clears the filter");
    h.send(Action::Cancel);
    assert!(
        h.app.view.is_some(),
        "Esc with nothing to cancel stays in the aggregate"
    );
    assert!(message(&h).contains("q goes back"), "{}", message(&h));
    h.send(Action::Back);
    assert!(h.app.view.is_none(), "q leaves");
}

#[test]
fn a_version_in_a_gap_says_where_it_landed_and_v0_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = [1, 2, 3, 4, 6, 7]
        .into_iter()
        .map(|v| row("a", v, "Counted", "{}"))
        .collect();
    let mut h = store_with(&dir, &rows);
    h.open("a");
    h.send(Action::JumpToVersion);
    h.type_text("5");
    h.send(Action::Confirm);
    assert_eq!(h.cursor_version(), 4);
    assert!(message(&h).contains("there is no v5"), "{}", message(&h));
}

#[test]
fn colon_zero_shows_the_empty_state_and_a_step_forward_goes_to_v1() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = (1..=3)
        .map(|v| row("a", v, "Counted", r#"{"n": 1}"#))
        .collect();
    let mut h = store_with(&dir, &rows);
    h.open_latest("a");
    h.send(Action::JumpToVersion);
    h.type_text("0");
    h.send(Action::Confirm);
    assert!(view(&h).before_first, "{}", message(&h));
    assert!(
        message(&h).contains("v0 is the empty state"),
        "{}",
        message(&h)
    );
    let detail = view(&h).detail.as_ref().expect("a detail for v0");
    let state: Vec<String> = (0..detail.state.len())
        .map(|i| line_text(&detail.state, i, false))
        .collect();
    assert_eq!(state, ["null"], "the state before any event");
    let screen = h.screen();
    assert!(screen.contains("v0/3"), "{screen}");
    assert!(
        screen.contains(" 0/3 "),
        "the events title counts none shown: {screen}"
    );
    assert!(
        screen.contains("v0   empty state, before the first event"),
        "{screen}"
    );
    assert!(!screen.contains("showing v1"), "{screen}");

    h.send(Action::StepForward);
    assert!(!view(&h).before_first);
    assert_eq!(h.cursor_version(), 1);
    assert!(h.screen().contains("v1/3"));
    let state = &view(&h).detail.as_ref().unwrap().state;
    assert_ne!(line_text(state, 0, false), "null");

    // A time before the first event is v0 too.
    h.send(Action::JumpToTime);
    h.send(Action::Edit(crate::tui::action::Edit::KillToStart));
    h.send(Action::Edit(crate::tui::action::Edit::KillToEnd));
    h.type_text("2000-01-01");
    h.send(Action::Confirm);
    assert!(view(&h).before_first, "{}", message(&h));
}

#[test]
fn follow_on_a_transcript_says_there_is_nothing_to_follow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    let source = open_store(&crate::tui::testing::demo_path());
    let reducer = crate::load::reducer_for(source.as_ref(), "acc-0001", None);
    let mut replay = crate::load::replay(source.as_ref(), "acc-0001", reducer).unwrap();
    let options = crate::export::ExportOptions {
        format: crate::export::Format::JsonLines,
        source: "demo".into(),
        aggregate: "acc-0001".into(),
        from: None,
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
    // The name the runtime gives the UI: the source's own description.
    let name = transcript.describe();
    let mut h = Harness::new(transcript, 120, 32);
    h.app.source_name = name;
    h.open("acc-0001");
    h.send(Action::ToggleFollow);
    assert!(!h.app.is_following());
    assert!(message(&h).contains("nothing to follow"), "{}", message(&h));
    // Nor does the store log of a transcript.
    h.send(Action::Back);
    h.send(Action::OpenLog);
    assert!(h.app.log.is_some());
    h.send(Action::ToggleFollow);
    assert!(!h.app.is_following());
    assert!(message(&h).contains("nothing to follow"), "{}", message(&h));
}

#[test]
fn the_diff_is_worked_out_off_the_ui_thread_and_only_for_the_tab_shown() {
    use crate::tui::loader::Request;
    let dir = tempfile::tempdir().unwrap();
    let wide: String = format!(
        "{{{}}}",
        (0..20_000)
            .map(|i| format!("\"key{i:05}\": {i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut h = store_with(
        &dir,
        &[
            row("w", 1, "Created", &wide),
            row("w", 2, "Touched", r#"{"key00000": -1}"#),
        ],
    );
    h.open("w");
    assert_eq!(view(&h).tab, Tab::State);
    assert!(
        view(&h).detail.as_ref().unwrap().diff_input.is_some(),
        "on the State tab no diff was asked for"
    );
    // The Diff tab: the frame drawn now says the diff is being worked out…
    h.app.update(Action::SelectTab(Tab::Diff));
    let requests = h.app.take_requests();
    let jobs: Vec<_> = requests
        .iter()
        .filter(|r| matches!(r, Request::Diff(_)))
        .collect();
    assert_eq!(jobs.len(), 1, "{requests:?}");
    assert!(h.screen().contains("working out the diff…"));
    // …and the worker's answer fills it in.
    for request in requests {
        for report in h.perform(request) {
            h.app.update(Action::Loaded(report));
        }
    }
    let screen = h.screen();
    assert!(!screen.contains("working out the diff…"), "{screen}");
    assert!(
        screen.contains("--- v0") && screen.contains("+++ v1"),
        "{screen}"
    );
    // An answer for an event no longer under the cursor is dropped.
    h.app.update(Action::StepForward);
    let stale = h.app.take_requests();
    h.send(Action::Loaded(crate::tui::loader::Report::Diffed {
        target: crate::tui::diff_worker::DiffTarget::Event {
            generation: view(&h).generation,
            index: 0,
        },
        lines: vec![],
    }));
    assert!(!view(&h).detail.as_ref().unwrap().diff_ready);
    for request in stale {
        for report in h.perform(request) {
            h.app.update(Action::Loaded(report));
        }
    }
    assert!(h.screen().contains("~ .key00000: 0 → -1"), "{}", h.screen());
}

#[test]
fn an_aggregate_opens_at_its_latest_event_and_reopens_where_it_was_left() {
    let mut h = Harness::demo();
    h.open_latest("acc-0003");
    assert_eq!(h.cursor_version(), 69, "opens at the latest event");
    h.send(Action::JumpToVersion);
    h.type_text("20");
    h.send(Action::Confirm);
    h.send(Action::MarkA);
    h.send(Action::JumpToVersion);
    h.type_text("50");
    h.send(Action::Confirm);
    h.send_all([Action::MarkB, Action::SelectTab(Tab::Event)]);
    h.send(Action::Filter);
    h.type_text("withdrawn");
    h.send(Action::Confirm);
    h.send(Action::FocusNext);
    h.send(Action::JumpToVersion);
    h.type_text("37");
    h.send(Action::Confirm);
    h.send(Action::Back);
    assert!(h.app.view.is_none(), "q leaves at once");
    h.send(Action::Confirm);
    let view = view(&h);
    assert_eq!(h.cursor_version(), 37, "the cursor is back");
    let marks = view.marks.map(|m| m.map(|i| view.version_of(i)));
    assert_eq!(marks, [Some(20), Some(50)], "and the marks");
    assert_eq!(view.tab, Tab::Event);
    assert_eq!(view.focus, Focus::Detail);
    let filter = view.filter.as_ref().expect("and the filter");
    assert_eq!(filter.query, "withdrawn");
    assert!(filter.matches.as_ref().is_some_and(|m| !m.is_empty()));
}

/// The filter is put back on reopening; the cursor stays on the event it was left on even
/// when that event does not match (putting the filter back used to jump to a match).
#[test]
fn an_aggregate_reopens_on_its_event_though_the_filter_does_not_match_it() {
    for (query, left_on) in [("Withdrawn", 40), ("$event.type == \"Withdrawn\"", 40)] {
        let mut h = Harness::demo();
        h.open_latest("acc-0003");
        h.send(Action::Filter);
        h.type_text(query);
        h.send(Action::Confirm);
        h.send(Action::JumpToVersion);
        h.type_text(&left_on.to_string());
        h.send(Action::Confirm);
        let shown = view(&h);
        let filter = shown.filter.as_ref().unwrap();
        assert!(
            !filter.is_match(shown.cursor),
            "{query}: v{left_on} is no match"
        );
        h.send(Action::Back);
        h.send(Action::Confirm);
        assert_eq!(h.cursor_version(), left_on, "{query}");
        let filter = view(&h).filter.as_ref().expect("the filter is back");
        assert_eq!(filter.query, query);
        assert!(filter.matches.as_ref().is_some_and(|m| !m.is_empty()));
    }
}

#[test]
fn an_aggregate_reopens_with_its_folds() {
    let mut h = Harness::demo();
    h.open_latest("acc-0003");
    h.send(Action::FocusNext);
    h.send(Action::FoldAll);
    assert!(h.screen().contains("\"limits\": {…}"), "{}", h.screen());
    h.send(Action::Back);
    assert!(h.app.view.is_none());
    h.send(Action::Confirm);
    let screen = h.screen();
    assert!(screen.contains("acc-0003 · account"), "{screen}");
    assert!(
        screen.contains("\"limits\": {…}") && !screen.contains("\"daily\""),
        "{screen}"
    );
}

#[test]
fn an_aggregate_left_on_v0_reopens_on_v0() {
    let mut h = Harness::demo();
    h.open_latest("acc-0003");
    h.send(Action::JumpToVersion);
    h.type_text("0");
    h.send(Action::Confirm);
    assert!(view(&h).before_first);
    h.send(Action::Back);
    h.send(Action::Confirm);
    assert!(view(&h).before_first, "back on v0, not on v1");
    assert_eq!(view(&h).shown_version(), 0);
}

#[test]
fn the_command_line_opens_an_aggregate_at_a_version() {
    let source = open_store(&crate::tui::testing::demo_path());
    let mut h = Harness::new(source, 120, 32);
    h.app.open_at = Some(crate::tui::OpenAt {
        aggregate: "acc-0007".into(),
        at: Some(crate::model::Position::Version(31)),
    });
    // The list arrives again (as at start-up, when the loader first answers).
    h.app
        .update(Action::Loaded(crate::tui::loader::Report::Aggregates(
            h.source.aggregates().map_err(|e| e.describe()),
        )));
    h.pump();
    assert_eq!(view(&h).summary.id, "acc-0007");
    assert_eq!(h.cursor_version(), 31);

    // A version past the end: the latest event, and why.
    h.send(Action::Back);
    h.app.open_at = Some(crate::tui::OpenAt {
        aggregate: "acc-0007".into(),
        at: Some(crate::model::Position::Version(99_999)),
    });
    h.app
        .update(Action::Loaded(crate::tui::loader::Report::Aggregates(
            h.source.aggregates().map_err(|e| e.describe()),
        )));
    h.pump();
    assert_eq!(h.cursor_version(), 49);
    assert!(
        message(&h).contains("showing the latest event"),
        "{}",
        message(&h)
    );

    h.app.open_at = Some(crate::tui::OpenAt {
        aggregate: "acc-9999".into(),
        at: None,
    });
    h.send(Action::Back);
    h.app
        .update(Action::Loaded(crate::tui::loader::Report::Aggregates(
            h.source.aggregates().map_err(|e| e.describe()),
        )));
    assert!(h.app.view.is_none());
    assert!(
        message(&h).contains("no aggregate \"acc-9999\""),
        "{}",
        message(&h)
    );
}

#[test]
fn the_list_shows_each_aggregates_health_and_sorts_by_it() {
    let mut h = Harness::demo();
    assert_eq!(h.app.list.health.len(), 58, "worked out in the background");
    let screen = h.screen();
    let acc3 = screen.lines().find(|l| l.contains("acc-0003")).unwrap();
    assert!(acc3.contains("✗1"), "{acc3}");
    let acc1 = screen.lines().find(|l| l.contains("acc-0001")).unwrap();
    assert!(acc1.contains(" ok "), "{acc1}");
    while h.app.list.sort != SortKey::Health {
        h.send(Action::CycleSort);
    }
    let first: Vec<String> = h.app.list.shown[..4]
        .iter()
        .map(|&i| h.app.list.all[i].id.clone())
        .collect();
    assert_eq!(
        first[..3],
        ["acc-0003", "order-0012", "order-0020"],
        "{first:?}"
    );
    let screen = h.screen();
    assert!(screen.contains("sorted by health"), "{screen}");
    let order12 = screen.lines().find(|l| l.contains("order-0012")).unwrap();
    assert!(order12.contains("?1"), "{order12}");
    let order20 = screen.lines().find(|l| l.contains("order-0020")).unwrap();
    assert!(order20.contains("!1"), "{order20}");
}

#[test]
fn the_invariant_marks_the_demos_negative_balance_in_the_list() {
    let rule = ".balance == null or .balance >= -(.limits.overdraft // 0)";
    let invariant = crate::inspect::Invariant::new(rule, crate::jq::Limits::default()).unwrap();
    let mut h = Harness::demo_with(|app| app.invariant = Some(std::sync::Arc::new(invariant)));
    let screen = h.screen();
    let acc7 = screen.lines().find(|l| l.contains("acc-0007")).unwrap();
    assert!(acc7.contains("¬1"), "{acc7}");
    while h.app.list.sort != SortKey::Health {
        h.send(Action::CycleSort);
    }
    let mut first: Vec<String> = h.app.list.shown[..4]
        .iter()
        .map(|&i| h.app.list.all[i].id.clone())
        .collect();
    first.sort();
    assert_eq!(first, ["acc-0003", "acc-0007", "order-0012", "order-0020"]);
}

#[test]
fn an_invariant_that_fails_is_said_once() {
    let invariant =
        crate::inspect::Invariant::new(".balance | error", crate::jq::Limits::default()).unwrap();
    let h = Harness::demo_with(|app| app.invariant = Some(std::sync::Arc::new(invariant)));
    let said: Vec<&String> = h
        .app
        .messages
        .entries
        .iter()
        .filter(|m| m.error && m.text.starts_with("the invariant could not judge"))
        .map(|m| &m.text)
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
}

#[test]
fn health_is_asked_for_a_few_aggregates_at_a_time() {
    use crate::tui::loader::Request;
    let source = open_store(&crate::tui::testing::demo_path());
    let mut app = App::new(
        "demo".into(),
        None,
        crate::tui::Theme::plain(),
        ratatui::layout::Rect::new(0, 0, 120, 32),
    );
    app.take_requests();
    app.update(Action::Loaded(crate::tui::loader::Report::Aggregates(
        source.aggregates().map_err(|e| e.describe()),
    )));
    let requests = app.take_requests();
    let asked: Vec<usize> = requests
        .iter()
        .filter_map(|r| match r {
            Request::Health { ids, .. } => Some(ids.len()),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![crate::tui::app::list::HEALTH_BATCH]);
    assert_eq!(
        app.list.health.len(),
        0,
        "nothing is known before the loader answers"
    );
    // Meanwhile the title says how far the health check has come.
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 32)).unwrap();
    terminal
        .draw(|frame| crate::tui::view::render(&app, frame))
        .unwrap();
    let title: String = (0..120)
        .map(|x| terminal.backend().buffer()[(x, 0)].symbol().to_string())
        .collect();
    let total = app.list.all.len();
    assert!(title.contains(&format!("health 0/{total}…")), "{title}");
}

/// Typing mark A elsewhere leaves the cursor, so Compare shows A against where one is
/// (it moved the cursor onto the mark: A v35 → B v35, no change), and names the cursor B.
#[test]
fn a_typed_mark_is_compared_with_the_cursor_left_where_it_was() {
    let mut h = Harness::demo();
    h.open_latest("acc-0003");
    h.send(Action::JumpToVersion);
    h.type_text("50");
    h.send(Action::Confirm);
    h.send(Action::MarkAt);
    h.type_text("a 35");
    h.send(Action::Confirm);
    assert_eq!(h.cursor_version(), 50);
    h.send(Action::OpenCompare);
    let screen = h.screen();
    assert!(screen.contains("A v35 → cursor v50: "), "{screen}");
    assert!(!screen.contains("0 changes"), "{screen}");
    assert!(
        screen.contains("15 events from A to the cursor:"),
        "{screen}"
    );
    h.send(Action::MarkB);
    let screen = h.screen();
    assert!(
        screen.contains("A v35 → B v50: "),
        "B once it is set: {screen}"
    );
}

#[test]
fn marks_are_set_at_a_typed_version_or_time() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = (1..=6).map(|v| row("a", v, "Counted", "{}")).collect();
    let mut h = store_with(&dir, &rows);
    h.open("a");
    h.send(Action::MarkAt);
    assert!(h.screen().contains("mark A/B at version or time:"));
    h.type_text("a v4");
    h.send(Action::Confirm);
    assert!(h.app.prompt.is_none(), "{:?}", h.app.prompt);
    assert_eq!(view(&h).marks, [Some(3), None]);
    assert!(message(&h).contains("mark A at v4"), "{}", message(&h));
    assert_eq!(h.cursor_version(), 1, "the cursor stays where it was");

    // Times as t takes them: the rows are a minute apart from 00:01.
    h.send(Action::MarkAt);
    h.type_text("B 2026-01-15 00:02:30");
    h.send(Action::Confirm);
    assert_eq!(view(&h).marks, [Some(3), Some(1)], "{}", message(&h));
    h.send(Action::MarkAt);
    h.type_text("b +2m");
    h.send(Action::Confirm);
    assert_eq!(
        view(&h).marks[1],
        Some(2),
        "two minutes after the cursor's v1"
    );
    assert_eq!(h.cursor_version(), 1);

    for bad in ["c 3", "a", "a soon", "b 0"] {
        h.send(Action::MarkAt);
        h.type_text(bad);
        h.send(Action::Confirm);
        let prompt = h.app.prompt.as_ref().expect("a bad line keeps the prompt");
        assert!(prompt.error.is_some(), "{bad}");
        h.send(Action::Back);
    }
    assert_eq!(
        view(&h).marks,
        [Some(3), Some(2)],
        "bad lines change no mark"
    );
    h.send(Action::ClearMarks);
    assert_eq!(view(&h).marks, [None, None]);
}

#[test]
fn u_shows_times_in_the_local_zone_with_their_offset_and_back_in_utc() {
    use chrono::SecondsFormat;
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = (1..=3).map(|v| row("a", v, "Counted", "{}")).collect();
    let mut h = store_with(&dir, &rows);
    h.open("a");
    let at: chrono::DateTime<chrono::Utc> = "2026-01-15T00:01:00Z".parse().unwrap();
    // Whatever zone the machine is in, local times carry an offset instead of Z.
    let local = at
        .with_timezone(&chrono::Local)
        .to_rfc3339_opts(SecondsFormat::Secs, false);
    assert!(!local.ends_with('Z'));
    let screen = h.screen();
    assert!(screen.contains("2026-01-15T00:01:00Z"), "{screen}");
    assert!(!screen.contains(&local));

    h.send(Action::ToggleZone);
    assert!(message(&h).contains("local zone"), "{}", message(&h));
    let screen = h.screen();
    assert!(
        screen.contains(&format!("{local} local")),
        "status: {screen}"
    );
    let rows_shown = screen.matches(&local).count();
    assert!(rows_shown >= 2, "the events list and the status: {screen}");
    assert!(!screen.contains("00:01:00Z"), "{screen}");
    h.send(Action::SelectTab(Tab::Event));
    assert!(h.screen().contains(&format!("v1 Counted at {local}")));
    // A time typed as the screen shows it, without its offset, is read in the local zone.
    let v2 = (at + chrono::Duration::minutes(1)).with_timezone(&chrono::Local);
    h.send(Action::JumpToTime);
    h.send(Action::Edit(crate::tui::action::Edit::KillToStart));
    h.send(Action::Edit(crate::tui::action::Edit::KillToEnd));
    h.type_text(&v2.format("%Y-%m-%d %H:%M").to_string());
    h.send(Action::Confirm);
    assert_eq!(h.cursor_version(), 2, "{}", message(&h));
    h.send(Action::First);

    h.send(Action::ToggleZone);
    let screen = h.screen();
    assert!(
        screen.contains("v1 Counted at 2026-01-15T00:01:00Z"),
        "{screen}"
    );
    assert!(!screen.contains(&local), "{screen}");
    assert!(screen.contains("00:01:00Z │ times as stored"), "{screen}");
}

#[test]
fn times_stored_with_an_offset_are_shown_with_it_and_rows_line_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows: Vec<_> = (1..=3).map(|v| row("a", v, "Counted", "{}")).collect();
    rows[1].timestamp = "2026-01-15T05:32:00+05:30".into();
    let mut h = store_with(&dir, &rows);
    h.open("a");
    h.send(Action::First);
    let screen = h.screen();
    // v1 is stored in UTC, v2 as written in +05:30 (the same instant as 00:02Z).
    assert!(
        screen.contains("2026-01-15T00:01:00Z       Counted"),
        "{screen}"
    );
    assert!(
        screen.contains("2026-01-15T05:32:00+05:30  Counted"),
        "{screen}"
    );
    h.send(Action::StepForward);
    let screen = h.screen();
    assert!(
        screen.contains("v2/3 │ 2026-01-15T05:32:00+05:30"),
        "status: {screen}"
    );
    h.send(Action::SelectTab(Tab::Event));
    assert!(h
        .screen()
        .contains("v2 Counted at 2026-01-15T05:32:00+05:30"));
    // The instant is what counts: a time typed in UTC finds the event.
    h.send(Action::JumpToTime);
    assert_eq!(
        h.app.prompt.as_ref().map(|p| p.line.value().to_string()),
        Some("2026-01-15T05:32:00+05:30".into()),
        "prefilled as shown"
    );
    h.send(Action::Back);
    h.send(Action::ToggleZone);
    assert!(
        !h.screen().contains("+05:30"),
        "the local zone shows every time in it"
    );
}

#[test]
fn u_is_bound_wherever_times_are_shown() {
    use crate::tui::keymap::{action_for, Context};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::NONE);
    for context in [
        Context::List,
        Context::Aggregate,
        Context::Log,
        Context::Trace,
        Context::Blame,
    ] {
        assert_eq!(
            action_for(context, u),
            Some(Action::ToggleZone),
            "{context:?}"
        );
    }
    assert_eq!(action_for(Context::Prompt, u), Some(Action::InputChar('u')));
}

#[test]
fn v0_has_no_event_to_trace() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = (1..=3)
        .map(|v| row("a", v, "Counted", r#"{"n": 1}"#))
        .collect();
    let mut h = store_with(&dir, &rows);
    h.open_latest("a");
    h.send(Action::JumpToVersion);
    h.type_text("0");
    h.send(Action::Confirm);
    h.send(Action::Trace);
    assert_eq!(message(&h), "no event to trace");
    assert!(h.app.trace.is_none());
}

/// `t` with a month (`2026-02`) or a day (`2026-02-03`) means its first instant, as `--at`
/// does: the cursor lands on the state then, the last event before it.
#[test]
fn t_with_a_month_or_a_day_lands_on_the_state_at_its_start() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    let jump = |h: &mut Harness, to: &str| {
        h.send(Action::JumpToTime);
        h.send(Action::Edit(crate::tui::action::Edit::KillToStart));
        h.send(Action::Edit(crate::tui::action::Edit::KillToEnd));
        h.type_text(to);
        h.send(Action::Confirm);
        assert!(h.app.prompt.is_none(), "{to}: {:?}", h.app.prompt);
    };
    let time_at = |h: &Harness, index: usize| view(h).entry(index).unwrap().timestamp.unwrap();
    for (typed, start) in [
        ("2026-02", "2026-02-01T00:00:00Z"),
        ("2026-02-03", "2026-02-03T00:00:00Z"),
    ] {
        let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
        jump(&mut h, typed);
        let cursor = view(&h).cursor;
        assert!(
            time_at(&h, cursor) <= start,
            "{typed}: {}",
            time_at(&h, cursor)
        );
        assert!(
            time_at(&h, cursor + 1) > start,
            "{typed}: the last event before it"
        );
    }
}
