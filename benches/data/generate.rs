//! Writes the benchmark store: 1,000,000 events in rewind's native schema.
//!
//! The events are `events.rs`'s (shared with the Kafka bench), plus a snapshot every 100
//! events. Deterministic: same seed, same file.
//! `cargo run --release --example gen_bench -- OUTPUT [--events-only-jsonl FILE]`
//! `cargo run --release --example gen_bench -- OUTPUT --huge N`: instead, one aggregate
//! (`acc-huge`) of N small events, for the bounded-memory benchmarks.

use std::io::Write;
use std::path::PathBuf;

use rusqlite::{params, Connection};
use serde_json::Value;

use rewind::replay::merge_patch;

mod events;

const SNAPSHOT_EVERY: usize = 100;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/bench/bench.db".into()),
    );
    let (jsonl, huge) = match (args.next().as_deref(), args.next()) {
        (Some("--events-only-jsonl"), Some(path)) => (Some(PathBuf::from(path)), None),
        (Some("--huge"), Some(n)) => (None, Some(n.parse::<u64>().expect("--huge N"))),
        _ => (None, None),
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).expect("create output folder");
    }
    let _ = std::fs::remove_file(&out);
    let conn = Connection::open(&out).expect("create store");
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE events(
             event_id TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, aggregate_type TEXT NOT NULL,
             event_type TEXT NOT NULL, event_data TEXT NOT NULL, metadata TEXT,
             version INTEGER NOT NULL, timestamp TEXT NOT NULL, UNIQUE(aggregate_id, version));
         CREATE TABLE snapshots(
             aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL,
             created_at TEXT, PRIMARY KEY(aggregate_id, version));
         BEGIN;",
    )
    .expect("schema");
    if let Some(n) = huge {
        write_huge(&conn, n);
        conn.execute_batch("COMMIT; ANALYZE;").unwrap();
        println!("wrote {n} events of acc-huge to {}", out.display());
        return;
    }
    let mut jsonl =
        jsonl.map(|p| std::io::BufWriter::new(std::fs::File::create(p).expect("jsonl")));
    let mut insert = conn
        .prepare("INSERT INTO events VALUES (?1, ?2, 'account', ?3, ?4, ?5, ?6, ?7)")
        .unwrap();
    let mut snapshot = conn
        .prepare("INSERT INTO snapshots VALUES (?1, ?2, ?3, ?4)")
        .unwrap();
    let mut event_id = 0u64;
    let metadata = r#"{"source":"bench","schema":1}"#;
    let mut state = Value::Null;
    events::for_each_event(|event| {
        if event.version == 1 {
            state = Value::Null;
        }
        merge_patch(&mut state, &event.data);
        event_id += 1;
        let ts = event.timestamp();
        insert
            .execute(params![
                format!("e{event_id:08}"),
                event.aggregate_id,
                event.kind,
                event.data.to_string(),
                metadata,
                event.version as i64,
                ts
            ])
            .unwrap();
        if let Some(out) = jsonl.as_mut() {
            writeln!(out, "{}", event.to_json()).unwrap();
        }
        if event.version % SNAPSHOT_EVERY == 0 {
            snapshot
                .execute(params![
                    event.aggregate_id,
                    event.version as i64,
                    state.to_string(),
                    ts
                ])
                .unwrap();
        }
    });
    drop(insert);
    drop(snapshot);
    conn.execute_batch("COMMIT; ANALYZE;").unwrap();
    println!(
        "wrote {event_id} events in {} aggregates to {}",
        events::aggregates().len(),
        out.display()
    );
}

/// One aggregate of `n` small events (a balance and a counter), a second apart, with a
/// snapshot every SNAPSHOT_EVERY events, written in one transaction.
fn write_huge(conn: &Connection, n: u64) {
    let mut insert = conn
        .prepare("INSERT INTO events VALUES (?1, 'acc-huge', 'account', ?2, ?3, NULL, ?4, ?5)")
        .unwrap();
    let mut snapshot = conn
        .prepare("INSERT INTO snapshots VALUES ('acc-huge', ?1, ?2, ?3)")
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
    let mut balance: i64 = 0;
    for version in 1..=n {
        let (kind, delta) = match version % 3 {
            0 => ("Withdrawn", -7),
            _ => ("Deposited", 11),
        };
        balance += delta;
        let at = (start + chrono::Duration::seconds(version as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let data = format!(r#"{{"balance":{balance},"n":{version}}}"#);
        insert
            .execute(params![
                format!("h{version:09}"),
                kind,
                data,
                version as i64,
                at
            ])
            .unwrap();
        if version % (SNAPSHOT_EVERY as u64 * 100) == 0 {
            snapshot.execute(params![version as i64, data, at]).unwrap();
        }
    }
}
