//! Turning cached records into events: the one code path by which both the source (which
//! also fills the cache from the brokers) and its cache-only reader answer every query, so
//! the two hand out the same events at the same positions and versions.

use std::collections::HashMap;
use std::ops::{ControlFlow, Deref};

use chrono::{DateTime, TimeZone, Utc};

use super::cache::Cache;
use super::mapping::{FieldSpec, KafkaMapping};
use crate::model::{
    AggregateSummary, Chunk, Event, PositionInput, Snapshot, SnapshotEntry, StorePosition,
};
use crate::source::{limited, Batched, Query, Resume, Scope, SourceError, Start};

/// Events are handed out in batches this size, like the SQLite source.
pub(super) const BATCH: usize = 2048;

/// The first and last event time of an aggregate.
type TimeSpan = (DateTime<Utc>, DateTime<Utc>);

/// An events topic (and its snapshots topic) as the cache holds it, read through a mapping.
#[derive(Debug, Clone)]
pub struct CachedTopic {
    pub topic: String,
    pub mapping: KafkaMapping,
    /// The last aggregate sorted by versions from its values.
    pub sorted: super::sorted::SortedCache,
}

impl CachedTopic {
    /// The meta key under which the cache records the id rule its aggregate ids follow.
    pub fn id_rule_key(&self) -> String {
        format!("aggregate_id:{}", self.topic)
    }

    /// Whether the cache's aggregate ids were derived by this mapping's id rule.
    pub fn indexed_by_id_rule(&self, cache: &Cache) -> Result<bool, SourceError> {
        let rule = self.mapping.aggregate_id.to_string();
        Ok(cache.meta(&self.id_rule_key())?.as_deref() == Some(rule.as_str()))
    }

    pub fn aggregates(&self, cache: &Cache) -> Result<Vec<AggregateSummary>, SourceError> {
        let mut snapshot_counts: HashMap<String, u64> = HashMap::new();
        if let Some(snapshots) = &self.mapping.snapshots {
            for summary in cache.summaries(&snapshots.topic)? {
                snapshot_counts.insert(summary.aggregate_id, summary.records);
            }
        }
        let value_times = match self.mapping.timestamp {
            FieldSpec::Path(_) => Some(self.times_from_values(cache)?),
            _ => None,
        };
        let millis = |ms: Option<i64>| ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        let summaries = cache.summaries(&self.topic)?;
        Ok(summaries
            .into_iter()
            .map(|s| {
                let (first, last) = match &value_times {
                    Some(times) => match times.get(&s.aggregate_id) {
                        Some((first, last)) => (Some(*first), Some(*last)),
                        None => (None, None),
                    },
                    None => (millis(s.first_ms), millis(s.last_ms)),
                };
                AggregateSummary {
                    snapshots: snapshot_counts.remove(&s.aggregate_id).unwrap_or(0),
                    id: s.aggregate_id,
                    aggregate_type: None,
                    events: s.records,
                    first_timestamp: first,
                    last_timestamp: last,
                }
            })
            .collect())
    }

    /// Answers a query from the cache as it is now, in one consistent view of it. `cache`
    /// (a lock's guard, for the source) is held while a whole aggregate or the whole store
    /// streams through the sink, which keeps memory to a batch; pages, polls and histories
    /// sorted by versions from the values are read first and it is let go before the sink.
    pub fn query(
        &self,
        cache: impl Deref<Target = Cache>,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let sink = &mut limited(query.limit, sink);
        let resume = Resume::at(cache.last_row()?);
        let Scope::Aggregate(aggregate_id) = &query.scope else {
            self.store_events(&cache, query, sink)?;
            return Ok(resume);
        };
        if matches!(query.start, Start::Position(StorePosition::Seq(_))) {
            return Err(SourceError::Position(
                "a Kafka topic names its records as PARTITION:OFFSET, like 0:1234".into(),
            ));
        }
        // A first page is a page after nothing.
        let before_first = StorePosition::Record {
            timestamp_ms: i64::MIN,
            partition: i32::MIN,
            offset: i64::MIN,
        };
        let page_start = match &query.start {
            Start::After { version, position } => Some((*version, *position)),
            Start::Beginning if query.limit.is_some() => Some((0, before_first)),
            _ => None,
        };
        if let Some((version, position)) = page_start {
            let events = self.page(&cache, aggregate_id, version, &position, query)?;
            drop(cache);
            if !events.is_empty() {
                let _ = sink(Chunk::Events(events));
            }
            return Ok(resume);
        }
        let after = query.resume().map(Resume::after);
        let snapshots = match query.snapshots && after.is_none() {
            true => self.snapshot_entries(&cache, aggregate_id)?,
            false => Vec::new(),
        };
        // A whole history streams from the cache a batch at a time, never held whole: in
        // topic order, or through the sorted index when versions come from the values.
        let streamed = match (after, self.mapping.versions_from_value()) {
            (None, false) => Some(self.stream_events(&cache, aggregate_id, query, sink)?),
            (None, true) => Some(self.stream_sorted(&cache, aggregate_id, query, sink)?),
            (Some(_), _) => None,
        };
        if streamed.is_some_and(|flow| flow.is_break()) {
            return Ok(resume);
        }
        if streamed.is_none() {
            let events = self.events(&cache, aggregate_id, after)?;
            let mut events = events.into_iter().filter(|e| query.admits(e)).peekable();
            while events.peek().is_some() {
                let batch: Vec<Event> = events.by_ref().take(BATCH).collect();
                if sink(Chunk::Events(batch)).is_break() {
                    return Ok(resume);
                }
            }
        }
        drop(cache);
        if !snapshots.is_empty() {
            let _ = sink(Chunk::Snapshots(snapshots));
        }
        Ok(resume)
    }

    /// The entries of the aggregate's snapshots in topic order, each keyed by its row of the
    /// cache; a state is decoded to find its version, then let go.
    fn snapshot_entries(
        &self,
        cache: &Cache,
        aggregate_id: &str,
    ) -> Result<Vec<SnapshotEntry>, SourceError> {
        let Some(mapping) = &self.mapping.snapshots else {
            return Ok(Vec::new());
        };
        let mut entries = Vec::new();
        cache.for_each_record_of(&mapping.topic, aggregate_id, None, &mut |row, record| {
            if let Some(snapshot) = self.mapping.snapshot(&record, aggregate_id) {
                entries.push(snapshot.entry(row as u64));
            }
            ControlFlow::Continue(())
        })?;
        Ok(entries)
    }

    /// The snapshot stored at row `key` of the cache, if it is one of this aggregate's.
    pub fn snapshot(
        &self,
        cache: &Cache,
        aggregate_id: &str,
        key: u64,
    ) -> Result<Option<Snapshot>, SourceError> {
        let (Some(mapping), Ok(row)) = (&self.mapping.snapshots, i64::try_from(key)) else {
            return Ok(None);
        };
        Ok(cache
            .record_of_at(&mapping.topic, aggregate_id, row)?
            .and_then(|record| self.mapping.snapshot(&record, aggregate_id)))
    }

    /// One aggregate's whole history through the sink in batches, numbered in topic order.
    fn stream_events(
        &self,
        cache: &Cache,
        aggregate_id: &str,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, SourceError> {
        let mut batched = Batched::new(BATCH, query, sink);
        let mut ordinal = 0;
        cache.for_each_record_of(&self.topic, aggregate_id, None, &mut |_, record| {
            ordinal += 1;
            batched.offer(self.mapping.event(&record, aggregate_id, ordinal))
        })?;
        Ok(batched.finish())
    }

    /// A record named as PARTITION:OFFSET, placed by its time among the topic's records.
    pub fn resolve_position(
        &self,
        cache: &Cache,
        input: PositionInput,
    ) -> Result<StorePosition, SourceError> {
        let PositionInput::Record { partition, offset } = input else {
            return Err(SourceError::Position(
                "a Kafka topic names its records as PARTITION:OFFSET, like 0:1234".into(),
            ));
        };
        match cache.record_time(&self.topic, partition, offset)? {
            Some(time) => Ok(StorePosition::Record {
                timestamp_ms: time.unwrap_or(i64::MIN),
                partition,
                offset,
            }),
            None => Err(SourceError::Position(format!(
                "topic {:?} has no record at {partition}:{offset} (as far as rewind has read it)",
                self.topic
            ))),
        }
    }

    /// One aggregate's events from the cache, in version order; with `after`, only those
    /// stored since that row of the cache (numbered on from the ones before).
    fn events(
        &self,
        cache: &Cache,
        aggregate_id: &str,
        after: Option<i64>,
    ) -> Result<Vec<Event>, SourceError> {
        let topic = &self.topic;
        let records = cache.records_of(topic, aggregate_id, after)?;
        let before = match after {
            None => 0,
            Some(_) => cache
                .aggregate_records(topic, aggregate_id)?
                .saturating_sub(records.len() as u64),
        };
        let mut events: Vec<Event> = records
            .iter()
            .enumerate()
            .map(|(i, record)| {
                self.mapping
                    .event(record, aggregate_id, before + i as u64 + 1)
            })
            .collect();
        if self.mapping.versions_from_value() {
            // As the sorted index orders a whole history (see `sorted`).
            events.sort_by_key(|e| (e.version, e.position));
        }
        Ok(events)
    }

    /// The events of one aggregate after the one at `version` and `position`. Versions in
    /// topic order make this a keyset read of the cache; versions from the values are read
    /// through the aggregate's sorted index.
    fn page(
        &self,
        cache: &Cache,
        aggregate_id: &str,
        version: u64,
        position: &StorePosition,
        query: &Query,
    ) -> Result<Vec<Event>, SourceError> {
        let limit = query.limit.unwrap_or(usize::MAX);
        let StorePosition::Record {
            partition, offset, ..
        } = position
        else {
            return Err(SourceError::Position(format!(
                "{position} is not a Kafka position: name a record as PARTITION:OFFSET"
            )));
        };
        if self.mapping.versions_from_value() {
            return self.sorted_page(cache, aggregate_id, (version, position), query, limit);
        }
        let records =
            cache.records_page(&self.topic, aggregate_id, (*partition, *offset), limit)?;
        Ok(records
            .iter()
            .enumerate()
            .map(|(i, record)| {
                self.mapping
                    .event(record, aggregate_id, version + i as u64 + 1)
            })
            .filter(|e| query.admits(e))
            .collect())
    }

    /// Every event of the topic in store order, from `from` on.
    fn store_events(
        &self,
        cache: &Cache,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<(), SourceError> {
        let topic = &self.topic;
        let from = match &query.start {
            Start::Resume(after) => {
                return self.store_events_since(cache, query, after.after(), sink)
            }
            Start::Position(StorePosition::Seq(n)) => {
                return Err(SourceError::Position(format!(
                    "{n} is not a Kafka position: name a record as PARTITION:OFFSET, like 0:{n}"
                )))
            }
            Start::Position(StorePosition::Record {
                timestamp_ms,
                partition,
                offset,
            }) => Some((*timestamp_ms, *partition, *offset)),
            Start::Beginning => None,
            Start::After { .. } => {
                return Err(SourceError::Position(
                    "pages after an event are read per aggregate, not across the store".into(),
                ))
            }
        };
        let mut batched = Batched::new(BATCH, query, sink);
        cache.for_each_in_store_order(topic, from, &mut |id, record, ordinal| {
            batched.offer(self.mapping.event(&record, id, ordinal))
        })?;
        let _ = batched.finish();
        Ok(())
    }

    /// The events stored since row `after` of the cache, in store order, each numbered on
    /// from what its aggregate held before (in partition order, as `order` versions are).
    fn store_events_since(
        &self,
        cache: &Cache,
        query: &Query,
        after: i64,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<(), SourceError> {
        let topic = &self.topic;
        let fresh = cache.records_since(topic, after)?;
        let mut next: HashMap<&str, u64> = HashMap::new();
        for (id, _) in &fresh {
            *next.entry(id.as_str()).or_default() += 1;
        }
        for (id, new) in next.iter_mut() {
            *new = cache.aggregate_records(topic, id)?.saturating_sub(*new);
        }
        let mut by_partition: Vec<usize> = (0..fresh.len()).collect();
        by_partition
            .sort_by_key(|&i| (fresh[i].0.as_str(), fresh[i].1.partition, fresh[i].1.offset));
        let mut ordinals = vec![0u64; fresh.len()];
        for i in by_partition {
            let count = next.entry(fresh[i].0.as_str()).or_default();
            *count += 1;
            ordinals[i] = *count;
        }
        let events: Vec<Event> = fresh
            .iter()
            .zip(ordinals)
            .map(|((id, record), ordinal)| self.mapping.event(record, id, ordinal))
            .filter(|event| query.admits(event))
            .collect();
        for batch in events.chunks(BATCH) {
            if sink(Chunk::Events(batch.to_vec())).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// First and last event time per aggregate when times come from the values.
    fn times_from_values(&self, cache: &Cache) -> Result<HashMap<String, TimeSpan>, SourceError> {
        let mut times: HashMap<String, TimeSpan> = HashMap::new();
        cache.for_each_record(&self.topic, &mut |id, record| {
            if let Some(t) = self.mapping.event(&record, id, 0).timestamp {
                let slot = times.entry(id.to_string()).or_insert((t, t));
                slot.0 = slot.0.min(t);
                slot.1 = slot.1.max(t);
            }
        })?;
        Ok(times)
    }
}
