//! A second reader of a topic's cache file, for the UI to read pages of payloads back while
//! the source loads (see `EventSource::reader`). It reads the cache alone: no connection to
//! the brokers, and a read-only connection to the file, so it can change neither. Catching
//! up stays the source's job; this reader sees each catch-up once it is committed, since
//! every read it makes starts from a fresh WAL snapshot.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::cache::Cache;
use super::cached::CachedTopic;
use crate::model::{AggregateSummary, Chunk, PositionInput, Snapshot, StorePosition};
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

    fn files(&self) -> Vec<PathBuf> {
        crate::source::sqlite::store_files(&self.file)
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

    fn snapshot(&self, aggregate_id: &str, key: u64) -> Result<Option<Snapshot>, SourceError> {
        let cache = self.cache.snapshot()?;
        self.topic.snapshot(&cache, aggregate_id, key)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::kafka::{FieldSpec, KafkaMapping, RawRecord};

    fn record(partition: i32, offset: i64, balance: i64) -> (RawRecord, String) {
        let record = RawRecord {
            partition,
            offset,
            key: Some(b"a".to_vec()),
            value: Some(format!(r#"{{"balance":{balance}}}"#).into_bytes()),
            timestamp_ms: Some(1000 + offset),
            headers: Vec::new(),
        };
        (record, "a".to_string())
    }

    /// A cache file as a source leaves it: records of `a`, indexed by the default id rule.
    fn cache_file(path: &Path, topic: &CachedTopic) -> Cache {
        let mut cache = Cache::open(path).unwrap();
        cache
            .store("t", &[record(0, 0, 1), record(1, 0, 2), record(0, 1, 3)])
            .unwrap();
        let rule = topic.mapping.aggregate_id.to_string();
        cache.set_meta(&topic.id_rule_key(), &rule).unwrap();
        cache
    }

    fn topic(mapping: KafkaMapping) -> CachedTopic {
        CachedTopic {
            topic: "t".into(),
            mapping,
            sorted: Default::default(),
        }
    }

    #[test]
    fn pages_come_from_the_file_in_the_sources_versions_and_see_later_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let topic = topic(KafkaMapping::default());
        let mut writer = cache_file(&path, &topic);
        let reader = KafkaCacheReader::open(&path, "kafka://h:1/t".into(), topic).unwrap();
        let history = reader.history("a").unwrap().events;
        // Partition order: 0:0, 0:1, then 1:0.
        let balances: Vec<_> = history
            .iter()
            .map(|e| e.data.json().unwrap()["balance"].as_i64().unwrap())
            .collect();
        assert_eq!(balances, vec![1, 3, 2]);
        assert_eq!(history[2].version, 3);

        writer.store("t", &[record(1, 1, 4)]).unwrap();
        let after = Some((history[1].version, history[1].position));
        let mut page = Vec::new();
        reader
            .query(&Query::page("a", after, 10), &mut |chunk| {
                if let Chunk::Events(events) = chunk {
                    page.extend(events);
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(
            page.len(),
            2,
            "the record committed after the reader opened"
        );
        assert_eq!(page[0], history[2]);
        assert_eq!(page[1].version, 4);
        assert_eq!(reader.aggregates().unwrap()[0].events, 4);
    }

    /// An aggregate's history streams from the cache in batches of at most 16 MiB of
    /// payloads, numbered in topic order, rather than read whole and then cut up.
    #[test]
    fn a_history_streams_in_batches_bounded_by_their_payloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let topic = topic(KafkaMapping::default());
        let mut writer = cache_file(&path, &topic);
        let pad = "x".repeat(1 << 20);
        let big: Vec<(RawRecord, String)> = (2..42)
            .map(|offset| {
                let (mut record, id) = record(0, offset, offset);
                record.value =
                    Some(format!(r#"{{"balance":{offset},"pad":"{pad}"}}"#).into_bytes());
                (record, id)
            })
            .collect();
        writer.store("t", &big).unwrap();
        let reader = KafkaCacheReader::open(&path, "kafka://h:1/t".into(), topic).unwrap();
        let mut chunks = Vec::new();
        reader
            .query(&Query::aggregate("a"), &mut |chunk| {
                if let Chunk::Events(events) = chunk {
                    chunks.push(events.iter().map(|e| e.version).collect::<Vec<_>>());
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert!(chunks.len() >= 3, "{} chunks", chunks.len());
        // 16 payloads of 1 MiB fill a batch (the first also holds the two small records).
        assert!(chunks.iter().all(|c| c.len() <= 18), "{chunks:?}");
        let versions: Vec<u64> = chunks.concat();
        assert_eq!(versions, (1..=43).collect::<Vec<_>>());
    }

    /// Versions from the values: the history streams in version order through a sorted
    /// index, pages are read from it, and a record stored since is seen.
    #[test]
    fn versions_from_the_values_stream_and_page_in_version_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let by_value = topic(KafkaMapping {
            version: FieldSpec::Path(crate::diff::JsonPath::parse(".v").unwrap()),
            ..KafkaMapping::default()
        });
        let mut writer = cache_file(&path, &by_value);
        let shuffled: Vec<(RawRecord, String)> = [(1, 10, 7), (0, 10, 5), (1, 11, 4), (0, 11, 6)]
            .into_iter()
            .map(|(partition, offset, v)| {
                let (mut record, id) = record(partition, offset, 0);
                record.value = Some(format!(r#"{{"v":{v}}}"#).into_bytes());
                (record, id)
            })
            .collect();
        writer.store("t", &shuffled).unwrap();
        let reader = KafkaCacheReader::open(&path, "kafka://h:1/t".into(), by_value).unwrap();
        let history = reader.history("a").unwrap().events;
        let versions: Vec<u64> = history.iter().map(|e| e.version).collect();
        // The first three records have no .v: their place in topic order stands in (1, 2
        // and 5, for 1:0 comes after partition 0's four). Equal versions go by position.
        assert_eq!(versions, [1, 2, 4, 5, 5, 6, 7]);
        assert!(history[3].position < history[4].position);
        let page = |after: &crate::model::Event, limit| {
            let mut page = Vec::new();
            reader
                .query(
                    &Query::page("a", Some((after.version, after.position)), limit),
                    &mut |chunk| {
                        if let Chunk::Events(events) = chunk {
                            page.extend(events.into_iter().map(|e| e.version));
                        }
                        ControlFlow::Continue(())
                    },
                )
                .unwrap();
            page
        };
        assert_eq!(page(&history[2], 2), [5, 5]);
        assert_eq!(page(&history[3], 2), [5, 6]);
        writer
            .store(
                "t",
                &[{
                    let (mut record, id) = record(0, 12, 0);
                    record.value = Some(br#"{"v":8}"#.to_vec());
                    (record, id)
                }],
            )
            .unwrap();
        assert_eq!(page(&history[6], 10), [8], "a record stored since is seen");
    }

    #[test]
    fn a_file_indexed_by_another_id_rule_has_no_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let _writer = cache_file(&path, &topic(KafkaMapping::default()));
        let by_header = topic(KafkaMapping {
            aggregate_id: FieldSpec::Header("id".into()),
            ..KafkaMapping::default()
        });
        let err = KafkaCacheReader::open(&path, "kafka://h:1/t".into(), by_header)
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("another aggregate id rule"),
            "{err}"
        );
    }
}
