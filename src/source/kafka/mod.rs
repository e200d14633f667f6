//! Kafka topics keyed by aggregate id, read into a local cache and replayed from there.

mod cache;
mod cache_reader;
mod cached;
mod mapping;
mod options;
mod reader;
mod record;
mod simple;
mod sorted;
mod url;

pub use cache::default_dir as default_cache_dir;
pub use cache_reader::KafkaCacheReader;
pub use mapping::{FieldSpec, KafkaMapping, SnapshotMapping, FIELDS, NO_TYPE, TOMBSTONE};
pub use options::{
    is_secret_key, parse_property, read_properties_file, CacheMode, KafkaConfig, KafkaOptions,
    ProgressFn, Secrets,
};
pub use reader::ReadProgress;
pub use record::{RawRecord, NO_KEY};
pub use url::{redact, KafkaUrl};

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};

use self::cache::Cache;
use self::cached::CachedTopic;
use self::reader::Reader;
use super::{EventSource, Query, Resume, SourceError};
use crate::model::{AggregateSummary, Chunk, PositionInput, Snapshot, StorePosition};
/// Records one catch-up reads before it turns into a bulk load (see `catch_up_topic`).
const BULK_LOAD_AFTER: usize = 200_000;
/// Topics listed by name in an unknown-topic error before "and N more".
const LISTED_TOPICS: usize = 30;

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
    /// How records become events: shared with the cache's readers.
    topic: CachedTopic,
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
            topic: CachedTopic {
                topic: url.topic.clone(),
                mapping: options.mapping,
                sorted: Default::default(),
            },
            url,
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
        if !self.topic.indexed_by_id_rule(&state.cache)? {
            let mapping = &self.topic.mapping;
            state
                .cache
                .reindex(&self.url.topic, &|record| mapping.aggregate_id(record))?;
            let rule = mapping.aggregate_id.to_string();
            state.cache.set_meta(&self.topic.id_rule_key(), &rule)?;
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
        // Begun at the first record, not before: a topic with nothing cached yet that has
        // nothing new either (an empty snapshots topic) would otherwise drop and rebuild the
        // index of every record at each follow poll, under the readers' feet.
        let first_read = next.is_empty();
        let mut bulk = false;
        let mut stored = 0;
        let mapping = &self.topic.mapping;
        let read = reader.read(topic, &partitions, &next, progress, &mut |batch| {
            stored += batch.len();
            if !bulk && (first_read || stored > BULK_LOAD_AFTER) {
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
        if let Some(snapshots) = &self.topic.mapping.snapshots {
            topics.push(&snapshots.topic);
        }
        topics
    }
}

impl EventSource for KafkaSource {
    fn describe(&self) -> String {
        self.url.to_string()
    }

    /// A reader of the cache file alone (see `cache_reader`); `None` when the cache lives
    /// in this source's memory (`--no-cache`, or no home to keep it in): a file there would
    /// break the promise to keep nothing on disk, and that memory already holds the topic.
    fn reader(&self) -> Option<Box<dyn EventSource>> {
        let file = self.cache_file.as_deref()?;
        let reader = KafkaCacheReader::open(file, self.url.to_string(), self.topic.clone());
        Some(Box::new(reader.ok()?))
    }

    /// The cache file and SQLite's companions of it: an export must not write over them.
    fn files(&self) -> Vec<PathBuf> {
        self.cache_file
            .as_deref()
            .map(crate::source::sqlite::store_files)
            .unwrap_or_default()
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        let state = self.lock()?;
        self.topic.aggregates(&state.cache)
    }

    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        // Everything is read under one lock: one consistent view of the cache. A resumed
        // read first fetches what arrived on the topic, so follow mode sees new records.
        let mut state = self.lock()?;
        if query.resume().is_some() {
            self.catch_up(&mut state, false)?;
        }
        self.topic.query(LockedCache(state), query, sink)
    }

    fn snapshot(&self, aggregate_id: &str, key: u64) -> Result<Option<Snapshot>, SourceError> {
        let state = self.lock()?;
        self.topic.snapshot(&state.cache, aggregate_id, key)
    }

    fn resolve_position(&self, input: PositionInput) -> Result<StorePosition, SourceError> {
        let state = self.lock()?;
        self.topic.resolve_position(&state.cache, input)
    }
}

/// The cache, held under the source's lock for as long as a query reads it.
struct LockedCache<'a>(MutexGuard<'a, State>);

impl std::ops::Deref for LockedCache<'_> {
    type Target = Cache;

    fn deref(&self) -> &Cache {
        &self.0.cache
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
