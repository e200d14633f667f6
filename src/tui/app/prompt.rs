//! The one-line prompts of the status bar: jump to a version or time, filter events, and
//! the questions of an export (format, file, overwrite?).

use std::path::PathBuf;

use super::{AggregateView, App};
use crate::export::Format;
use crate::model::Position;
use crate::tui::action::Action;
use crate::tui::app::inspect::{filter_kind, FilterKind};

/// jq errors can span lines; the prompt has one.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    Version,
    Time,
    /// Text to find in event types, or a jq predicate.
    Filter,
    /// `/` in the focused detail pane: text to find in the tab shown.
    PaneSearch,
    /// `M`: a mark (A or B) and the version or time to set it at.
    Mark,
    /// The store log's `t`: a time to jump to.
    LogTime,
    /// The store log's `/`: text in types and ids, or a jq predicate.
    LogFilter,
    /// One key: m, j or h.
    ExportFormat,
    ExportPath(Format),
    /// The file exists: y replaces it.
    Overwrite {
        format: Format,
        path: PathBuf,
    },
}

impl PromptKind {
    /// Prompts answered with one key rather than typed text.
    pub fn is_choice(&self) -> bool {
        matches!(
            self,
            PromptKind::ExportFormat | PromptKind::Overwrite { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    /// The text and its cursor (see `readline`).
    pub line: tui_input::Input,
    pub error: Option<String>,
    /// The history line ↑/↓ put in the prompt; `None` while typing a new one.
    pub recalled: Option<usize>,
    /// What was typed before ↑ recalled an older line.
    pub draft: String,
}

impl Prompt {
    pub fn new(kind: PromptKind, input: String) -> Prompt {
        Prompt {
            kind,
            line: tui_input::Input::new(input),
            error: None,
            recalled: None,
            draft: String::new(),
        }
    }
}

impl App {
    pub(super) fn open_prompt(&mut self, kind: PromptKind, input: String) {
        self.prompt = Some(Prompt::new(kind, input));
    }

    pub(super) fn on_prompt(&mut self, action: Action) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        match action {
            Action::InputChar(c) if prompt.kind.is_choice() => self.choose(c),
            Action::InputChar(c) => {
                prompt.insert(c);
                prompt.error = None;
            }
            Action::InputBackspace => {
                prompt.backspace();
                prompt.error = None;
            }
            Action::Edit(edit) => {
                prompt.edit(edit, &self.prompt_history);
                prompt.error = None;
            }
            Action::Back => {
                let kind = self.prompt.take().map(|p| p.kind);
                if matches!(kind, Some(PromptKind::Overwrite { .. })) {
                    self.say("not exported: the file is left as it was");
                }
            }
            Action::Confirm => self.submit_prompt(),
            _ => {}
        }
    }

    fn submit_prompt(&mut self) {
        let Some(prompt) = self.prompt.as_ref() else {
            return;
        };
        self.prompt_history.record(&prompt.kind, prompt.input());
        match prompt.kind.clone() {
            PromptKind::Version | PromptKind::Time => self.submit_jump(),
            PromptKind::Filter => {
                let query = prompt.input().trim().to_string();
                // A jq typo keeps the prompt open with the error; the old filter stays.
                if filter_kind(&query) == FilterKind::Jq {
                    if let Err(err) = crate::jq::compile(&query, "filter") {
                        self.prompt_error(one_line(&err.to_string()));
                        return;
                    }
                }
                self.prompt = None;
                self.apply_filter(query);
            }
            PromptKind::PaneSearch => {
                let input = prompt.input().to_string();
                self.submit_pane_search(&input);
            }
            PromptKind::Mark => {
                let input = prompt.input().to_string();
                self.submit_mark(&input);
            }
            PromptKind::LogTime => {
                let input = prompt.input().to_string();
                self.submit_log_time(&input);
            }
            PromptKind::LogFilter => {
                let input = prompt.input().to_string();
                self.submit_log_filter(&input);
            }
            PromptKind::ExportFormat => self.choose('m'),
            PromptKind::ExportPath(format) => {
                let input = prompt.input().trim().to_string();
                if input.is_empty() {
                    self.prompt_error("type a file name".into());
                    return;
                }
                self.prompt = None;
                self.start_export(format, PathBuf::from(input), false);
            }
            PromptKind::Overwrite { .. } => self.choose('n'),
        }
    }

    /// A one-key answer to a choice prompt.
    fn choose(&mut self, key: char) {
        let Some(prompt) = self.prompt.as_ref() else {
            return;
        };
        match prompt.kind.clone() {
            PromptKind::ExportFormat => {
                let format = match key.to_ascii_lowercase() {
                    'm' => Format::Markdown,
                    'j' => Format::JsonLines,
                    'h' => Format::Html,
                    _ => {
                        self.prompt_error("press m, j or h (Esc cancels)".into());
                        return;
                    }
                };
                self.ask_export_path(format);
            }
            PromptKind::Overwrite { format, path } => match key.to_ascii_lowercase() {
                'y' => {
                    self.prompt = None;
                    self.start_export(format, path, true);
                }
                'n' => {
                    self.prompt = None;
                    self.say("not exported: the file is left as it was");
                }
                _ => self.prompt_error("press y to replace it, n to keep it".into()),
            },
            _ => {}
        }
    }

    pub(super) fn prompt_error(&mut self, error: String) {
        if let Some(prompt) = self.prompt.as_mut() {
            prompt.error = Some(error);
        }
    }

    fn submit_jump(&mut self) {
        let event_rows = self.aggregate_layout().event_rows.height as usize;
        let (Some(prompt), Some(view)) = (self.prompt.as_mut(), self.view.as_mut()) else {
            return;
        };
        let wanted = match prompt.kind {
            PromptKind::Version => Reading::Version,
            _ => Reading::Time,
        };
        let position = read_position(view, prompt.input(), wanted);
        let resolved = position
            .clone()
            .and_then(|p| view.replay.resolve(p).map_err(|e| e.to_string()));
        let asked = match position {
            Ok(Position::Version(v)) => Some(v),
            _ => None,
        };
        match resolved {
            Err(error) => prompt.error = Some(error),
            Ok(count) => {
                self.prompt = None;
                if count == 0 {
                    // No event applied: v0, the state the CLI calls the empty state.
                    view.move_before_first(event_rows);
                    let what = match asked {
                        Some(0) => "v0 is the empty state before the first event",
                        _ => "that is before the first event: v0, the empty state",
                    };
                    self.say(format!("{what}; l steps to v1"));
                    return;
                }
                view.move_to(count - 1, event_rows);
                let landed = view.version_of(view.cursor);
                if let Some(v) = asked.filter(|&v| v != landed) {
                    self.say(format!(
                        "there is no v{v} (a gap in the versions); showing v{landed}, the last before it"
                    ));
                }
            }
        }
    }
}

/// What a typed position may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    Version,
    Time,
    /// A version if it reads as one, else a time.
    Either,
}

/// What `:` (a version) or `t` (a time, read near the cursor's) means by `input`.
pub(super) fn read_position(
    view: &AggregateView,
    input: &str,
    wanted: Reading,
) -> Result<Position, String> {
    if wanted != Reading::Time {
        if let Ok(Position::Version(v)) = input.trim().parse::<Position>() {
            return Ok(Position::Version(v));
        }
        if wanted == Reading::Version {
            return Err(format!("{input:?} is not a version: type 37 or v37"));
        }
    }
    let cursor = view.current_entry().and_then(|e| e.timestamp);
    super::time_input::resolve_time(input, cursor, view.zone)
        .map(Position::Time)
        .ok_or_else(|| {
            let what = match wanted {
                Reading::Either => "a version or a time: type 37, v37,",
                _ => "a time: type",
            };
            format!("{input:?} is not {what} 2026-01-15 10:30, 10:30, 2026-01, -1h or +15m")
        })
}
