//! A second reader of a topic's cache file, for the UI to read pages of payloads back while
//! the source loads (see `EventSource::reader`). It reads the cache alone: no connection to
//! the brokers, and a read-only connection to the file, so it can change neither. Catching
//! up stays the source's job; this reader sees each catch-up once it is committed, since
//! every read it makes starts from a fresh WAL snapshot.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::cache::Cache;
use super::cached::CachedTopic;
use crate::model::{AggregateSummary, Chunk, PositionInput, StorePosition};
use crate::source::{EventSource, Query, Resume, SourceError};

pub struct KafkaCacheReader {
    /// The source's own name for itself, so both read as the same store.
    shown: String,
    file: PathBuf,
    topic: CachedTopic,
    cache: Cache,
}

impl KafkaCacheReader {
    /// Opens the cache file a source keeps for `topic`. Refused when the file's aggregate
    /// ids follow another id rule than `topic`'s (another rewind re-derived them since):
    /// its events would not be the source's.
    pub(super) fn open(
        file: &Path,
        shown: String,
        topic: CachedTopic,
    ) -> Result<KafkaCacheReader, SourceError> {
        let cache = Cache::open_read_only(file)?;
        if !topic.indexed_by_id_rule(&cache)? {
            return Err(SourceError::open(format!(
                "the local cache {} was indexed by another aggregate id rule since it was opened",
                file.display()
            )));
        }
        Ok(KafkaCacheReader {
            shown,
            file: file.to_path_buf(),
            topic,
            cache,
        })
    }
}

impl EventSource for KafkaCacheReader {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let snapshot = self.cache.snapshot()?;
        self.topic.aggregates(&snapshot)
    }

    /// As the source answers it, in one snapshot of the cache as it is now: a resumed read
    /// sees what the source has caught up since, and fetches nothing itself.
    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        self.topic.query(self.cache.snapshot()?, query, sink)
    }

    fn resolve_position(&self, input: PositionInput) -> Result<StorePosition, SourceError> {
        self.topic.resolve_position(&self.cache, input)
    }

    /// Another reader of the same file.
    fn reader(&self) -> Option<Box<dyn EventSource>> {
        let reader = KafkaCacheReader::open(&self.file, self.shown.clone(), self.topic.clone());
        Some(Box::new(reader.ok()?))
    }
}
