//! The store log screen on the benchmark's 1,000,000-event store: from the key that opens
//! it (`L`) to its first finished frame, and likewise for the jump to its end (`G`) and for
//! paging down through it. Each sample is `App::update`, the loader's page read (run
//! in-line, as its thread would) and a full render on a 200×50 `TestBackend`.
//!
//! `cargo bench --bench tui_log` (scripts/bench runs it). Prints one JSON line per figure
//! with the p50/p99 in milliseconds, as scripts/bench_report.py reads them.

use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use serde_json::json;

mod support;

use rewind::source;
use rewind::tui::loader::Newest;
use rewind::tui::{view, Action, App, Theme};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const SAMPLES: usize = 30;

fn main() {
    let Some(store) = support::benchmarking().then(support::bench_store).flatten() else {
        return;
    };
    let source = source::open(&store.to_string_lossy(), &source::OpenOptions::default()).unwrap();
    let newest = Newest::default();
    let mut app = App::new(
        "bench".into(),
        None,
        Theme::colored(),
        Rect::new(0, 0, WIDTH, HEIGHT),
    );
    let started = Instant::now();
    support::pump(&mut app, source.as_ref(), &newest);
    eprintln!(
        "listed {} aggregates in {:?}",
        app.list.all.len(),
        started.elapsed()
    );
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut sample = |app: &mut App, keys: &[Action]| {
        let started = Instant::now();
        for key in keys {
            app.update(key.clone());
        }
        support::pump(app, source.as_ref(), &newest);
        terminal.draw(|f| view::render(app, f)).unwrap();
        started.elapsed()
    };

    let mut first = Vec::new();
    let mut last = Vec::new();
    let mut pages = Vec::new();
    for _ in 0..SAMPLES {
        first.push(sample(&mut app, &[Action::OpenLog]));
        let shown = app.log.as_ref().map_or(0, |log| log.rows.len());
        assert!(shown > 0, "the first frame shows the store's first rows");
        for _ in 0..20 {
            pages.push(sample(&mut app, &[Action::PageDown]));
        }
        last.push(sample(&mut app, &[Action::Last]));
        sample(&mut app, &[Action::Back]);
    }
    report("log_first_frame", first);
    report("log_end_frame", last);
    report("log_page_down_frame", pages);
}

fn report(metric: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({"metric": metric, "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0),
               "samples": samples.len(), "size": "200x50", "store_events": 1_000_000})
    );
}
