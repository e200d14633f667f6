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
    /// Topic names to their numbers in the file, as far as known.
    topic_ids: HashMap<String, i64>,
    /// Whether the store-order index existed when a bulk load dropped it.
    time_index_before_bulk: bool,
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
            topic_ids: HashMap::new(),
            time_index_before_bulk: false,
        };
        cache.prepare_layout()?;
        cache.load_topic_ids()?;
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

    fn load_topic_ids(&mut self) -> Result<(), SourceError> {
        let location = self.location.clone();
        let fail = |err| cache_error(&location, err, "read");
        let mut stmt = self
            .conn
            .prepare("SELECT name, id FROM topics")
            .map_err(fail)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(fail)?;
        let ids: HashMap<String, i64> = rows.collect::<Result<_, _>>().map_err(fail)?;
        drop(stmt);
        self.topic_ids = ids;
        Ok(())
    }

    /// The topic's number in the file, if anything of it was ever stored.
    fn topic_id(&self, topic: &str) -> Option<i64> {
        self.topic_ids.get(topic).copied()
    }

    /// The topic's number in the file, numbering it if it is new.
    fn topic_id_or_new(&mut self, topic: &str) -> Result<i64, SourceError> {
        if let Some(id) = self.topic_id(topic) {
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
        self.topic_ids.insert(topic.to_string(), id);
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
        let Some(topic) = self.topic_id(topic) else {
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

    /// Per aggregate: how many records, and the first and last record timestamps.
    pub fn summaries(&self, topic: &str) -> Result<Vec<CachedSummary>, SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(Vec::new());
        };
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT aggregate_id, records, first_ms, last_ms
                 FROM aggregates WHERE topic = ?1 ORDER BY aggregate_id",
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

    /// One aggregate's records in partition order; with `after`, only those stored since
    /// that row of the cache.
    pub fn records_of(
        &self,
        topic: &str,
        aggregate_id: &str,
        after: Option<i64>,
    ) -> Result<Vec<RawRecord>, SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(Vec::new());
        };
        let fail = |err| self.error(err, "read");
        // A resumed read scans the rows stored since (the rowid range), not the aggregate.
        let sql = match after {
            None => {
                "SELECT partition, offset, key, value, timestamp_ms, headers FROM records
                 WHERE topic = ?1 AND aggregate_id = ?2 AND rowid > ?3 ORDER BY partition, offset"
            }
            Some(_) => {
                "SELECT partition, offset, key, value, timestamp_ms, headers FROM records
                 WHERE topic = ?1 AND +aggregate_id = ?2 AND rowid > ?3 ORDER BY partition, offset"
            }
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        let rows = stmt
            .query_map(
                params![topic, aggregate_id, after.unwrap_or(i64::MIN)],
                record_from_row,
            )
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// At most `limit` records of one aggregate after the one at `after` (partition,
    /// offset), in partition order: a page of its history.
    pub fn records_page(
        &self,
        topic: &str,
        aggregate_id: &str,
        after: (i32, i64),
        limit: usize,
    ) -> Result<Vec<RawRecord>, SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(Vec::new());
        };
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT partition, offset, key, value, timestamp_ms, headers FROM records
                 WHERE topic = ?1 AND aggregate_id = ?2 AND (partition, offset) > (?3, ?4)
                 ORDER BY partition, offset LIMIT ?5",
            )
            .map_err(fail)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(
                params![topic, aggregate_id, after.0, after.1, limit],
                record_from_row,
            )
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// How many records of an aggregate the cache holds.
    pub fn aggregate_records(&self, topic: &str, aggregate_id: &str) -> Result<u64, SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(0);
        };
        self.conn
            .query_row(
                "SELECT records FROM aggregates WHERE topic = ?1 AND aggregate_id = ?2",
                params![topic, aggregate_id],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map(|n| n.unwrap_or(0).max(0) as u64)
            .map_err(|err| self.error(err, "read"))
    }

    /// The last row stored (of any topic): a later read `after` it sees only what is new.
    pub fn last_row(&self) -> Result<i64, SourceError> {
        self.conn
            .query_row("SELECT MAX(rowid) FROM records", [], |row| {
                row.get::<_, Option<i64>>(0)
            })
            .map(|row| row.unwrap_or(0))
            .map_err(|err| self.error(err, "read"))
    }

    /// The timestamp of the record at a partition and offset: `None` when the cache holds
    /// no such record, `Some(None)` when it has no timestamp.
    pub fn record_time(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<Option<Option<i64>>, SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(None);
        };
        self.conn
            .query_row(
                "SELECT timestamp_ms FROM records WHERE topic = ?1 AND partition = ?2 AND offset = ?3",
                params![topic, partition, offset],
                |row| row.get::<_, Option<i64>>(0),
            )
            .optional()
            .map_err(|err| self.error(err, "read"))
    }

    /// Every record of a topic in store order (record time, partition, offset) with its
    /// aggregate id and its 1-based place among that aggregate's records in partition order
    /// (the version `order` gives it). `from` skips records before that store position.
    pub fn for_each_in_store_order(
        &self,
        topic: &str,
        from: Option<(i64, i32, i64)>,
        visit: &mut dyn FnMut(&str, RawRecord, u64) -> std::ops::ControlFlow<()>,
    ) -> Result<(), SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(());
        };
        let fail = |err| self.error(err, "read");
        self.ensure_time_index()?;
        let (time, partition, offset) = from.unwrap_or((i64::MIN, i32::MIN, i64::MIN));
        // Records without a time sort first, as SQL sorts NULL.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT * FROM (
                    SELECT partition, offset, key, value, timestamp_ms, headers, aggregate_id,
                           ROW_NUMBER() OVER (PARTITION BY aggregate_id ORDER BY partition, offset)
                    FROM records WHERE topic = ?1)
                 WHERE (COALESCE(timestamp_ms, -9223372036854775808), partition, offset) >= (?2, ?3, ?4)
                 ORDER BY timestamp_ms, partition, offset",
            )
            .map_err(fail)?;
        let mut rows = stmt
            .query(params![topic, time, partition, offset])
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let id: String = row.get(6).map_err(fail)?;
            let ordinal = row.get::<_, i64>(7).map_err(fail)?.max(1) as u64;
            if visit(&id, record_from_row(row).map_err(fail)?, ordinal).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// The records stored since row `after`, in store order, with their aggregate ids.
    pub fn records_since(
        &self,
        topic: &str,
        after: i64,
    ) -> Result<Vec<(String, RawRecord)>, SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(Vec::new());
        };
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT partition, offset, key, value, timestamp_ms, headers, aggregate_id
                 FROM records WHERE topic = ?1 AND rowid > ?2
                 ORDER BY timestamp_ms, partition, offset",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map(params![topic, after], |row| {
                Ok((row.get::<_, String>(6)?, record_from_row(row)?))
            })
            .map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    /// The store-order index, built the first time the whole topic is read in store order
    /// (it costs the cache fill nothing until then) and kept up to date from then on.
    fn ensure_time_index(&self) -> Result<(), SourceError> {
        self.conn
            .execute_batch(TIME_INDEX)
            .map_err(|err| self.error(err, "index"))
    }

    /// Every record of a topic with its aggregate id, grouped by aggregate, in partition order.
    pub fn for_each_record(
        &self,
        topic: &str,
        visit: &mut dyn FnMut(&str, RawRecord),
    ) -> Result<(), SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(());
        };
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

    /// Re-derives every record's aggregate id, after the id rule changed, and the
    /// aggregates' summaries with them.
    pub fn reindex(
        &mut self,
        topic: &str,
        aggregate_id: &dyn Fn(&RawRecord) -> String,
    ) -> Result<(), SourceError> {
        let Some(topic_id) = self.topic_id(topic) else {
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

    pub fn record_count(&self, topic: &str) -> Result<u64, SourceError> {
        let Some(topic) = self.topic_id(topic) else {
            return Ok(0);
        };
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(records), 0) FROM aggregates WHERE topic = ?1",
                [topic],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|err| self.error(err, "read"))
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

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        partition: row.get(0)?,
        offset: row.get(1)?,
        key: row.get(2)?,
        value: row.get(3)?,
        timestamp_ms: row.get(4)?,
        headers: row
            .get::<_, Option<String>>(5)?
            .map(|text| decode_headers(&text))
            .unwrap_or_default(),
    })
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
        let a = cache.records_of("t", "a", None).unwrap();
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
        assert!(cache.records_of("t", "a", None).unwrap().is_empty());
        assert_eq!(cache.records_of("t", "z", None).unwrap().len(), 1);
    }

    fn summary(cache: &Cache, topic: &str) -> Vec<(String, u64, Option<i64>, Option<i64>)> {
        cache
            .summaries(topic)
            .unwrap()
            .into_iter()
            .map(|s| (s.aggregate_id, s.records, s.first_ms, s.last_ms))
            .collect()
    }

    #[test]
    fn summaries_grow_with_each_store_and_ignore_records_already_cached() {
        let mut cache = Cache::in_memory().unwrap();
        let mut untimed = record(2, 0, "b");
        untimed.timestamp_ms = None;
        cache
            .store(
                "t",
                &[
                    (record(0, 5, "a"), "a".to_string()),
                    (untimed, "b".to_string()),
                ],
            )
            .unwrap();
        assert_eq!(
            summary(&cache, "t"),
            vec![
                ("a".to_string(), 1, Some(1005), Some(1005)),
                ("b".to_string(), 1, None, None),
            ]
        );
        // Offset 5 again (already cached) and two new records, one earlier in time.
        cache
            .store(
                "t",
                &[
                    (record(0, 5, "a"), "a".to_string()),
                    (record(1, 1, "a"), "a".to_string()),
                    (record(0, 9, "b"), "b".to_string()),
                ],
            )
            .unwrap();
        assert_eq!(
            summary(&cache, "t"),
            vec![
                ("a".to_string(), 2, Some(1001), Some(1005)),
                ("b".to_string(), 2, Some(1009), Some(1009)),
            ]
        );
        assert_eq!(cache.record_count("t").unwrap(), 4);
        assert_eq!(cache.records_of("t", "a", None).unwrap().len(), 2);
        assert!(summary(&cache, "other").is_empty());
    }

    #[test]
    fn reindex_rebuilds_the_summaries() {
        let mut cache = Cache::in_memory().unwrap();
        let records = vec![
            (record(0, 0, "a"), "a".to_string()),
            (record(0, 1, "b"), "b".to_string()),
        ];
        cache.store("t", &records).unwrap();
        cache.reindex("t", &|_| "z".to_string()).unwrap();
        assert_eq!(
            summary(&cache, "t"),
            vec![("z".to_string(), 2, Some(1000), Some(1001))]
        );
    }

    fn has_aggregate_index(cache: &Cache) -> bool {
        cache
            .conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE name = 'records_by_aggregate'",
                [],
                |_| Ok(()),
            )
            .optional()
            .unwrap()
            .is_some()
    }

    #[test]
    fn a_bulk_load_builds_the_aggregate_index_at_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let mut cache = Cache::open(&path).unwrap();
        cache.begin_bulk_load().unwrap();
        assert!(!has_aggregate_index(&cache));
        cache
            .store("t", &[(record(0, 0, "a"), "a".to_string())])
            .unwrap();
        cache.end_bulk_load().unwrap();
        assert!(has_aggregate_index(&cache));
        assert_eq!(cache.records_of("t", "a", None).unwrap().len(), 1);

        // A bulk load cut short leaves no index; the next open builds it.
        cache.begin_bulk_load().unwrap();
        drop(cache);
        let cache = Cache::open(&path).unwrap();
        assert!(has_aggregate_index(&cache));
        assert_eq!(cache.records_of("t", "a", None).unwrap().len(), 1);
    }

    #[test]
    fn a_file_of_another_layout_is_emptied_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO meta VALUES ('schema', '1');
             CREATE TABLE records (topic TEXT NOT NULL, partition INTEGER NOT NULL,
                 offset INTEGER NOT NULL, key BLOB, value BLOB, timestamp_ms INTEGER,
                 headers TEXT NOT NULL, aggregate_id TEXT NOT NULL,
                 PRIMARY KEY (topic, partition, offset)) WITHOUT ROWID;
             INSERT INTO records VALUES ('t', 0, 0, NULL, NULL, NULL, '[]', 'a');
             CREATE TABLE positions (topic TEXT NOT NULL, partition INTEGER NOT NULL,
                 next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition));
             INSERT INTO positions VALUES ('t', 0, 1);",
        )
        .unwrap();
        drop(old);
        let mut cache = Cache::open(&path).unwrap();
        assert!(cache.next_offsets("t").unwrap().is_empty());
        assert_eq!(cache.record_count("t").unwrap(), 0);
        cache
            .store("t", &[(record(0, 0, "a"), "a".to_string())])
            .unwrap();
        assert_eq!(cache.records_of("t", "a", None).unwrap().len(), 1);
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
