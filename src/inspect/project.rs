//! Projections: every event of the store, in store order, folded into one read model by a
//! jq program (`.` the read model, `$event` the event), as of any instant.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{Chunk, Event, StepProblem, StorePosition};
use crate::replay::Reducer;
use crate::source::{EventSource, Query, SourceError};

/// Up to which instant a read model folds events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instant {
    /// Every event of the store.
    Latest,
    /// The events stored at or before this position.
    Position(StorePosition),
    /// The events stamped at or before this time (events without a time are left out).
    Time(DateTime<Utc>),
}

impl Instant {
    fn admits(&self, event: &Event) -> bool {
        match self {
            Instant::Latest => true,
            Instant::Position(last) => event.position <= *last,
            Instant::Time(time) => event.timestamp.is_some_and(|t| t <= *time),
        }
    }
}

/// An event the projection failed on; the fold went on without it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionError {
    pub position: StorePosition,
    pub aggregate: String,
    pub version: u64,
    pub message: String,
}

/// A read model as of one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadModel {
    pub instant: Instant,
    pub model: Value,
    /// Events folded (failures included).
    pub events: usize,
    /// Events the projection failed on, of which the first [`KEPT_ERRORS`] are in `errors`.
    pub failed: usize,
    pub errors: Vec<ProjectionError>,
}

/// Errors kept per read model; beyond these only the count grows.
pub const KEPT_ERRORS: usize = 20;

/// Folds the store into one read model per instant, in one read of the store.
pub fn project(
    source: &dyn EventSource,
    projection: &dyn Reducer,
    instants: &[Instant],
) -> Result<Vec<ReadModel>, SourceError> {
    let mut models: Vec<ReadModel> = instants
        .iter()
        .map(|&instant| ReadModel {
            instant,
            model: Value::Null,
            events: 0,
            failed: 0,
            errors: Vec::new(),
        })
        .collect();
    // Store order is position order: once past every position bound, nothing more counts.
    let last_needed = instants
        .iter()
        .try_fold(StorePosition::Seq(i64::MIN), |last, i| match i {
            Instant::Position(p) => Some(last.max(*p)),
            _ => None,
        });
    source.query(&Query::store(), &mut |chunk| {
        let Chunk::Events(events) = chunk else {
            return ControlFlow::Continue(());
        };
        for read in models.iter_mut() {
            let admitted: Vec<Event> = events
                .iter()
                .filter(|e| read.instant.admits(e))
                .cloned()
                .collect();
            read.events += admitted.len();
            let outcomes = projection.apply_all(&mut read.model, &admitted);
            for (event, outcome) in admitted.iter().zip(outcomes) {
                let Some(problem) = outcome else { continue };
                read.failed += 1;
                if read.errors.len() < KEPT_ERRORS {
                    let message = match problem {
                        StepProblem::ReducerFailed(err) => err,
                        StepProblem::Undecodable(err) => format!("payload not decoded: {err}"),
                    };
                    read.errors.push(ProjectionError {
                        position: event.position,
                        aggregate: event.aggregate_id.clone(),
                        version: event.version,
                        message,
                    });
                }
            }
        }
        match (last_needed, events.last()) {
            (Some(last), Some(event)) if event.position > last => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    })?;
    Ok(models)
}
