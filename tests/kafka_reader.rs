//! A Kafka source's second reader (`EventSource::reader`), the one the UI reads pages of
//! payloads back on: it reads the topic's cache file alone, hands out exactly the source's
//! events (payloads, positions, versions, warnings), page by page from any event, never
//! writes the file, and sees what the source catches up later. Against a real broker
//! (tansu); without it these tests say SKIPPED, unless REWIND_REQUIRE_KAFKA=1.

mod support;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rewind::load::SourcePages;
use rewind::model::{Chunk, Event, PositionInput};
use rewind::replay::EventPages;
use rewind::source::kafka::{CacheMode, KafkaConfig, KafkaOptions, KafkaSource, NO_TYPE};
use rewind::source::{EventSource, Query, Start};
use support::kafka::{Broker, Rec};

/// Opens `topic` with its cache in `cache`.
fn open(broker: &Broker, topic: &str, cache: &Path, config: KafkaConfig) -> KafkaSource {
    let mut options = KafkaOptions::from_config(&config).expect("valid options");
    options.cache = CacheMode::Dir(cache.to_path_buf());
    KafkaSource::open(&broker.url(topic), options).expect("the topic opens")
}

/// `acc-1` over two partitions, with events that carry warnings (a value that is not JSON,
/// a tombstone, one without a type), and `acc-2` between them.
fn produce_ledger(broker: &Broker, events: usize) {
    broker.create_topic("ledger", 2);
    let deposited = [("event_type", "Deposited")];
    let values: Vec<String> = (0..events)
        .map(|i| format!(r#"{{"balance":{i}}}"#))
        .collect();
    let mut records = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let record = match i % 50 {
            7 => Rec {
                value: Some(&b"not json"[..]),
                ..Rec::json("acc-1", "")
            },
            13 => Rec {
                value: None,
                ..Rec::json("acc-1", "")
            },
            29 => Rec::json("acc-1", value),
            _ => Rec::json("acc-1", value).headers(&deposited),
        };
        records.push(record.partition((i % 2) as i32));
        if i % 10 == 0 {
            records.push(Rec::json("acc-2", r#"{"other":true}"#).partition(1));
        }
    }
    broker.produce("ledger", &records);
}

fn collect(source: &dyn EventSource, query: &Query) -> Vec<Event> {
    let mut events = Vec::new();
    source
        .query(query, &mut |chunk| {
            if let Chunk::Events(found) = chunk {
                events.extend(found);
            }
            ControlFlow::Continue(())
        })
        .expect("the query reads");
    events
}

/// Every page of an aggregate, `size` events at a time, read from `source` as a replay does.
fn all_pages(source: &dyn EventSource, id: &str, size: usize) -> Vec<Event> {
    let mut pages = SourcePages::new(source, id);
    let mut events: Vec<Event> = Vec::new();
    loop {
        let after = events.last().map(|e| (e.version, e.position));
        let page = pages.read_page(after, size).expect("a page reads");
        if page.is_empty() {
            return events;
        }
        events.extend(page);
    }
}

#[test]
fn the_reader_hands_out_the_sources_events_page_by_page() {
    let Some(broker) = Broker::start("reader_pages") else {
        return;
    };
    produce_ledger(&broker, 400);
    let cache = tempfile::tempdir().unwrap();
    let source = open(&broker, "ledger", cache.path(), KafkaConfig::default());
    let reader = source.reader().expect("a cached topic has a second reader");
    assert_eq!(reader.describe(), source.describe());
    assert_eq!(reader.aggregates().unwrap(), source.aggregates().unwrap());

    let history = source.history("acc-1").unwrap().events;
    assert_eq!(history.len(), 400);
    assert!(history.iter().any(|e| e.data.error().is_some()));
    assert!(history.iter().any(|e| e.event_type == NO_TYPE));
    assert_eq!(reader.history("acc-1").unwrap().events, history);

    // From the middle: the page after event 217 (0-based 216), on both.
    let middle = &history[216];
    let page = Query::page("acc-1", Some((middle.version, middle.position)), 50);
    let from_reader = collect(reader.as_ref(), &page);
    assert_eq!(from_reader, collect(&source, &page));
    assert_eq!(from_reader, history[217..267].to_vec());
    assert_eq!(from_reader[0].version, 218);

    // Walked page by page, odd sizes straddling the partitions, it is the history again.
    assert_eq!(all_pages(reader.as_ref(), "acc-1", 37), history);

    // A position typed as PARTITION:OFFSET resolves the same.
    let typed = PositionInput::Record {
        partition: 1,
        offset: 3,
    };
    assert_eq!(
        reader.resolve_position(typed).unwrap(),
        source.resolve_position(typed).unwrap()
    );
}

#[test]
fn versions_from_the_values_and_snapshots_read_the_same() {
    let Some(broker) = Broker::start("reader_versions") else {
        return;
    };
    broker.create_topic("orders", 2);
    // Versions and times in the values, out of partition order; one time rewind cannot read.
    let values: Vec<String> = [3, 1, 4, 2, 6, 5]
        .iter()
        .map(|v| {
            let at = match v {
                4 => "soon".to_string(),
                _ => format!("2026-01-15T10:00:0{v}Z"),
            };
            format!(r#"{{"v":{v},"n":{},"at":"{at}"}}"#, v * 10)
        })
        .collect();
    let records: Vec<Rec> = values
        .iter()
        .enumerate()
        .map(|(i, value)| Rec::json("o-1", value).partition((i % 2) as i32))
        .collect();
    broker.produce("orders", &records);
    broker.create_topic("orders-snapshots", 1);
    broker.produce(
        "orders-snapshots",
        &[Rec::json("o-1", r#"{"version":4,"state":{"n":40}}"#)],
    );
    let cache = tempfile::tempdir().unwrap();
    let config = KafkaConfig {
        version: Some(".v".into()),
        timestamp: Some(".at".into()),
        snapshots_topic: Some("orders-snapshots".into()),
        ..KafkaConfig::default()
    };
    let source = open(&broker, "orders", cache.path(), config);
    let reader = source.reader().unwrap();
    let history = source.history("o-1").unwrap();
    let versions: Vec<u64> = history.events.iter().map(|e| e.version).collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6]);
    assert!(
        !history.events[3].issues.is_empty(),
        "the unreadable time is flagged"
    );
    let read = reader.history("o-1").unwrap();
    assert_eq!(read.events, history.events);
    assert_eq!(read.snapshots, history.snapshots);
    assert_eq!(read.snapshots.len(), 1);
    let third = &history.events[2];
    let page = Query::page("o-1", Some((third.version, third.position)), 2);
    assert_eq!(
        collect(reader.as_ref(), &page),
        history.events[3..5].to_vec()
    );
}

/// The bytes and modification time of each file that holds the cache's data. The `-shm` is
/// left out: it is SQLite's shared index of the WAL, which every reader of a WAL database
/// updates, and holds no data.
fn fingerprint(file: &Path) -> Vec<(PathBuf, Vec<u8>, SystemTime)> {
    let wal = PathBuf::from(format!("{}-wal", file.display()));
    [file.to_path_buf(), wal]
        .into_iter()
        .filter(|path| path.exists())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            (path, bytes, modified)
        })
        .collect()
}

#[test]
fn the_reader_never_writes_the_cache() {
    let Some(broker) = Broker::start("reader_writes") else {
        return;
    };
    produce_ledger(&broker, 120);
    let cache = tempfile::tempdir().unwrap();
    let source = open(&broker, "ledger", cache.path(), KafkaConfig::default());
    let file = source.cache_file().unwrap().to_path_buf();
    let before = fingerprint(&file);
    assert!(!before.is_empty());
    // Past the file system's timestamp granularity, so a write would show in the times.
    std::thread::sleep(std::time::Duration::from_millis(50));

    let reader = source.reader().unwrap();
    reader.aggregates().unwrap();
    reader.history("acc-1").unwrap();
    all_pages(reader.as_ref(), "acc-1", 16);
    // A read in store order, which makes the source build an index on first use.
    assert!(!collect(reader.as_ref(), &Query::store()).is_empty());
    let resumed = reader.query(&Query::store(), &mut |_| ControlFlow::Continue(()));
    let since = Query::aggregate("acc-1").starting(Start::Resume(resumed.unwrap()));
    assert!(
        collect(reader.as_ref(), &since).is_empty(),
        "nothing is new"
    );
    drop(reader);
    assert_eq!(fingerprint(&file), before, "the reader changed the cache");
}

/// SQLite's count of changes to a file's layout (tables, indexes).
fn schema_version(file: &Path) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.query_row("PRAGMA schema_version", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn the_reader_sees_what_the_source_catches_up_later() {
    let Some(broker) = Broker::start("reader_follow") else {
        return;
    };
    produce_ledger(&broker, 60);
    // The snapshots topic is empty when the reader opens: the cache has not seen it yet.
    broker.create_topic("ledger-snapshots", 1);
    let cache = tempfile::tempdir().unwrap();
    let config = KafkaConfig {
        snapshots_topic: Some("ledger-snapshots".into()),
        ..KafkaConfig::default()
    };
    let source = open(&broker, "ledger", cache.path(), config);
    let reader = source.reader().unwrap();
    let old = reader.history("acc-1").unwrap();
    assert_eq!(old.events.len(), 60);
    assert!(old.snapshots.is_empty());

    // A poll with nothing new leaves the cache's layout alone, empty snapshots topic and
    // all: the reader's statements and the index they use stay as they are.
    let layout = schema_version(source.cache_file().unwrap());
    assert_eq!(source.refresh().unwrap(), 0);
    assert_eq!(schema_version(source.cache_file().unwrap()), layout);

    broker.produce(
        "ledger",
        &[
            // On the last partition: in partition order it comes after every event before.
            Rec::json("acc-1", r#"{"balance":1000}"#).partition(1),
            Rec::json("acc-3", r#"{"new":true}"#).partition(1),
        ],
    );
    broker.produce(
        "ledger-snapshots",
        &[Rec::json(
            "acc-1",
            r#"{"version":60,"state":{"balance":59}}"#,
        )],
    );
    // Only the source fetches: until it catches up, the reader sees the cache as it was.
    assert_eq!(reader.history("acc-1").unwrap().events.len(), 60);
    assert_eq!(source.refresh().unwrap(), 3);

    let now = source.history("acc-1").unwrap();
    let read = reader.history("acc-1").unwrap();
    assert_eq!(read.events, now.events);
    assert_eq!(read.events.len(), 61);
    assert_eq!(read.snapshots, now.snapshots);
    assert_eq!(
        read.snapshots.len(),
        1,
        "a topic first cached after it opened"
    );
    let last = &old.events[59];
    let page = Query::page("acc-1", Some((last.version, last.position)), 10);
    let paged = collect(reader.as_ref(), &page);
    assert_eq!(paged, collect(&source, &page));
    assert_eq!(paged, now.events[60..].to_vec());
    assert_eq!(reader.aggregates().unwrap(), source.aggregates().unwrap());
}

#[test]
fn without_a_cache_file_there_is_no_reader() {
    let Some(broker) = Broker::start("reader_no_cache") else {
        return;
    };
    produce_ledger(&broker, 10);
    let mut options = KafkaOptions::from_config(&KafkaConfig::default()).unwrap();
    options.cache = CacheMode::Off;
    let source = KafkaSource::open(&broker.url("ledger"), options).unwrap();
    // The cache is in this source's memory (`--no-cache` keeps nothing on disk): the UI
    // holds the history's payloads, as it did before readers.
    assert!(source.reader().is_none());
}
