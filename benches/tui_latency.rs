//! Keypress-to-finished-frame latency while scrubbing the benchmark store's 200,000-event
//! aggregate: `App::update` plus a full render on a 200×50 `TestBackend`, one sample per key.
//!
//! `cargo bench --bench tui_latency` (scripts/bench runs it). Prints one JSON line with the
//! p50/p99 in milliseconds, as scripts/bench_report.py reads it.

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
    app.update(Action::Filter);
    for c in "acc-big".chars() {
        app.update(Action::InputChar(c));
    }
    app.update(Action::Confirm);
    app.update(Action::Confirm);
    let started = Instant::now();
    support::pump(&mut app, source.as_ref(), &latest);
    let events = app.view.as_ref().map_or(0, |v| v.len());
    eprintln!("opened {events} events in {:?}", started.elapsed());

    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let bar = layout::aggregate(size).bar;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut samples = Vec::with_capacity(KEYS);
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
    }
    report(samples);
}

fn report(mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({"metric": "keypress_to_frame", "p50_ms": at(0.5), "p99_ms": at(0.99),
               "max_ms": at(1.0), "samples": samples.len(), "size": "200x50"})
    );
}
