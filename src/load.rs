//! Building replays from sources: the one place where the source and replay layers meet,
//! so that neither imports the other.

use std::ops::ControlFlow;
use std::sync::Arc;

use crate::model::{Chunk, Event, RecordedStates};
use crate::replay::{MergeReducer, RecordedReducer, Reducer, Replay};
use crate::source::{EventSource, Query, Resume, SourceError, Start};

/// The reducer for one aggregate: the one the user named, else the states the source
/// recorded (a transcript replays to exactly what its author saw), else JSON merge patch.
pub fn reducer_for(
    source: &dyn EventSource,
    aggregate_id: &str,
    named: Option<&Arc<dyn Reducer>>,
) -> Arc<dyn Reducer> {
    match named {
        Some(reducer) => Arc::clone(reducer),
        None => default_reducer(source.recorded_states(aggregate_id)),
    }
}

/// Recorded states when a source has them, JSON merge patch otherwise.
pub fn default_reducer(recorded: Option<RecordedStates>) -> Arc<dyn Reducer> {
    match recorded {
        Some(recorded) => Arc::new(RecordedReducer::new(recorded)),
        None => Arc::new(MergeReducer),
    }
}

/// Reads one aggregate from a source and replays it, from where the source's history
/// starts.
pub fn replay(
    source: &dyn EventSource,
    aggregate_id: &str,
    reducer: Arc<dyn Reducer>,
) -> Result<Replay, SourceError> {
    let history = source.history(aggregate_id)?;
    Ok(Replay::from_history(
        history,
        source.history_start(aggregate_id),
        reducer,
    ))
}

/// As [`replay`], also saying where a follow poll resumes.
pub fn replay_to_follow(
    source: &dyn EventSource,
    aggregate_id: &str,
    reducer: Arc<dyn Reducer>,
) -> Result<(Replay, Resume), SourceError> {
    let mut replay = match source.history_start(aggregate_id) {
        Some(start) => Replay::starting_at(reducer, start),
        None => Replay::new(reducer),
    };
    replay.reserve(source.event_count_hint(aggregate_id).unwrap_or(0));
    let mut snapshots = Vec::new();
    let resume = source.query(&Query::aggregate(aggregate_id), &mut |chunk| {
        match chunk {
            Chunk::Events(events) => replay.extend(events),
            Chunk::Snapshots(found) => snapshots.extend(found),
        }
        ControlFlow::Continue(())
    })?;
    if replay.is_empty() && snapshots.is_empty() {
        // Distinguishes an unknown id from an aggregate with nothing in range.
        source.history(aggregate_id)?;
    }
    replay.set_snapshots(snapshots);
    Ok((replay, resume))
}

/// The events of one aggregate stored since `resume`, and where the next poll resumes: a
/// poll with nothing new reads no event rows.
pub fn poll(
    source: &dyn EventSource,
    aggregate_id: &str,
    resume: Resume,
) -> Result<(Vec<Event>, Resume), SourceError> {
    let mut query = Query::aggregate(aggregate_id).starting(Start::Resume(resume));
    query.snapshots = false;
    let mut fresh = Vec::new();
    let next = source.query(&query, &mut |chunk| {
        if let Chunk::Events(events) = chunk {
            fresh.extend(events);
        }
        ControlFlow::Continue(())
    })?;
    Ok((fresh, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{export, ExportOptions, Format};
    use crate::model::{parse_time, Event, EventIssue, Payload, StepProblem};
    use crate::source::transcript::TranscriptSource;
    use serde_json::{json, Value};

    /// Counts events: a fold whose result depends on how many events came before, so
    /// a repeated version must map to the right recorded step.
    struct Counter;

    impl Reducer for Counter {
        fn name(&self) -> String {
            "counter".into()
        }

        fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>> {
            events
                .iter()
                .map(|event| {
                    if event.event_type == "Bad" {
                        return Some(StepProblem::ReducerFailed("bad event".into()));
                    }
                    *state = json!(state.as_u64().unwrap_or(0) + 1);
                    None
                })
                .collect()
        }
    }

    fn event(version: u64, event_type: &str) -> Event {
        Event {
            aggregate_id: "c".into(),
            aggregate_type: Some("counter".into()),
            version,
            event_type: event_type.into(),
            timestamp: parse_time("2026-01-01T10:00:00.123456789Z"),
            data: Payload::from_value(json!({})),
            issues: vec![EventIssue::NullColumn("x".into())],
            ..Event::default()
        }
    }

    #[test]
    fn a_transcript_replays_to_its_recorded_states_through_repeats_and_errors() {
        let events = vec![
            event(1, "Up"),
            event(2, "Up"),
            event(2, "Up"),
            event(3, "Bad"),
            event(4, "Up"),
        ];
        let mut original = Replay::new(Arc::new(Counter));
        original.extend(events);
        let options = ExportOptions {
            format: Format::JsonLines,
            source: "test".into(),
            aggregate: "c".into(),
            from: None,
            to: None,
            with_state: false,
            redact: Vec::new(),
            generated_at: None,
        };
        let mut text = Vec::new();
        export(&mut original, &options, &mut text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.transcript");
        std::fs::write(&path, &text).unwrap();

        let source = TranscriptSource::open(&path).unwrap();
        let reducer = reducer_for(&source, "c", None);
        assert_eq!(reducer.name(), "counter");
        let mut replayed = replay(&source, "c", reducer).unwrap();
        // The transcript numbers its steps as its positions; the rest is as it was.
        let strip = |events: &[Event]| -> Vec<Event> {
            events
                .iter()
                .map(|e| Event {
                    position: Default::default(),
                    ..e.clone()
                })
                .collect()
        };
        assert_eq!(strip(replayed.events()), strip(original.events()));
        assert_eq!(replayed.warnings(), original.warnings());
        assert_eq!(
            replayed.problems().collect::<Vec<_>>(),
            original.problems().collect::<Vec<_>>()
        );
        for count in 0..=original.len() {
            assert_eq!(
                replayed.state_after(count).clone(),
                original.state_after(count).clone(),
                "after {count} events"
            );
        }
        // Written again from what was read, the transcript is the same, byte for byte.
        let mut again = Vec::new();
        export(&mut replayed, &options, &mut again).unwrap();
        let (first, second) = (
            String::from_utf8(text).unwrap(),
            String::from_utf8(again).unwrap(),
        );
        assert_eq!(
            first.lines().skip(1).collect::<Vec<_>>(),
            second.lines().skip(1).collect::<Vec<_>>()
        );
    }
}
