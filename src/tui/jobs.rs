//! Work the UI asks for that needs every state of a history: blame a path, judge a jq
//! filter on each event, write a transcript. The loader runs these on its own thread, on a
//! fresh replay of the events the UI holds, so the UI never waits for them.

use std::path::PathBuf;
use std::sync::Arc;

use crate::diff::JsonPath;
use crate::export::{self, ExportError, ExportOptions, Format};
use crate::inspect::{self, BlameLine, Predicate};
use crate::model::{Position, SnapshotEntry};
use crate::replay::{Reducer, Replay, SnapshotCheck};
use crate::source::EventSource;

/// The UI's reducer, carried by a request: compared by identity, printed by name.
#[derive(Clone)]
pub struct SharedReducer(pub Arc<dyn Reducer>);

impl std::fmt::Debug for SharedReducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedReducer({})", self.0.name())
    }
}

impl PartialEq for SharedReducer {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Which replay a job works on: the first `events` events of `aggregate_id`, the ones the
/// UI has, so row numbers in the answer match the UI's even if the store has grown since.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub aggregate_id: String,
    pub events: usize,
    pub reducer: SharedReducer,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobKind {
    Blame(JsonPath),
    /// A jq predicate, judged after every event, within its time and memory limits.
    Filter {
        code: String,
        limit: crate::jq::Limits,
    },
    Export(ExportJob),
    /// These snapshots (the UI's) compared with replay: on a history whose payloads stay in
    /// the store this reads it all again, so it runs in the background, not on the UI's
    /// thread.
    CheckSnapshots(Vec<SnapshotEntry>),
}

/// A transcript to write: the steps from the state at version `from` to version `to`
/// (like `rewind export --from --to`), or the whole history.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportJob {
    pub format: Format,
    pub range: Option<(u64, u64)>,
    pub path: PathBuf,
    pub force: bool,
    pub source_name: String,
    pub redact: Vec<JsonPath>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Grows with every job the UI starts; an answer to an older ticket is ignored.
    pub ticket: u64,
    pub target: Target,
    pub kind: JobKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterMatches {
    pub matches: Vec<usize>,
    pub errors: usize,
    pub first_error: Option<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub path: PathBuf,
    pub events: usize,
    /// Redacted paths that matched no value: they hid nothing (a typo, or a field this
    /// history never had), which the header records and the status line says.
    pub unmatched_redactions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportFailure {
    /// The file is there and `force` was not given: ask before replacing it.
    Exists(PathBuf),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Blamed(Result<Vec<BlameLine>, String>),
    Filtered(Result<FilterMatches, String>),
    Exported(Result<Written, ExportFailure>),
    SnapshotsChecked(Result<Vec<SnapshotCheck>, String>),
}

/// Carries out a job against the source; errors are phrased for the status bar.
pub fn run(source: &dyn EventSource, job: &Job) -> Outcome {
    let replay = replay_of(source, &job.target);
    match &job.kind {
        JobKind::Blame(path) => {
            Outcome::Blamed(replay.and_then(|mut replay| {
                inspect::blame(&mut replay, path).map_err(|e| e.to_string())
            }))
        }
        JobKind::Filter { code, limit } => Outcome::Filtered(replay.and_then(|mut replay| {
            let predicate =
                Predicate::new(code, "filter", *limit).map_err(|e| one_line(&e.to_string()))?;
            let run = predicate
                .run(&mut replay, 0, false)
                .map_err(|e| e.to_string())?;
            Ok(FilterMatches {
                matches: run.matches,
                errors: run.errors,
                first_error: run.first_error,
            })
        })),
        JobKind::CheckSnapshots(snapshots) => {
            Outcome::SnapshotsChecked(replay.and_then(|mut replay| {
                replay.set_snapshot_entries(snapshots.clone());
                replay.check_snapshots().map_err(|e| e.to_string())
            }))
        }
        JobKind::Export(export) => Outcome::Exported(
            replay
                .map_err(ExportFailure::Failed)
                .and_then(|mut replay| {
                    write_transcript(&mut replay, &job.target, export, &source.files())
                }),
        ),
    }
}

/// The first `target.events` events replayed from where the source's history starts,
/// read back from the source a page at a time.
fn replay_of<'s>(source: &'s dyn EventSource, target: &Target) -> Result<Replay<'s>, String> {
    let reducer = Arc::clone(&target.reducer.0);
    crate::load::replay_first(source, &target.aggregate_id, reducer, Some(target.events))
        .map(|(replay, _)| replay)
        .map_err(|e| e.describe())
}

fn write_transcript(
    replay: &mut Replay,
    target: &Target,
    job: &ExportJob,
    protected: &[std::path::PathBuf],
) -> Result<Written, ExportFailure> {
    let options = ExportOptions {
        format: job.format,
        source: job.source_name.clone(),
        aggregate: target.aggregate_id.clone(),
        from: job.range.map(|(from, _)| Position::Version(from)),
        to: job.range.map(|(_, to)| Position::Version(to)),
        with_state: false,
        redact: job.redact.clone(),
        generated_at: None,
    };
    let events = match job.range {
        Some((from, to)) => replay.count_through_version(to) - replay.count_through_version(from),
        None => replay.len(),
    };
    let unmatched_redactions = export::unmatched_redactions(replay, &options)
        .map_err(|err| ExportFailure::Failed(err.to_string()))?;
    let file = export::FileTarget {
        path: &job.path,
        force: job.force,
        protected,
    };
    let written = export::write_file(&file, |w| export::export(replay, &options, w));
    match written {
        Ok(()) => Ok(Written {
            path: std::path::absolute(&job.path).unwrap_or_else(|_| job.path.clone()),
            events,
            unmatched_redactions,
        }),
        Err(ExportError::Exists(path)) => Err(ExportFailure::Exists(path)),
        Err(err) => Err(ExportFailure::Failed(err.to_string())),
    }
}

/// jq errors can span lines; the status bar has one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
