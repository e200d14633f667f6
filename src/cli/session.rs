//! What every command needs: the opened source and the settings it was opened with.

use std::sync::Arc;

use crate::inspect::TraceIds;
use crate::jq::Limits;
use crate::load;
use crate::model::StepProblem;
use crate::replay::{Reducer, Replay};

use super::output::warn_after;
use crate::source::{self, EventSource};

use super::settings::Settings;

pub struct Session {
    pub source: Box<dyn EventSource>,
    /// The reducer the user named, if any.
    pub named_reducer: Option<Arc<dyn Reducer>>,
    pub jq_limits: Limits,
    /// Where correlation, causation and event ids live: the user's rules, else the
    /// store's conventions (Message DB's metadata), else the defaults.
    pub ids: TraceIds,
}

impl Session {
    /// Opens a source for one command, whose reads then all see one snapshot of the store
    /// (a server's transaction, held from opening; a follow releases it before its first
    /// poll, `EventSource::release_snapshot`).
    pub fn open(spec: &str, settings: &Settings) -> anyhow::Result<Session> {
        Session::opened(spec, settings, true)
    }

    /// Opens a source with the resolved settings, each read on its own (the UI, which stays
    /// open); a Kafka topic shows a progress line on stderr while it is read, when stderr is
    /// a terminal.
    pub fn open_unheld(spec: &str, settings: &Settings) -> anyhow::Result<Session> {
        Session::opened(spec, settings, false)
    }

    fn opened(spec: &str, settings: &Settings, hold_snapshot: bool) -> anyhow::Result<Session> {
        let mut options = settings.open.clone();
        options.postgres.hold_snapshot = hold_snapshot;
        options.kafka.progress = super::kafka::progress_line();
        let source = source::open(spec, &options)?;
        Ok(Session {
            ids: settings.ids.with_conventions(source.id_conventions()),
            source,
            named_reducer: settings.reducer.clone(),
            jq_limits: settings.jq_limits,
        })
    }

    /// The reducer one aggregate replays with: the named one, or the source's default.
    pub fn reducer_for(&self, aggregate: &str) -> Arc<dyn Reducer> {
        load::reducer_for(self.source.as_ref(), aggregate, self.named_reducer.as_ref())
    }

    /// Reads one aggregate and replays it with its reducer.
    pub fn replay(&self, aggregate: &str) -> anyhow::Result<Replay<'_>> {
        let reducer = self.reducer_for(aggregate);
        Ok(load::replay(self.source.as_ref(), aggregate, reducer)?)
    }
}

/// Says (after the command's result) how many of the first `upto` events, the ones the
/// result rests on, the reducer refused, and the first: a state built past failures is not
/// the whole story.
pub fn report_reducer_failures(aggregate: &str, replay: &Replay, upto: usize) {
    let failed: Vec<(usize, &str)> = replay
        .problems()
        .filter(|(index, _)| *index < upto)
        .filter_map(|(index, problem)| match problem {
            StepProblem::ReducerFailed(err) => Some((index, err.as_str())),
            StepProblem::Undecodable(_) => None,
        })
        .collect();
    if let Some((index, first)) = failed.first() {
        let events = match failed.len() {
            1 => "1 event".to_string(),
            n => format!("{n} events"),
        };
        warn_after(format!(
            "the {} reducer failed on {events} of {aggregate}, which left the state as it was (first at v{}: {first})",
            replay.reducer_name(),
            replay.entry(*index).map_or(0, |e| e.version),
        ));
    }
}
