//! Kafka topics keyed by aggregate id, read into a local cache and replayed from there.

mod cache;
mod mapping;
mod options;
mod reader;
mod record;
mod simple;
mod url;

pub use cache::default_dir as default_cache_dir;
pub use mapping::{FieldSpec, KafkaMapping, SnapshotMapping, FIELDS, NO_TYPE, TOMBSTONE};
pub use options::{
    is_secret_key, parse_property, read_properties_file, CacheMode, KafkaConfig, KafkaOptions,
    ProgressFn, Secrets,
};
pub use reader::ReadProgress;
pub use record::{RawRecord, NO_KEY};
pub use url::{redact, KafkaUrl};

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, TimeZone, Utc};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};

use self::cache::Cache;
use self::reader::Reader;
use super::{EventSource, Query, Resume, Scope, SourceError, Start};
use crate::model::{AggregateSummary, Chunk, Event, PositionInput, StorePosition};

/// Events are handed out in batches this size, like the SQLite source.
const BATCH: usize = 2048;
/// Records one catch-up reads before it turns into a bulk load (see `catch_up_topic`).
const BULK_LOAD_AFTER: usize = 200_000;
/// Topics listed by name in an unknown-topic error before "and N more".
const LISTED_TOPICS: usize = 30;

/// The first and last event time of an aggregate.
type TimeSpan = (DateTime<Utc>, DateTime<Utc>);

/// What reading Kafka has cost so far; lets tests (and curious users) see the cache at work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Records fetched from the brokers since the source was opened (all topics).
    pub fetched: u64,
    /// Records fetched by the most recent catch-up.
    pub fetched_last: u64,
    /// Records in the local cache for the events topic.
    pub cached: u64,
}

pub struct KafkaSource {
    url: KafkaUrl,
    mapping: KafkaMapping,
    progress: Option<ProgressFn>,
    cache_file: Option<PathBuf>,
    state: Mutex<State>,
}

/// The connection and the cache; behind a lock because catching up writes to the cache.
struct State {
    reader: Reader,
    cache: Cache,
    fetched: u64,
    fetched_last: u64,
}

impl KafkaSource {
    /// Connects, checks the topics exist, and reads every record not yet in the cache.
    pub fn open(spec: &str, options: KafkaOptions) -> Result<KafkaSource, SourceError> {
        let url = KafkaUrl::parse(spec)?;
        options::check_reserved(&options.properties)?;
        let mut secrets = options.secrets();
        if let Some(password) = &url.password {
            secrets.add(password.clone());
        }
        let config = client_config(&url, &options);
        let debug = options.properties.iter().any(|(key, _)| key == "debug");
        let reader = Reader::connect(
            &config,
            debug,
            options.timeout,
            secrets,
            url.bootstrap_servers(),
        )?;
        let topics = reader.topics()?;
        let mut wanted = vec![url.topic.as_str()];
        if let Some(snapshots) = &options.mapping.snapshots {
            wanted.push(&snapshots.topic);
        }
        for topic in wanted {
            if !topics.iter().any(|t| t == topic) {
                let names: Vec<&str> = topics.iter().map(String::as_str).collect();
                return Err(unknown_topic(&url, topic, names));
            }
        }
        let (cache, cache_file) = open_cache(&url, &options.cache)?;
        let source = KafkaSource {
            url,
            mapping: options.mapping,
            progress: options.progress,
            cache_file,
            state: Mutex::new(State {
                reader,
                cache,
                fetched: 0,
                fetched_last: 0,
            }),
        };
        {
            let mut state = source.lock()?;
            source.index_by_current_id_rule(&mut state)?;
            source.catch_up(&mut state, true)?;
        }
        Ok(source)
    }

    /// Reads what arrived since the last read into the cache; returns how many records.
    pub fn refresh(&self) -> Result<u64, SourceError> {
        let mut state = self.lock()?;
        self.catch_up(&mut state, false)
    }

    pub fn stats(&self) -> ReadStats {
        let Ok(state) = self.lock() else {
            return ReadStats::default();
        };
        ReadStats {
            fetched: state.fetched,
            fetched_last: state.fetched_last,
            cached: state.cache.record_count(&self.url.topic).unwrap_or(0),
        }
    }

    /// The cache file in use; `None` with `--no-cache`.
    pub fn cache_file(&self) -> Option<&std::path::Path> {
        self.cache_file.as_deref()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, SourceError> {
        self.state
            .lock()
            .map_err(|_| SourceError::read("an earlier read of this Kafka source failed midway"))
    }

    /// The cache's aggregate ids follow the id rule in force; a new rule re-derives them.
    fn index_by_current_id_rule(&self, state: &mut State) -> Result<(), SourceError> {
        let key = format!("aggregate_id:{}", self.url.topic);
        let rule = self.mapping.aggregate_id.to_string();
        if state.cache.meta(&key)?.as_deref() != Some(rule.as_str()) {
            let mapping = &self.mapping;
            state
                .cache
                .reindex(&self.url.topic, &|record| mapping.aggregate_id(record))?;
            state.cache.set_meta(&key, &rule)?;
        }
        Ok(())
    }

    fn catch_up(&self, state: &mut State, show_progress: bool) -> Result<u64, SourceError> {
        let mut total = 0;
        for topic in self.topics() {
            total += self.catch_up_topic(state, topic, show_progress)?;
        }
        state.fetched += total;
        state.fetched_last = total;
        Ok(total)
    }

    /// Reads one topic's new records into the cache. A first read, or one that turns out
    /// long, is a bulk load: the aggregate index is built once at its end.
    fn catch_up_topic(
        &self,
        state: &mut State,
        topic: &str,
        show_progress: bool,
    ) -> Result<u64, SourceError> {
        let State { reader, cache, .. } = state;
        let progress = self
            .progress
            .as_deref()
            .filter(|_| show_progress)
            .map(|f| f as &dyn Fn(&ReadProgress));
        let is_events = topic == self.url.topic;
        let partitions = reader.partitions(topic)?;
        let next = cache.next_offsets(topic)?;
        let mut bulk = next.is_empty();
        if bulk {
            cache.begin_bulk_load()?;
        }
        let mut stored = 0;
        let mapping = &self.mapping;
        let read = reader.read(topic, &partitions, &next, progress, &mut |batch| {
            stored += batch.len();
            if !bulk && stored > BULK_LOAD_AFTER {
                cache.begin_bulk_load()?;
                bulk = true;
            }
            let with_ids: Vec<_> = batch
                .into_iter()
                .map(|record| {
                    let id = if is_events {
                        mapping.aggregate_id(&record)
                    } else {
                        record.key_text().unwrap_or_else(|| NO_KEY.to_string())
                    };
                    (record, id)
                })
                .collect();
            cache.store(topic, &with_ids)
        });
        // Even after a failed read: what was stored is indexed.
        let indexed = if bulk { cache.end_bulk_load() } else { Ok(()) };
        let read = read?;
        indexed?;
        Ok(read)
    }

    fn topics(&self) -> Vec<&str> {
        let mut topics = vec![self.url.topic.as_str()];
        if let Some(snapshots) = &self.mapping.snapshots {
            topics.push(&snapshots.topic);
        }
        topics
    }

    /// One aggregate's events from the cache, in version order; with `after`, only those
    /// stored since that row of the cache (numbered on from the ones before).
    fn events(
        &self,
        state: &State,
        aggregate_id: &str,
        after: Option<i64>,
    ) -> Result<Vec<Event>, SourceError> {
        let topic = &self.url.topic;
        let records = state.cache.records_of(topic, aggregate_id, after)?;
        let before = match after {
            None => 0,
            Some(_) => state
                .cache
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
            events.sort_by_key(|e| e.version);
        }
        Ok(events)
    }

    /// The events of one aggregate after the one at `version` and `position`. Versions in
    /// topic order make this a keyset read of the cache; versions from the values are
    /// sorted first, which needs the aggregate's whole history.
    fn page(
        &self,
        state: &State,
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
            let events = self.events(state, aggregate_id, None)?;
            let after = |e: &Event| (e.version, e.position) > (version, *position);
            return Ok(events
                .into_iter()
                .filter(|e| after(e) && query.admits(e))
                .take(limit)
                .collect());
        }
        let records = state.cache.records_page(
            &self.url.topic,
            aggregate_id,
            (*partition, *offset),
            limit,
        )?;
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
        state: &State,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<(), SourceError> {
        let topic = &self.url.topic;
        let from = match &query.start {
            Start::Resume(after) => {
                return self.store_events_since(state, query, after.after(), sink)
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
        let mut batch = Vec::with_capacity(BATCH);
        let mut flow = ControlFlow::Continue(());
        state
            .cache
            .for_each_in_store_order(topic, from, &mut |id, record, ordinal| {
                let event = self.mapping.event(&record, id, ordinal);
                if query.admits(&event) {
                    batch.push(event);
                }
                if batch.len() == BATCH {
                    flow = sink(Chunk::Events(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(BATCH),
                    )));
                }
                flow
            })?;
        if flow.is_continue() && !batch.is_empty() {
            let _ = sink(Chunk::Events(batch));
        }
        Ok(())
    }

    /// The events stored since row `after` of the cache, in store order, each numbered on
    /// from what its aggregate held before (in partition order, as `order` versions are).
    fn store_events_since(
        &self,
        state: &State,
        query: &Query,
        after: i64,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<(), SourceError> {
        let topic = &self.url.topic;
        let fresh = state.cache.records_since(topic, after)?;
        let mut next: HashMap<&str, u64> = HashMap::new();
        for (id, _) in &fresh {
            *next.entry(id.as_str()).or_default() += 1;
        }
        for (id, new) in next.iter_mut() {
            *new = state
                .cache
                .aggregate_records(topic, id)?
                .saturating_sub(*new);
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
    fn times_from_values(&self, state: &State) -> Result<HashMap<String, TimeSpan>, SourceError> {
        let mut times: HashMap<String, TimeSpan> = HashMap::new();
        state
            .cache
            .for_each_record(&self.url.topic, &mut |id, record| {
                if let Some(t) = self.mapping.event(&record, id, 0).timestamp {
                    let slot = times.entry(id.to_string()).or_insert((t, t));
                    slot.0 = slot.0.min(t);
                    slot.1 = slot.1.max(t);
                }
            })?;
        Ok(times)
    }
}

impl EventSource for KafkaSource {
    fn describe(&self) -> String {
        self.url.to_string()
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let state = self.lock()?;
        let mut snapshot_counts: HashMap<String, u64> = HashMap::new();
        if let Some(snapshots) = &self.mapping.snapshots {
            for summary in state.cache.summaries(&snapshots.topic)? {
                snapshot_counts.insert(summary.aggregate_id, summary.records);
            }
        }
        let value_times = match self.mapping.timestamp {
            FieldSpec::Path(_) => Some(self.times_from_values(&state)?),
            _ => None,
        };
        let millis = |ms: Option<i64>| ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        let summaries = state.cache.summaries(&self.url.topic)?;
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

    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        // Everything is read under one lock: one consistent view of the cache. A resumed
        // read first fetches what arrived on the topic, so follow mode sees new records.
        let sink = &mut super::limited(query.limit, sink);
        let mut state = self.lock()?;
        if query.resume().is_some() {
            self.catch_up(&mut state, false)?;
        }
        let resume = Resume::at(state.cache.last_row()?);
        let Scope::Aggregate(aggregate_id) = &query.scope else {
            self.store_events(&state, query, sink)?;
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
            let events = self.page(&state, aggregate_id, version, &position, query)?;
            drop(state);
            if !events.is_empty() {
                let _ = sink(Chunk::Events(events));
            }
            return Ok(resume);
        }
        let after = query.resume().map(Resume::after);
        let events = self.events(&state, aggregate_id, after)?;
        let snapshots = match (&self.mapping.snapshots, query.snapshots && after.is_none()) {
            (Some(mapping), true) => state
                .cache
                .records_of(&mapping.topic, aggregate_id, None)?
                .iter()
                .filter_map(|record| self.mapping.snapshot(record, aggregate_id))
                .collect(),
            _ => Vec::new(),
        };
        drop(state);
        let mut events = events.into_iter().filter(|e| query.admits(e)).peekable();
        while events.peek().is_some() {
            let batch: Vec<Event> = events.by_ref().take(BATCH).collect();
            if sink(Chunk::Events(batch)).is_break() {
                return Ok(resume);
            }
        }
        if !snapshots.is_empty() {
            let _ = sink(Chunk::Snapshots(snapshots));
        }
        Ok(resume)
    }

    /// A record named as PARTITION:OFFSET, placed by its time among the topic's records.
    fn resolve_position(&self, input: PositionInput) -> Result<StorePosition, SourceError> {
        let PositionInput::Record { partition, offset } = input else {
            return Err(SourceError::Position(
                "a Kafka topic names its records as PARTITION:OFFSET, like 0:1234".into(),
            ));
        };
        let state = self.lock()?;
        match state
            .cache
            .record_time(&self.url.topic, partition, offset)?
        {
            Some(time) => Ok(StorePosition::Record {
                timestamp_ms: time.unwrap_or(i64::MIN),
                partition,
                offset,
            }),
            None => Err(SourceError::Position(format!(
                "topic {:?} has no record at {partition}:{offset} (as far as rewind has read it)",
                self.url.topic
            ))),
        }
    }
}

/// librdkafka settings: the user's properties, then the ones that keep rewind read-only.
fn client_config(url: &KafkaUrl, options: &KafkaOptions) -> ClientConfig {
    let mut config = ClientConfig::new();
    let timeout_ms = options
        .timeout
        .as_millis()
        .clamp(1000, 3_600_000)
        .to_string();
    config
        .set("client.id", "rewind")
        .set("socket.connection.setup.timeout.ms", &timeout_ms)
        .set("log.connection.close", "false")
        // Reaching the end of a partition costs one fetch wait; keep it short.
        .set("fetch.wait.max.ms", "100");
    let given = |key: &str| options.properties.iter().any(|(k, _)| k == key);
    if let Some(username) = &url.username {
        config.set("sasl.username", username);
        if !given("security.protocol") {
            config.set("security.protocol", "SASL_PLAINTEXT");
        }
        if !given("sasl.mechanisms") && !given("sasl.mechanism") {
            config.set("sasl.mechanisms", "PLAIN");
        }
    }
    if let Some(password) = &url.password {
        config.set("sasl.password", password);
    }
    for (key, value) in &options.properties {
        config.set(key, value);
    }
    config
        .set("bootstrap.servers", url.bootstrap_servers())
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("allow.auto.create.topics", "false")
        .set("enable.partition.eof", "true")
        // A cached offset that retention has since deleted restarts at the oldest record.
        .set("auto.offset.reset", "earliest")
        // Debug lines only when asked for with `-X debug=...`.
        .set_log_level(if given("debug") {
            RDKafkaLogLevel::Debug
        } else {
            RDKafkaLogLevel::Warning
        });
    config
}

fn open_cache(url: &KafkaUrl, mode: &CacheMode) -> Result<(Cache, Option<PathBuf>), SourceError> {
    let dir = match mode {
        CacheMode::Off => return Ok((Cache::in_memory()?, None)),
        CacheMode::Dir(dir) => dir.clone(),
        CacheMode::Default => match cache::default_dir() {
            Some(dir) => dir,
            // No home to keep a cache in: read afresh each time rather than fail.
            None => return Ok((Cache::in_memory()?, None)),
        },
    };
    let file = cache::file_for(&dir, &url.brokers, &url.topic);
    Ok((Cache::open(&file)?, Some(file)))
}

fn unknown_topic(url: &KafkaUrl, topic: &str, mut names: Vec<&str>) -> SourceError {
    // Internal topics (`__consumer_offsets`) are noise here.
    names.retain(|name| !name.starts_with("__"));
    names.sort_unstable();
    let listed = if names.is_empty() {
        "it has no topics".to_string()
    } else if names.len() > LISTED_TOPICS {
        format!(
            "topics: {} and {} more",
            names[..LISTED_TOPICS].join(", "),
            names.len() - LISTED_TOPICS
        )
    } else {
        format!("topics: {}", names.join(", "))
    };
    SourceError::open(format!(
        "no topic {topic:?} in the Kafka cluster at {} ({listed})",
        url.bootstrap_servers()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_topic_lists_the_topics_there_are() {
        let url = KafkaUrl::parse("kafka://h:1/ordrs").unwrap();
        let err = unknown_topic(&url, "ordrs", vec!["orders", "__consumer_offsets", "audit"]);
        assert_eq!(
            err.to_string(),
            "no topic \"ordrs\" in the Kafka cluster at h:1 (topics: audit, orders)"
        );
    }

    #[test]
    fn client_config_keeps_rewind_read_only_whatever_the_user_says() {
        let url = KafkaUrl::parse("kafka://u:p@h:1/t").unwrap();
        let options = KafkaOptions {
            properties: vec![("enable.auto.commit".into(), "true".into())],
            ..KafkaOptions::default()
        };
        let config = client_config(&url, &options);
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(config.get("allow.auto.create.topics"), Some("false"));
        assert_eq!(config.get("group.id"), None);
        assert_eq!(config.get("sasl.password"), Some("p"));
        assert_eq!(config.get("security.protocol"), Some("SASL_PLAINTEXT"));
    }
}
