//! The local copy of the records rewind has read, so reopening a topic reads only what is new.
//!
//! One SQLite file per cluster and topic, under the user's cache directory. It is rewind's
//! own file; the topic itself is never written to.
//!
//! The cache keeps records raw (key, value, headers, timestamp) and the mapping is applied
//! when events are read from it: changing `--type-from` or `--data-from` needs no re-read of
//! the topic. Only the aggregate id is derived at write time, because it is what the cache
//! is indexed by; the id rule is recorded, and a different rule re-derives the ids from the
//! cached records (again without touching Kafka).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::record::{decode_headers, encode_headers, RawRecord};
use crate::source::SourceError;

/// Bumped when the layout changes; an older file is emptied and refilled.
const SCHEMA_VERSION: &str = "1";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    key BLOB,
    value BLOB,
    timestamp_ms INTEGER,
    headers TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_aggregate
    ON records (topic, aggregate_id, partition, offset);
CREATE TABLE IF NOT EXISTS positions (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
";

/// Per-aggregate numbers the cache can answer without decoding values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedSummary {
    pub aggregate_id: String,
    pub records: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

pub struct Cache {
    conn: Connection,
    /// Where the cache lives, for messages.
    location: String,
}

impl Cache {
    pub fn open(path: &Path) -> Result<Cache, SourceError> {
        let location = path.display().to_string();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|err| {
                SourceError::Open(format!(
                    "cannot create the cache directory {}: {err}; choose another with --cache-dir or use --no-cache",
                    dir.display()
                ))
            })?;
        }
        let conn = Connection::open(path).map_err(|err| cache_error(&location, err, "open"))?;
        Cache::init(conn, location)
    }

    /// A cache that lives as long as the source: `--no-cache`.
    pub fn in_memory() -> Result<Cache, SourceError> {
        let conn =
            Connection::open_in_memory().map_err(|err| cache_error("memory", err, "open"))?;
        Cache::init(conn, "an in-memory cache".into())
    }

    fn init(conn: Connection, location: String) -> Result<Cache, SourceError> {
        let fail = |err| cache_error(&location, err, "prepare");
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        // WAL lets a second rewind read the cache while this one appends to it.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        conn.execute_batch(SCHEMA).map_err(fail)?;
        let cache = Cache { conn, location };
        if cache.meta("schema")?.as_deref() != Some(SCHEMA_VERSION) {
            cache
                .conn
                .execute_batch("DELETE FROM records; DELETE FROM positions; DELETE FROM meta;")
                .map_err(|err| cache.error(err, "reset"))?;
            cache.set_meta("schema", SCHEMA_VERSION)?;
        }
        Ok(cache)
    }

    fn error(&self, err: rusqlite::Error, doing: &str) -> SourceError {
        cache_error(&self.location, err, doing)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, SourceError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|err| self.error(err, "read"))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), SourceError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                [key, value],
            )
            .map(|_| ())
            .map_err(|err| self.error(err, "write"))
    }

    /// The offset to read next in each partition already read from.
    pub fn next_offsets(&self, topic: &str) -> Result<HashMap<i32, i64>, SourceError> {
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT partition, next_offset FROM positions WHERE topic = ?1")
            .map_err(fail)?;
        let rows = stmt
            .query_map([topic], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// Stores records with their aggregate ids and moves each partition's next offset past
    /// them, in one transaction: the cache never holds records its positions do not cover.
    pub fn store(
        &mut self,
        topic: &str,
        records: &[(RawRecord, String)],
    ) -> Result<(), SourceError> {
        let location = self.location.clone();
        let fail = |err| cache_error(&location, err, "write");
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO records
                     (topic, partition, offset, key, value, timestamp_ms, headers, aggregate_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(fail)?;
            let mut next: HashMap<i32, i64> = HashMap::new();
            for (record, aggregate_id) in records {
                insert
                    .execute(params![
                        topic,
                        record.partition,
                        record.offset,
                        record.key,
                        record.value,
                        record.timestamp_ms,
                        encode_headers(&record.headers),
                        aggregate_id,
                    ])
                    .map_err(fail)?;
                let slot = next.entry(record.partition).or_insert(0);
                *slot = (*slot).max(record.offset + 1);
            }
            let mut position = tx
                .prepare_cached(
                    "INSERT INTO positions (topic, partition, next_offset) VALUES (?1, ?2, ?3)
                     ON CONFLICT (topic, partition)
                     DO UPDATE SET next_offset = MAX(next_offset, excluded.next_offset)",
                )
                .map_err(fail)?;
            for (partition, offset) in next {
                position
                    .execute(params![topic, partition, offset])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// Per aggregate: how many records, and the first and last record timestamps.
    pub fn summaries(&self, topic: &str) -> Result<Vec<CachedSummary>, SourceError> {
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT aggregate_id, COUNT(*), MIN(timestamp_ms), MAX(timestamp_ms)
                 FROM records WHERE topic = ?1 GROUP BY aggregate_id ORDER BY aggregate_id",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([topic], |row| {
                Ok(CachedSummary {
                    aggregate_id: row.get(0)?,
                    records: row.get::<_, i64>(1)?.max(0) as u64,
                    first_ms: row.get(2)?,
                    last_ms: row.get(3)?,
                })
            })
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// One aggregate's records in partition order.
    pub fn records_of(
        &self,
        topic: &str,
        aggregate_id: &str,
    ) -> Result<Vec<RawRecord>, SourceError> {
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT partition, offset, key, value, timestamp_ms, headers FROM records
                 WHERE topic = ?1 AND aggregate_id = ?2 ORDER BY partition, offset",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([topic, aggregate_id], record_from_row)
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// Every record of a topic with its aggregate id, grouped by aggregate, in partition order.
    pub fn for_each_record(
        &self,
        topic: &str,
        visit: &mut dyn FnMut(&str, RawRecord),
    ) -> Result<(), SourceError> {
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT partition, offset, key, value, timestamp_ms, headers, aggregate_id
                 FROM records WHERE topic = ?1 ORDER BY aggregate_id, partition, offset",
            )
            .map_err(fail)?;
        let mut rows = stmt.query([topic]).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let id: String = row.get(6).map_err(fail)?;
            visit(&id, record_from_row(row).map_err(fail)?);
        }
        Ok(())
    }

    /// Re-derives every record's aggregate id, after the id rule changed.
    pub fn reindex(
        &mut self,
        topic: &str,
        aggregate_id: &dyn Fn(&RawRecord) -> String,
    ) -> Result<(), SourceError> {
        let mut updates = Vec::new();
        self.for_each_record(topic, &mut |old, record| {
            let new = aggregate_id(&record);
            if new != old {
                updates.push((record.partition, record.offset, new));
            }
        })?;
        let location = self.location.clone();
        let fail = |err| cache_error(&location, err, "write");
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut update = tx
                .prepare_cached(
                    "UPDATE records SET aggregate_id = ?4
                     WHERE topic = ?1 AND partition = ?2 AND offset = ?3",
                )
                .map_err(fail)?;
            for (partition, offset, id) in updates {
                update
                    .execute(params![topic, partition, offset, id])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    pub fn record_count(&self, topic: &str) -> Result<u64, SourceError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM records WHERE topic = ?1",
                [topic],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|err| self.error(err, "read"))
    }
}

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        partition: row.get(0)?,
        offset: row.get(1)?,
        key: row.get(2)?,
        value: row.get(3)?,
        timestamp_ms: row.get(4)?,
        headers: decode_headers(&row.get::<_, String>(5)?),
    })
}

fn cache_error(location: &str, err: rusqlite::Error, doing: &str) -> SourceError {
    SourceError::Read(format!(
        "could not {doing} the local cache {location}: {err}; delete it, choose another with --cache-dir, or use --no-cache"
    ))
}

/// `$XDG_CACHE_HOME/rewind`, else `~/.cache/rewind`.
pub fn default_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from_env("XDG_CACHE_HOME")
        .or_else(|| from_env("HOME").map(|home| home.join(".cache")))
        .map(|dir| dir.join("rewind"))
}

/// The cache file of one topic: readable names plus a hash, so `a.b` and `a_b` never share.
pub fn file_for(dir: &Path, brokers: &[String], topic: &str) -> PathBuf {
    let mut sorted = brokers.to_vec();
    sorted.sort();
    let cluster = sorted.join(",");
    let hash = fnv1a(format!("{cluster}/{topic}").as_bytes());
    let readable = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .take(60)
            .collect()
    };
    dir.join(format!(
        "kafka-{}-{}-{hash:016x}.sqlite",
        readable(&sorted[0]),
        readable(topic)
    ))
}

/// FNV-1a: stable across Rust versions, unlike `DefaultHasher`, so file names do not move.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: i32, offset: i64, key: &str) -> RawRecord {
        RawRecord {
            partition,
            offset,
            key: Some(key.as_bytes().to_vec()),
            value: Some(b"{}".to_vec()),
            timestamp_ms: Some(1000 + offset),
            headers: vec![("type".into(), Some(b"T".to_vec()))],
        }
    }

    #[test]
    fn stores_records_and_positions_together() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/c.sqlite");
        let mut cache = Cache::open(&path).unwrap();
        let records = vec![
            (record(0, 0, "a"), "a".to_string()),
            (record(0, 1, "b"), "b".to_string()),
            (record(1, 5, "a"), "a".to_string()),
        ];
        cache.store("t", &records).unwrap();
        drop(cache);

        let cache = Cache::open(&path).unwrap();
        assert_eq!(
            cache.next_offsets("t").unwrap(),
            HashMap::from([(0, 2), (1, 6)])
        );
        let a = cache.records_of("t", "a").unwrap();
        assert_eq!(a, vec![record(0, 0, "a"), record(1, 5, "a")]);
        let summaries = cache.summaries("t").unwrap();
        assert_eq!(summaries[0].records, 2);
        assert_eq!(summaries[0].first_ms, Some(1000));
        assert_eq!(summaries[0].last_ms, Some(1005));
        assert!(cache.next_offsets("other").unwrap().is_empty());
    }

    #[test]
    fn reindex_moves_records_to_their_new_ids() {
        let mut cache = Cache::in_memory().unwrap();
        cache
            .store("t", &[(record(0, 0, "a"), "a".to_string())])
            .unwrap();
        cache.reindex("t", &|_| "z".to_string()).unwrap();
        assert!(cache.records_of("t", "a").unwrap().is_empty());
        assert_eq!(cache.records_of("t", "z").unwrap().len(), 1);
    }

    #[test]
    fn file_names_are_per_cluster_and_topic() {
        let dir = Path::new("/c");
        let one = file_for(dir, &["b:1".into(), "a:1".into()], "orders");
        let same = file_for(dir, &["a:1".into(), "b:1".into()], "orders");
        let other = file_for(dir, &["a:1".into()], "orders");
        assert_eq!(one, same);
        assert_ne!(one, other);
        assert_ne!(
            file_for(dir, &["a:1".into()], "a.b"),
            file_for(dir, &["a:1".into()], "a_b")
        );
        assert!(one.to_string_lossy().contains("orders"));
    }
}
