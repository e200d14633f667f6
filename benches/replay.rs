//! Replay figures on the benchmark store's 200,000-event aggregate: fold throughput with the
//! merge and a jq reducer, and the latency of random jumps and single steps.
//!
//! `cargo bench --bench replay` (scripts/bench runs it after generating the store). Prints
//! one JSON object per metric, so scripts can read the figures.

use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use rewind::model::History;
use rewind::replay::{JqReducer, MergeReducer, Reducer, Replay};
use rewind::source::sqlite::{SqliteOptions, SqliteSource};
use rewind::source::EventSource;
use serde_json::json;

/// The same allocator as the binary, so library figures match what users get.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AGGREGATE: &str = "acc-big";
const SIMPLE_JQ: &str = "(. // {}) | .balance = $event.data.balance | .events += 1";

fn main() {
    let Some(store) = support::benchmarking().then(support::bench_store).flatten() else {
        return;
    };
    let source = SqliteSource::open(&store, SqliteOptions::default()).expect("open store");
    let history = source.history(AGGREGATE).expect("read acc-big");
    let events = history.events.len();

    let merge: Arc<dyn Reducer> = Arc::new(MergeReducer);
    let fold = median(5, || fold_time(&history, &merge));
    report(
        "fold_merge_events_per_s",
        events as f64 / fold.as_secs_f64(),
        "events/s",
    );

    let jq: Arc<dyn Reducer> =
        Arc::new(JqReducer::new(SIMPLE_JQ, "bench.jq", Duration::from_secs(5)).unwrap());
    let fold = median(3, || fold_time(&history, &jq));
    report(
        "fold_jq_events_per_s",
        events as f64 / fold.as_secs_f64(),
        "events/s",
    );

    let mut replay = Replay::from_history(history, None, merge);
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let jumps: Vec<Duration> = (0..2000)
        .map(|_| {
            let target = next(events + 1);
            let started = Instant::now();
            let _ = std::hint::black_box(replay.state_after(target).expect("state"));
            started.elapsed()
        })
        .collect();
    report_latency("random_jump", jumps);

    let mut steps = Vec::new();
    for _ in 0..20 {
        let mut at = next(events - 200) + 100;
        replay.state_after(at).expect("state");
        for i in 0..100 {
            // Forward then back, as a person scrubbing does.
            at = if i < 50 { at + 1 } else { at - 1 };
            let started = Instant::now();
            let _ = std::hint::black_box(replay.state_after(at).expect("state"));
            steps.push(started.elapsed());
        }
    }
    report_latency("single_step", steps);
}

fn fold_time(history: &History, reducer: &Arc<dyn Reducer>) -> Duration {
    let copy = history.clone();
    let started = Instant::now();
    let replay = Replay::from_history(copy, None, reducer.clone());
    let elapsed = started.elapsed();
    std::hint::black_box(replay.latest());
    elapsed
}

fn median(runs: usize, mut measure: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| measure()).collect();
    times.sort();
    times[runs / 2]
}

fn report(metric: &str, value: f64, unit: &str) {
    println!(
        "{}",
        json!({"metric": metric, "value": value, "unit": unit})
    );
}

fn report_latency(metric: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({"metric": metric, "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0), "samples": samples.len()})
    );
}
