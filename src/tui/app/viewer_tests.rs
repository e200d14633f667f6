//! The value viewer: Enter on a State line or the Event tab, wrapped strings, folding by
//! depth.

use crate::tui::action::Action;
use crate::tui::keymap::Context;
use crate::tui::testing::{create_store, insert, open_store, row, Harness};

fn nested_store(dir: &tempfile::TempDir) -> Harness {
    let long = format!("{}END", "word ".repeat(80));
    let data = serde_json::json!({
        "a": {"b": {"c": {"d": 1}}, "e": [1, 2]},
        "note": long,
    })
    .to_string();
    let path = dir.path().join("store.db");
    let conn = create_store(&path);
    insert(&conn, &[row("n", 1, "Made", &data)]);
    Harness::new(open_store(&path), 100, 30)
}

fn shown(h: &Harness) -> Vec<String> {
    let viewer = h.app.viewer.as_ref().expect("the viewer is open");
    viewer
        .visible
        .iter()
        .map(|&i| crate::tui::app::line_text(&viewer.lines, i, viewer.is_folded(i)))
        .map(|text| text.trim().to_string())
        .collect()
}

#[test]
fn enter_on_a_state_line_opens_its_value_full_screen_and_q_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = nested_store(&dir);
    h.open("n");
    h.send(Action::FocusNext);
    h.send(Action::Down);
    h.send(Action::OpenValue);
    assert_eq!(h.app.context(), Context::Viewer);
    let screen = h.screen();
    assert!(screen.contains(".a at v1 · 11 lines"), "{screen}");
    assert!(!screen.contains("events"), "full screen: {screen}");
    assert_eq!(shown(&h)[1], r#""b": {"#);

    h.send(Action::FoldDepth(1));
    assert_eq!(
        shown(&h),
        ["{", r#""b": {…},  1 key"#, r#""e": […]  2 items"#, "}"]
    );
    assert!(h.screen().contains("folded to depth 1"));
    h.send(Action::FoldDepth(2));
    assert_eq!(shown(&h)[2], r#""c": {…}  1 key"#);
    // Z goes one deeper each time while something is left to fold, then unfolds all.
    let depth = |h: &Harness| h.app.viewer.as_ref().unwrap().depth;
    h.send(Action::FoldAll);
    assert_eq!(depth(&h), 0, "nothing opens at depth 3");
    assert_eq!(shown(&h).len(), 11);
    h.send(Action::FoldAll);
    assert_eq!(depth(&h), 1);
    h.send(Action::FoldAll);
    assert_eq!(depth(&h), 2);
    // z folds the line's object as on the State tab.
    h.send_all([Action::FoldDepth(9), Action::Down, Action::ToggleFold]);
    assert_eq!(shown(&h)[1], r#""b": {…},  1 key"#);

    h.send(Action::Back);
    assert!(h.app.viewer.is_none());
    assert_eq!(h.app.context(), Context::Aggregate);
}

#[test]
fn a_long_string_is_wrapped_whole_in_the_viewer() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = nested_store(&dir);
    h.open("n");
    h.send(Action::FocusNext);
    assert!(!h.screen().contains("END"), "the State tab cuts it");
    h.send(Action::Last);
    for _ in 0..20 {
        if h.app
            .view
            .as_ref()
            .unwrap()
            .line_path()
            .map(|p| p.to_string())
            == Some(".note".into())
        {
            break;
        }
        h.send(Action::Down);
    }
    h.send(Action::OpenValue);
    let screen = h.screen();
    assert!(screen.contains(".note at v1"), "{screen}");
    assert!(screen.contains("END\""), "wrapped to its end: {screen}");
    let wrapped = screen.lines().filter(|l| l.contains("word word")).count();
    assert!(wrapped >= 4, "{screen}");
}

#[test]
fn enter_off_the_state_tab_says_where_it_works() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = nested_store(&dir);
    h.open("n");
    h.send(Action::SelectTab(crate::tui::action::Tab::Diff));
    h.send(Action::OpenValue);
    assert!(h.app.viewer.is_none());
    let message = h.app.message.as_ref().unwrap().text.clone();
    assert!(message.contains("State tab"), "{message}");
}

/// Enter on the Event tab reads the event itself full screen: its long data strings
/// wrapped, its objects foldable; an event whose data did not decode shows the raw text.
#[test]
fn enter_on_the_event_tab_opens_the_event_full_screen() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{}END", "word ".repeat(80));
    let data = serde_json::json!({"note": long}).to_string();
    let path = dir.path().join("store.db");
    let conn = create_store(&path);
    insert(
        &conn,
        &[
            row("n", 1, "Made", &data),
            row("n", 2, "Broken", "{not json"),
        ],
    );
    let mut h = Harness::new(open_store(&path), 100, 30);
    h.open("n");
    h.send(Action::First);
    h.send(Action::SelectTab(crate::tui::action::Tab::Event));
    h.send(Action::OpenValue);
    assert_eq!(h.app.context(), Context::Viewer);
    let screen = h.screen();
    assert!(screen.contains("event Made at v1"), "{screen}");
    assert!(
        screen.contains("END"),
        "the long string is wrapped, not cut: {screen}"
    );
    let lines = shown(&h);
    assert!(
        lines.iter().any(|l| l.starts_with("\"type\": \"Made\"")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("\"metadata\"")),
        "{lines:?}"
    );
    h.send(Action::Back);
    assert_eq!(h.app.context(), Context::Aggregate);

    h.send(Action::StepForward);
    h.send(Action::OpenValue);
    let lines = shown(&h);
    assert!(
        lines.iter().any(|l| l.contains("\"data\": \"{not json\"")),
        "the raw text as stored: {lines:?}"
    );
}

#[test]
fn the_digit_keys_fold_the_viewer_to_their_depth() {
    use crate::tui::keymap::action_for;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
    for (c, depth) in [('1', 1), ('4', 4), ('9', 9)] {
        let action = action_for(Context::Viewer, key(KeyCode::Char(c)));
        assert_eq!(action, Some(Action::FoldDepth(depth)));
    }
    let enter = key(KeyCode::Enter);
    assert_eq!(
        action_for(Context::Aggregate, enter),
        Some(Action::OpenValue)
    );
    assert_eq!(action_for(Context::Viewer, enter), Some(Action::ToggleFold));
    // In an aggregate the digits still pick tabs.
    let tab = action_for(Context::Aggregate, key(KeyCode::Char('2')));
    assert_eq!(tab, Some(Action::SelectTab(crate::tui::action::Tab::Diff)));
}

#[test]
fn v_hands_the_pager_the_whole_value_terminal_safe() {
    let dir = tempfile::tempdir().unwrap();
    let data =
        serde_json::json!({"a": {"note": "\u{1b}]0;PWNED\u{7}\u{202e}evil\u{200b}"}}).to_string();
    let path = dir.path().join("store.db");
    insert(&create_store(&path), &[row("n", 1, "Made", &data)]);
    let mut h = Harness::new(open_store(&path), 100, 30);
    h.open("n");
    h.send(Action::FocusNext);
    h.send(Action::Down);
    h.send(Action::OpenValue);
    h.send(Action::FoldDepth(1));
    h.send(Action::Page);
    let text = h.app.take_pager().expect("the value goes to the pager");
    // Folded in the viewer or not, the pager gets all of it, as JSON a reader can reuse.
    assert!(text.starts_with("# .a at v1\n"), "{text}");
    let value: serde_json::Value = serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
    assert_eq!(value["note"], "\u{1b}]0;PWNED\u{7}\u{202e}evil\u{200b}");
    assert!(
        text.contains(r"\u001b]0;PWNED\u0007\u202eevil\u200b"),
        "{text}"
    );
    let unsafe_chars = text
        .lines()
        .flat_map(str::chars)
        .filter(|c| crate::display::is_unsafe(*c));
    assert_eq!(unsafe_chars.count(), 0, "{text:?}");
    assert_eq!(h.app.context(), Context::Viewer, "the viewer stays open");
}

fn message(h: &Harness) -> String {
    h.app
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

/// The line under the viewer's cursor, trimmed.
fn cursor_line(h: &Harness) -> String {
    let viewer = h.app.viewer.as_ref().expect("the viewer is open");
    let line = viewer.visible[viewer.selected];
    crate::tui::app::line_text(&viewer.lines, line, viewer.is_folded(line))
        .trim()
        .to_string()
}

fn open_a(h: &mut Harness) {
    h.open("n");
    h.send(Action::FocusNext);
    h.send(Action::Down);
    h.send(Action::OpenValue);
    assert_eq!(h.app.context(), Context::Viewer);
}

/// `/` in the viewer searches the value as the detail pane's search does: any case, from
/// the cursor, into folds (unfolding them), n/N stepping around with a count; the viewer
/// stays open underneath the prompt, and a miss keeps the prompt with the reason.
#[test]
fn slash_searches_the_viewer_and_n_steps_through_the_matches_unfolding_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = serde_json::json!({
        "a": {"b": {"Deep": 1}, "list": [{"deep": 2}, {"other": 3}]},
    })
    .to_string();
    let path = dir.path().join("store.db");
    insert(&create_store(&path), &[row("n", 1, "Made", &data)]);
    let mut h = Harness::new(open_store(&path), 100, 30);
    open_a(&mut h);
    h.send(Action::FoldDepth(1));
    h.send(Action::Filter);
    assert_eq!(h.app.context(), Context::Prompt);
    let screen = h.screen();
    assert!(screen.contains("search the value:"), "{screen}");
    assert!(
        screen.contains(".a at v1"),
        "the viewer stays under the prompt: {screen}"
    );
    h.type_text("DEEP");
    h.send(Action::Confirm);
    assert_eq!(h.app.context(), Context::Viewer);
    assert_eq!(cursor_line(&h), r#""Deep": 1"#, "unfolded to the match");
    assert_eq!(message(&h), r#""DEEP": match 1 of 2"#);
    let screen = h.screen();
    assert!(screen.contains("/DEEP · n/N"), "{screen}");
    h.send(Action::NextMatch);
    assert_eq!(cursor_line(&h), r#""deep": 2"#);
    assert_eq!(message(&h), r#""DEEP": match 2 of 2"#);
    h.send(Action::NextMatch);
    assert_eq!(cursor_line(&h), r#""Deep": 1"#, "around to the first");
    h.send(Action::PrevMatch);
    assert_eq!(
        cursor_line(&h),
        r#""deep": 2"#,
        "and back round to the last"
    );

    h.send(Action::Filter);
    h.type_text("nowhere");
    h.send(Action::Confirm);
    assert_eq!(
        h.app.context(),
        Context::Prompt,
        "the prompt stays to fix the query"
    );
    let screen = h.screen();
    assert!(screen.contains("not found in the value"), "{screen}");
    // A miss drops the old search, as in the detail pane; that one is not touched.
    h.send(Action::Back);
    h.send(Action::NextMatch);
    assert_eq!(message(&h), "press / to search the value");
    assert!(h.app.view.as_ref().unwrap().pane_search.is_none());
}

/// `y`, `Y` and Ctrl-Y copy from the viewer as from the State tab, through the same
/// clipboard hand-off and confirmation: the line's value (a string as its text), its path
/// in the state, the whole value; in the event viewer the path is the event's.
#[test]
fn y_copies_from_the_viewer_with_a_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = nested_store(&dir);
    open_a(&mut h);
    // 0 {, 1 "b": {, 2 "c": {, 3 "d": 1
    h.send_all([Action::Down, Action::Down, Action::Down]);
    assert_eq!(cursor_line(&h), r#""d": 1"#);
    h.send(Action::Copy(crate::tui::action::Copy::Value));
    assert_eq!(h.app.take_clipboard().as_deref(), Some("1"));
    assert_eq!(
        message(&h),
        "copied .a.b.c.d at v1 (1 byte) to the clipboard through the terminal"
    );
    h.send(Action::Copy(crate::tui::action::Copy::Path));
    assert_eq!(h.app.take_clipboard().as_deref(), Some(".a.b.c.d"));
    h.send(Action::Copy(crate::tui::action::Copy::All));
    let whole: serde_json::Value = serde_json::from_str(&h.app.take_clipboard().unwrap()).unwrap();
    assert_eq!(whole["e"], serde_json::json!([1, 2]));
    assert!(
        message(&h).starts_with("copied .a at v1 ("),
        "{}",
        message(&h)
    );
    assert_eq!(h.app.context(), Context::Viewer, "the viewer stays open");

    h.send(Action::Back);
    h.send(Action::SelectTab(crate::tui::action::Tab::Event));
    h.send(Action::OpenValue);
    h.send(Action::Filter);
    h.type_text("END");
    h.send(Action::Confirm);
    h.send(Action::Copy(crate::tui::action::Copy::Value));
    let note = h.app.take_clipboard().unwrap();
    assert!(
        note.starts_with("word word") && note.ends_with("END"),
        "{note}"
    );
    assert!(
        message(&h).starts_with("copied .data.note of event Made at v1"),
        "{}",
        message(&h)
    );
    h.send(Action::Copy(crate::tui::action::Copy::Path));
    assert_eq!(h.app.take_clipboard().as_deref(), Some(".data.note"));
}

#[test]
fn the_viewer_binds_search_and_copy() {
    use crate::tui::action::Copy;
    use crate::tui::keymap::action_for;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    for (event, action) in [
        (key('/'), Action::Filter),
        (key('n'), Action::NextMatch),
        (key('N'), Action::PrevMatch),
        (key('y'), Action::Copy(Copy::Value)),
        (key('Y'), Action::Copy(Copy::Path)),
        (ctrl('y'), Action::Copy(Copy::All)),
    ] {
        assert_eq!(
            action_for(Context::Viewer, event),
            Some(action),
            "{event:?}"
        );
    }
}
