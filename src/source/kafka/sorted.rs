//! An aggregate whose versions come from its records' values is in version order only
//! once sorted. Rather than hold its records to sort them, rewind keeps the sorted order as
//! an index of 24 bytes an event (version, place in topic order, cache row; sorting takes
//! twice that for a moment) and reads the records back by row, a batch or a page at a time. The index of the last aggregate asked
//! for is kept while the cache does not change, so paging through a history sorts it once.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use super::cache::Cache;
use super::cached::{CachedTopic, BATCH};
use crate::model::{Chunk, Event, StorePosition};
use crate::source::{Batched, Query, SourceError};

/// One aggregate's records in (version, position) order.
pub struct SortedIndex {
    aggregate: String,
    /// The cache as it was when the index was made: its record count for the aggregate
    /// and its last row.
    records: u64,
    last_row: i64,
    entries: Vec<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    version: u64,
    /// 1-based place in topic order: the version of an event whose value has none.
    ordinal: u64,
    rowid: i64,
}

/// The index of the last aggregate sorted, shared by a source and its readers' copies.
#[derive(Clone, Default)]
pub struct SortedCache(Arc<Mutex<Option<Arc<SortedIndex>>>>);

impl std::fmt::Debug for SortedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SortedCache")
    }
}

impl CachedTopic {
    fn sorted_index(
        &self,
        cache: &Cache,
        aggregate_id: &str,
    ) -> Result<Arc<SortedIndex>, SourceError> {
        let records = cache.aggregate_records(&self.topic, aggregate_id)?;
        let last_row = cache.last_row()?;
        let mut held = self.sorted.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = held.as_ref().filter(|index| {
            index.aggregate == aggregate_id
                && index.records == records
                && index.last_row == last_row
        }) {
            return Ok(Arc::clone(index));
        }
        let mut keyed = Vec::new();
        let mut ordinal = 0;
        cache.for_each_record_of(&self.topic, aggregate_id, None, &mut |rowid, record| {
            ordinal += 1;
            let event = self.mapping.event(&record, aggregate_id, ordinal);
            let entry = Entry {
                version: event.version,
                ordinal,
                rowid,
            };
            keyed.push(((event.version, event.position), entry));
            ControlFlow::Continue(())
        })?;
        // By version, then position: the order a page's `after` compares by, so paging
        // through equal versions neither skips nor repeats one.
        keyed.sort_by_key(|(key, _)| *key);
        let entries = keyed.into_iter().map(|(_, entry)| entry).collect();
        let index = Arc::new(SortedIndex {
            aggregate: aggregate_id.to_string(),
            records,
            last_row,
            entries,
        });
        *held = Some(Arc::clone(&index));
        Ok(index)
    }

    fn sorted_event(
        &self,
        cache: &Cache,
        index: &SortedIndex,
        entry: &Entry,
    ) -> Result<Event, SourceError> {
        let record = cache.record_at(entry.rowid)?.ok_or_else(|| {
            SourceError::read("the Kafka cache changed while rewind read it; open it again")
        })?;
        Ok(self.mapping.event(&record, &index.aggregate, entry.ordinal))
    }

    /// One aggregate's whole history through the sink in version order, a batch at a time.
    pub(super) fn stream_sorted(
        &self,
        cache: &Cache,
        aggregate_id: &str,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, SourceError> {
        let index = self.sorted_index(cache, aggregate_id)?;
        let mut batched = Batched::new(BATCH, query, sink);
        for entry in &index.entries {
            let event = self.sorted_event(cache, &index, entry)?;
            if batched.offer(event).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(batched.finish())
    }

    /// Up to `limit` events of one aggregate after the one at `version` and `position`, in
    /// version order.
    pub(super) fn sorted_page(
        &self,
        cache: &Cache,
        aggregate_id: &str,
        (version, position): (u64, &StorePosition),
        query: &Query,
        limit: usize,
    ) -> Result<Vec<Event>, SourceError> {
        let index = self.sorted_index(cache, aggregate_id)?;
        let from = index
            .entries
            .partition_point(|entry| entry.version < version);
        let mut events = Vec::new();
        for entry in &index.entries[from..] {
            if events.len() >= limit {
                break;
            }
            let event = self.sorted_event(cache, &index, entry)?;
            if (event.version, event.position) > (version, *position) && query.admits(&event) {
                events.push(event);
            }
        }
        Ok(events)
    }
}
