//! The cache against real SQLite files.

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

#[test]
fn a_read_only_cache_reads_what_the_writer_commits_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let mut writer = Cache::open(&path).unwrap();
    writer
        .store("t", &[(record(0, 0, "a"), "a".to_string())])
        .unwrap();
    let mut reader = Cache::open_read_only(&path).unwrap();
    assert_eq!(reader.records_of("t", "a", None).unwrap().len(), 1);

    // Committed after the reader opened, in a topic it had not seen: both show.
    writer
        .store(
            "t",
            &[
                (record(0, 1, "a"), "a".to_string()),
                (record(0, 2, "b"), "b".to_string()),
            ],
        )
        .unwrap();
    writer
        .store("u", &[(record(0, 0, "a"), "a".to_string())])
        .unwrap();
    assert_eq!(reader.records_of("t", "a", None).unwrap().len(), 2);
    assert_eq!(
        reader.summaries("t").unwrap(),
        writer.summaries("t").unwrap()
    );
    assert_eq!(reader.records_of("u", "a", None).unwrap().len(), 1);

    // Every write is refused, and reading in store order builds no index.
    assert!(reader.set_meta("k", "v").is_err());
    assert!(reader
        .store("t", &[(record(0, 9, "a"), "a".to_string())])
        .is_err());
    assert!(reader.begin_bulk_load().is_err());
    let mut seen = 0;
    reader
        .for_each_in_store_order("t", None, &mut |_, _, _| {
            seen += 1;
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(seen, 3);
    assert!(!writer.has_index("records_by_time").unwrap());
    assert_eq!(writer.meta("k").unwrap(), None);
    assert_eq!(writer.records_of("t", "a", None).unwrap().len(), 2);
}

#[test]
fn a_read_only_cache_refuses_a_file_of_another_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let old = Connection::open(&path).unwrap();
    old.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         INSERT INTO meta VALUES ('schema', '1');",
    )
    .unwrap();
    drop(old);
    let err = Cache::open_read_only(&path).err().unwrap();
    assert!(err.to_string().contains("not laid out"), "{err}");
    assert!(Cache::open_read_only(&dir.path().join("none.sqlite")).is_err());
}

#[test]
fn a_snapshot_reads_the_cache_as_it_was_when_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let mut writer = Cache::open(&path).unwrap();
    writer
        .store("t", &[(record(0, 0, "a"), "a".to_string())])
        .unwrap();
    let reader = Cache::open_read_only(&path).unwrap();
    let snapshot = reader.snapshot().unwrap();
    assert_eq!(snapshot.aggregate_records("t", "a").unwrap(), 1);
    writer
        .store("t", &[(record(0, 1, "a"), "a".to_string())])
        .unwrap();
    // A count and the records it counts agree, whatever the writer commits between them.
    assert_eq!(snapshot.records_of("t", "a", None).unwrap().len(), 1);
    assert_eq!(snapshot.last_row().unwrap(), 1);
    drop(snapshot);
    assert_eq!(reader.records_of("t", "a", None).unwrap().len(), 2);
    assert_eq!(reader.aggregate_records("t", "a").unwrap(), 2);
}
