//! Where events come from. Every store rewind reads implements [`EventSource`].

pub mod kafka;
mod special;
pub mod sqlite;
pub mod transcript;

use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{AggregateSummary, Event, Snapshot};
use crate::replay::Reducer;

/// A piece of an aggregate's history as it streams out of a store.
#[derive(Debug)]
pub enum Chunk {
    Events(Vec<Event>),
    Snapshots(Vec<Snapshot>),
}

/// Everything a store holds about one aggregate.
#[derive(Debug, Default, Clone)]
pub struct History {
    pub events: Vec<Event>,
    pub snapshots: Vec<Snapshot>,
}

/// Where a history that does not begin at the first event starts: a transcript exported
/// with `--from` holds the events after `version`, and the state they apply to.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryStart {
    pub version: u64,
    /// When the event at `version` happened, if known.
    pub timestamp: Option<DateTime<Utc>>,
    pub state: Value,
}

/// A read-only event store.
///
/// Sources are blocking; front ends run them off the UI thread. A source must never write
/// to the store it reads.
pub trait EventSource: Send {
    /// What to call this source on screen and in transcripts, credentials removed.
    fn describe(&self) -> String;

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError>;

    /// Streams one aggregate's events, in version order, and its snapshots, as one
    /// consistent view of the store. The sink returns `Break` to stop early.
    fn stream_history(
        &self,
        aggregate_id: &str,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<(), SourceError>;

    /// The whole history of one aggregate.
    fn history(&self, aggregate_id: &str) -> Result<History, SourceError> {
        let mut history = History::default();
        // Sized up front: growing by doubling would leave up to half the vector unused.
        history
            .events
            .reserve_exact(self.event_count_hint(aggregate_id).unwrap_or(0));
        self.stream_history(aggregate_id, &mut |chunk| {
            match chunk {
                Chunk::Events(events) => history.events.extend(events),
                Chunk::Snapshots(snapshots) => history.snapshots.extend(snapshots),
            }
            ControlFlow::Continue(())
        })?;
        if history.events.is_empty() && history.snapshots.is_empty() {
            return Err(self.unknown_aggregate(aggregate_id));
        }
        Ok(history)
    }

    /// How many events `aggregate_id` has, if the source can tell cheaply.
    fn event_count_hint(&self, _aggregate_id: &str) -> Option<usize> {
        None
    }

    /// The events of `aggregate_id` after the first `already` ones, including any written
    /// since the source was opened; live follow polls this. Sources that keep a local
    /// copy (Kafka) fetch what arrived first.
    fn events_after(&self, aggregate_id: &str, already: usize) -> Result<Vec<Event>, SourceError> {
        let mut seen = 0usize;
        let mut fresh = Vec::new();
        self.stream_history(aggregate_id, &mut |chunk| {
            if let Chunk::Events(events) = chunk {
                for event in events {
                    seen += 1;
                    if seen > already {
                        fresh.push(event);
                    }
                }
            }
            ControlFlow::Continue(())
        })?;
        Ok(fresh)
    }

    /// Where `aggregate_id`'s history starts when it does not begin at v0 with the empty
    /// state; only transcripts of part of a history have such a start.
    fn history_start(&self, _aggregate_id: &str) -> Option<HistoryStart> {
        None
    }

    /// A reducer that reproduces states this source recorded (a transcript), for when the
    /// user names no reducer: the states come out as they were, whatever reducer made them.
    fn recorded_reducer(&self) -> Option<Arc<dyn Reducer>> {
        None
    }

    /// The files this source reads (a store and its companions), which an export must never
    /// write over.
    fn files(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }

    /// The error for an id the store does not hold, with the closest ids it does hold.
    fn unknown_aggregate(&self, aggregate_id: &str) -> SourceError {
        let suggestions = self
            .aggregates()
            .map(|all| closest_ids(aggregate_id, all.iter().map(|a| a.id.as_str())))
            .unwrap_or_default();
        SourceError::UnknownAggregate {
            id: aggregate_id.to_string(),
            suggestions,
        }
    }
}

/// Up to three ids that contain the wanted one, or are a few edits away, for "did you mean".
fn closest_ids<'a>(wanted: &str, ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 2).max(2);
    let mut scored: Vec<(usize, &str)> = ids
        .filter_map(|id| {
            let lower = id.to_lowercase();
            if lower.contains(&wanted) {
                return Some((0, id));
            }
            let distance = edit_distance(&lower, &wanted);
            (distance <= limit).then_some((distance, id))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, id)| id.to_string())
        .collect()
}

/// Levenshtein distance; ids are short, so the quadratic table is cheap.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Open(String),
    #[error("{0}")]
    Schema(String),
    #[error("no aggregate {id:?} in this store{}", did_you_mean(.suggestions))]
    UnknownAggregate {
        id: String,
        suggestions: Vec<String>,
    },
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    Config(String),
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        "; list them with `rewind aggregates SOURCE`".to_string()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// How to read each kind of store; `source::open` uses the part that fits the source named.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub sqlite: sqlite::SqliteOptions,
    pub kafka: kafka::KafkaOptions,
}

impl From<sqlite::SqliteOptions> for OpenOptions {
    fn from(sqlite: sqlite::SqliteOptions) -> OpenOptions {
        OpenOptions {
            sqlite,
            ..OpenOptions::default()
        }
    }
}

/// Opens the store a user named: `path/to/store.db`, `sqlite:path`, a transcript
/// (`*.jsonl`, `transcript:path`), or `kafka://HOST:PORT[,HOST:PORT]/TOPIC`.
pub fn open(
    spec: &str,
    options: impl Into<OpenOptions>,
) -> Result<Box<dyn EventSource>, SourceError> {
    let options = options.into();
    if spec.starts_with("kafka://") {
        return Ok(Box::new(kafka::KafkaSource::open(spec, options.kafka)?));
    }
    // FIFOs, devices and /proc files are refused before anything opens (or sniffs) them.
    let named = ["transcript:", "sqlite:"]
        .iter()
        .find_map(|prefix| spec.strip_prefix(prefix))
        .unwrap_or(spec);
    special::refuse_special_file(std::path::Path::new(named))?;
    if let Some(path) = spec.strip_prefix("transcript:") {
        return Ok(Box::new(transcript::TranscriptSource::open(
            std::path::Path::new(path),
        )?));
    }
    if !spec.starts_with("sqlite:") && transcript::is_transcript(std::path::Path::new(spec)) {
        return Ok(Box::new(transcript::TranscriptSource::open(
            std::path::Path::new(spec),
        )?));
    }
    let path = spec.strip_prefix("sqlite:").unwrap_or(spec);
    if path.is_empty() {
        return Err(SourceError::Open(
            "no source given: name a SQLite file or a kafka:// topic".into(),
        ));
    }
    Ok(Box::new(sqlite::SqliteSource::open(
        std::path::Path::new(path),
        options.sqlite,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_ids_that_contain_or_nearly_match() {
        let ids = ["acc-0001", "acc-0002", "acc-0007", "order-17", "zzz"];
        assert_eq!(closest_ids("0002", ids.into_iter()), vec!["acc-0002"]);
        assert_eq!(closest_ids("acc-07", ids.into_iter())[0], "acc-0007");
        assert_eq!(closest_ids("ORDER-71", ids.into_iter()), vec!["order-17"]);
        assert!(closest_ids("nothing", ids.into_iter()).is_empty());
    }
}
