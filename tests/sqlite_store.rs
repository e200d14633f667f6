//! The SQLite source against live stores: WAL mode, concurrent writers, locks.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rewind::load;
use rewind::replay::MergeReducer;
use rewind::source::sqlite::{SqliteOptions, SqliteSource};
use rusqlite::{params, Connection};
use support::{bad_input, fingerprint, json, run, Store};

fn wal_store(events: i64) -> Store {
    let mut store = Store::native();
    store
        .conn
        .execute_batch("PRAGMA journal_mode=WAL;")
        .unwrap();
    for v in 1..=events {
        store.event(
            "acc",
            v,
            "Counted",
            &format!(r#"{{"n": {v}}}"#),
            "2026-01-15T10:00:00Z",
        );
    }
    store
}

#[test]
fn a_closed_wal_store_is_read_without_creating_wal_or_shm_files() {
    let store = wal_store(5);
    let Store {
        dir, path, conn, ..
    } = store;
    drop(conn); // the last connection checkpoints and removes -wal and -shm
    let store_arg = path.to_string_lossy().into_owned();
    assert!(!std::path::Path::new(&format!("{store_arg}-wal")).exists());
    let before = fingerprint(&path);
    for args in [
        vec!["aggregates", store_arg.as_str()],
        vec!["events", &store_arg, "acc"],
        vec!["state", &store_arg, "acc", "--at-version", "3"],
        vec!["diff", &store_arg, "acc", "--from", "1", "--to", "5"],
    ] {
        let output = run(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            support::stderr(&output)
        );
    }
    assert_eq!(fingerprint(&path), before, "store files changed");
    drop(dir);
}

#[test]
fn a_wal_store_is_readable_while_a_writer_appends_and_reads_are_never_torn() {
    let store = wal_store(0);
    let path = store.path.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let path = path.clone();
        std::thread::spawn(move || {
            // Each transaction adds ten events, so a consistent reader sees a multiple of ten.
            let conn = Connection::open(&path).unwrap();
            let mut version = 0;
            while !stop.load(Ordering::Relaxed) && version < 2000 {
                let tx = conn.unchecked_transaction().unwrap();
                for _ in 0..10 {
                    version += 1;
                    tx.execute(
                        "INSERT INTO events VALUES (?1, 'acc', 'account', 'Counted', ?2, NULL, ?3, '2026-01-15T10:00:00Z')",
                        params![format!("w{version}"), format!(r#"{{"n": {version}}}"#), version],
                    )
                    .unwrap();
                }
                tx.commit().unwrap();
            }
            version
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut counts = Vec::new();
    while counts.len() < 8 && Instant::now() < deadline {
        let output = run(&["events", &store.arg(), "acc", "--format", "json"]);
        if !output.status.success() {
            // The writer has not created the aggregate yet.
            continue;
        }
        let events = json(&output);
        let events = events.as_array().unwrap();
        assert_eq!(events.len() % 10, 0, "torn read: {} events", events.len());
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event["version"], i as u64 + 1);
        }
        counts.push(events.len());
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(counts.len() >= 3, "too few reads: {counts:?}");
    let last = json(&run(&["state", &store.arg(), "acc", "--format", "json"]));
    assert_eq!(last["n"], written);
}

#[test]
fn an_open_source_picks_up_events_written_after_it_opened() {
    let store = wal_store(3);
    let Store {
        dir, path, conn, ..
    } = store;
    drop(conn);
    let source = SqliteSource::open(&path, SqliteOptions::default()).unwrap();
    let (replay, resume) = load::replay_to_follow(&source, "acc", Arc::new(MergeReducer)).unwrap();
    assert_eq!(replay.len(), 3);
    // A poll with nothing new reads no event rows.
    let read_before = source.rows_read();
    let (nothing, resume) = load::poll(&source, "acc", resume).unwrap();
    assert!(nothing.is_empty());
    assert_eq!(source.rows_read(), read_before, "an idle poll read rows");
    let writer = Connection::open(&path).unwrap();
    writer
        .execute(
            "INSERT INTO events VALUES ('late', 'acc', 'account', 'Counted', '{\"n\": 4}', NULL, 4, '2026-01-15T11:00:00Z')",
            [],
        )
        .unwrap();
    let (fresh, _) = load::poll(&source, "acc", resume).unwrap();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].version, 4);
    assert_eq!(
        source.rows_read(),
        read_before + 1,
        "the poll read only the new row"
    );
    drop(dir);
}

#[test]
fn a_store_locked_by_a_writer_fails_after_the_lock_timeout() {
    let mut store = Store::native();
    store.event("acc", 1, "Opened", "{}", "2026-01-15T10:00:00Z");
    store.conn.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    store
        .conn
        .execute(
            "INSERT INTO events VALUES ('x', 'acc', 'account', 'T', '{}', NULL, 2, '2026-01-15T10:00:00Z')",
            [],
        )
        .unwrap();
    let started = Instant::now();
    let err = bad_input(&["aggregates", &store.arg(), "--lock-timeout", "0.3"]);
    assert!(err.contains("locked by another process"), "{err}");
    assert!(err.contains("--lock-timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    store.conn.execute_batch("ROLLBACK;").unwrap();
}

/// The query clock counts SQLite's work, not the time rewind spends with the rows it was
/// given: a reader that takes its time (a UI waiting to catch up) over a long history is not
/// stopped by --query-timeout.
#[test]
fn time_spent_handling_rows_is_not_counted_as_the_querys_work() {
    let mut store = Store::native();
    store.conn.execute_batch("BEGIN").unwrap();
    for v in 1..=10_000 {
        store.event("acc", v, "Counted", r#"{"n": 1}"#, "2026-01-15T10:00:00Z");
    }
    store.conn.execute_batch("COMMIT").unwrap();
    let options = SqliteOptions {
        query_timeout: Duration::from_millis(300),
        ..SqliteOptions::default()
    };
    let source = SqliteSource::open(&store.path, options).unwrap();
    let mut read = 0;
    let started = Instant::now();
    let query = rewind::source::Query::aggregate("acc");
    rewind::source::EventSource::query(&source, &query, &mut |chunk| {
        if let rewind::model::Chunk::Events(events) = chunk {
            read += events.len();
            // Each batch handled in under the 250 ms that counts as a pause on its own.
            std::thread::sleep(Duration::from_millis(100));
        }
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(read, 10_000);
    assert!(
        started.elapsed() > Duration::from_millis(400),
        "the handling took longer than the timeout, so the test means something"
    );
}
