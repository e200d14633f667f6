//! Every message the status line said, kept so one cut to fit can be read whole (`!`).

use std::collections::VecDeque;

use super::{App, Message};
use crate::tui::action::Action;

/// Messages kept; older ones are dropped.
pub const KEPT: usize = 100;

#[derive(Debug, Default)]
pub struct MessageLog {
    /// Oldest first.
    pub entries: VecDeque<Message>,
    /// The overlay is open.
    pub open: bool,
    /// Entries scrolled past, newest first.
    pub scroll: usize,
}

impl MessageLog {
    pub fn push(&mut self, message: Message) {
        if self.entries.back() == Some(&message) {
            return;
        }
        if self.entries.len() == KEPT {
            self.entries.pop_front();
        }
        self.entries.push_back(message);
    }
}

impl App {
    pub(super) fn open_messages(&mut self) {
        if self.messages.entries.is_empty() {
            // Not kept: the log would no longer be empty.
            self.message = Some(Message {
                text: "no messages yet".into(),
                error: false,
            });
            return;
        }
        self.messages.open = true;
        self.messages.scroll = 0;
    }

    pub(super) fn on_messages(&mut self, action: Action) {
        let log = &mut self.messages;
        match action {
            Action::Back | Action::MessageLog => log.open = false,
            Action::Up | Action::WheelUp { .. } => log.scroll = log.scroll.saturating_sub(1),
            Action::Down | Action::WheelDown { .. } => {
                log.scroll = (log.scroll + 1).min(log.entries.len().saturating_sub(1))
            }
            Action::ToggleHelp => self.open_help(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_newest_and_skips_repeats() {
        let mut log = MessageLog::default();
        for n in 0..KEPT + 5 {
            let message = Message {
                text: format!("m{n}"),
                error: false,
            };
            log.push(message.clone());
            log.push(message);
        }
        assert_eq!(log.entries.len(), KEPT);
        assert_eq!(log.entries.front().unwrap().text, "m5");
        assert_eq!(log.entries.back().unwrap().text, format!("m{}", KEPT + 4));
    }
}
