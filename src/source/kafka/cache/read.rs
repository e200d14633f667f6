//! Reading records back out of the cache: what both the source and its cache-only reader
//! ask of it.

use std::ops::Deref;

use rusqlite::{params, OptionalExtension, Transaction};

use super::{cache_error, Cache, CachedSummary};
use crate::source::kafka::record::{decode_headers, RawRecord};
use crate::source::SourceError;

/// The cache as it was when the snapshot began, for every read made through it: a read
/// transaction on a reader's connection, which other connections' commits do not change.
/// Ends when dropped.
pub struct ReadSnapshot<'a> {
    cache: &'a Cache,
    _transaction: Transaction<'a>,
}

impl Deref for ReadSnapshot<'_> {
    type Target = Cache;

    fn deref(&self) -> &Cache {
        self.cache
    }
}

impl Cache {
    /// One consistent view for several reads, as a query needs (a count and the records it
    /// counts, the last row and the rows up to it); the writer needs none, being the only one
    /// to change the file, and it holds its lock throughout.
    pub fn snapshot(&self) -> Result<ReadSnapshot<'_>, SourceError> {
        let transaction = self
            .conn
            .unchecked_transaction()
            .map_err(|err| cache_error(&self.location, err, "read"))?;
        Ok(ReadSnapshot {
            cache: self,
            _transaction: transaction,
        })
    }

    /// Per aggregate: how many records, and the first and last record timestamps.
    pub fn summaries(&self, topic: &str) -> Result<Vec<CachedSummary>, SourceError> {
        let Some(topic) = self.topic_id(topic)? else {
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
        let mut records = Vec::new();
        self.for_each_record_of(topic, aggregate_id, after, &mut |_, record| {
            records.push(record);
            std::ops::ControlFlow::Continue(())
        })?;
        Ok(records)
    }

    /// As [`Cache::records_of`], one record at a time with its row, so a long history is
    /// never held.
    pub fn for_each_record_of(
        &self,
        topic: &str,
        aggregate_id: &str,
        after: Option<i64>,
        visit: &mut dyn FnMut(i64, RawRecord) -> std::ops::ControlFlow<()>,
    ) -> Result<(), SourceError> {
        let Some(topic) = self.topic_id(topic)? else {
            return Ok(());
        };
        let fail = |err| self.error(err, "read");
        // A resumed read scans the rows stored since (the rowid range), not the aggregate.
        let sql = match after {
            None => {
                "SELECT partition, offset, key, value, timestamp_ms, headers, rowid FROM records
                 WHERE topic = ?1 AND aggregate_id = ?2 AND rowid > ?3 ORDER BY partition, offset"
            }
            Some(_) => {
                "SELECT partition, offset, key, value, timestamp_ms, headers, rowid FROM records
                 WHERE topic = ?1 AND +aggregate_id = ?2 AND rowid > ?3 ORDER BY partition, offset"
            }
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        let mut rows = stmt
            .query(params![topic, aggregate_id, after.unwrap_or(i64::MIN)])
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let rowid = row.get(6).map_err(fail)?;
            if visit(rowid, record_from_row(row).map_err(fail)?).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// The record stored at `rowid`, if any.
    pub fn record_at(&self, rowid: i64) -> Result<Option<RawRecord>, SourceError> {
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT partition, offset, key, value, timestamp_ms, headers FROM records
                 WHERE rowid = ?1",
            )
            .map_err(fail)?;
        stmt.query_row(params![rowid], record_from_row)
            .optional()
            .map_err(fail)
    }

    /// The record stored at `rowid` if it is one of `aggregate_id`'s on `topic`.
    pub fn record_of_at(
        &self,
        topic: &str,
        aggregate_id: &str,
        rowid: i64,
    ) -> Result<Option<RawRecord>, SourceError> {
        let Some(topic) = self.topic_id(topic)? else {
            return Ok(None);
        };
        let fail = |err| self.error(err, "read");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT partition, offset, key, value, timestamp_ms, headers FROM records
                 WHERE rowid = ?1 AND topic = ?2 AND aggregate_id = ?3",
            )
            .map_err(fail)?;
        stmt.query_row(params![rowid, topic, aggregate_id], record_from_row)
            .optional()
            .map_err(fail)
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
        let Some(topic) = self.topic_id(topic)? else {
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
        let Some(topic) = self.topic_id(topic)? else {
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
        let Some(topic) = self.topic_id(topic)? else {
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
        let Some(topic) = self.topic_id(topic)? else {
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
        let Some(topic) = self.topic_id(topic)? else {
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

    /// Every record of a topic with its aggregate id, grouped by aggregate, in partition order.
    pub fn for_each_record(
        &self,
        topic: &str,
        visit: &mut dyn FnMut(&str, RawRecord),
    ) -> Result<(), SourceError> {
        let Some(topic) = self.topic_id(topic)? else {
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

    pub fn record_count(&self, topic: &str) -> Result<u64, SourceError> {
        let Some(topic) = self.topic_id(topic)? else {
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
