//! Which key does what, per context. The help overlay and docs/TUI.md are generated from
//! these tables, so they cannot drift from the real bindings.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, Focus};

mod overlays;
mod screens;

pub use overlays::{BLAME, GLOBAL, HELP, MESSAGES, MOUSE, PROMPT, TRACE, VIEWER};
pub use screens::{AGGREGATE, DETAIL_PANE, EVENTS_PANE, FILTERING, LIST, LOG};

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
    /// A State value full screen.
    Viewer,
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

/// The tables of `context`, searched in this order: an aggregate's keys come in three
/// (its events list's, its detail pane's, and those of both), the same key meaning the same
/// action in each, which the focused pane then acts on.
fn tables(context: Context) -> &'static [&'static [Binding]] {
    match context {
        Context::List => &LIST_TABLES,
        Context::Filtering => &FILTERING_TABLES,
        Context::Aggregate => &AGGREGATE_TABLES,
        Context::Prompt => &PROMPT_TABLES,
        Context::Blame => &BLAME_TABLES,
        Context::Log => &LOG_TABLES,
        Context::Trace => &TRACE_TABLES,
        Context::Viewer => &VIEWER_TABLES,
        Context::Help => &HELP_TABLES,
        Context::Messages => &MESSAGES_TABLES,
    }
}

static LIST_TABLES: [&[Binding]; 1] = [LIST];
static FILTERING_TABLES: [&[Binding]; 1] = [FILTERING];
static AGGREGATE_TABLES: [&[Binding]; 3] = [EVENTS_PANE, DETAIL_PANE, AGGREGATE];
static PROMPT_TABLES: [&[Binding]; 1] = [PROMPT];
static BLAME_TABLES: [&[Binding]; 1] = [BLAME];
static LOG_TABLES: [&[Binding]; 1] = [LOG];
static TRACE_TABLES: [&[Binding]; 1] = [TRACE];
static VIEWER_TABLES: [&[Binding]; 1] = [VIEWER];
static HELP_TABLES: [&[Binding]; 1] = [HELP];
static MESSAGES_TABLES: [&[Binding]; 1] = [MESSAGES];
/// The aggregate's sections in the help, the focused pane's first.
static EVENTS_FIRST: [&[Binding]; 3] = [EVENTS_PANE, AGGREGATE, DETAIL_PANE];
static DETAIL_FIRST: [&[Binding]; 3] = [DETAIL_PANE, AGGREGATE, EVENTS_PANE];

/// Every binding of `context`, its own tables in order.
fn bindings(context: Context) -> impl Iterator<Item = &'static Binding> {
    tables(context).iter().flat_map(|table| table.iter())
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
    // The list filter edits like a prompt; its own ↑/↓ (between matches) come first.
    let editing: &[Binding] = match context {
        Context::Filtering => PROMPT,
        _ => &[],
    };
    let bound = bindings(context)
        .chain(editing)
        .chain(globals)
        .find(|binding| binding.keys.contains(&key))
        .map(|binding| binding.action.clone());
    match (bound, key.code) {
        // One binding row stands for the nine digit keys.
        (Some(Action::FoldDepth(_)), KeyCode::Char(c @ '1'..='9')) => {
            Some(Action::FoldDepth(c as u8 - b'0'))
        }
        (Some(action), _) => Some(action),
        (None, KeyCode::Char(c)) if typing && !key.ctrl => Some(Action::InputChar(c)),
        _ => None,
    }
}

/// The sections of the help overlay and of the docs' key table, in display order.
pub fn help_sections() -> [(&'static str, &'static [Binding]); 12] {
    [
        ("Aggregate: events list", EVENTS_PANE),
        ("Aggregate: detail pane", DETAIL_PANE),
        ("Aggregate: either pane", AGGREGATE),
        ("Aggregate list", LIST),
        ("Store log", LOG),
        ("Trace", TRACE),
        ("Prompts", PROMPT),
        ("List filter", FILTERING),
        ("Blame", BLAME),
        ("Value viewer", VIEWER),
        ("Messages", MESSAGES),
        ("Everywhere", GLOBAL),
    ]
}

/// What the help was opened on: the screen, and on an aggregate the pane with the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelpFor {
    pub context: Context,
    pub focus: Focus,
}

/// The help's sections: the screen it was opened on first (on an aggregate, the focused
/// pane's keys, then those of both panes, then the other pane's), then the keys that work
/// everywhere, then the other screens'.
pub fn help_sections_for(help: HelpFor) -> Vec<(&'static str, &'static [Binding])> {
    let first: &[&[Binding]] = match (help.context, help.focus) {
        (Context::Aggregate, Focus::Events) => &EVENTS_FIRST,
        (Context::Aggregate, Focus::Detail) => &DETAIL_FIRST,
        (context, _) => tables(context),
    };
    let leading: Vec<&[Binding]> = first.iter().copied().chain([GLOBAL]).collect();
    let is_leading = |bindings: &[Binding]| leading.iter().any(|l| std::ptr::eq(*l, bindings));
    let mut sections: Vec<_> = leading
        .iter()
        .filter_map(|wanted| {
            help_sections()
                .into_iter()
                .find(|(_, b)| std::ptr::eq(*b, *wanted))
        })
        .collect();
    sections.extend(help_sections().into_iter().filter(|(_, b)| !is_leading(b)));
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

static VIEWER_HINTS: &[Hint] = &[
    hint(&[Action::ToggleHelp], "help"),
    hint(&[Action::ToggleFold], "fold"),
    hint(&[Action::Filter], "search"),
    hint(&[Action::Copy(crate::tui::action::Copy::Value)], "copy"),
    hint(&[Action::FoldAll], "depth"),
    hint(&[Action::Page], "pager"),
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
        Context::Viewer => VIEWER_HINTS,
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
    let binding = bindings(context)
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
