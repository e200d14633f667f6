//! The key tables of what opens over a screen (trace, blame, prompts, help, messages), the
//! keys that work everywhere, and the mouse.

use ratatui::crossterm::event::KeyCode;

use super::{bind, ch, code, ctrl, Binding, Key};
use crate::tui::action::{Action, Copy, Edit};

pub static GLOBAL: &[Binding] = &[
    bind(
        &[ch('?')],
        "?",
        Action::ToggleHelp,
        "show or hide this help",
    ),
    bind(
        &[ch('!')],
        "!",
        Action::MessageLog,
        "every message the status line said, whole",
    ),
    bind(
        &[Key {
            code: KeyCode::Char('c'),
            ctrl: true,
        }],
        "Ctrl-C",
        Action::Quit,
        "quit at once",
    ),
];

pub static TRACE: &[Binding] = &[
    bind(
        &[code(KeyCode::Up), ch('k')],
        "↑ k",
        Action::Up,
        "previous event",
    ),
    bind(
        &[code(KeyCode::Down), ch('j')],
        "↓ j",
        Action::Down,
        "next event",
    ),
    bind(
        &[code(KeyCode::PageUp)],
        "PgUp",
        Action::PageUp,
        "one page up",
    ),
    bind(
        &[code(KeyCode::PageDown)],
        "PgDn",
        Action::PageDown,
        "one page down",
    ),
    bind(
        &[code(KeyCode::Home), ch('g')],
        "Home g",
        Action::First,
        "first event",
    ),
    bind(
        &[code(KeyCode::End), ch('G')],
        "End G",
        Action::Last,
        "last event",
    ),
    bind(
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Confirm,
        "go to that event in its aggregate",
    ),
    bind(
        &[ch('q'), code(KeyCode::Esc), ch('T')],
        "q Esc T",
        Action::Back,
        "close the trace",
    ),
    super::screens::ZONE,
];

pub static BLAME: &[Binding] = &[
    bind(
        &[code(KeyCode::Up), ch('k')],
        "↑ k",
        Action::Up,
        "previous change",
    ),
    bind(
        &[code(KeyCode::Down), ch('j')],
        "↓ j",
        Action::Down,
        "next change",
    ),
    bind(
        &[code(KeyCode::PageUp)],
        "PgUp",
        Action::PageUp,
        "one page up",
    ),
    bind(
        &[code(KeyCode::PageDown)],
        "PgDn",
        Action::PageDown,
        "one page down",
    ),
    bind(
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Confirm,
        "go to that event",
    ),
    bind(
        &[ch('q'), code(KeyCode::Esc), ch('B')],
        "q Esc B",
        Action::Back,
        "close the blame",
    ),
    super::screens::ZONE,
];

pub static VIEWER: &[Binding] = &[
    bind(
        &[code(KeyCode::Up), ch('k')],
        "↑ k",
        Action::Up,
        "previous line",
    ),
    bind(
        &[code(KeyCode::Down), ch('j')],
        "↓ j",
        Action::Down,
        "next line",
    ),
    bind(
        &[code(KeyCode::PageUp)],
        "PgUp",
        Action::PageUp,
        "one page up",
    ),
    bind(
        &[code(KeyCode::PageDown)],
        "PgDn",
        Action::PageDown,
        "one page down",
    ),
    bind(
        &[code(KeyCode::Home), ch('g')],
        "Home g",
        Action::First,
        "first line",
    ),
    bind(
        &[code(KeyCode::End), ch('G')],
        "End G",
        Action::Last,
        "last line",
    ),
    bind(
        &[ch('z'), code(KeyCode::Enter)],
        "z Enter",
        Action::ToggleFold,
        "fold or unfold the object at the line",
    ),
    bind(
        &[
            ch('1'),
            ch('2'),
            ch('3'),
            ch('4'),
            ch('5'),
            ch('6'),
            ch('7'),
            ch('8'),
            ch('9'),
        ],
        "1..9",
        Action::FoldDepth(1),
        "fold every object at that depth or deeper (1: the value's own keys)",
    ),
    bind(
        &[ch('Z')],
        "Z",
        Action::FoldAll,
        "fold one level deeper each time, then unfold all",
    ),
    bind(
        &[ch('/')],
        "/",
        Action::Filter,
        "search the value (any case, folded lines too); Enter on empty clears",
    ),
    bind(&[ch('n')], "n", Action::NextMatch, "next match"),
    bind(&[ch('N')], "N", Action::PrevMatch, "previous match"),
    bind(
        &[ch('y')],
        "y",
        Action::Copy(Copy::Value),
        "copy the value at the line (a string as its text)",
    ),
    bind(
        &[ch('Y')],
        "Y",
        Action::Copy(Copy::Path),
        "copy the line's jq path (in the state, for a State value)",
    ),
    bind(
        &[ctrl(KeyCode::Char('y'))],
        "Ctrl-Y",
        Action::Copy(Copy::All),
        "copy the whole value",
    ),
    bind(
        &[ch('v')],
        "v",
        Action::Page,
        "the value in $PAGER (less when unset); quitting it comes back here",
    ),
    bind(
        &[ch('q'), code(KeyCode::Esc)],
        "q Esc",
        Action::Back,
        "close the viewer",
    ),
];

pub static PROMPT: &[Binding] = &[
    bind(
        &[code(KeyCode::Backspace)],
        "Backspace",
        Action::InputBackspace,
        "delete a character",
    ),
    bind(
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Confirm,
        "jump, filter, write",
    ),
    bind(&[code(KeyCode::Esc)], "Esc", Action::Back, "cancel"),
    bind(
        &[code(KeyCode::Left)],
        "←",
        Action::Edit(Edit::Left),
        "cursor one character left",
    ),
    bind(
        &[code(KeyCode::Right)],
        "→",
        Action::Edit(Edit::Right),
        "cursor one character right",
    ),
    bind(
        &[ctrl(KeyCode::Left)],
        "Ctrl-←",
        Action::Edit(Edit::WordLeft),
        "cursor one word left",
    ),
    bind(
        &[ctrl(KeyCode::Right)],
        "Ctrl-→",
        Action::Edit(Edit::WordRight),
        "cursor one word right",
    ),
    bind(
        &[code(KeyCode::Home), ctrl(KeyCode::Char('a'))],
        "Home Ctrl-A",
        Action::Edit(Edit::Home),
        "cursor to the start",
    ),
    bind(
        &[code(KeyCode::End), ctrl(KeyCode::Char('e'))],
        "End Ctrl-E",
        Action::Edit(Edit::End),
        "cursor to the end",
    ),
    bind(
        &[code(KeyCode::Delete)],
        "Delete",
        Action::Edit(Edit::DeleteNext),
        "delete the character under the cursor",
    ),
    bind(
        &[ctrl(KeyCode::Char('u'))],
        "Ctrl-U",
        Action::Edit(Edit::KillToStart),
        "delete everything before the cursor",
    ),
    bind(
        &[ctrl(KeyCode::Char('w'))],
        "Ctrl-W",
        Action::Edit(Edit::KillWord),
        "delete the word before the cursor",
    ),
    bind(
        &[ctrl(KeyCode::Char('k'))],
        "Ctrl-K",
        Action::Edit(Edit::KillToEnd),
        "delete from the cursor to the end",
    ),
    bind(
        &[code(KeyCode::Up)],
        "↑",
        Action::Edit(Edit::Older),
        "the previous line typed in this prompt",
    ),
    bind(
        &[code(KeyCode::Down)],
        "↓",
        Action::Edit(Edit::Newer),
        "the next line, back to what was being typed",
    ),
];

pub static HELP: &[Binding] = &[
    bind(
        &[ch('q'), code(KeyCode::Esc), ch('?')],
        "q Esc ?",
        Action::ToggleHelp,
        "close this help",
    ),
    bind(
        &[code(KeyCode::Up), ch('k')],
        "↑ k",
        Action::Up,
        "scroll the help up",
    ),
    bind(
        &[code(KeyCode::Down), ch('j')],
        "↓ j",
        Action::Down,
        "scroll the help down",
    ),
];

pub static MESSAGES: &[Binding] = &[
    bind(
        &[code(KeyCode::Esc), ch('q'), ch('!')],
        "q Esc !",
        Action::Back,
        "close the messages",
    ),
    bind(
        &[code(KeyCode::Up), ch('k')],
        "↑ k",
        Action::Up,
        "newer messages",
    ),
    bind(
        &[code(KeyCode::Down), ch('j')],
        "↓ j",
        Action::Down,
        "older messages",
    ),
];

/// Mouse gestures, for the help overlay and docs.
pub static MOUSE: &[(&str, &str)] = &[
    ("click/drag", "on the timeline: scrub there"),
    ("click", "select a row, focus a pane"),
    ("wheel", "scroll what is under the pointer"),
];
