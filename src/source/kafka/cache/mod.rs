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

mod read;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::record::{encode_headers, RawRecord};
use crate::source::SourceError;

/// Bumped when the layout changes; an older file is emptied and refilled.
const SCHEMA_VERSION: &str = "2";

/// Records are appended to a rowid table (the cheapest insert SQLite has); topics are
/// numbered so that rows and index entries do not repeat their names. Per-aggregate counts
/// and times are kept up to date in `aggregates` as records are stored, so listing the
/// aggregates reads one row per aggregate instead of grouping every record.
const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE topics (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE records (
    topic INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    aggregate_id TEXT NOT NULL,
    timestamp_ms INTEGER,
    key BLOB,
    value BLOB,
    headers TEXT
);
CREATE UNIQUE INDEX records_by_position ON records (topic, partition, offset);
CREATE TABLE aggregates (
    topic INTEGER NOT NULL,
    aggregate_id TEXT NOT NULL,
    records INTEGER NOT NULL,
    first_ms INTEGER,
    last_ms INTEGER,
    PRIMARY KEY (topic, aggregate_id)
) WITHOUT ROWID;
CREATE TABLE positions (
    topic INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
";

/// The index that finds one aggregate's records. A bulk load drops it and builds it again
/// at the end, which is several times faster than keeping it up to date record by record
/// when records of many aggregates are interleaved; a file left without it (a bulk load
/// interrupted) gets it back when it is next opened.
const AGGREGATE_INDEX: &str = "CREATE INDEX IF NOT EXISTS records_by_aggregate
    ON records (topic, aggregate_id, partition, offset)";

/// The index that reads a topic in store order; made on first use (see
/// `Cache::ensure_time_index`), dropped and rebuilt around bulk loads like the other.
const TIME_INDEX: &str = "CREATE INDEX IF NOT EXISTS records_by_time
    ON records (topic, timestamp_ms, partition, offset)";

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
    /// Topic names to their numbers in the file, as far as known: a topic first stored
    /// by another connection is looked up when it is asked for.
    topic_ids: RefCell<HashMap<String, i64>>,
    /// Whether the store-order index existed when a bulk load dropped it.
    time_index_before_bulk: bool,
    /// `false` for a reader's connection, which must never write (not even an index).
    writable: bool,
}

impl Cache {
    pub fn open(path: &Path) -> Result<Cache, SourceError> {
        let location = path.display().to_string();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|err| {
                SourceError::open_with(
                    format!(
                        "cannot create the cache directory {} (choose another with --cache-dir or use --no-cache)",
                        dir.display()
                    ),
                    err,
                )
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

    /// A second connection to a cache file another [`Cache`] keeps filling: opened
    /// read-only, so it can neither change the file nor lay it out anew. Reads see what
    /// the writer committed before each one starts (WAL: every read takes a fresh snapshot).
    pub fn open_read_only(path: &Path) -> Result<Cache, SourceError> {
        let location = path.display().to_string();
        let fail = |err| cache_error(&location, err, "open");
        // NO_MUTEX: a reader lives on one thread at a time.
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        // Refused writes are a second lock on the same door, should a statement try one.
        conn.pragma_update(None, "query_only", true).map_err(fail)?;
        conn.pragma_update(None, "cache_size", "-16384")
            .map_err(fail)?;
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| {
                row.get(0)
            })
            .optional()
            .map_err(fail)?;
        if version.as_deref() != Some(SCHEMA_VERSION) {
            return Err(SourceError::open(format!(
                "the local cache {location} is not laid out as this rewind lays it out"
            )));
        }
        Ok(Cache {
            conn,
            location,
            topic_ids: RefCell::default(),
            time_index_before_bulk: false,
            writable: false,
        })
    }

    fn init(conn: Connection, location: String) -> Result<Cache, SourceError> {
        let fail = |err| cache_error(&location, err, "prepare");
        conn.busy_timeout(Duration::from_secs(10)).map_err(fail)?;
        // WAL lets a second rewind read the cache while this one appends to it.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        // The cache is rewind's own copy of what the brokers hold, not worth an fsync per
        // checkpoint: an OS crash mid-write may spoil it, and the error then says to delete it.
        conn.pragma_update(None, "synchronous", "OFF")
            .map_err(fail)?;
        conn.pragma_update(None, "cache_size", "-16384")
            .map_err(fail)?;
        let mut cache = Cache {
            conn,
            location,
            topic_ids: RefCell::default(),
            time_index_before_bulk: false,
            writable: true,
        };
        cache.prepare_layout()?;
        Ok(cache)
    }

    /// Creates the tables, first dropping those of another layout (a file from another
    /// rewind version: it is only a cache, so it is refilled).
    fn prepare_layout(&mut self) -> Result<(), SourceError> {
        let location = self.location.clone();
        let fail = |err| cache_error(&location, err, "prepare");
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        // No meta table yet is no version either.
        let version: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |row| {
                row.get(0)
            })
            .ok();
        if version.as_deref() != Some(SCHEMA_VERSION) {
            tx.execute_batch(
                "DROP TABLE IF EXISTS records; DROP TABLE IF EXISTS positions;
                 DROP TABLE IF EXISTS aggregates; DROP TABLE IF EXISTS topics;
                 DROP TABLE IF EXISTS meta;",
            )
            .map_err(fail)?;
            tx.execute_batch(SCHEMA).map_err(fail)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                [SCHEMA_VERSION],
            )
            .map_err(fail)?;
        }
        tx.execute_batch(AGGREGATE_INDEX).map_err(fail)?;
        tx.commit().map_err(fail)
    }

    fn error(&self, err: rusqlite::Error, doing: &str) -> SourceError {
        cache_error(&self.location, err, doing)
    }

    /// The topic's number in the file, if anything of it was ever stored.
    fn topic_id(&self, topic: &str) -> Result<Option<i64>, SourceError> {
        if let Some(id) = self.topic_ids.borrow().get(topic) {
            return Ok(Some(*id));
        }
        let id = self
            .conn
            .query_row("SELECT id FROM topics WHERE name = ?1", [topic], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|err| self.error(err, "read"))?;
        if let Some(id) = id {
            self.topic_ids.borrow_mut().insert(topic.to_string(), id);
        }
        Ok(id)
    }

    /// The topic's number in the file, numbering it if it is new.
    fn topic_id_or_new(&mut self, topic: &str) -> Result<i64, SourceError> {
        if let Some(id) = self.topic_id(topic)? {
            return Ok(id);
        }
        let id = self
            .conn
            .query_row(
                "INSERT INTO topics (name) VALUES (?1)
                 ON CONFLICT (name) DO UPDATE SET name = name RETURNING id",
                [topic],
                |row| row.get(0),
            )
            .map_err(|err| self.error(err, "write"))?;
        self.topic_ids.borrow_mut().insert(topic.to_string(), id);
        Ok(id)
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
        let Some(topic) = self.topic_id(topic)? else {
            return Ok(HashMap::new());
        };
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

    /// Stops maintaining the aggregate index until [`Cache::end_bulk_load`]: for reading
    /// many records at once.
    pub fn begin_bulk_load(&mut self) -> Result<(), SourceError> {
        self.time_index_before_bulk = self.has_index("records_by_time")?;
        self.conn
            .execute_batch(
                "DROP INDEX IF EXISTS records_by_aggregate; DROP INDEX IF EXISTS records_by_time",
            )
            .map_err(|err| self.error(err, "write"))
    }

    fn has_index(&self, name: &str) -> Result<bool, SourceError> {
        self.conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(|err| self.error(err, "read"))
    }

    /// Builds the aggregate index again after a bulk load.
    pub fn end_bulk_load(&self) -> Result<(), SourceError> {
        self.conn
            .execute_batch(AGGREGATE_INDEX)
            .map_err(|err| self.error(err, "index"))?;
        if self.time_index_before_bulk {
            self.ensure_time_index()?;
        }
        Ok(())
    }

    /// Stores records with their aggregate ids, adds them to their aggregates' summaries
    /// and moves each partition's next offset past them, in one transaction: the cache
    /// never holds records its positions and summaries do not cover. A record whose position
    /// is already cached is kept as it was.
    pub fn store(
        &mut self,
        topic: &str,
        records: &[(RawRecord, String)],
    ) -> Result<(), SourceError> {
        let topic = self.topic_id_or_new(topic)?;
        let location = self.location.clone();
        let fail = |err| cache_error(&location, err, "write");
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO records
                     (topic, partition, offset, aggregate_id, timestamp_ms, key, value, headers)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(fail)?;
            let mut next: HashMap<i32, i64> = HashMap::new();
            let mut added: HashMap<&str, Added> = HashMap::new();
            for (record, aggregate_id) in records {
                let headers = (!record.headers.is_empty()).then(|| encode_headers(&record.headers));
                let inserted = insert
                    .execute(params![
                        topic,
                        record.partition,
                        record.offset,
                        aggregate_id,
                        record.timestamp_ms,
                        record.key,
                        record.value,
                        headers,
                    ])
                    .map_err(fail)?;
                if inserted > 0 {
                    added
                        .entry(aggregate_id.as_str())
                        .or_default()
                        .add(record.timestamp_ms);
                }
                let slot = next.entry(record.partition).or_insert(0);
                *slot = (*slot).max(record.offset + 1);
            }
            let mut summary = tx
                .prepare_cached(
                    "INSERT INTO aggregates (topic, aggregate_id, records, first_ms, last_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (topic, aggregate_id) DO UPDATE SET
                        records = records + excluded.records,
                        first_ms = CASE WHEN first_ms IS NULL OR excluded.first_ms < first_ms
                            THEN excluded.first_ms ELSE first_ms END,
                        last_ms = CASE WHEN last_ms IS NULL OR excluded.last_ms > last_ms
                            THEN excluded.last_ms ELSE last_ms END",
                )
                .map_err(fail)?;
            for (aggregate_id, added) in added {
                summary
                    .execute(params![
                        topic,
                        aggregate_id,
                        added.records as i64,
                        added.first_ms,
                        added.last_ms
                    ])
                    .map_err(fail)?;
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

    /// The store-order index, built the first time the whole topic is read in store order
    /// (it costs the cache fill nothing until then) and kept up to date from then on.
    /// A reader does without it (SQLite then sorts): it must not write the file.
    fn ensure_time_index(&self) -> Result<(), SourceError> {
        if !self.writable {
            return Ok(());
        }
        self.conn
            .execute_batch(TIME_INDEX)
            .map_err(|err| self.error(err, "index"))
    }

    /// Re-derives every record's aggregate id, after the id rule changed, and the
    /// aggregates' summaries with them.
    pub fn reindex(
        &mut self,
        topic: &str,
        aggregate_id: &dyn Fn(&RawRecord) -> String,
    ) -> Result<(), SourceError> {
        let Some(topic_id) = self.topic_id(topic)? else {
            return Ok(());
        };
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
                    .execute(params![topic_id, partition, offset, id])
                    .map_err(fail)?;
            }
            tx.execute("DELETE FROM aggregates WHERE topic = ?1", [topic_id])
                .map_err(fail)?;
            tx.execute(
                "INSERT INTO aggregates (topic, aggregate_id, records, first_ms, last_ms)
                 SELECT topic, aggregate_id, COUNT(*), MIN(timestamp_ms), MAX(timestamp_ms)
                 FROM records WHERE topic = ?1 GROUP BY aggregate_id",
                [topic_id],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }
}

/// What one store adds to an aggregate's summary.
#[derive(Default)]
struct Added {
    records: u64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
}

impl Added {
    fn add(&mut self, timestamp_ms: Option<i64>) {
        self.records += 1;
        if let Some(t) = timestamp_ms {
            self.first_ms = Some(self.first_ms.map_or(t, |f| f.min(t)));
            self.last_ms = Some(self.last_ms.map_or(t, |l| l.max(t)));
        }
    }
}

fn cache_error(location: &str, err: rusqlite::Error, doing: &str) -> SourceError {
    SourceError::read_with(
        format!(
            "could not {doing} the local cache {location} (delete it, choose another with --cache-dir, or use --no-cache)"
        ),
        err,
    )
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
mod tests;
