//! Keypress-to-finished-frame latency while scrubbing one aggregate of the benchmark store
//! (`acc-big`, 200,000 events, or `REWIND_BENCH_AGGREGATE`): `App::update` plus a full
//! render on a 200×50 `TestBackend`, one sample per key; also the first frame once the
//! history's index is read, random version jumps on their own, and the peak RSS.
//!
//! `cargo bench --bench tui_latency` (scripts/bench runs it). Prints one JSON line with the
//! figures in milliseconds and MB, as scripts/bench_report.py reads it.

use rewind::tui::loader::Newest;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use serde_json::json;

mod support;

use rewind::replay::MergeReducer;
use rewind::source;
use rewind::tui::{layout, view, Action, App, Theme};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const KEYS: usize = 3000;

fn main() {
    let Some(store) = support::benchmarking().then(support::bench_store).flatten() else {
        return;
    };
    let source = source::open(&store.to_string_lossy(), &source::OpenOptions::default()).unwrap();
    let latest = Newest::default();
    let size = Rect::new(0, 0, WIDTH, HEIGHT);
    let mut app = App::new(
        "bench".into(),
        Some(Arc::new(MergeReducer)),
        Theme::colored(),
        size,
    );
    support::pump(&mut app, source.as_ref(), &latest);
    let aggregate =
        std::env::var("REWIND_BENCH_AGGREGATE").unwrap_or_else(|_| "acc-big".to_string());
    app.update(Action::Filter);
    for c in aggregate.chars() {
        app.update(Action::InputChar(c));
    }
    app.update(Action::Confirm);
    app.update(Action::Confirm);
    let started = Instant::now();
    support::pump(&mut app, source.as_ref(), &latest);
    let events = app.view.as_ref().map_or(0, |v| v.len());
    let opened = started.elapsed();
    eprintln!("opened {events} events in {opened:?}");

    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let started = Instant::now();
    terminal.draw(|f| view::render(&app, f)).unwrap();
    let first_frame = started.elapsed();
    let bar = layout::aggregate(size).bar;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut samples = Vec::with_capacity(KEYS);
    let mut jumps = Vec::with_capacity(KEYS / 10);
    for i in 0..KEYS {
        // A person scrubbing: mostly steps, some pages, drags on the bar and version jumps.
        let keys: Vec<Action> = match i % 10 {
            0 => vec![Action::Drag {
                column: bar.x + next(bar.width as u64) as u16,
                row: bar.y + 1,
            }],
            1 => {
                let mut keys = vec![Action::JumpToVersion];
                keys.extend(
                    (1 + next(events as u64))
                        .to_string()
                        .chars()
                        .map(Action::InputChar),
                );
                keys.push(Action::Confirm);
                keys
            }
            2 => vec![Action::PageDown],
            3 => vec![Action::PageUp],
            4..=6 => vec![Action::StepForward],
            _ => vec![Action::StepBack],
        };
        let started = Instant::now();
        for key in keys {
            app.update(key);
        }
        terminal.draw(|f| view::render(&app, f)).unwrap();
        samples.push(started.elapsed());
        if i % 10 == 1 {
            jumps.push(started.elapsed());
        }
    }
    let (keys, jumps) = (quantiles(samples), quantiles(jumps));
    println!(
        "{}",
        json!({"metric": "keypress_to_frame", "aggregate": aggregate, "events": events,
               "p50_ms": keys.0, "p99_ms": keys.1, "max_ms": keys.2, "samples": KEYS,
               "size": "200x50", "jump_p99_ms": jumps.1,
               "open_s": opened.as_secs_f64(), "first_frame_ms": first_frame.as_secs_f64() * 1000.0,
               "peak_rss_mb": peak_rss_mb()})
    );
}

/// p50, p99 and max in milliseconds.
fn quantiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
    (at(0.5), at(0.99), at(1.0))
}

/// The process's peak resident set so far, from /proc (Linux).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
