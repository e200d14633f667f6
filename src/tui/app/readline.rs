//! Prompts edit like readline: the cursor moves (←/→, Home/End, Ctrl-A/E), Ctrl-U/W/K cut,
//! and ↑/↓ walk back through what was typed in the same kind of prompt. The editing itself
//! is tui-input's; the history is ours. The aggregate list's filter edits the same way,
//! its ↑/↓ moving between the matches instead.

use std::collections::{HashMap, VecDeque};

use tui_input::{Input, InputRequest};

use super::prompt::{Prompt, PromptKind};
use crate::tui::action::Edit;

/// Lines remembered per kind of prompt.
pub const HISTORY_LINES: usize = 50;

/// What was typed into each kind of prompt, oldest first.
#[derive(Debug, Default)]
pub struct PromptHistory {
    lines: HashMap<&'static str, VecDeque<String>>,
}

impl PromptHistory {
    /// Keeps `text` as the newest line of `kind`'s history (not twice in a row).
    pub fn record(&mut self, kind: &PromptKind, text: &str) {
        let Some(key) = kind.history_key() else {
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        let lines = self.lines.entry(key).or_default();
        if lines.back().map(String::as_str) == Some(text) {
            return;
        }
        if lines.len() == HISTORY_LINES {
            lines.pop_front();
        }
        lines.push_back(text.to_string());
    }

    pub fn lines(&self, kind: &PromptKind) -> Option<&VecDeque<String>> {
        kind.history_key().and_then(|key| self.lines.get(key))
    }
}

impl PromptKind {
    /// Prompts that share a history; choices have none. Both time prompts share one, and
    /// both filters, since what is typed there is the same kind of text.
    fn history_key(&self) -> Option<&'static str> {
        match self {
            PromptKind::Version => Some("version"),
            PromptKind::Time | PromptKind::LogTime => Some("time"),
            PromptKind::Filter | PromptKind::LogFilter => Some("filter"),
            PromptKind::PaneSearch => Some("search"),
            PromptKind::Mark => Some("mark"),
            PromptKind::ExportPath(_) => Some("file"),
            PromptKind::ExportFormat | PromptKind::Overwrite { .. } => None,
        }
    }
}

/// What an editing key asks of the line; `None` for ↑/↓, which walk a history.
pub fn request_for(edit: Edit) -> Option<InputRequest> {
    Some(match edit {
        Edit::Left => InputRequest::GoToPrevChar,
        Edit::Right => InputRequest::GoToNextChar,
        Edit::WordLeft => InputRequest::GoToPrevWord,
        Edit::WordRight => InputRequest::GoToNextWord,
        Edit::Home => InputRequest::GoToStart,
        Edit::End => InputRequest::GoToEnd,
        Edit::DeleteNext => InputRequest::DeleteNextChar,
        Edit::KillToStart => InputRequest::DeleteFromStart,
        Edit::KillWord => InputRequest::DeletePrevWord,
        Edit::KillToEnd => InputRequest::DeleteTillEnd,
        Edit::Older | Edit::Newer => return None,
    })
}

impl Prompt {
    pub fn input(&self) -> &str {
        self.line.value()
    }

    /// Replaces the text, the cursor at its end.
    pub fn set_input(&mut self, text: String) {
        self.line = Input::new(text);
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.line.cursor()
    }

    pub fn insert(&mut self, c: char) {
        self.line.handle(InputRequest::InsertChar(c));
    }

    pub fn backspace(&mut self) {
        self.line.handle(InputRequest::DeletePrevChar);
    }

    /// One editing key; ↑/↓ need the prompt's history.
    pub fn edit(&mut self, edit: Edit, history: &PromptHistory) {
        match request_for(edit) {
            Some(request) => {
                self.line.handle(request);
            }
            None => self.recall(edit == Edit::Older, history),
        }
    }

    /// Steps through the history; past the newest line comes back the line being typed.
    fn recall(&mut self, older: bool, history: &PromptHistory) {
        let Some(lines) = history.lines(&self.kind).filter(|l| !l.is_empty()) else {
            return;
        };
        let at = match (self.recalled, older) {
            (None, true) => {
                self.draft = self.input().to_string();
                Some(lines.len() - 1)
            }
            (None, false) => return,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < lines.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        self.recalled = at;
        let text = match at {
            Some(i) => lines[i].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.set_input(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(text: &str) -> Prompt {
        let mut prompt = Prompt::new(PromptKind::Filter, String::new());
        prompt.set_input(text.into());
        prompt
    }

    #[test]
    fn the_cursor_moves_and_typing_goes_where_it_is() {
        let none = PromptHistory::default();
        let mut p = prompt(".balance 0");
        p.edit(Edit::Left, &none);
        p.insert('<');
        p.insert(' ');
        assert_eq!(p.input(), ".balance < 0");
        p.edit(Edit::Home, &none);
        p.insert('(');
        p.edit(Edit::End, &none);
        p.insert(')');
        assert_eq!(p.input(), "(.balance < 0)");
    }

    #[test]
    fn kill_keys_cut_like_readline() {
        let none = PromptHistory::default();
        let mut p = prompt("select .kind deposit");
        p.edit(Edit::KillWord, &none);
        assert_eq!(p.input(), "select .kind ");
        p.edit(Edit::WordLeft, &none);
        p.edit(Edit::KillToEnd, &none);
        assert_eq!(p.input(), "select .", "punctuation ends a word");
        p.edit(Edit::Left, &none);
        p.edit(Edit::KillToStart, &none);
        assert_eq!(p.input(), ".");
        p.edit(Edit::Home, &none);
        p.edit(Edit::DeleteNext, &none);
        assert_eq!(p.input(), "");
    }

    #[test]
    fn up_and_down_walk_the_history_and_come_back_to_the_draft() {
        let mut history = PromptHistory::default();
        for line in [".a", ".b", ".b", ".c"] {
            history.record(&PromptKind::Filter, line);
        }
        history.record(&PromptKind::Version, "37");
        let mut p = prompt("dra");
        p.edit(Edit::Older, &history);
        assert_eq!(p.input(), ".c");
        p.edit(Edit::Older, &history);
        p.edit(Edit::Older, &history);
        p.edit(Edit::Older, &history);
        assert_eq!(
            p.input(),
            ".a",
            "the oldest stays, and repeats were kept once"
        );
        p.edit(Edit::Newer, &history);
        assert_eq!(p.input(), ".b");
        p.edit(Edit::Newer, &history);
        p.edit(Edit::Newer, &history);
        assert_eq!(p.input(), "dra", "past the newest: the line being typed");
        p.edit(Edit::Newer, &history);
        assert_eq!(p.input(), "dra");
    }

    #[test]
    fn the_history_is_bounded() {
        let mut history = PromptHistory::default();
        for n in 0..HISTORY_LINES + 10 {
            history.record(&PromptKind::Version, &n.to_string());
        }
        let lines = history.lines(&PromptKind::Version).unwrap();
        assert_eq!(lines.len(), HISTORY_LINES);
        assert_eq!(lines.front().unwrap(), "10");
    }

    #[test]
    fn a_prompt_recalls_what_was_typed_and_draws_its_cursor() {
        use crate::tui::action::Action;
        let mut h = crate::tui::testing::Harness::demo();
        h.open("acc-0007");
        h.send(Action::JumpToVersion);
        h.type_text("31");
        h.send(Action::Confirm);
        assert_eq!(h.cursor_version(), 31);
        h.send(Action::JumpToVersion);
        h.send(Action::Edit(Edit::Older));
        assert_eq!(h.app.prompt.as_ref().unwrap().input(), "31");
        h.send(Action::Edit(Edit::Left));
        h.send(Action::InputChar('2'));
        let status = h.screen().lines().last().unwrap().to_string();
        assert!(status.contains("jump to version: 321"), "{status}");
        h.send(Action::Edit(Edit::Home));
        h.send(Action::Edit(Edit::KillToEnd));
        h.send(Action::InputChar('5'));
        h.send(Action::Edit(Edit::Home));
        h.send(Action::InputChar('1'));
        h.send(Action::Confirm);
        assert_eq!(h.cursor_version(), 15);
    }
}
