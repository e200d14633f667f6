//! A JSON Lines transcript as a source: its events and snapshots, and a reducer that gives
//! back the states it recorded, so every command works on it offline, with the states of
//! the original replay, whatever reducer computed them.

mod read;
mod steps;

use std::io::{BufRead, Read};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::{EventSource, Query, Resume, Scope, SourceError, Start};
use crate::model::transcript::{Header, Step};
use crate::model::{
    AggregateSummary, Chunk, Event, HistoryStart, RecordedStates, RecordedStepList, RecordedSteps,
    Snapshot, SnapshotEntry, StorePosition,
};

pub use read::{has_marker, read, LineReader, ReadError, ReadTranscript};
use steps::{recorded, StepFile, Steps};

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

/// A file past this size is refused before it is read: more than any transcript rewind
/// writes. (A 200,000-event history exports to about 110 MB; steps stay in the file, so
/// memory does not grow with it.)
pub const MAX_TRANSCRIPT_BYTES: u64 = 64 << 30;

/// The longest line rewind reads from a transcript: a step's state and its diff (a store's
/// value is at most 64 MiB). A line is read into memory whole before it is checked, so
/// this bounds that buffer: a file of one endless line is refused at this length, well
/// inside any address-space limit, rather than grown toward it.
pub(super) const MAX_LINE_BYTES: u64 = 256 << 20;

/// What the line buffer holds at first and goes back to after a longer line: a power of
/// two, as `MAX_LINE_BYTES` is.
const LINE_BUFFER: usize = 64 << 10;

/// Steps handed to the sink at a time.
const BATCH: usize = 1024;

/// Reads a transcript a line at a time, checking every line, and keeps where each step
/// starts; the steps themselves are left in the file.
fn index_file(path: &Path, cap: u64) -> Result<Indexed, OpenError> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() > cap {
        return Err(std::io::Error::from(std::io::ErrorKind::FileTooLarge).into());
    }
    let mut file = std::io::BufReader::new(file.take(cap + 1));
    let mut buf = Vec::with_capacity(LINE_BUFFER);
    let (mut offset, mut number) = (0u64, 0usize);
    let mut reader: Option<LineReader> = None;
    let mut indexed = Indexed::default();
    loop {
        // The buffer doubles as a line grows, so it must start each line at a power of
        // two: grown from one, it stops at the 256 MiB limit itself; grown from what a
        // short line left (a header of 1,234 bytes) it would pass it, toward 512 MiB.
        if buf.capacity() > LINE_BUFFER {
            buf = Vec::with_capacity(LINE_BUFFER);
        }
        buf.clear();
        // At most the limit, not one byte past it: a buffer grown to one byte past 256 MiB
        // doubles to 512 MiB. A line cut there, with more of it to come, is too long.
        let read = (&mut file)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut buf)?;
        if read == 0 {
            break;
        }
        let at = offset;
        offset += read as u64;
        if offset > cap {
            return Err(std::io::Error::from(std::io::ErrorKind::FileTooLarge).into());
        }
        number += 1;
        let cut = buf.len() as u64 == MAX_LINE_BYTES && buf.last() != Some(&b'\n');
        if cut && !file.fill_buf()?.is_empty() {
            return Err(OpenError::Read(ReadError::Invalid {
                line: number,
                reason: format!("it is longer than {} MiB", MAX_LINE_BYTES >> 20),
            }));
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
        if text.trim().is_empty() {
            continue;
        }
        let Some(lines) = reader.as_mut() else {
            reader = Some(LineReader::start(text)?);
            continue;
        };
        if let Some(step) = lines.line(number, text)? {
            indexed.add(at, step);
        }
    }
    let (header, closing) = reader.ok_or(ReadError::Empty)?.finish()?;
    indexed
        .snapshots
        .extend((closing.snapshots_beyond.iter()).map(|mark| Listed::closing(&mark.snapshot)));
    Ok(Indexed {
        header: Some(header),
        ..indexed
    })
}

/// What opening a transcript keeps of it.
#[derive(Default)]
struct Indexed {
    header: Option<Header>,
    offsets: Vec<u64>,
    versions: Vec<u64>,
    first_timestamp: Option<DateTime<Utc>>,
    last_timestamp: Option<DateTime<Utc>>,
    snapshots: Vec<Listed>,
}

/// A snapshot a transcript holds, and where: on a step's line (read back from the file
/// when it is looked at: a state can be as big as the aggregate's), or after the last step.
struct Listed {
    version: u64,
    timestamp: Option<DateTime<Utc>>,
    at: ListedAt,
}

enum ListedAt {
    /// The `mark`-th snapshot of step `step` (0-based).
    Step { step: usize, mark: usize },
    /// The closing line's (snapshots beyond the history: few, and the line is read once).
    Closing(Snapshot),
}

impl Listed {
    fn on_step(snapshot: &Snapshot, step: usize, mark: usize) -> Listed {
        Listed {
            version: snapshot.version,
            timestamp: snapshot.timestamp,
            at: ListedAt::Step { step, mark },
        }
    }

    fn closing(snapshot: &Snapshot) -> Listed {
        Listed {
            version: snapshot.version,
            timestamp: snapshot.timestamp,
            at: ListedAt::Closing(snapshot.clone()),
        }
    }
}

impl Indexed {
    fn add(&mut self, offset: u64, step: Step) {
        self.offsets.push(offset);
        self.versions.push(step.event.version);
        if let Some(time) = step.event.timestamp {
            self.first_timestamp = Some(self.first_timestamp.map_or(time, |t| t.min(time)));
            self.last_timestamp = Some(self.last_timestamp.map_or(time, |t| t.max(time)));
        }
        let number = self.offsets.len() - 1;
        self.snapshots.extend(
            (step.snapshots.iter().enumerate())
                .map(|(mark, found)| Listed::on_step(&found.snapshot, number, mark)),
        );
    }
}

enum OpenError {
    Io(std::io::Error),
    Read(ReadError),
}

impl From<std::io::Error> for OpenError {
    fn from(err: std::io::Error) -> OpenError {
        OpenError::Io(err)
    }
}

impl From<ReadError> for OpenError {
    fn from(err: ReadError) -> OpenError {
        OpenError::Read(err)
    }
}

/// A transcript opened as a source. Cloning shares its steps (a second reader for the UI).
#[derive(Clone)]
pub struct TranscriptSource {
    path: PathBuf,
    header: Arc<Header>,
    steps: Arc<Steps>,
    first_timestamp: Option<DateTime<Utc>>,
    last_timestamp: Option<DateTime<Utc>>,
    snapshots: Arc<Vec<Listed>>,
}

impl TranscriptSource {
    pub fn open(path: &Path) -> Result<TranscriptSource, SourceError> {
        let shown = path.display();
        let indexed = index_file(path, MAX_TRANSCRIPT_BYTES).map_err(|err| match err {
            OpenError::Io(err) => SourceError::open_rephrasing(
                match err.kind() {
                std::io::ErrorKind::NotFound => format!("cannot open {shown}: no such file"),
                std::io::ErrorKind::InvalidData => {
                    format!("{shown} is not a rewind transcript: it is not UTF-8 text")
                }
                std::io::ErrorKind::FileTooLarge => format!(
                    "{shown} is larger than {} GiB, more than any transcript rewind reads; export a range (--from/--to) instead",
                    MAX_TRANSCRIPT_BYTES >> 30
                ),
                _ => format!("cannot open {shown}: {err}"),
                },
                err,
            ),
            OpenError::Read(err) => {
                SourceError::open_with(format!("cannot read transcript {shown}"), err)
            }
        })?;
        let header = indexed.header.expect("indexed after its header");
        let file = Arc::new(StepFile::new(
            path.to_path_buf(),
            header.clone(),
            indexed.offsets,
            indexed.versions,
        ));
        Ok(TranscriptSource {
            path: path.to_path_buf(),
            header: Arc::new(header),
            steps: Arc::new(Steps::File(file)),
            first_timestamp: indexed.first_timestamp,
            last_timestamp: indexed.last_timestamp,
            snapshots: Arc::new(indexed.snapshots),
        })
    }

    /// A transcript already read, as if from `path` (which is only shown, never opened).
    pub fn from_transcript(path: &Path, transcript: ReadTranscript) -> TranscriptSource {
        let times = transcript.steps.iter().filter_map(|s| s.event.timestamp);
        let on_steps = (transcript.steps.iter().enumerate()).flat_map(|(step, s)| {
            (s.snapshots.iter().enumerate())
                .map(move |(mark, found)| Listed::on_step(&found.snapshot, step, mark))
        });
        let beyond =
            (transcript.closing.snapshots_beyond.iter()).map(|m| Listed::closing(&m.snapshot));
        let snapshots = on_steps.chain(beyond).collect();
        TranscriptSource {
            path: path.to_path_buf(),
            first_timestamp: times.clone().min(),
            last_timestamp: times.max(),
            header: Arc::new(transcript.header),
            steps: Arc::new(Steps::Memory(transcript.steps)),
            snapshots: Arc::new(snapshots),
        }
    }

    pub fn header(&self) -> &Header {
        &self.header
    }
}

impl EventSource for TranscriptSource {
    fn describe(&self) -> String {
        format!("transcript:{}", self.path.display())
    }

    fn reader(&self) -> Option<Box<dyn EventSource>> {
        Some(Box::new(self.clone()))
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let header = &self.header;
        Ok(vec![AggregateSummary {
            id: header.aggregate.clone(),
            aggregate_type: header.aggregate_type.clone(),
            events: self.steps.len() as u64,
            first_timestamp: self.first_timestamp,
            last_timestamp: self.last_timestamp,
            snapshots: self.snapshots.len() as u64,
        }])
    }

    /// Its one aggregate's steps, in step order (which is also its store order), read from
    /// the file a batch at a time.
    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let sink = &mut super::limited(query.limit, sink);
        let steps = self.steps.len();
        let end = Resume::at(steps as i64);
        if matches!(&query.scope, Scope::Aggregate(id) if id != &self.header.aggregate) {
            return Ok(end);
        }
        // Step n (1-based) is at store position n.
        let first = match &query.start {
            // A transcript never grows: a resumed read has nothing new.
            Start::Resume(_) => return Ok(end),
            Start::Beginning => 0,
            Start::Position(StorePosition::Seq(n)) => {
                usize::try_from(n.saturating_sub(1)).unwrap_or(0)
            }
            Start::After {
                position: StorePosition::Seq(n),
                ..
            } => usize::try_from(*n).unwrap_or(0),
            Start::Position(position) | Start::After { position, .. } => {
                return Err(SourceError::Position(format!(
                    "{position} is a Kafka position; a transcript numbers its steps"
                )))
            }
        };
        let mut at = first;
        while at < steps {
            let batch = self
                .steps
                .range(at..at + BATCH)
                .map_err(|e| SourceError::Read {
                    message: e,
                    cause: None,
                })?;
            at += batch.len().max(1);
            let events: Vec<Event> = batch
                .into_iter()
                .map(|step| step.event)
                .filter(|e| query.admits(e))
                .collect();
            if !events.is_empty() && sink(Chunk::Events(events)).is_break() {
                return Ok(end);
            }
        }
        let wanted = query.snapshots && matches!(query.scope, Scope::Aggregate(_));
        if wanted && first == 0 && !self.snapshots.is_empty() {
            let entries = (self.snapshots.iter().zip(0..))
                .map(|(listed, key)| SnapshotEntry {
                    version: listed.version,
                    timestamp: listed.timestamp,
                    key,
                })
                .collect();
            let _ = sink(Chunk::Snapshots(entries));
        }
        Ok(end)
    }

    fn snapshot(&self, aggregate_id: &str, key: u64) -> Result<Option<Snapshot>, SourceError> {
        if aggregate_id != self.header.aggregate {
            return Ok(None);
        }
        let place = usize::try_from(key).unwrap_or(usize::MAX);
        match self.snapshots.get(place).map(|listed| &listed.at) {
            None => Ok(None),
            Some(ListedAt::Closing(snapshot)) => Ok(Some(snapshot.clone())),
            Some(ListedAt::Step { step, mark }) => {
                let read = self.steps.range(*step..*step + 1);
                let mut steps = read.map_err(|message| SourceError::Read {
                    message,
                    cause: None,
                })?;
                Ok(steps
                    .pop()
                    .and_then(|step| step.snapshots.into_iter().nth(*mark))
                    .map(|found| found.snapshot))
            }
        }
    }

    fn history_start(&self, aggregate_id: &str) -> Option<HistoryStart> {
        let header = &self.header;
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
        if aggregate_id != self.header.aggregate {
            return None;
        }
        let steps: Arc<dyn RecordedSteps> = match self.steps.as_ref() {
            Steps::File(file) => Arc::clone(file) as Arc<dyn RecordedSteps>,
            Steps::Memory(steps) => {
                Arc::new(RecordedStepList::new(steps.iter().map(recorded).collect()))
            }
        };
        Some(RecordedStates {
            reducer: self.header.reducer.clone(),
            start: self.header.start_state.clone(),
            steps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_large(path: &Path, cap: u64) -> bool {
        matches!(index_file(path, cap), Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::FileTooLarge)
    }

    #[test]
    fn reads_stop_at_the_cap_whatever_the_file_claims() {
        // /proc/self/status claims 0 bytes and has more than 16.
        assert!(too_large(Path::new("/proc/self/status"), 16));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, "x".repeat(17)).unwrap();
        assert!(too_large(&path, 16));
        assert!(!too_large(&path, 17));
    }
}
