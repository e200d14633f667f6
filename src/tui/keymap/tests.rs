use super::*;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn vim_keys_and_arrows_mean_the_same() {
    // ←/→ scroll a focused detail pane sideways; h/l always step.
    assert_eq!(
        action_for(Context::Aggregate, press(KeyCode::Left)),
        Some(Action::Left)
    );
    assert_eq!(
        action_for(Context::Aggregate, press(KeyCode::Char('h'))),
        Some(Action::StepBack)
    );
    for (a, b) in [
        (KeyCode::Up, KeyCode::Char('k')),
        (KeyCode::Down, KeyCode::Char('j')),
        (KeyCode::Home, KeyCode::Char('g')),
        (KeyCode::End, KeyCode::Char('G')),
    ] {
        assert_eq!(
            action_for(Context::Aggregate, press(a)),
            action_for(Context::Aggregate, press(b))
        );
    }
}

#[test]
fn plus_zooms_as_o_does_and_angle_brackets_set_the_play_speed() {
    let aggregate = |c| action_for(Context::Aggregate, press(KeyCode::Char(c)));
    assert_eq!(aggregate('+'), Some(Action::ToggleZoom));
    assert_eq!(aggregate('o'), Some(Action::ToggleZoom));
    assert_eq!(aggregate('>'), Some(Action::Faster));
    assert_eq!(aggregate('<'), Some(Action::Slower));
}

#[test]
fn typing_contexts_take_letters_as_text() {
    assert_eq!(
        action_for(Context::Filtering, press(KeyCode::Char('q'))),
        Some(Action::InputChar('q'))
    );
    assert_eq!(
        action_for(Context::Prompt, press(KeyCode::Char('?'))),
        Some(Action::InputChar('?'))
    );
    assert_eq!(
        action_for(Context::List, press(KeyCode::Char('q'))),
        Some(Action::Back)
    );
}

#[test]
fn ctrl_c_quits_everywhere() {
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for context in [
        Context::List,
        Context::Filtering,
        Context::Aggregate,
        Context::Prompt,
        Context::Blame,
        Context::Help,
    ] {
        assert_eq!(
            action_for(context, ctrl_c),
            Some(Action::Quit),
            "{context:?}"
        );
    }
}

#[test]
fn releases_are_ignored() {
    let mut event = press(KeyCode::Right);
    event.kind = KeyEventKind::Release;
    assert_eq!(action_for(Context::Aggregate, event), None);
}

/// A key means one action per context: in an aggregate the events list's and the detail
/// pane's tables list some keys twice, each with what that pane makes of the one action.
#[test]
fn no_key_is_bound_twice_in_one_context() {
    for context in [
        Context::List,
        Context::Aggregate,
        Context::Blame,
        Context::Log,
        Context::Trace,
        Context::Viewer,
    ] {
        let keys: Vec<(Key, &Action)> = bindings(context)
            .chain(GLOBAL)
            .flat_map(|b| b.keys.iter().map(move |k| (*k, &b.action)))
            .collect();
        for (i, (key, action)) in keys.iter().enumerate() {
            for (other, other_action) in &keys[i + 1..] {
                assert!(
                    key != other || action == other_action,
                    "{key:?} means two actions in {context:?}"
                );
            }
        }
        for table in tables(context) {
            let keys: Vec<Key> = table.iter().flat_map(|b| b.keys.iter().copied()).collect();
            for (i, key) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(key), "{key:?} twice in a table");
            }
        }
    }
}

/// Every key of the aggregate screen is in the help once per pane it does something for,
/// and the keys both panes share are those whose meaning follows the focus.
#[test]
fn the_panes_share_only_the_keys_that_follow_the_focus() {
    let keys = |table: &[Binding]| -> Vec<Key> {
        table.iter().flat_map(|b| b.keys.iter().copied()).collect()
    };
    let events = keys(EVENTS_PANE);
    let shared: Vec<&Binding> = DETAIL_PANE
        .iter()
        .filter(|b| b.keys.iter().any(|k| events.contains(k)))
        .collect();
    let actions: Vec<&Action> = shared.iter().map(|b| &b.action).collect();
    assert_eq!(
        actions,
        [
            &Action::Left,
            &Action::Right,
            &Action::Up,
            &Action::Down,
            &Action::PageUp,
            &Action::PageDown,
            &Action::Filter,
            &Action::NextMatch,
            &Action::PrevMatch,
            &Action::Cancel,
        ]
    );
    let either = keys(AGGREGATE);
    assert!(
        either
            .iter()
            .all(|k| !events.contains(k) && !keys(DETAIL_PANE).contains(k)),
        "a key of both panes is listed once, under either pane"
    );
}

#[test]
fn inspecting_keys_are_bound_and_blame_has_its_own_context() {
    let shifted = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT);
    assert_eq!(
        action_for(Context::Aggregate, shifted('B')),
        Some(Action::Blame)
    );
    assert_eq!(
        action_for(Context::Aggregate, shifted('N')),
        Some(Action::PrevMatch)
    );
    assert_eq!(
        action_for(Context::Aggregate, press(KeyCode::Char('/'))),
        Some(Action::Filter)
    );
    assert_eq!(
        action_for(Context::Aggregate, press(KeyCode::Char('e'))),
        Some(Action::Export)
    );
    assert_eq!(
        action_for(Context::Blame, press(KeyCode::Enter)),
        Some(Action::Confirm)
    );
    assert_eq!(action_for(Context::Blame, shifted('B')), Some(Action::Back));
}

#[test]
fn every_hint_names_keys_bound_on_its_screen() {
    for context in [
        Context::List,
        Context::Filtering,
        Context::Aggregate,
        Context::Blame,
        Context::Log,
        Context::Trace,
    ] {
        let shown = hints(context);
        assert_eq!(
            shown.len(),
            hint_table(context).len(),
            "a hint of {context:?} names an action not bound there"
        );
    }
    let aggregate: Vec<String> = hints(Context::Aggregate)
        .into_iter()
        .map(|(keys, what)| format!("{keys} {what}"))
        .collect();
    assert_eq!(
        &aggregate[..4],
        ["? help", "←→ step", ": version", "a/b marks"]
    );
    let log: Vec<String> = hints(Context::Log)
        .into_iter()
        .map(|(keys, what)| format!("{keys} {what}"))
        .collect();
    assert!(log.contains(&"⏎ open".to_string()) && log.contains(&"T trace".to_string()));
}

#[test]
fn the_store_log_and_the_trace_have_their_keys() {
    let shifted = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT);
    assert_eq!(
        action_for(Context::List, shifted('L')),
        Some(Action::OpenLog)
    );
    assert_eq!(
        action_for(Context::Aggregate, shifted('T')),
        Some(Action::Trace)
    );
    assert_eq!(action_for(Context::Log, shifted('T')), Some(Action::Trace));
    assert_eq!(
        action_for(Context::Log, press(KeyCode::Enter)),
        Some(Action::Confirm)
    );
    assert_eq!(
        action_for(Context::Log, press(KeyCode::Char('t'))),
        Some(Action::JumpToTime)
    );
    assert_eq!(action_for(Context::Trace, shifted('T')), Some(Action::Back));
}

#[test]
fn help_puts_the_focused_screens_keys_first() {
    let titles = |context, focus| -> Vec<&str> {
        help_sections_for(HelpFor { context, focus })
            .iter()
            .map(|(t, _)| *t)
            .collect()
    };
    let events = Focus::Events;
    assert_eq!(
        titles(Context::Log, events)[..2],
        ["Store log", "Everywhere"]
    );
    assert_eq!(
        titles(Context::Aggregate, events)[..4],
        [
            "Aggregate: events list",
            "Aggregate: either pane",
            "Aggregate: detail pane",
            "Everywhere"
        ]
    );
    assert_eq!(
        titles(Context::Aggregate, Focus::Detail)[..4],
        [
            "Aggregate: detail pane",
            "Aggregate: either pane",
            "Aggregate: events list",
            "Everywhere"
        ]
    );
    assert_eq!(titles(Context::Viewer, Focus::Detail)[0], "Value viewer");
    assert_eq!(titles(Context::Trace, events)[0], "Trace");
    assert_eq!(titles(Context::Prompt, events)[0], "Prompts");
    assert_eq!(titles(Context::Filtering, events)[0], "List filter");
    for context in [Context::List, Context::Aggregate, Context::Help] {
        let mut shown = titles(context, events);
        assert_eq!(shown.len(), help_sections().len(), "every section, once");
        shown.sort();
        shown.dedup();
        assert_eq!(shown.len(), help_sections().len(), "every section, once");
    }
}

#[test]
fn prompts_edit_like_readline() {
    use crate::tui::action::Edit;
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    for (event, edit) in [
        (press(KeyCode::Left), Edit::Left),
        (press(KeyCode::Home), Edit::Home),
        (ctrl('a'), Edit::Home),
        (ctrl('e'), Edit::End),
        (ctrl('u'), Edit::KillToStart),
        (ctrl('w'), Edit::KillWord),
        (ctrl('k'), Edit::KillToEnd),
        (press(KeyCode::Up), Edit::Older),
        (press(KeyCode::Down), Edit::Newer),
    ] {
        assert_eq!(
            action_for(Context::Prompt, event),
            Some(Action::Edit(edit)),
            "{event:?}"
        );
    }
    // Letters still type, Ctrl or not bound.
    assert_eq!(
        action_for(Context::Prompt, press(KeyCode::Char('a'))),
        Some(Action::InputChar('a'))
    );
}
