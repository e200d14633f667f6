//! Writes the benchmark store: 1,000,000 events in rewind's native schema.
//!
//! 10,000 aggregates of ~80 events each plus `acc-big` with 200,000 events; JSON payloads of
//! 150–400 bytes; a snapshot every 100 events. Deterministic: same seed, same file.
//! `cargo run --release --example gen_bench -- OUTPUT [--events-only-jsonl FILE]`

use std::io::Write;
use std::path::PathBuf;

use chrono::{Duration, TimeZone, Utc};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

use rewind::replay::merge_patch;

const SMALL_AGGREGATES: usize = 10_000;
const SMALL_EVENTS: usize = 80;
const BIG_EVENTS: usize = 200_000;
const SNAPSHOT_EVERY: usize = 100;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: [&str; 16] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa",
];

/// An event payload of 150–400 bytes: a balance update with a transaction record and a note.
fn payload(rng: &mut Rng, version: usize, balance: &mut i64) -> (&'static str, Value) {
    let amount = 100 + rng.below(50_000) as i64;
    let (kind, signed) = if rng.below(3) == 0 && *balance > amount {
        ("Withdrawn", -amount)
    } else {
        ("Deposited", amount)
    };
    *balance += signed;
    let note_words = 2 + rng.below(30) as usize;
    let note: Vec<&str> = (0..note_words)
        .map(|_| WORDS[rng.below(16) as usize])
        .collect();
    let channel = ["card", "sepa", "atm", "branch"][rng.below(4) as usize];
    let reference = format!("TX-{version:07}-{:08x}", rng.next() as u32);
    let data = json!({
        "balance": *balance as f64 / 100.0,
        "last_transaction": {
            "amount": amount as f64 / 100.0,
            "kind": kind,
            "reference": reference,
            "channel": channel,
        },
        "note": note.join(" "),
    });
    (kind, data)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/bench/bench.db".into()),
    );
    let jsonl = match (args.next().as_deref(), args.next()) {
        (Some("--events-only-jsonl"), Some(path)) => Some(PathBuf::from(path)),
        _ => None,
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
    let mut jsonl =
        jsonl.map(|p| std::io::BufWriter::new(std::fs::File::create(p).expect("jsonl")));
    let mut insert = conn
        .prepare("INSERT INTO events VALUES (?1, ?2, 'account', ?3, ?4, ?5, ?6, ?7)")
        .unwrap();
    let mut snapshot = conn
        .prepare("INSERT INTO snapshots VALUES (?1, ?2, ?3, ?4)")
        .unwrap();
    let mut rng = Rng(1_000_000);
    let epoch = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut event_id = 0u64;
    let mut aggregates: Vec<(String, usize)> = (0..SMALL_AGGREGATES)
        // Pairs vary around the mean in opposite directions, so the total stays exact.
        .map(|i| {
            let spread = (i / 2) % 10;
            let count = if i % 2 == 0 {
                SMALL_EVENTS + spread
            } else {
                SMALL_EVENTS - spread
            };
            (format!("acc-{i:05}"), count)
        })
        .collect();
    aggregates.push(("acc-big".to_string(), BIG_EVENTS));
    let metadata = r#"{"source":"bench","schema":1}"#;
    for (id, count) in &aggregates {
        let mut balance = 0i64;
        let mut state = Value::Null;
        let mut at = epoch + Duration::minutes(rng.below(60 * 24 * 30) as i64);
        for version in 1..=*count {
            let (kind, data) = payload(&mut rng, version, &mut balance);
            merge_patch(&mut state, &data);
            at += Duration::seconds(1 + rng.below(600) as i64);
            event_id += 1;
            let ts = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let text = data.to_string();
            insert
                .execute(params![
                    format!("e{event_id:08}"),
                    id,
                    kind,
                    text,
                    metadata,
                    version as i64,
                    ts
                ])
                .unwrap();
            if let Some(out) = jsonl.as_mut() {
                writeln!(out, "{}", json!({"key": id, "type": kind, "version": version, "timestamp": ts, "data": data})).unwrap();
            }
            if version % SNAPSHOT_EVERY == 0 {
                snapshot
                    .execute(params![id, version as i64, state.to_string(), ts])
                    .unwrap();
            }
        }
    }
    drop(insert);
    drop(snapshot);
    conn.execute_batch("COMMIT; ANALYZE;").unwrap();
    println!(
        "wrote {event_id} events in {} aggregates to {}",
        aggregates.len(),
        out.display()
    );
}
