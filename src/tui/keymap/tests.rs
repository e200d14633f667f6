use super::*;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn vim_keys_and_arrows_mean_the_same() {
    for (a, b) in [
        (KeyCode::Left, KeyCode::Char('h')),
        (KeyCode::Right, KeyCode::Char('l')),
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

#[test]
fn no_key_is_bound_twice_in_one_context() {
    for context in [Context::List, Context::Aggregate, Context::Blame] {
        let keys: Vec<Key> = table(context)
            .iter()
            .chain(GLOBAL)
            .flat_map(|b| b.keys.iter().copied())
            .collect();
        for (i, key) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(key), "{key:?} twice in {context:?}");
        }
    }
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
