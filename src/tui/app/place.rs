//! Keeping a person's place in an aggregate: what is remembered when they leave it, and
//! how it is put back when they open it again.

use std::collections::BTreeSet;

use super::aggregate::{AggregateView, Focus, Landing};
use crate::diff::JsonPath;
use crate::model::StorePosition;
use crate::tui::action::Tab;

/// Where a person left an aggregate, restored when they open it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub cursor: StorePosition,
    /// The cursor rested on v0, before the first event.
    pub before_first: bool,
    pub marks: [Option<StorePosition>; 2],
    pub filter: Option<String>,
    pub folds: BTreeSet<JsonPath>,
    pub tab: Tab,
    pub focus: Focus,
    pub state_line: usize,
    /// `p`: the events list previewed the data.
    pub preview: bool,
    /// `m`: the events list showed only the filter's matches.
    pub matching_only: bool,
}

impl AggregateView {
    /// Where the cursor, marks, filter, folds and tab are, to come back to.
    pub fn place(&self) -> Option<Place> {
        if self.is_empty() {
            return None;
        }
        let at = |index: usize| (index < self.len()).then(|| self.position_of(index));
        Some(Place {
            cursor: self.position_of(self.cursor),
            before_first: self.before_first,
            marks: [self.marks[0].and_then(at), self.marks[1].and_then(at)],
            filter: self.filter.as_ref().map(|f| f.query.clone()),
            folds: self.folds.clone(),
            tab: self.tab,
            focus: self.focus,
            state_line: self.state_line,
            preview: self.events_pane.preview,
            matching_only: self.events_pane.matching_only,
        })
    }

    /// Opens where it was left: tab, folds, focus and the list's columns now; cursor as it
    /// loads; marks and filter once it is in (matching-only waits for the filter's answer).
    pub fn resume_at(&mut self, place: Place) {
        self.tab = place.tab;
        self.focus = place.focus;
        self.folds = place.folds.clone();
        self.state_line = place.state_line;
        self.events_pane.preview = place.preview;
        self.events_pane.matching_only = place.matching_only && place.filter.is_some();
        // v0 is no event's position: it is found again as version 0 once the history is in.
        self.landing = Some(match place.before_first {
            true => Landing::At(crate::model::Position::Version(0)),
            false => Landing::Position(place.cursor),
        });
        self.restore = Some(place);
    }
}
