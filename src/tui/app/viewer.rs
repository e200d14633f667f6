//! Enter on a State line: that value full screen, long strings wrapped, its objects folded
//! with the State tab's keys or all to one depth (`1`..`9`, `Z` steps through them). Enter
//! on the Event tab shows the event so. `/` and n/N search it as they search the detail
//! pane, and `y`, `Y`, Ctrl-Y copy from it as they copy from the State tab.

use std::collections::BTreeSet;

use super::json_tree::{self, JsonLine, Node};
use super::pane_search::{Found, PaneSearch};
use super::{App, PromptKind};
use crate::diff::JsonPath;
use crate::model::Payload;
use crate::tui::action::{Action, Copy, Tab};
use crate::tui::layout::{self, keep_in_view};

/// The value viewer: one value of the state, or the event, as foldable lines.
#[derive(Debug, Clone)]
pub struct ValueViewer {
    /// What the value is (its path in the state, or the event), and at which version:
    /// the title.
    pub subject: String,
    pub version: u64,
    /// The value's lines; their paths start at the value itself.
    pub lines: Vec<JsonLine>,
    pub folds: BTreeSet<JsonPath>,
    /// Indices into `lines` left after folding.
    pub visible: Vec<usize>,
    /// Index into `visible` of the line cursor.
    pub selected: usize,
    pub offset: usize,
    /// The depth everything was last folded to; 0 while nothing is.
    pub depth: usize,
    /// `/`: what the value is searched for, stepped with n/N.
    pub search: Option<PaneSearch>,
    /// Where the value sits in the state (`None` for the event), so `Y` copies a path the
    /// state has.
    base: Option<JsonPath>,
    /// The value itself, for `$PAGER` and copying.
    value: serde_json::Value,
}

impl ValueViewer {
    /// The value at `path` of the state after `version`.
    pub fn state_value(path: JsonPath, version: u64, value: &serde_json::Value) -> ValueViewer {
        let mut viewer = ValueViewer::new(path.to_string(), version, value);
        viewer.base = Some(path);
        viewer
    }

    pub fn new(subject: String, version: u64, value: &serde_json::Value) -> ValueViewer {
        let lines = json_tree::flatten(value);
        let visible = (0..lines.len()).collect();
        ValueViewer {
            subject,
            version,
            lines,
            folds: BTreeSet::new(),
            visible,
            selected: 0,
            offset: 0,
            depth: 0,
            search: None,
            base: None,
            value: value.clone(),
        }
    }

    /// Moves the line cursor to the next (or previous) match, unfolding what hides it;
    /// `here` lets the cursor's own line count (a new search starts there).
    pub fn step_search(&mut self, forward: bool, here: bool, rows: usize) -> Option<Found> {
        let search = self.search.as_ref()?;
        // Folded lines too: a match inside a fold unfolds it.
        let texts: Vec<String> = (0..self.lines.len())
            .map(|i| json_tree::line_text(&self.lines, i, false))
            .collect();
        let at = self.visible.get(self.selected).copied().unwrap_or(0);
        let hit = search.step(&texts, at, forward, here)?;
        if json_tree::unfold_to(&self.lines, &mut self.folds, hit.line) {
            self.visible = json_tree::visible(&self.lines, &self.folds);
        }
        self.selected = self.visible.partition_point(|&i| i < hit.line);
        self.offset = keep_in_view(self.offset, self.selected, rows, self.visible.len());
        Some(hit.found)
    }

    /// What `what` copies from the viewer, and how to name it in the confirmation: the
    /// value at the line cursor, its path, or the whole value.
    pub fn copied(&self, what: Copy) -> Result<(String, String), String> {
        let line = self
            .visible
            .get(self.selected)
            .map(|&i| &self.lines[i])
            .ok_or("no line to copy")?;
        let version = self.version;
        let subject = &self.subject;
        match what {
            Copy::Path => {
                let text = match &self.base {
                    Some(base) => {
                        JsonPath(base.0.iter().chain(&line.path.0).cloned().collect()).to_string()
                    }
                    None => line.path.to_string(),
                };
                let label = match self.base {
                    Some(_) => format!("the path {text}"),
                    None => format!("the path {text} in {subject}"),
                };
                Ok((text, label))
            }
            Copy::Value => {
                let value = line
                    .path
                    .lookup(&self.value)
                    .ok_or("that line has no value")?;
                let label = match (&self.base, line.path.0.is_empty()) {
                    (_, true) => format!("{subject} at v{version}"),
                    (Some(base), false) => format!(
                        "{} at v{version}",
                        JsonPath(base.0.iter().chain(&line.path.0).cloned().collect())
                    ),
                    (None, false) => format!("{} of {subject} at v{version}", line.path),
                };
                Ok((copy_text(value), label))
            }
            Copy::All => Ok((copy_text(&self.value), format!("{subject} at v{version}"))),
        }
    }

    /// What `$PAGER` shows: the value as pretty JSON, terminal-safe (controls, bidi and
    /// zero-width characters as `\u` escapes), under a line saying what it is.
    pub fn pager_text(&self) -> String {
        let json = crate::display::json::to_string_pretty(&self.value)
            .unwrap_or_else(|err| format!("cannot show this value: {err}"));
        let subject = crate::display::terminal_safe(&self.subject).into_owned();
        format!("# {subject} at v{}\n{json}\n", self.version)
    }

    /// Folds every object and array at `depth` or deeper (1: the value's own keys show).
    pub fn fold_to(&mut self, depth: usize, rows: usize) {
        self.depth = depth;
        self.folds = self
            .lines
            .iter()
            .filter(|l| depth > 0 && l.depth >= depth && matches!(l.node, Node::Open { .. }))
            .map(|l| l.path.clone())
            .collect();
        self.refold(rows);
    }

    /// `Z`: one level deeper each time, then everything unfolded, then depth 1 again.
    pub fn cycle_depth(&mut self, rows: usize) {
        let next = self.depth + 1;
        let deeper = self
            .lines
            .iter()
            .any(|l| l.depth >= next && matches!(l.node, Node::Open { .. }));
        self.fold_to(if deeper { next } else { 0 }, rows);
    }

    pub fn toggle_fold(&mut self, rows: usize) {
        let Some(&line) = self.visible.get(self.selected) else {
            return;
        };
        let Some(target) = json_tree::fold_target(&self.lines, line) else {
            return;
        };
        let path = self.lines[target].path.clone();
        if !self.folds.remove(&path) {
            self.folds.insert(path);
        }
        self.visible = json_tree::visible(&self.lines, &self.folds);
        self.selected = self.visible.partition_point(|&i| i < target);
        self.offset = keep_in_view(self.offset, self.selected, rows, self.visible.len());
    }

    /// After the folds change: the cursor stays on its line, or the one folded over it.
    fn refold(&mut self, rows: usize) {
        let line = self.visible.get(self.selected).copied().unwrap_or(0);
        self.visible = json_tree::visible(&self.lines, &self.folds);
        self.selected = self
            .visible
            .partition_point(|&i| i <= line)
            .saturating_sub(1);
        self.offset = keep_in_view(self.offset, self.selected, rows, self.visible.len());
    }

    fn move_by(&mut self, delta: isize, rows: usize) {
        let last = self.visible.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        self.offset = keep_in_view(self.offset, self.selected, rows, self.visible.len());
    }

    pub fn is_folded(&self, index: usize) -> bool {
        matches!(self.lines[index].node, Node::Open { .. })
            && self.folds.contains(&self.lines[index].path)
    }
}

impl App {
    /// Enter in an aggregate: the State tab's line, full screen.
    pub(super) fn open_viewer(&mut self) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        match view.tab {
            Tab::State => {}
            Tab::Event => return self.open_event_viewer(),
            _ => {
                self.say("Enter opens a value of the State tab (1) or the event (3) full screen");
                return;
            }
        }
        let Some(path) = view.line_path().cloned() else {
            self.say("no state to read yet");
            return;
        };
        let version = view.shown_version();
        let value = match view.replay.state_after(view.shown_count()) {
            Ok(state) => path.lookup(state).cloned(),
            Err(error) => return self.complain(error.to_string()),
        };
        match value {
            Some(value) => {
                self.viewer = Some(ValueViewer::state_value(path, version, &value));
            }
            None => self.say("that line has no value"),
        }
    }

    /// Enter on the Event tab: the event as stored (its type, time, data and metadata)
    /// full screen, long strings wrapped; data that did not decode is its raw text.
    fn open_event_viewer(&mut self) {
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let Some(event) = view.event_at_cursor() else {
            self.say("v0 is the empty state: there is no event to read (l steps to v1)");
            return;
        };
        let data = match &event.data {
            Payload::Json(text) => text.value(),
            Payload::Undecodable { raw, .. } => serde_json::Value::String(raw.clone()),
        };
        let value = serde_json::json!({
            "type": event.event_type,
            "timestamp": event.timestamp.as_ref().map(crate::model::format_time),
            "data": data,
            "metadata": event.metadata.value(),
        });
        let subject = format!("event {}", event.event_type);
        self.viewer = Some(ValueViewer::new(subject, event.version, &value));
    }

    /// Rows of lines the viewer shows: the screen but its border and the status line.
    pub(super) fn viewer_rows(&self) -> usize {
        layout::inner(layout::list(self.size).block).height as usize
    }

    pub(super) fn on_viewer(&mut self, action: Action) {
        let rows = self.viewer_rows();
        let Some(viewer) = self.viewer.as_mut() else {
            return;
        };
        let page = rows.max(1) as isize;
        match action {
            Action::Up | Action::WheelUp { .. } => viewer.move_by(-1, rows),
            Action::Down | Action::WheelDown { .. } => viewer.move_by(1, rows),
            Action::PageUp => viewer.move_by(-page, rows),
            Action::PageDown => viewer.move_by(page, rows),
            Action::First => viewer.move_by(isize::MIN / 2, rows),
            Action::Last => viewer.move_by(isize::MAX / 2, rows),
            Action::ToggleFold => viewer.toggle_fold(rows),
            Action::FoldDepth(depth) => viewer.fold_to(depth.into(), rows),
            Action::FoldAll => viewer.cycle_depth(rows),
            // Empty, as the detail pane's search starts: the last query is one ↑ away.
            Action::Filter => self.open_prompt(PromptKind::PaneSearch, String::new()),
            Action::NextMatch => self.step_viewer_match(true),
            Action::PrevMatch => self.step_viewer_match(false),
            Action::Copy(what) => {
                let copied = viewer.copied(what);
                self.hand_to_clipboard(copied);
            }
            Action::Back => self.viewer = None,
            Action::Page => self.pager = Some(viewer.pager_text()),
            Action::ToggleHelp => self.open_help(),
            _ => {}
        }
    }
}

/// A string is copied as its text, anything else as pretty JSON.
pub(super) fn copy_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => crate::display::json::to_string_pretty(other).unwrap_or_default(),
    }
}
