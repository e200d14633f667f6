//! A JSON Lines transcript as a source: its events and snapshots, and a reducer that gives
//! back the states it recorded, so every command works on it offline, with the states of
//! the original replay, whatever reducer computed them.

mod read;

use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::{EventSource, Query, Resume, Scope, SourceError, Start};
use crate::model::{
    AggregateSummary, Chunk, Event, HistoryStart, RecordedStates, RecordedStep, Snapshot,
    StorePosition,
};

pub use read::{has_marker, read, ReadError, ReadTranscript};

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
    // Only regular files are looked into: opening a FIFO would wait for a writer.
    if !std::fs::metadata(path).is_ok_and(|meta| meta.is_file()) {
        return false;
    }
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
    has_marker(&start[..filled])
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
}

impl TranscriptSource {
    pub fn open(path: &Path) -> Result<TranscriptSource, SourceError> {
        let shown = path.display();
        let text = read_capped(path, MAX_TRANSCRIPT_BYTES).map_err(|err| {
            SourceError::open(match err.kind() {
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
        let transcript = read(&text).map_err(|err| {
            SourceError::open_with(format!("cannot read transcript {shown}"), err)
        })?;
        Ok(TranscriptSource::from_transcript(path, transcript))
    }

    /// A transcript already read, as if from `path` (which is only shown, never opened).
    pub fn from_transcript(path: &Path, transcript: ReadTranscript) -> TranscriptSource {
        TranscriptSource {
            path: path.to_path_buf(),
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

    /// Its one aggregate's steps, in step order (which is also its store order).
    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let sink = &mut super::limited(query.limit, sink);
        let steps = self.transcript.steps.len() as i64;
        let end = Resume::at(steps);
        let aggregate = &self.transcript.header.aggregate;
        if matches!(&query.scope, Scope::Aggregate(id) if id != aggregate) {
            return Ok(end);
        }
        if let Start::Position(position @ StorePosition::Record { .. }) = &query.start {
            return Err(SourceError::Position(format!(
                "{position} is a Kafka position; a transcript numbers its steps"
            )));
        }
        // A transcript never grows: a resumed read has nothing new.
        let events: Vec<Event> = match query.start {
            Start::Resume(_) => Vec::new(),
            _ => self
                .events()
                .into_iter()
                .filter(|e| query.admits(e))
                .collect(),
        };
        if !events.is_empty() && sink(Chunk::Events(events)).is_break() {
            return Ok(end);
        }
        let snapshots = self.snapshots();
        let wanted = query.snapshots && matches!(query.scope, Scope::Aggregate(_));
        if wanted && query.resume().is_none() && !snapshots.is_empty() {
            let _ = sink(Chunk::Snapshots(snapshots));
        }
        Ok(end)
    }

    fn history_start(&self, aggregate_id: &str) -> Option<HistoryStart> {
        let header = &self.transcript.header;
        (aggregate_id == header.aggregate && header.from.events > 0).then(|| HistoryStart {
            version: header.from.version,
            timestamp: header.from.timestamp,
            state: header.start_state.clone(),
        })
    }

    fn files(&self) -> Vec<PathBuf> {
        vec![self.path.clone()]
    }

    fn recorded_states(&self, aggregate_id: &str) -> Option<RecordedStates> {
        let transcript = &self.transcript;
        (aggregate_id == transcript.header.aggregate).then(|| RecordedStates {
            reducer: transcript.header.reducer.clone(),
            start: transcript.header.start_state.clone(),
            steps: transcript
                .steps
                .iter()
                .map(|step| RecordedStep {
                    version: step.event.version,
                    state: step.state.clone(),
                    problem: step.problem.clone(),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
