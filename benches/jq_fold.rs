//! rewind's jq fold against the jaq CLI on the same events: the benchmark store's
//! 200,000-event aggregate folded with the simple reducer, in rewind's replay engine and by
//! `jaq -n 'reduce inputs as $event (null; …)'` over the same `$event` texts as JSON Lines.
//!
//! `cargo bench --bench jq_fold`. The jaq CLI is looked for in `JAQ`, then
//! target/bench/jaq/bin/jaq (`cargo install jaq --locked --root target/bench/jaq`). Runs
//! alternate between the two (RUNS each, default 7) so a noisy machine hits both alike;
//! prints one JSON object per figure, medians.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use rewind::model::History;
use rewind::replay::{JqReducer, Reducer, Replay};
use rewind::source::sqlite::{SqliteOptions, SqliteSource};
use rewind::source::EventSource;
use serde_json::json;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AGGREGATE: &str = "acc-big";
const SIMPLE_JQ: &str = "(. // {}) | .balance = $event.data.balance | .events += 1";

fn main() {
    let Some(store) = support::benchmarking().then(support::bench_store).flatten() else {
        return;
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let source = SqliteSource::open(&store, SqliteOptions::default()).expect("open store");
    let history = source.history(AGGREGATE).expect("read acc-big");
    let events = history.events.len();
    let lines = store.with_file_name(format!("{AGGREGATE}.events.jsonl"));
    write_events(&history, &lines);
    let jaq = jaq_cli();

    let reducer: Arc<dyn Reducer> =
        Arc::new(JqReducer::new(SIMPLE_JQ, "bench.jq", Duration::from_secs(5)).unwrap());
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut states = (None, None);
    for _ in 0..runs {
        let (time, state) = fold_time(&history, &reducer);
        ours.push(time);
        states.0 = Some(state);
        if let Some(jaq) = &jaq {
            let (time, state) = jaq_time(jaq, &lines);
            theirs.push(time);
            states.1 = Some(state);
        }
    }
    if let (Some(ours), Some(theirs)) = &states {
        assert_eq!(ours, theirs, "rewind and jaq disagree on the final state");
    }
    let rate = |times: &mut Vec<Duration>| events as f64 / median(times).as_secs_f64();
    let rewind = rate(&mut ours);
    report("jq_fold_rewind_events_per_s", rewind, &ours);
    if jaq.is_none() {
        eprintln!("no jaq CLI (set JAQ or cargo install jaq --locked --root target/bench/jaq)");
        return;
    }
    let cli = rate(&mut theirs);
    report("jq_fold_jaq_cli_events_per_s", cli, &theirs);
    println!(
        "{}",
        json!({"metric": "jq_fold_rewind_over_jaq_cli", "value": rewind / cli, "unit": "ratio"})
    );
}

/// The `$event` texts rewind hands its jq programs, one a line, for the jaq CLI.
fn write_events(history: &History, path: &Path) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("events file"));
    for event in &history.events {
        writeln!(out, "{}", rewind::jq::event_json(event)).expect("write events");
    }
    out.flush().expect("write events");
}

fn jaq_cli() -> Option<PathBuf> {
    let path = std::env::var_os("JAQ")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench/jaq/bin/jaq"));
    path.exists().then_some(path)
}

fn fold_time(history: &History, reducer: &Arc<dyn Reducer>) -> (Duration, serde_json::Value) {
    let copy = history.clone();
    let started = Instant::now();
    let replay = Replay::from_history(copy, None, reducer.clone());
    let elapsed = started.elapsed();
    (elapsed, replay.latest().clone())
}

fn jaq_time(jaq: &Path, lines: &Path) -> (Duration, serde_json::Value) {
    let program = format!("reduce inputs as $event (null; {SIMPLE_JQ})");
    let started = Instant::now();
    let output = Command::new(jaq)
        .args(["-n", "-c", &program])
        .arg(lines)
        .output()
        .expect("run jaq");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "jaq failed: {output:?}");
    let state = serde_json::from_slice(&output.stdout).expect("jaq prints the state");
    (elapsed, state)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn report(metric: &str, value: f64, times: &[Duration]) {
    let runs: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    println!(
        "{}",
        json!({"metric": metric, "value": value, "unit": "events/s", "runs_s": runs})
    );
}
