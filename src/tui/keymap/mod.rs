//! Which key does what, per context. The help overlay and docs/TUI.md are generated from
//! these tables, so they cannot drift from the real bindings.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, Copy, Edit, Tab};

/// Where keyboard input currently goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    List,
    /// Typing a filter into the aggregate list.
    Filtering,
    Aggregate,
    /// Typing into a prompt of the status bar.
    Prompt,
    /// The blame overlay is open.
    Blame,
    /// The store log screen.
    Log,
    /// The trace overlay is open.
    Trace,
    Help,
    /// The message log overlay is open.
    Messages,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn ch(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ctrl(code: KeyCode) -> Key {
    Key { code, ctrl: true }
}

pub struct Binding {
    pub keys: &'static [Key],
    /// How the help overlay writes the keys.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
}

const fn bind(
    keys: &'static [Key],
    label: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    Binding {
        keys,
        label,
        action,
        help,
    }
}

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
        "delete a character",
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

pub static AGGREGATE: &[Binding] = &[
    bind(
        &[code(KeyCode::Left)],
        "←",
        Action::Left,
        "previous event (scroll left, in the detail pane)",
    ),
    bind(
        &[code(KeyCode::Right)],
        "→",
        Action::Right,
        "next event (scroll right, in the detail pane)",
    ),
    bind(&[ch('h')], "h", Action::StepBack, "previous event"),
    bind(&[ch('l')], "l", Action::StepForward, "next event"),
    bind(
        &[code(KeyCode::Up), ch('k')],
        "↑ k",
        Action::Up,
        "previous event (line, in the detail pane)",
    ),
    bind(
        &[code(KeyCode::Down), ch('j')],
        "↓ j",
        Action::Down,
        "next event (line, in the detail pane)",
    ),
    bind(
        &[code(KeyCode::PageUp)],
        "PgUp",
        Action::PageUp,
        "ten events back (a page, in the detail pane)",
    ),
    bind(
        &[code(KeyCode::PageDown)],
        "PgDn",
        Action::PageDown,
        "ten events forward (a page, in the detail pane)",
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
    bind(&[ch('x')], "x", Action::ClearMarks, "clear marks A and B"),
    bind(
        &[ch('c')],
        "c",
        Action::OpenCompare,
        "compare mark A with mark B",
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
        &[code(KeyCode::Tab), code(KeyCode::BackTab)],
        "Tab",
        Action::FocusNext,
        "focus events / detail pane",
    ),
    bind(
        &[ch('z'), code(KeyCode::Enter)],
        "z Enter",
        Action::ToggleFold,
        "fold or unfold the object at the line (State)",
    ),
    bind(
        &[ch('Z')],
        "Z",
        Action::FoldAll,
        "fold every object below the top level, or unfold all (State)",
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
        &[ch('/')],
        "/",
        Action::Filter,
        "filter events: text or jq (.balance < 0); search it, in the detail pane",
    ),
    bind(
        &[ch('n')],
        "n",
        Action::NextMatch,
        "next matching event (next match, in the detail pane)",
    ),
    bind(
        &[ch('N')],
        "N",
        Action::PrevMatch,
        "previous matching event (previous match, in the detail pane)",
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
    bind(&[ch('+'), ch('=')], "+", Action::Faster, "play faster"),
    bind(&[ch('-'), ch('_')], "-", Action::Slower, "play slower"),
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
        &[code(KeyCode::Esc)],
        "Esc",
        Action::Cancel,
        "clear the event filter (never leaves)",
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
        "jump to a time (RFC 3339 or 2026-01-15 10:30)",
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

fn table(context: Context) -> &'static [Binding] {
    match context {
        Context::List => LIST,
        Context::Filtering => FILTERING,
        Context::Aggregate => AGGREGATE,
        Context::Prompt => PROMPT,
        Context::Blame => BLAME,
        Context::Log => LOG,
        Context::Trace => TRACE,
        Context::Help => HELP,
        Context::Messages => MESSAGES,
    }
}

/// The action a key press means in `context`, if any.
pub fn action_for(context: Context, event: KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let key = Key {
        code: event.code,
        ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
    };
    let typing = matches!(context, Context::Filtering | Context::Prompt);
    let globals: &[Binding] = if typing || context == Context::Help {
        &GLOBAL[2..]
    } else {
        GLOBAL
    };
    let bound = table(context)
        .iter()
        .chain(globals)
        .find(|binding| binding.keys.contains(&key))
        .map(|binding| binding.action.clone());
    match (bound, key.code) {
        (Some(action), _) => Some(action),
        (None, KeyCode::Char(c)) if typing && !key.ctrl => Some(Action::InputChar(c)),
        _ => None,
    }
}

/// The sections of the help overlay, in display order.
pub fn help_sections() -> [(&'static str, &'static [Binding]); 9] {
    [
        ("Timeline", AGGREGATE),
        ("Aggregate list", LIST),
        ("Store log", LOG),
        ("Trace", TRACE),
        ("Prompts", PROMPT),
        ("List filter", FILTERING),
        ("Blame", BLAME),
        ("Messages", MESSAGES),
        ("Everywhere", GLOBAL),
    ]
}

/// The help's sections with the keys of the screen it was opened on first.
pub fn help_sections_for(context: Context) -> Vec<(&'static str, &'static [Binding])> {
    let first = table(context);
    let mut sections = help_sections().to_vec();
    // The focused screen's keys, then the ones that work everywhere, then the rest.
    for wanted in [GLOBAL, first] {
        if let Some(at) = sections.iter().position(|(_, b)| std::ptr::eq(*b, wanted)) {
            let section = sections.remove(at);
            sections.insert(0, section);
        }
    }
    sections
}

/// A status-bar hint: the keys of these actions and what they do, in a word or two.
pub struct Hint {
    pub actions: &'static [Action],
    pub what: &'static str,
}

const fn hint(actions: &'static [Action], what: &'static str) -> Hint {
    Hint { actions, what }
}

/// Each screen's hints, most useful first (the status bar shows as many as fit).
static LIST_HINTS: &[Hint] = &[
    hint(&[Action::ToggleHelp], "help"),
    hint(&[Action::Filter], "filter"),
    hint(&[Action::Confirm], "open"),
    hint(&[Action::OpenLog], "log"),
    hint(&[Action::CycleSort], "sort"),
    hint(&[Action::Back], "quit"),
];

static FILTERING_HINTS: &[Hint] = &[
    hint(&[Action::Confirm], "keep the filter"),
    hint(&[Action::Back], "clear it"),
];

static AGGREGATE_HINTS: &[Hint] = &[
    hint(&[Action::ToggleHelp], "help"),
    hint(&[Action::Left, Action::Right], "step"),
    hint(&[Action::JumpToVersion], "version"),
    hint(&[Action::MarkA, Action::MarkB], "marks"),
    hint(&[Action::OpenCompare], "compare"),
    hint(&[Action::Back], "back"),
    hint(&[Action::Filter], "filter"),
    hint(&[Action::Blame], "blame"),
    hint(&[Action::Trace], "trace"),
    hint(&[Action::Export], "export"),
];

static LOG_HINTS: &[Hint] = &[
    hint(&[Action::ToggleHelp], "help"),
    hint(&[Action::Confirm], "open"),
    hint(&[Action::Trace], "trace"),
    hint(&[Action::JumpToTime], "time"),
    hint(&[Action::Filter], "filter"),
    hint(&[Action::ToggleFollow], "follow"),
    hint(&[Action::Back], "back"),
];

static TRACE_HINTS: &[Hint] = &[
    hint(&[Action::ToggleHelp], "help"),
    hint(&[Action::Confirm], "go to the event"),
    hint(&[Action::Back], "close"),
];

static BLAME_HINTS: &[Hint] = &[
    hint(&[Action::ToggleHelp], "help"),
    hint(&[Action::Confirm], "go to the event"),
    hint(&[Action::Back], "close"),
];

fn hint_table(context: Context) -> &'static [Hint] {
    match context {
        Context::List => LIST_HINTS,
        Context::Filtering => FILTERING_HINTS,
        Context::Aggregate => AGGREGATE_HINTS,
        Context::Log => LOG_HINTS,
        Context::Trace => TRACE_HINTS,
        Context::Blame => BLAME_HINTS,
        Context::Prompt | Context::Help | Context::Messages => &[],
    }
}

/// The status bar's hints for `context`, each as (keys, what): the keys are the first
/// ones bound to the actions there, so the hints cannot name a key that does nothing.
pub fn hints(context: Context) -> Vec<(String, &'static str)> {
    hint_table(context)
        .iter()
        .filter_map(|hint| {
            let keys: Vec<&str> = hint
                .actions
                .iter()
                .map(|action| first_key(context, action))
                .collect::<Option<_>>()?;
            let joiner = if keys.iter().all(|k| k.chars().all(char::is_alphanumeric)) {
                "/"
            } else {
                ""
            };
            Some((keys.join(joiner), hint.what))
        })
        .collect()
}

/// How the help writes the first key bound to `action` in `context` (`Enter` → `⏎`).
fn first_key(context: Context, action: &Action) -> Option<&'static str> {
    let binding = table(context)
        .iter()
        .chain(GLOBAL)
        .find(|binding| binding.action == *action)?;
    let key = binding.label.split_whitespace().next()?;
    Some(if key == "Enter" { "⏎" } else { key })
}

/// The key table as Markdown, for docs/TUI.md.
pub fn markdown_table() -> String {
    let mut out = String::new();
    for (title, bindings) in help_sections() {
        out.push_str(&format!(
            "\n**{title}**\n\n| Key | Action |\n| --- | --- |\n"
        ));
        for binding in bindings {
            out.push_str(&format!(
                "| `{}` | {} |\n",
                binding.label.replace('|', "\\|"),
                binding.help
            ));
        }
    }
    out.push_str("\n**Mouse**\n\n| Gesture | Action |\n| --- | --- |\n");
    for (gesture, help) in MOUSE {
        out.push_str(&format!("| {gesture} | {help} |\n"));
    }
    out
}

#[cfg(test)]
mod tests;
