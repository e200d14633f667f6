//! Following resumes without re-reading: on the benchmark's 1,000,000-event store, a store-wide
//! poll from the resume point of the last read, with nothing new, reads no event rows. Each
//! poll is timed beside the cheapest query a poll could make, `SELECT MAX(rowid)` on a
//! connection of its own, interleaved so load hits both alike.
//!
//! `cargo bench --bench follow_poll` (scripts/bench runs it). Prints one JSON line, as
//! scripts/bench_report.py reads it.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde_json::json;

mod support;

use rewind::model::StorePosition;
use rewind::source::sqlite::{SqliteOptions, SqliteSource};
use rewind::source::{EventSource, Query, Resume, Start};

const POLLS: usize = 200;

fn main() {
    let Some(store) = support::benchmarking().then(support::bench_store).flatten() else {
        return;
    };
    let source = SqliteSource::open(&store, SqliteOptions::default()).unwrap();
    let baseline = Connection::open_with_flags(&store, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let last: i64 = baseline
        .query_row("SELECT MAX(rowid) FROM events", [], |row| row.get(0))
        .unwrap();
    // Where `log --follow` stands once it has printed the store: its last event read.
    let mut resume = poll(
        &source,
        Query::store().starting(Start::Position(StorePosition::Seq(last))),
    );
    let read_before = source.rows_read();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..POLLS {
        let started = Instant::now();
        resume = poll(&source, Query::store().starting(Start::Resume(resume)));
        ours.push(started.elapsed());
        let started = Instant::now();
        let _: i64 = baseline
            .query_row("SELECT MAX(rowid) FROM events", [], |row| row.get(0))
            .unwrap();
        theirs.push(started.elapsed());
    }
    let rows_read = source.rows_read() - read_before;
    println!(
        "{}",
        json!({"metric": "idle_follow_poll", "polls": POLLS, "rows_read": rows_read,
               "p50_ms": p50(ours), "baseline_p50_ms": p50(theirs)})
    );
}

/// One store-wide read; the events it hands over are dropped.
fn poll(source: &SqliteSource, query: Query) -> Resume {
    source
        .query(&query, &mut |_| ControlFlow::Continue(()))
        .unwrap()
}

fn p50(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}
