//! The key tables of the screens: the aggregate list and its filter, an aggregate's
//! timeline (its events list, its detail pane, and the keys of both), the store log.

use ratatui::crossterm::event::KeyCode;

use super::{bind, ch, code, ctrl, Binding};
use crate::tui::action::{Action, Copy, Tab};

/// `u` on every screen that shows times.
pub(super) const ZONE: Binding = bind(
    &[ch('u')],
    "u",
    Action::ToggleZone,
    "times in the local zone (TZ) with offset, or as stored",
);

pub static LIST: &[Binding] = &[
    bind(
        &[code(KeyCode::Up), ch('k')],
        "↑ k",
        Action::Up,
        "previous aggregate",
    ),
    bind(
        &[code(KeyCode::Down), ch('j')],
        "↓ j",
        Action::Down,
        "next aggregate",
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
        "first aggregate",
    ),
    bind(
        &[code(KeyCode::End), ch('G')],
        "End G",
        Action::Last,
        "last aggregate",
    ),
    bind(
        &[ch('/')],
        "/",
        Action::Filter,
        "filter ids and types as you type",
    ),
    bind(
        &[ch('s')],
        "s",
        Action::CycleSort,
        "sort by id, event count, last activity, health",
    ),
    bind(
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Confirm,
        "open the aggregate",
    ),
    bind(
        &[ch('L')],
        "L",
        Action::OpenLog,
        "the store log: every event in store order",
    ),
    ZONE,
    bind(
        &[ch('q'), code(KeyCode::Esc)],
        "q Esc",
        Action::Back,
        "clear the filter, or quit",
    ),
];

pub static FILTERING: &[Binding] = &[
    bind(&[code(KeyCode::Up)], "↑", Action::Up, "previous match"),
    bind(&[code(KeyCode::Down)], "↓", Action::Down, "next match"),
    bind(
        &[code(KeyCode::Backspace)],
        "Backspace",
        Action::InputBackspace,
        "delete a character; ←/→, Ctrl-U/W and the other prompt keys edit too",
    ),
    bind(
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Confirm,
        "keep the filter, back to the list",
    ),
    bind(
        &[code(KeyCode::Esc)],
        "Esc",
        Action::Back,
        "clear the filter",
    ),
];

/// The events list's keys, with it focused (Tab): stepping through the history and
/// filtering it. Keys also in `DETAIL_PANE` mean there what the detail pane makes of them.
pub static EVENTS_PANE: &[Binding] = &[
    bind(
        &[code(KeyCode::Left)],
        "←",
        Action::Left,
        "previous event (from v1 onto v0, the empty state)",
    ),
    bind(&[code(KeyCode::Right)], "→", Action::Right, "next event"),
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
        "ten events back",
    ),
    bind(
        &[code(KeyCode::PageDown)],
        "PgDn",
        Action::PageDown,
        "ten events forward",
    ),
    bind(
        &[ch('/')],
        "/",
        Action::Filter,
        "filter events: text in the type, or jq (.balance < 0)",
    ),
    bind(&[ch('n')], "n", Action::NextMatch, "next matching event"),
    bind(
        &[ch('N')],
        "N",
        Action::PrevMatch,
        "previous matching event",
    ),
    bind(
        &[ch('m')],
        "m",
        Action::ToggleMatchingOnly,
        "list only the filter's matches, or every event again",
    ),
    bind(
        &[ch('p')],
        "p",
        Action::TogglePreview,
        "show each event's data in the events list, or hide it",
    ),
    bind(
        &[code(KeyCode::Esc)],
        "Esc",
        Action::Cancel,
        "clear the event filter (never leaves)",
    ),
];

/// The detail pane's keys: first what they do with it focused (Tab), then what works on its
/// tabs from either pane.
pub static DETAIL_PANE: &[Binding] = &[
    bind(
        &[code(KeyCode::Left)],
        "←",
        Action::Left,
        "scroll left (lines cut, w off)",
    ),
    bind(
        &[code(KeyCode::Right)],
        "→",
        Action::Right,
        "scroll right (lines cut, w off)",
    ),
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
        &[ch('/')],
        "/",
        Action::Filter,
        "search the tab shown (any case); /.limits.daily jumps to that path (State)",
    ),
    bind(&[ch('n')], "n", Action::NextMatch, "next match"),
    bind(&[ch('N')], "N", Action::PrevMatch, "previous match"),
    bind(
        &[code(KeyCode::Esc)],
        "Esc",
        Action::Cancel,
        "clear the search, else the event filter (never leaves)",
    ),
    bind(&[ch('1')], "1", Action::SelectTab(Tab::State), "State tab"),
    bind(&[ch('2')], "2", Action::SelectTab(Tab::Diff), "Diff tab"),
    bind(&[ch('3')], "3", Action::SelectTab(Tab::Event), "Event tab"),
    bind(
        &[ch('4')],
        "4",
        Action::SelectTab(Tab::Compare),
        "Compare tab",
    ),
    bind(
        &[ch('z')],
        "z",
        Action::ToggleFold,
        "fold or unfold the object at the line (State)",
    ),
    bind(
        &[ch('Z')],
        "Z",
        Action::FoldAll,
        "fold to a depth, one level deeper each time, then unfold all (State)",
    ),
    bind(
        &[code(KeyCode::Enter)],
        "Enter",
        Action::OpenValue,
        "the State line's value (or, on Event, the event) full screen: strings wrapped, folds",
    ),
    bind(
        &[ch('w')],
        "w",
        Action::ToggleWrap,
        "wrap long lines in the detail pane, or cut them with …",
    ),
    bind(
        &[ch('B')],
        "B",
        Action::Blame,
        "blame the line (State): every event that changed it",
    ),
    bind(
        &[ch('y')],
        "y",
        Action::Copy(Copy::Value),
        "copy the value at the line (State), the data (Event), the text (Diff, Compare)",
    ),
    bind(
        &[ch('Y')],
        "Y",
        Action::Copy(Copy::Path),
        "copy the line's jq path (State)",
    ),
    bind(
        &[ctrl(KeyCode::Char('y'))],
        "Ctrl-Y",
        Action::Copy(Copy::All),
        "copy the whole state (or the tab's JSON or text)",
    ),
];

/// An aggregate's keys that do the same whichever pane is focused.
pub static AGGREGATE: &[Binding] = &[
    bind(
        &[ch('h')],
        "h",
        Action::StepBack,
        "previous event (from v1 onto v0, the empty state)",
    ),
    bind(&[ch('l')], "l", Action::StepForward, "next event"),
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
    bind(&[ch(':')], ":", Action::JumpToVersion, "jump to a version"),
    bind(
        &[ch('t')],
        "t",
        Action::JumpToTime,
        "jump to a time: 2026-01-15 10:30, 10:30 (that day), 2026-01, -1h, +15m",
    ),
    bind(&[ch('[')], "[", Action::PrevSnapshot, "previous snapshot"),
    bind(&[ch(']')], "]", Action::NextSnapshot, "next snapshot"),
    bind(
        &[ch('a')],
        "a",
        Action::MarkA,
        "set compare mark A here (Compare then follows the cursor)",
    ),
    bind(&[ch('b')], "b", Action::MarkB, "set compare mark B here"),
    bind(
        &[ch('M')],
        "M",
        Action::MarkAt,
        "set mark A or B at a version or time: a 37, b v12, a 10:30, b -1h",
    ),
    bind(&[ch('x')], "x", Action::ClearMarks, "clear marks A and B"),
    bind(
        &[ch('c')],
        "c",
        Action::OpenCompare,
        "compare mark A with mark B",
    ),
    bind(
        &[code(KeyCode::Tab), code(KeyCode::BackTab)],
        "Tab",
        Action::FocusNext,
        "focus events / detail pane",
    ),
    bind(
        &[ch('+'), ch('o')],
        "+ o",
        Action::ToggleZoom,
        "the focused pane fills the screen (Tab switches it), or all panes again",
    ),
    ZONE,
    bind(
        &[ch('e')],
        "e",
        Action::Export,
        "export marks A–B (or all) to a file",
    ),
    bind(
        &[ch(' ')],
        "Space",
        Action::TogglePlay,
        "play forward; any key stops",
    ),
    bind(&[ch('>')], ">", Action::Faster, "play faster"),
    bind(&[ch('<')], "<", Action::Slower, "play slower"),
    bind(
        &[ch('f')],
        "f",
        Action::ToggleFollow,
        "follow new events live",
    ),
    bind(
        &[ch('T')],
        "T",
        Action::Trace,
        "trace the event's request across aggregates",
    ),
    bind(
        &[ch('q')],
        "q",
        Action::Back,
        "back to the list (cursor, marks, filter are kept)",
    ),
];

pub static LOG: &[Binding] = &[
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
        "first event of the store",
    ),
    bind(
        &[code(KeyCode::End), ch('G')],
        "End G",
        Action::Last,
        "last event of the store",
    ),
    bind(
        &[ch('t')],
        "t",
        Action::JumpToTime,
        "jump to a time: 2026-01-15 10:30, 10:30 (that day), 2026-01, -1h, +15m",
    ),
    bind(
        &[ch('/')],
        "/",
        Action::Filter,
        "filter: text in the type or ids, or jq (.balance < 0)",
    ),
    bind(
        &[ch('f')],
        "f",
        Action::ToggleFollow,
        "follow new events live",
    ),
    ZONE,
    bind(
        &[code(KeyCode::Enter)],
        "Enter",
        Action::Confirm,
        "open the aggregate at this event",
    ),
    bind(
        &[ch('T')],
        "T",
        Action::Trace,
        "trace the event's request across aggregates",
    ),
    bind(
        &[code(KeyCode::Esc)],
        "Esc",
        Action::Cancel,
        "clear the filter (never leaves)",
    ),
    bind(&[ch('q')], "q", Action::Back, "back to the list"),
];
