//! A JSON Lines transcript as a source: its events and snapshots, and a reducer that gives
//! back the states it recorded, so every command works on it offline, with the states of
//! the original replay, whatever reducer computed them.

use std::collections::HashMap;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::{Chunk, EventSource, HistoryStart, SourceError};
use crate::export::jsonl::{self, ReadTranscript};
use crate::model::{AggregateSummary, Event, Snapshot};
use crate::replay::{Reducer, StepProblem};

/// Is this file a transcript? Yes for `*.jsonl`, and for any file whose first line
/// carries the transcript marker.
pub fn is_transcript(path: &Path) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    by_name || sniff(path)
}

fn sniff(path: &Path) -> bool {
    let mut start = [0u8; 64];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut filled = 0;
    while filled < start.len() {
        match file.read(&mut start[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    jsonl::has_marker(&start[..filled])
}

/// Transcripts are read whole; a file past this size is refused before it fills memory.
/// (A 200,000-event history exports to about 110 MB.)
pub const MAX_TRANSCRIPT_BYTES: u64 = 4 << 30;

/// Reads a file as UTF-8 text, stopping with `FileTooLarge` past `cap` bytes, whatever the
/// file claims its size is.
fn read_capped(path: &Path, cap: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() > cap {
        return Err(std::io::ErrorKind::FileTooLarge.into());
    }
    let mut text = String::new();
    file.take(cap + 1).read_to_string(&mut text)?;
    if text.len() as u64 > cap {
        return Err(std::io::ErrorKind::FileTooLarge.into());
    }
    Ok(text)
}

pub struct TranscriptSource {
    path: PathBuf,
    transcript: ReadTranscript,
    recorded: Arc<RecordedReducer>,
}

impl TranscriptSource {
    pub fn open(path: &Path) -> Result<TranscriptSource, SourceError> {
        let shown = path.display();
        let text = read_capped(path, MAX_TRANSCRIPT_BYTES).map_err(|err| {
            SourceError::Open(match err.kind() {
                std::io::ErrorKind::NotFound => format!("cannot open {shown}: no such file"),
                std::io::ErrorKind::InvalidData => {
                    format!("{shown} is not a rewind transcript: it is not UTF-8 text")
                }
                std::io::ErrorKind::FileTooLarge => format!(
                    "{shown} is larger than {} GiB, more than any transcript rewind reads; export a range (--from/--to) instead",
                    MAX_TRANSCRIPT_BYTES >> 30
                ),
                _ => format!("cannot open {shown}: {err}"),
            })
        })?;
        let transcript = jsonl::read(&text)
            .map_err(|err| SourceError::Open(format!("cannot read transcript {shown}: {err}")))?;
        Ok(TranscriptSource::from_transcript(path, transcript))
    }

    /// A transcript already read, as if from `path` (which is only shown, never opened).
    pub fn from_transcript(path: &Path, transcript: ReadTranscript) -> TranscriptSource {
        TranscriptSource {
            path: path.to_path_buf(),
            recorded: Arc::new(RecordedReducer::new(&transcript)),
            transcript,
        }
    }

    pub fn transcript(&self) -> &ReadTranscript {
        &self.transcript
    }

    fn events(&self) -> Vec<Event> {
        self.transcript
            .steps
            .iter()
            .map(|s| s.event.clone())
            .collect()
    }

    fn snapshots(&self) -> Vec<Snapshot> {
        let t = &self.transcript;
        t.steps
            .iter()
            .flat_map(|s| &s.snapshots)
            .chain(&t.closing.snapshots_beyond)
            .map(|mark| mark.snapshot.clone())
            .collect()
    }
}

impl EventSource for TranscriptSource {
    fn describe(&self) -> String {
        format!("transcript:{}", self.path.display())
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let header = &self.transcript.header;
        let times = self
            .transcript
            .steps
            .iter()
            .filter_map(|s| s.event.timestamp);
        Ok(vec![AggregateSummary {
            id: header.aggregate.clone(),
            aggregate_type: header.aggregate_type.clone(),
            events: self.transcript.steps.len() as u64,
            first_timestamp: times.clone().min(),
            last_timestamp: times.max(),
            snapshots: self.snapshots().len() as u64,
        }])
    }

    fn stream_history(
        &self,
        aggregate_id: &str,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<(), SourceError> {
        if aggregate_id != self.transcript.header.aggregate {
            return Ok(());
        }
        let events = self.events();
        if !events.is_empty() && sink(Chunk::Events(events)).is_break() {
            return Ok(());
        }
        let snapshots = self.snapshots();
        if !snapshots.is_empty() {
            let _ = sink(Chunk::Snapshots(snapshots));
        }
        Ok(())
    }

    fn history(&self, aggregate_id: &str) -> Result<super::History, SourceError> {
        // A transcript of an empty range holds no events, yet the aggregate is there.
        if aggregate_id == self.transcript.header.aggregate {
            return Ok(super::History {
                events: self.events(),
                snapshots: self.snapshots(),
            });
        }
        Err(self.unknown_aggregate(aggregate_id))
    }

    fn history_start(&self, aggregate_id: &str) -> Option<HistoryStart> {
        let header = &self.transcript.header;
        (aggregate_id == header.aggregate && header.from.events > 0).then(|| HistoryStart {
            version: header.from.version,
            timestamp: header.from.timestamp,
            state: header.start_state.clone(),
        })
    }

    fn recorded_reducer(&self) -> Option<Arc<dyn Reducer>> {
        Some(self.recorded.clone())
    }

    fn files(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }
}

/// Sets the state to the one the transcript recorded after each event, and reports the
/// problems it recorded, so replay gives exactly the original states.
struct RecordedReducer {
    name: String,
    start: Value,
    states: Vec<Value>,
    problems: Vec<Option<StepProblem>>,
    by_version: HashMap<u64, Vec<usize>>,
}

impl RecordedReducer {
    fn new(transcript: &ReadTranscript) -> RecordedReducer {
        let mut by_version: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, step) in transcript.steps.iter().enumerate() {
            by_version.entry(step.event.version).or_default().push(i);
        }
        RecordedReducer {
            name: transcript.header.reducer.clone(),
            start: transcript.header.start_state.clone(),
            states: transcript.steps.iter().map(|s| s.state.clone()).collect(),
            problems: transcript.steps.iter().map(|s| s.problem.clone()).collect(),
            by_version,
        }
    }

    /// The step an event was recorded as. Versions identify steps, except where a store
    /// repeated one: then the step whose recorded state before it is the current state.
    fn step_of(&self, event: &Event, state: &Value) -> Option<usize> {
        let candidates = self.by_version.get(&event.version)?;
        if let [only] = candidates.as_slice() {
            return Some(*only);
        }
        candidates
            .iter()
            .copied()
            .find(|&i| self.state_before(i) == state)
            .or(candidates.first().copied())
    }

    fn state_before(&self, step: usize) -> &Value {
        match step {
            0 => &self.start,
            _ => &self.states[step - 1],
        }
    }
}

impl Reducer for RecordedReducer {
    /// The reducer that computed the recorded states, as the transcript names it.
    fn name(&self) -> String {
        self.name.clone()
    }

    fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>> {
        events
            .iter()
            .map(|event| match self.step_of(event, state) {
                Some(step) => {
                    *state = self.states[step].clone();
                    self.problems[step].clone()
                }
                None => Some(StepProblem::ReducerFailed(format!(
                    "v{} has no recorded state in this transcript; give a --reducer to fold it",
                    event.version
                ))),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{export, ExportOptions, Format};
    use crate::model::{parse_time, Payload};
    use crate::replay::Replay;
    use serde_json::json;

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
            metadata: crate::model::JsonText::null(),
            issues: vec![crate::model::EventIssue::NullColumn("x".into())],
        }
    }

    #[test]
    fn reads_stop_at_the_cap_whatever_the_file_claims() {
        // /proc/self/status claims 0 bytes and has more than 16.
        let err = read_capped(Path::new("/proc/self/status"), 16).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "x".repeat(17)).unwrap();
        let err = read_capped(&path, 16).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        assert_eq!(read_capped(&path, 17).unwrap().len(), 17);
    }

    #[test]
    fn recorded_states_survive_repeated_versions_and_reducer_errors() {
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
        let reducer = source.recorded_reducer().unwrap();
        assert_eq!(reducer.name(), "counter");
        let mut replayed = Replay::load(&source, "c", reducer).unwrap();
        assert_eq!(replayed.events(), original.events());
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
