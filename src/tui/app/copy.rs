//! `y`, `Y` and Ctrl-Y: copy the value at the State line (or the value viewer's), its jq
//! path, or the whole JSON of the tab. The text goes to the runtime, which hands it to the
//! terminal (OSC 52).

use super::aggregate::AggregateView;
use super::viewer::copy_text;
use super::App;
use crate::tui::action::{Copy, Tab};

/// Bytes the terminal is handed at most: OSC 52 travels in one escape sequence, and many
/// terminals drop long ones.
pub const COPY_BYTES: usize = 1 << 20;

impl App {
    pub(super) fn copy(&mut self, what: Copy) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let copied = view.copied(what);
        self.hand_to_clipboard(copied);
    }

    /// Copied text goes to the runtime for the terminal, with a confirmation that says
    /// what and how much; too much for one escape sequence is refused with the way out.
    pub(super) fn hand_to_clipboard(&mut self, copied: Result<(String, String), String>) {
        match copied {
            Ok((text, label)) if text.len() > COPY_BYTES => self.complain(format!(
                "{label} is {} bytes, more than a terminal takes in one copy ({COPY_BYTES}); \
                 use rewind state or rewind events instead",
                text.len()
            )),
            Ok((text, label)) => {
                self.say(format!(
                    "copied {label} ({}) to the clipboard through the terminal",
                    crate::display::counted(text.len(), "byte")
                ));
                self.clipboard = Some(text);
            }
            Err(why) => self.say(why),
        }
    }

    /// Text waiting to be copied; the runtime writes it to the terminal.
    pub fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard.take()
    }

    /// Text waiting for `$PAGER`; the runtime hands it the terminal meanwhile.
    pub fn take_pager(&mut self) -> Option<String> {
        self.pager.take()
    }
}

impl AggregateView {
    /// What `what` copies on the tab shown, and how to name it in the confirmation.
    fn copied(&mut self, what: Copy) -> Result<(String, String), String> {
        self.current_entry().ok_or("no event here")?;
        let version = self.shown_version();
        match (self.tab, what) {
            (Tab::State, Copy::Value | Copy::Path) => {
                let path = self
                    .detail
                    .as_ref()
                    .and_then(|d| d.visible.get(self.state_line).map(|&i| &d.state[i]))
                    .map(|line| line.path.clone())
                    .ok_or("no line to copy")?;
                if what == Copy::Path {
                    let text = path.to_string();
                    return Ok((text.clone(), format!("the path {text}")));
                }
                let state = self
                    .replay
                    .state_after(self.shown_count())
                    .map_err(|e| e.to_string())?;
                let value = path.lookup(state).ok_or("that line has no value")?;
                Ok((copy_text(value), format!("{path} at v{version}")))
            }
            (Tab::State, Copy::All) => {
                let state = self
                    .replay
                    .state_after(self.shown_count())
                    .map_err(|e| e.to_string())?;
                let text = crate::display::json::to_string_pretty(state).unwrap_or_default();
                Ok((text, format!("the state at v{version}")))
            }
            (Tab::Event, _) if self.before_first => Err("v0 has no event to copy".into()),
            (Tab::Event, Copy::Value | Copy::All) => {
                let event = self.replay.event(self.cursor).map_err(|e| e.to_string())?;
                let text = match &event.data {
                    crate::model::Payload::Json(json) => json.as_str().to_string(),
                    crate::model::Payload::Undecodable { raw, .. } => raw.clone(),
                };
                Ok((text, format!("the data of v{version}")))
            }
            (tab, Copy::Value | Copy::All) => {
                let lines = match tab {
                    Tab::Compare => self.comparison.as_ref().map(|c| &c.lines),
                    _ => self.detail.as_ref().map(|d| &d.diff),
                };
                let lines = lines.ok_or("nothing to copy yet")?;
                let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
                Ok((text.join("\n"), format!("the {} tab", tab.title())))
            }
            (_, Copy::Path) => Err("paths are copied from the State tab (press 1)".into()),
        }
    }
}
