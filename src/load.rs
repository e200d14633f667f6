//! Building replays from sources: the one place where the source and replay layers meet,
//! so that neither imports the other.

use std::ops::ControlFlow;
use std::sync::Arc;

use crate::model::{Chunk, Event, RecordedStates, Snapshot, StorePosition};
use crate::replay::{EventPages, MergeReducer, RecordedReducer, Reducer, Replay, PAGE};
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
/// starts. Payloads are let go once folded and read back from the source a page at a time,
/// so memory holds an index of the history, not the history.
pub fn replay<'s>(
    source: &'s dyn EventSource,
    aggregate_id: &str,
    reducer: Arc<dyn Reducer>,
) -> Result<Replay<'s>, SourceError> {
    Ok(replay_to_follow(source, aggregate_id, reducer)?.0)
}

/// As [`replay`], also saying where a follow poll resumes.
pub fn replay_to_follow<'s>(
    source: &'s dyn EventSource,
    aggregate_id: &str,
    reducer: Arc<dyn Reducer>,
) -> Result<(Replay<'s>, Resume), SourceError> {
    replay_first(source, aggregate_id, reducer, None)
}

/// Whether a replay reads the aggregate's snapshots, whose states can be as big as the
/// state itself, each: a command that never looks at them leaves them in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshots {
    Read,
    Leave,
}

/// As [`replay`], for a command that reads its states in order, once
/// ([`Replay::for_one_pass`]).
pub fn replay_for_one_pass<'s>(
    source: &'s dyn EventSource,
    aggregate_id: &str,
    reducer: Arc<dyn Reducer>,
    snapshots: Snapshots,
) -> Result<Replay<'s>, SourceError> {
    let replay = paged(source, aggregate_id, reducer).for_one_pass();
    Ok(read_history(replay, source, aggregate_id, None, snapshots)?.0)
}

/// As [`replay_to_follow`], of the first `limit` events only (all without a limit): a
/// job that must see the events a front end holds, even if the store has grown since.
pub fn replay_first<'s>(
    source: &'s dyn EventSource,
    aggregate_id: &str,
    reducer: Arc<dyn Reducer>,
    limit: Option<usize>,
) -> Result<(Replay<'s>, Resume), SourceError> {
    read_history(
        paged(source, aggregate_id, reducer),
        source,
        aggregate_id,
        limit,
        Snapshots::Read,
    )
}

/// A replay that reads its payloads back from `source` when a step needs them.
fn paged<'s>(
    source: &'s dyn EventSource,
    aggregate_id: &str,
    reducer: Arc<dyn Reducer>,
) -> Replay<'s> {
    let pages = SourcePages {
        source,
        aggregate: aggregate_id.to_string(),
    };
    let replay = Replay::paged(reducer, Box::new(pages));
    match source.history_start(aggregate_id) {
        Some(start) => replay.from_start(start),
        None => replay,
    }
}

/// Reads the history (its first `limit` events) into `replay`, folding as it goes.
fn read_history<'s>(
    mut replay: Replay<'s>,
    source: &'s dyn EventSource,
    aggregate_id: &str,
    limit: Option<usize>,
    with_snapshots: Snapshots,
) -> Result<(Replay<'s>, Resume), SourceError> {
    let mut snapshots = Vec::new();
    let mut query = Query::aggregate(aggregate_id);
    query.limit = limit;
    query.snapshots = with_snapshots == Snapshots::Read;
    // The fold runs beside the read: the store's next rows are read and decoded while the
    // reducer folds the ones before.
    let resume = replay.extend_overlapped(|extend| {
        source.query(&query, &mut |chunk| {
            match chunk {
                Chunk::Events(events) => extend(events),
                Chunk::Snapshots(found) => snapshots.extend(found),
            }
            ControlFlow::Continue(())
        })
    })?;
    if replay.is_empty() && snapshots.is_empty() {
        // Distinguishes an unknown id from an aggregate with nothing in range.
        let listed = source
            .aggregates()
            .is_ok_and(|all| all.iter().any(|a| a.id == aggregate_id));
        if !listed {
            return Err(source.unknown_aggregate(aggregate_id));
        }
    }
    replay.set_snapshot_entries(snapshots);
    Ok((replay, resume))
}

/// Pages of one aggregate read through a reader of its own (a source's `reader()`), so a
/// replay can live on another thread than the source it was loaded from.
pub struct OwnedPages {
    source: Box<dyn EventSource>,
    aggregate: String,
}

impl OwnedPages {
    pub fn new(source: Box<dyn EventSource>, aggregate: &str) -> OwnedPages {
        OwnedPages {
            source,
            aggregate: aggregate.to_string(),
        }
    }
}

impl EventPages for OwnedPages {
    fn read_page(
        &mut self,
        after: Option<(u64, StorePosition)>,
        limit: usize,
    ) -> Result<Vec<Event>, String> {
        SourcePages::new(self.source.as_ref(), &self.aggregate).read_page(after, limit)
    }

    fn read_snapshot(&mut self, key: u64) -> Result<Option<Snapshot>, String> {
        SourcePages::new(self.source.as_ref(), &self.aggregate).read_snapshot(key)
    }
}

/// One aggregate's history read back from its source, a page at a time.
pub struct SourcePages<'s> {
    source: &'s dyn EventSource,
    aggregate: String,
}

impl<'s> SourcePages<'s> {
    pub fn new(source: &'s dyn EventSource, aggregate: &str) -> SourcePages<'s> {
        SourcePages {
            source,
            aggregate: aggregate.to_string(),
        }
    }
}

impl EventPages for SourcePages<'_> {
    fn read_page(
        &mut self,
        after: Option<(u64, StorePosition)>,
        limit: usize,
    ) -> Result<Vec<Event>, String> {
        let mut events = Vec::with_capacity(limit.min(PAGE * 4));
        self.source
            .query(&Query::page(&self.aggregate, after, limit), &mut |chunk| {
                if let Chunk::Events(found) = chunk {
                    events.extend(found);
                }
                ControlFlow::Continue(())
            })
            .map_err(|err| err.describe())?;
        Ok(events)
    }

    fn read_snapshot(&mut self, key: u64) -> Result<Option<Snapshot>, String> {
        self.source
            .snapshot(&self.aggregate, key)
            .map_err(|err| err.describe())
    }
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

    fn jsonl_options() -> ExportOptions {
        ExportOptions {
            format: Format::JsonLines,
            source: "test".into(),
            aggregate: "c".into(),
            from: None,
            to: None,
            with_state: false,
            redact: Vec::new(),
            generated_at: None,
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
        let options = jsonl_options();
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
        let n = original.len();
        let ours = strip(&replayed.events(0..n).unwrap());
        assert_eq!(ours, strip(&original.events(0..n).unwrap()));
        assert_eq!(replayed.warnings(), original.warnings());
        assert_eq!(
            replayed.problems().collect::<Vec<_>>(),
            original.problems().collect::<Vec<_>>()
        );
        for count in 0..=original.len() {
            assert_eq!(
                replayed.state_after(count).unwrap().clone(),
                original.state_after(count).unwrap().clone(),
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

    /// A transcript's steps stay in its file: a replay of one reads them back in pages,
    /// windows of steps past the first are read as a fold reaches them, and a file changed
    /// under rewind is said to have changed, not misread.
    #[test]
    fn a_transcript_is_read_back_from_its_file_not_held() {
        let events: Vec<Event> = (1..=3000).map(|v| event(v, "Up")).collect();
        let mut original = Replay::new(Arc::new(Counter));
        original.extend(events);
        let options = jsonl_options();
        let mut text = Vec::new();
        export(&mut original, &options, &mut text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        std::fs::write(&path, &text).unwrap();

        let source = TranscriptSource::open(&path).unwrap();
        let reducer = reducer_for(&source, "c", None);
        let mut replayed = replay(&source, "c", reducer).unwrap();
        assert!(replayed.is_paged(), "payloads are read back from the file");
        assert_eq!(replayed.state_after(0).unwrap(), &Value::Null);
        for count in [1, 700, 2999, 3000, 1500] {
            assert_eq!(
                replayed.state_after(count).unwrap(),
                &json!(count),
                "after {count} events"
            );
        }
        assert_eq!(replayed.event(2500).unwrap().version, 2501);

        // Another export written over it: its steps are not where the index says.
        let mut shorter = Replay::new(Arc::new(Counter));
        shorter.extend((1..=50).map(|v| event(v, "Down")).collect());
        let mut other = Vec::new();
        export(&mut shorter, &options, &mut other).unwrap();
        std::fs::write(&path, other).unwrap();
        let err = replayed.event(1000).unwrap_err().to_string();
        assert!(err.contains("changed"), "{err}");
    }

    /// A SQLite store's payloads stay in the store: the replay reads them back a page at a
    /// time, an event inside the page last read costs no query, and rows deleted under the
    /// replay are said to be gone, not read as a different history.
    #[test]
    fn a_sqlite_history_is_read_back_in_pages_and_a_changed_store_is_said() {
        use crate::source::sqlite::{SqliteOptions, SqliteSource};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paged.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE events(event_id TEXT, aggregate_id TEXT, aggregate_type TEXT,
                 event_type TEXT, event_data TEXT, metadata TEXT, version INTEGER,
                 timestamp TEXT);",
        )
        .unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for v in 1..=5000 {
            tx.execute(
                "INSERT INTO events VALUES (?1, 'c', 'counter', 'Up', ?2, '{}', ?3,
                     '2026-01-01T10:00:00Z')",
                rusqlite::params![format!("e{v}"), format!("{{\"n\": {v}}}"), v],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        let source = SqliteSource::open(&path, SqliteOptions::default()).unwrap();
        let mut replayed = replay(&source, "c", Arc::new(MergeReducer)).unwrap();
        assert!(replayed.is_paged(), "payloads are read back from the store");
        assert_eq!(replayed.state_after(5000).unwrap(), &json!({"n": 5000}));

        let before = source.rows_read();
        assert_eq!(replayed.event(500).unwrap().version, 501);
        let one_page = source.rows_read() - before;
        // The page, in the source's own batch of rows at most: not the 4,500 left.
        assert!(
            (PAGE as u64..=2048).contains(&one_page),
            "one page read, not the history: {one_page} rows"
        );
        assert_eq!(replayed.event(501).unwrap().version, 502);
        assert_eq!(
            source.rows_read() - before,
            one_page,
            "inside the page: no query"
        );

        conn.execute("DELETE FROM events WHERE version BETWEEN 100 AND 200", [])
            .unwrap();
        let err = replayed.event(150).unwrap_err().to_string();
        assert!(
            err.contains("the store changed while rewind read it"),
            "{err}"
        );
    }
}
