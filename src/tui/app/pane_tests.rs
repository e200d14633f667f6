//! Searching the focused detail pane, copying from it, and zooming it (or the events).

use crate::tui::action::{Action, Copy, Tab};
use crate::tui::app::Focus;
use crate::tui::testing::Harness;

fn at_version(h: &mut Harness, version: u64) {
    h.send(Action::JumpToVersion);
    h.type_text(&version.to_string());
    h.send(Action::Confirm);
}

fn message(h: &Harness) -> String {
    h.app
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

fn focus_detail(h: &mut Harness) {
    h.send(Action::FocusNext);
    assert_eq!(h.app.view.as_ref().unwrap().focus, Focus::Detail);
}

#[test]
fn slash_in_the_detail_pane_searches_it_and_n_steps_while_the_event_filter_stays() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    h.send(Action::Filter);
    h.type_text("Deposited");
    h.send(Action::Confirm);
    at_version(&mut h, 50);
    focus_detail(&mut h);
    h.send(Action::Filter);
    h.type_text("AMOUNT");
    h.send(Action::Confirm);
    assert!(h.app.prompt.is_none(), "found: {:?}", h.app.prompt);
    assert!(message(&h).contains("match 1 of"), "{}", message(&h));
    let view = h.app.view.as_ref().unwrap();
    assert_eq!(view.filter.as_ref().unwrap().query, "Deposited", "kept");
    let line = view.detail.as_ref().unwrap().visible[view.state_line];
    let text = crate::tui::app::line_text(&view.detail.as_ref().unwrap().state, line, false);
    assert!(text.contains("\"amount\""), "{text}");
    let screen = h.screen();
    assert!(screen.contains("/AMOUNT · n/N"), "{screen}");
    h.send(Action::NextMatch);
    assert!(message(&h).contains("match"), "{}", message(&h));
    // The events list's n still steps events once the list has focus again.
    h.send(Action::FocusNext);
    let cursor = h.app.view.as_ref().unwrap().cursor;
    h.send(Action::NextMatch);
    assert_ne!(h.app.view.as_ref().unwrap().cursor, cursor);
}

#[test]
fn a_search_finds_what_a_fold_hides_and_unfolds_it() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 50);
    focus_detail(&mut h);
    // Fold the whole state at its first line.
    h.send(Action::First);
    h.send(Action::ToggleFold);
    assert_eq!(
        h.app
            .view
            .as_ref()
            .unwrap()
            .detail
            .as_ref()
            .unwrap()
            .visible
            .len(),
        1
    );
    h.send(Action::Filter);
    h.type_text("daily");
    h.send(Action::Confirm);
    let view = h.app.view.as_ref().unwrap();
    assert!(view.detail.as_ref().unwrap().visible.len() > 1, "unfolded");
    assert!(h.screen().contains("\"daily\""));
}

#[test]
fn a_search_with_no_match_keeps_the_prompt_with_the_reason() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    focus_detail(&mut h);
    h.send(Action::SelectTab(Tab::Event));
    h.send(Action::Filter);
    h.type_text("no-such-text");
    h.send(Action::Confirm);
    let prompt = h.app.prompt.as_ref().expect("still open");
    assert_eq!(prompt.error.as_deref(), Some("not found in the Event tab"));
}

#[test]
fn y_copies_the_value_y_its_path_ctrl_y_the_whole_state() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 50);
    focus_detail(&mut h);
    h.send(Action::Filter);
    h.type_text("\"daily\"");
    h.send(Action::Confirm);
    h.send(Action::Copy(Copy::Value));
    let value = h.app.take_clipboard().expect("something to copy");
    assert!(value.parse::<f64>().is_ok(), "the daily limit: {value}");
    assert!(
        message(&h).contains("copied .limits.daily at v50"),
        "{}",
        message(&h)
    );
    h.send(Action::Copy(Copy::Path));
    assert_eq!(h.app.take_clipboard().as_deref(), Some(".limits.daily"));
    h.send(Action::Copy(Copy::All));
    let state: serde_json::Value = serde_json::from_str(&h.app.take_clipboard().unwrap()).unwrap();
    assert!(state["balance"].is_number(), "{state}");
    h.send(Action::SelectTab(Tab::Event));
    h.send(Action::Copy(Copy::Path));
    assert!(h.app.take_clipboard().is_none());
    assert!(message(&h).contains("State tab"), "{}", message(&h));
    h.send(Action::Copy(Copy::Value));
    let data: serde_json::Value = serde_json::from_str(&h.app.take_clipboard().unwrap()).unwrap();
    assert!(data["last_transaction"]["amount"].is_number(), "{data}");
}

#[test]
fn zoom_gives_the_focused_pane_the_whole_screen() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    let normal_rows = crate::tui::layout::aggregate(h.app.size).event_rows.height as usize;
    h.send(Action::ToggleZoom);
    let screen = h.screen();
    assert!(screen.contains("VER  TIME"), "{screen}");
    assert!(
        !screen.contains("1 State"),
        "the detail is hidden: {screen}"
    );
    assert!(!screen.contains("◆ snapshot"), "the timeline too: {screen}");
    // The events fill the height: a page down goes further, every row drawn.
    let rows = h.screen().matches("Z  ").count();
    assert!(
        rows > normal_rows,
        "{rows} rows shown, {normal_rows} unzoomed"
    );
    h.send(Action::Last);
    assert!(h.screen().contains("v69 "));

    h.send(Action::FocusNext);
    assert_eq!(h.app.view.as_ref().unwrap().zoomed(), Some(Focus::Detail));
    let screen = h.screen();
    assert!(
        screen.contains("1 State") && !screen.contains("VER  TIME"),
        "{screen}"
    );
    let left = screen.lines().nth(1).unwrap();
    assert!(
        left.starts_with("│ ▶{"),
        "the detail starts at the left edge: {left}"
    );
    // A click where the events were lands in the detail, not on an event.
    h.send(Action::Click { column: 5, row: 10 });
    assert_eq!(h.app.view.as_ref().unwrap().focus, Focus::Detail);
    assert_eq!(h.cursor_version(), 69);

    h.send(Action::ToggleZoom);
    assert!(message(&h).contains("all panes again"));
    let screen = h.screen();
    assert!(screen.contains("1 State") && screen.contains("VER  TIME"));
}

/// The Diff tab is searched as the State tab is: its lines, any case, n forward and N back,
/// wrapping at the ends.
#[test]
fn the_diff_tab_is_searched_with_n_and_n_back() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 1);
    h.send(Action::SelectTab(Tab::Diff));
    focus_detail(&mut h);
    // The first event adds every key: "city", "currency", "daily" hold a C, among others.
    h.send(Action::Filter);
    h.type_text("C");
    h.send(Action::Confirm);
    assert!(h.app.prompt.is_none(), "found: {:?}", h.app.prompt);
    let said = message(&h);
    assert!(said.contains("match 1 of"), "{said}");
    let count: usize = said
        .rsplit("of ")
        .next()
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the number of matches");
    assert!(count >= 2, "{said}");
    assert!(h.screen().contains("/C · n/N"), "{}", h.screen());
    h.send(Action::PrevMatch);
    assert!(
        message(&h).contains(&format!("match {count} of {count}")),
        "N from the first wraps to the last: {}",
        message(&h)
    );
    h.send(Action::NextMatch);
    assert!(
        message(&h).contains(&format!("match 1 of {count}")),
        "{}",
        message(&h)
    );
    // The whole diff fits on screen, so it never scrolls: n still walks every match.
    for number in 2..=count {
        h.send(Action::NextMatch);
        let said = message(&h);
        assert!(
            said.contains(&format!("match {number} of {count}")),
            "{said}"
        );
    }
}

/// `/` starts empty (it was prefilled with the last query, so typing appended to it:
/// `/o⏎` then `/.limits.daily⏎` searched `o.limits.daily`); ↑ brings the last one back.
#[test]
fn the_pane_search_prompt_starts_empty_and_up_recalls_the_last_query() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 50);
    focus_detail(&mut h);
    h.send(Action::Filter);
    h.type_text("o");
    h.send(Action::Confirm);
    h.send(Action::Filter);
    assert_eq!(h.app.prompt.as_ref().unwrap().input(), "");
    h.send(Action::Edit(crate::tui::action::Edit::Older));
    assert_eq!(h.app.prompt.as_ref().unwrap().input(), "o", "history");
    h.send(Action::Back);
    h.send(Action::Filter);
    h.type_text(".limits.daily");
    h.send(Action::Confirm);
    assert!(h.app.prompt.is_none(), "{:?}", h.app.prompt);
    let path = h
        .app
        .view
        .as_ref()
        .unwrap()
        .line_path()
        .map(|p| p.to_string());
    assert_eq!(path.as_deref(), Some(".limits.daily"));
}

/// The Event tab names the event's id beside its aggregate (it showed type, time and
/// aggregate, not the id).
#[test]
fn the_event_tab_shows_the_event_id() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 40);
    h.send(Action::SelectTab(Tab::Event));
    let event = h.app.view.as_mut().unwrap().event_at_cursor().unwrap();
    let id = event.event_id.expect("the demo's events have ids");
    let screen = h.screen();
    assert!(screen.contains(&format!("· event id {id}")), "{screen}");
}

/// The first event makes the state from nothing: the Diff tab lists it key by key (as
/// `diff --format summary` does), not as one `~ .: null → {…}` line cut at the width.
#[test]
fn the_diff_of_a_first_event_lists_each_key() {
    let mut h = Harness::demo();
    h.open("acc-0003");
    at_version(&mut h, 1);
    h.send(Action::SelectTab(Tab::Diff));
    let screen = h.screen();
    assert!(screen.contains("+ .owner: "), "{screen}");
    assert!(screen.contains("+ .balance: "), "{screen}");
    assert!(!screen.contains("~ .: null"), "{screen}");
}
