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

    /// As [`Session::replay`], for a command that reads its states in order, once, and
    /// checks the snapshots (`verify`, `aggregates --health`).
    pub fn replay_for_one_pass(&self, aggregate: &str) -> anyhow::Result<Replay<'_>> {
        self.one_pass(aggregate, load::Snapshots::Read)
    }

    /// As [`Session::replay_for_one_pass`], for a command that needs the states only
    /// (`state`, `diff`, `blame`): the snapshots stay in the store.
    pub fn replay_states_only(&self, aggregate: &str) -> anyhow::Result<Replay<'_>> {
        self.one_pass(aggregate, load::Snapshots::Leave)
    }

    fn one_pass(&self, aggregate: &str, snapshots: load::Snapshots) -> anyhow::Result<Replay<'_>> {
        let reducer = self.reducer_for(aggregate);
        Ok(load::replay_for_one_pass(
            self.source.as_ref(),
            aggregate,
            reducer,
            snapshots,
        )?)
    }
}

/// Says (after the command's result) how many of the first `upto` events, the ones the
/// result rests on, the reducer refused or could not read, and the first: a state built
/// past failures is not the whole story.
pub fn report_step_problems(aggregate: &str, replay: &Replay, upto: usize) {
    let (mut failed, mut undecodable) = (Vec::new(), Vec::new());
    for (index, problem) in replay.problems().filter(|(index, _)| *index < upto) {
        match problem {
            StepProblem::ReducerFailed(err) => failed.push((index, err.as_str())),
            StepProblem::Undecodable(err) => undecodable.push((index, err.as_str())),
        }
    }
    let events = |n: usize| match n {
        1 => "1 event".to_string(),
        n => format!("{n} events"),
    };
    let version = |index: usize| replay.entry(index).map_or(0, |e| e.version);
    if let Some(&(index, first)) = failed.first() {
        warn_after(format!(
            "the {} reducer failed on {} of {aggregate}, which left the state as it was (first at v{}: {first})",
            replay.reducer_name(),
            events(failed.len()),
            version(index),
        ));
    }
    // A payload that did not decode is skipped by the fold: the answer is then not the
    // fold of every event, and says so.
    if let Some(&(index, first)) = undecodable.first() {
        warn_after(format!(
            "{} of {aggregate} did not decode and left the state as it was (first at v{}: {first})",
            events(undecodable.len()),
            version(index),
        ));
    }
}
