//! Opening an aggregate (from the list, the log, a trace or the command line) where it
//! should land, and closing it so that reopening puts it back where it was left.

use super::aggregate::{AggregateView, Landing};
use super::App;
use crate::model::AggregateSummary;
use crate::tui::loader::Request;

impl App {
    /// Opens `id` (from the log or a trace) with the cursor on the event at `landing`; an
    /// aggregate already open just moves its cursor.
    pub(super) fn open_aggregate_at(
        &mut self,
        id: &str,
        aggregate_type: Option<String>,
        landing: Landing,
    ) {
        let rows = self.event_rows();
        if let Some(view) = self.view.as_mut().filter(|v| v.summary.id == id) {
            view.land(landing, rows);
            return;
        }
        self.close_view();
        let summary = self
            .list
            .all
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .unwrap_or_else(|| AggregateSummary {
                id: id.to_string(),
                aggregate_type,
                events: 0,
                first_timestamp: None,
                last_timestamp: None,
                snapshots: 0,
            });
        self.open_aggregate(summary, Some(landing));
    }

    pub(super) fn open_aggregate(&mut self, summary: AggregateSummary, landing: Option<Landing>) {
        self.generation += 1;
        self.requests.push(Request::LoadHistory {
            generation: self.generation,
            aggregate_id: summary.id.clone(),
        });
        let reducer = self
            .named_reducer
            .clone()
            .unwrap_or_else(|| crate::load::default_reducer(None));
        let place = self.places.get(&summary.id).cloned();
        let mut view = AggregateView::new(summary, self.generation, reducer);
        view.zone = self.theme.zone;
        match (landing, place) {
            (Some(landing), _) => view.landing = Some(landing),
            (None, Some(place)) => view.resume_at(place),
            (None, None) => view.landing = Some(Landing::Latest),
        }
        self.view = Some(view);
    }

    /// Once the list is in: the aggregate the command line named, where it said.
    pub(super) fn open_named(&mut self) {
        let Some(open_at) = self.open_at.take() else {
            return;
        };
        let Some(summary) = self
            .list
            .all
            .iter()
            .find(|s| s.id == open_at.aggregate)
            .cloned()
        else {
            let text = format!("no aggregate {:?} in this store", open_at.aggregate);
            self.complain(text);
            return;
        };
        let landing = open_at.at.map_or(Landing::Latest, Landing::At);
        self.open_aggregate(summary, Some(landing));
    }

    pub(super) fn close_view(&mut self) {
        self.viewer = None;
        if let Some(place) = self
            .view
            .as_ref()
            .filter(|v| !v.loading)
            .and_then(|v| v.place())
        {
            let id = self
                .view
                .as_ref()
                .map(|v| v.summary.id.clone())
                .unwrap_or_default();
            self.places.insert(id, place);
        }
        if self.view.take().is_some_and(|v| v.loading) {
            // A newer generation makes the loader drop the unfinished history.
            self.generation += 1;
            self.requests.push(Request::Cancel {
                generation: self.generation,
            });
        }
    }
}
