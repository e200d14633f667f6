//! Where events come from. Every store rewind reads implements [`EventSource`]; each kind
//! of store registers how it is named in [`BACKENDS`], the one place that knows them.

mod batch;
mod error;
pub mod kafka;
pub mod postgres;
mod query;
mod special;
pub mod sql;
pub mod sqlite;
pub mod timestamp;
pub mod transcript;

use std::ops::ControlFlow;

pub use batch::Batched;
pub use error::{BadOption, Cause, Rephrased, SourceError};
pub use query::{limited, Query, Resume, Scope, Start};

use crate::model::{
    AggregateSummary, Chunk, History, HistoryStart, PositionInput, RecordedStates, Snapshot,
    StorePosition,
};

/// A read-only event store.
///
/// Sources are blocking; front ends run them off the UI thread. A source must never write
/// to the store it reads.
pub trait EventSource: Send {
    /// What to call this source on screen and in transcripts, credentials removed.
    fn describe(&self) -> String;

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError>;

    /// From now until `release_snapshot`, every read sees one snapshot of the store, so a
    /// command's reads agree with each other while writers go on (a server's transaction).
    /// Sources whose every read is consistent on its own need do nothing. Held only by a
    /// command that ends: a snapshot held open keeps a server from cleaning up behind it.
    fn hold_snapshot(&self) -> Result<(), SourceError> {
        Ok(())
    }

    /// Ends what `hold_snapshot` began; reads see the store as it is again.
    fn release_snapshot(&self) -> Result<(), SourceError> {
        Ok(())
    }

    /// The one read entry point: streams the events the query asks for through the sink,
    /// in chunks, from one consistent view of the store, and says where to resume. The sink
    /// returns `Break` to stop early (the resume point is then not meaningful).
    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError>;

    /// One snapshot of `aggregate_id` whole, state and all: the one whose entry (as a query
    /// hands them over, [`Chunk::Snapshots`]) has this key; `None` if there is none. A
    /// snapshot's state is read only when asked for, one at a time, so that looking at
    /// many big snapshots never holds more than one.
    fn snapshot(&self, aggregate_id: &str, key: u64) -> Result<Option<Snapshot>, SourceError>;

    /// The store position a person typed, checked against this store: SQL stores and
    /// transcripts number their events, Kafka names a record by partition and offset.
    fn resolve_position(&self, input: PositionInput) -> Result<StorePosition, SourceError> {
        match input {
            PositionInput::Seq(n) => Ok(StorePosition::Seq(n)),
            PositionInput::Record { partition, offset } => Err(SourceError::Position(format!(
                "{partition}:{offset} is a Kafka position; this store numbers its events (give a number like 1234)"
            ))),
        }
    }

    /// How many events `aggregate_id` has, if the source can tell cheaply.
    fn event_count_hint(&self, _aggregate_id: &str) -> Option<usize> {
        None
    }

    /// Where `aggregate_id`'s history starts when it does not begin at v0 with the empty
    /// state; only transcripts of part of a history have such a start.
    fn history_start(&self, _aggregate_id: &str) -> Option<HistoryStart> {
        None
    }

    /// The states this source recorded for `aggregate_id` (a transcript), for replaying to
    /// exactly them when the user names no reducer.
    fn recorded_states(&self, _aggregate_id: &str) -> Option<RecordedStates> {
        None
    }

    /// Where this store's own conventions keep correlation, causation and event ids (a
    /// library's metadata fields), for front ends to use where the user named none.
    fn id_conventions(&self) -> IdConventions {
        IdConventions::default()
    }

    /// The whole history of one aggregate, held in memory.
    fn history(&self, aggregate_id: &str) -> Result<History, SourceError> {
        let mut history = History::default();
        // Sized up front: growing by doubling would leave up to half the vector unused.
        history
            .events
            .reserve_exact(self.event_count_hint(aggregate_id).unwrap_or(0));
        let mut entries = Vec::new();
        self.query(&Query::aggregate(aggregate_id), &mut |chunk| {
            match chunk {
                Chunk::Events(events) => history.events.extend(events),
                Chunk::Snapshots(found) => entries.extend(found),
            }
            ControlFlow::Continue(())
        })?;
        for entry in entries {
            history
                .snapshots
                .extend(self.snapshot(aggregate_id, entry.key)?);
        }
        if history.events.is_empty() && history.snapshots.is_empty() {
            // A transcript of an empty range holds no events, yet the aggregate is there.
            let listed = self
                .aggregates()
                .is_ok_and(|all| all.iter().any(|a| a.id == aggregate_id));
            if !listed {
                return Err(self.unknown_aggregate(aggregate_id));
            }
        }
        Ok(history)
    }

    /// A second, independent reader of the same store, for reading pages back on another
    /// thread (the UI's, while this one loads); `None` where a source cannot have one.
    fn reader(&self) -> Option<Box<dyn EventSource>> {
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

/// Places for ids in `--correlation-from` syntax (JSON paths over `$event`, `event_id`);
/// `None` leaves the conventional default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdConventions {
    pub correlation: Option<&'static str>,
    pub causation: Option<&'static str>,
    pub event_id: Option<&'static str>,
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

/// How to read each kind of store; [`open`] hands each backend its part.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub sqlite: sqlite::SqliteOptions,
    pub kafka: kafka::KafkaOptions,
    pub postgres: postgres::PostgresOptions,
}

/// A kind of store, by how the user names it.
pub struct Backend {
    pub name: &'static str,
    /// Opening may take a while (a topic read into its cache), so a UI opens it behind a
    /// progress gauge instead of before its first frame.
    pub slow_to_open: bool,
    claims: fn(&str) -> bool,
    shown: fn(&str) -> String,
    open: OpenFn,
}

type OpenFn = fn(&str, &OpenOptions) -> Result<Box<dyn EventSource>, SourceError>;

impl Backend {
    /// How to show the source before it is open, credentials removed.
    pub fn shown(&self, spec: &str) -> String {
        (self.shown)(spec)
    }

    pub fn open(
        &self,
        spec: &str,
        options: &OpenOptions,
    ) -> Result<Box<dyn EventSource>, SourceError> {
        (self.open)(spec, options)
    }
}

/// Every backend, asked in order; SQLite, last, takes any path the others do not claim.
pub const BACKENDS: &[Backend] = &[
    Backend {
        name: "kafka",
        slow_to_open: true,
        claims: |spec| spec.starts_with("kafka://"),
        shown: kafka::redact,
        open: |spec, options| {
            Ok(Box::new(kafka::KafkaSource::open(
                spec,
                options.kafka.clone(),
            )?))
        },
    },
    Backend {
        name: "postgres",
        // Connecting and listing a big store take a moment: the UI draws first.
        slow_to_open: true,
        claims: |spec| spec.starts_with("postgres://") || spec.starts_with("postgresql://"),
        shown: postgres::redact,
        open: |spec, options| {
            Ok(Box::new(postgres::PgSource::open(
                spec,
                options.postgres.clone(),
            )?))
        },
    },
    Backend {
        name: "transcript",
        slow_to_open: false,
        claims: |spec| {
            spec.starts_with("transcript:")
                || (!spec.starts_with("sqlite:")
                    && transcript::is_transcript(std::path::Path::new(spec)))
        },
        shown: |spec| spec.to_string(),
        open: |spec, _| {
            let path = spec.strip_prefix("transcript:").unwrap_or(spec);
            Ok(Box::new(transcript::TranscriptSource::open(
                std::path::Path::new(path),
            )?))
        },
    },
    Backend {
        name: "sqlite",
        slow_to_open: false,
        claims: |_| true,
        shown: |spec| spec.to_string(),
        open: |spec, options| {
            let path = spec.strip_prefix("sqlite:").unwrap_or(spec);
            if path.is_empty() {
                return Err(SourceError::open(
                    "no source given: name a SQLite file, a transcript, a kafka:// topic or a postgres:// database",
                ));
            }
            Ok(Box::new(sqlite::SqliteSource::open(
                std::path::Path::new(path),
                options.sqlite.clone(),
            )?))
        },
    },
];

/// The backend that reads the store a user named.
pub fn backend_for(spec: &str) -> &'static Backend {
    BACKENDS
        .iter()
        .find(|backend| (backend.claims)(spec))
        .unwrap_or(&BACKENDS[BACKENDS.len() - 1])
}

/// Opens the store a user named: `path/to/store.db`, `sqlite:path`, a transcript
/// (`*.jsonl`, `transcript:path`), `kafka://HOST:PORT[,HOST:PORT]/TOPIC`, or
/// `postgres://USER@HOST:PORT/DB` (`postgresql://`).
pub fn open(spec: &str, options: &OpenOptions) -> Result<Box<dyn EventSource>, SourceError> {
    let backend = backend_for(spec);
    if !spec.contains("://") {
        // FIFOs, devices and /proc files are refused before anything opens them.
        let named = ["transcript:", "sqlite:"]
            .iter()
            .find_map(|prefix| spec.strip_prefix(prefix))
            .unwrap_or(spec);
        special::refuse_special_file(std::path::Path::new(named), backend.name)?;
    }
    backend.open(spec, options)
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
