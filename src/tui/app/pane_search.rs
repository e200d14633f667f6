//! `/` in the focused detail pane or the value viewer: find text in the State, Diff, Event
//! or Compare tab, or in the value, and step through the matches with n/N, while the events
//! list keeps its own filter.

use super::aggregate::AggregateView;
use super::json_tree::{self, line_text};
use super::wrap::DetailPane;
use super::App;
use crate::tui::action::Tab;

/// What a pane is searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneSearch {
    pub query: String,
    /// Lowercase: the search ignores case.
    pub needle: String,
    /// The line of the match n/N last landed on, where no cursor says it (the Diff, Event
    /// and Compare tabs): their scroll cannot (a pane that fits on screen never scrolls),
    /// so stepping goes on from here while the line is still in view.
    pub current: Option<usize>,
}

impl PaneSearch {
    pub fn new(query: &str) -> PaneSearch {
        PaneSearch {
            query: query.to_string(),
            needle: query.to_lowercase(),
            current: None,
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        !self.needle.is_empty() && text.to_lowercase().contains(&self.needle)
    }

    /// The match of `lines` to go to from line `at`: the next (or previous) one, wrapping
    /// around; `here` lets `at` itself count (a new search starts where the pane is).
    pub fn step(&self, lines: &[String], at: usize, forward: bool, here: bool) -> Option<Hit> {
        let hits: Vec<usize> = (0..lines.len())
            .filter(|&i| self.is_match(&lines[i]))
            .collect();
        if hits.is_empty() {
            return None;
        }
        let next = if forward {
            let start = if here { at } else { at + 1 };
            hits.iter().position(|&h| h >= start).unwrap_or(0)
        } else {
            let before = hits.partition_point(|&h| h < at);
            before.checked_sub(1).unwrap_or(hits.len() - 1)
        };
        Some(Hit {
            line: hits[next],
            found: Found {
                number: next + 1,
                total: hits.len(),
            },
        })
    }
}

/// A match n/N went to: its line, and where it stands among the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub line: usize,
    pub found: Found,
}

/// Where the search landed: the match's number among all of them, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub number: usize,
    pub total: usize,
}

impl AggregateView {
    /// The pane search, if it was made in the tab shown.
    pub fn tab_search(&self) -> Option<&PaneSearch> {
        self.pane_search
            .as_ref()
            .filter(|(tab, _)| *tab == self.tab)
            .map(|(_, search)| search)
    }

    /// The text of every line of `tab`, folded State lines included (a match inside a fold
    /// unfolds it).
    fn searchable(&self, tab: Tab) -> Vec<String> {
        let Some(detail) = self.detail.as_ref() else {
            return Vec::new();
        };
        match tab {
            Tab::State => (0..detail.state.len())
                .map(|i| line_text(&detail.state, i, false))
                .collect(),
            Tab::Diff => detail.diff.iter().map(|l| l.text.clone()).collect(),
            Tab::Event => detail.event.iter().map(|l| l.text.clone()).collect(),
            Tab::Compare => self
                .comparison
                .as_ref()
                .map(|c| c.lines.iter().map(|l| l.text.clone()).collect())
                .unwrap_or_default(),
        }
    }

    /// The line the pane is on: the State cursor's line, or the first line shown.
    fn pane_line(&self, pane: DetailPane) -> usize {
        match self.tab {
            Tab::State => self
                .detail
                .as_ref()
                .and_then(|d| d.visible.get(self.state_line).copied())
                .unwrap_or(0),
            tab => self.first_line_shown(tab, pane),
        }
    }

    /// Moves to the next (or previous) match after the pane's line, wrapping around;
    /// `here` lets the line itself count (a new search starts where the pane is).
    pub fn step_pane_search(
        &mut self,
        forward: bool,
        here: bool,
        pane: DetailPane,
    ) -> Option<Found> {
        let search = self.tab_search()?.clone();
        let at = match search.current {
            Some(line) if !here && self.line_in_view(self.tab, line, pane) => line,
            _ => self.pane_line(pane),
        };
        let hit = search.step(&self.searchable(self.tab), at, forward, here)?;
        self.show_line(hit.line, pane);
        if let Some((_, search)) = self.pane_search.as_mut().filter(|_| self.tab != Tab::State) {
            search.current = Some(hit.line);
        }
        Some(hit.found)
    }

    /// Puts the State cursor on the line of `path`, if `text` is a path the state has.
    fn jump_to_path(&mut self, text: &str, pane: DetailPane) -> bool {
        if !text.starts_with('.') {
            return false;
        }
        let Ok(path) = crate::diff::JsonPath::parse(text) else {
            return false;
        };
        let line = self
            .detail
            .as_ref()
            .and_then(|d| d.state.iter().position(|l| l.path == path));
        match line {
            Some(line) => {
                self.show_line(line, pane);
                true
            }
            None => false,
        }
    }

    /// Puts line `line` of the tab in view: the State cursor on it (unfolding what hides
    /// it), or the other tabs scrolled to it.
    fn show_line(&mut self, line: usize, pane: DetailPane) {
        let tab = self.tab;
        if tab != Tab::State {
            return self.scroll_to_line(tab, line, pane);
        }
        let Some(detail) = self.detail.as_mut() else {
            return;
        };
        if json_tree::unfold_to(&detail.state, &mut self.folds, line) {
            detail.refold(&self.folds);
        }
        self.state_line = detail.visible.partition_point(|&i| i < line);
        self.keep_state_line_in_view(pane);
    }
}

impl App {
    /// Enter on the search prompt: find `query` from where the pane (or the viewer) is.
    pub(super) fn submit_pane_search(&mut self, query: &str) {
        if self.viewer.is_some() {
            return self.submit_viewer_search(query);
        }
        let pane = self.detail_pane();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        if query.trim().is_empty() {
            view.pane_search = None;
            self.prompt = None;
            return;
        }
        // `.limits.daily` on the State tab jumps to that path, if the state has it.
        if view.tab == Tab::State && view.jump_to_path(query.trim(), pane) {
            self.prompt = None;
            self.say(format!("at {}", query.trim()));
            return;
        }
        view.pane_search = Some((view.tab, PaneSearch::new(query)));
        match view.step_pane_search(true, true, pane) {
            Some(found) => {
                self.prompt = None;
                self.say(found_text(query, found));
            }
            None => {
                let tab = view.tab.title();
                view.pane_search = None;
                self.prompt_error(format!("not found in the {tab} tab"));
            }
        }
    }

    /// n/N in the focused detail pane.
    pub(super) fn step_pane_match(&mut self, forward: bool) {
        let pane = self.detail_pane();
        let Some(view) = self.view.as_mut() else {
            return;
        };
        let Some((tab, search)) = view.pane_search.clone() else {
            self.say("press / to search this pane");
            return;
        };
        if tab != view.tab {
            self.say(format!(
                "the search was in the {} tab; press / to search this one",
                tab.title()
            ));
            return;
        }
        match view.step_pane_search(forward, false, pane) {
            Some(found) => self.say(found_text(&search.query, found)),
            None => self.say(format!("no {:?} here any more", search.query)),
        }
    }

    /// Enter on the search prompt over the value viewer.
    fn submit_viewer_search(&mut self, query: &str) {
        let rows = self.viewer_rows();
        let Some(viewer) = self.viewer.as_mut() else {
            return;
        };
        if query.trim().is_empty() {
            viewer.search = None;
            self.prompt = None;
            return;
        }
        viewer.search = Some(PaneSearch::new(query));
        match viewer.step_search(true, true, rows) {
            Some(found) => {
                self.prompt = None;
                self.say(found_text(query, found));
            }
            None => {
                viewer.search = None;
                self.prompt_error("not found in the value".into());
            }
        }
    }

    /// n/N in the value viewer.
    pub(super) fn step_viewer_match(&mut self, forward: bool) {
        let rows = self.viewer_rows();
        let Some(viewer) = self.viewer.as_mut() else {
            return;
        };
        let Some(query) = viewer.search.as_ref().map(|s| s.query.clone()) else {
            self.say("press / to search the value");
            return;
        };
        match viewer.step_search(forward, false, rows) {
            Some(found) => self.say(found_text(&query, found)),
            None => self.say(format!("no {query:?} here any more")),
        }
    }
}

fn found_text(query: &str, found: Found) -> String {
    format!("{query:?}: match {} of {}", found.number, found.total)
}
