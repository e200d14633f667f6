//! Shared by the benchmarks: where the benchmark store is, and driving the UI's loader
//! synchronously, as its thread would.
#![allow(dead_code)]

use std::path::PathBuf;

use rewind::source::EventSource;
use rewind::tui::loader::{perform, Newest, Request};
use rewind::tui::{Action, App};

/// `cargo test --all-targets` runs bench binaries too; only `cargo bench` passes --bench.
pub fn benchmarking() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// The store scripts/bench generates, or `REWIND_BENCH_STORE`; `None` (with a hint) if absent.
pub fn bench_store() -> Option<PathBuf> {
    let store = std::env::var_os("REWIND_BENCH_STORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench/bench.db"));
    if store.exists() {
        return Some(store);
    }
    eprintln!(
        "no benchmark store at {}: run scripts/bench (or cargo run --release --example gen_bench)",
        store.display()
    );
    None
}

/// Runs the app's queued requests to completion, as the loader thread would.
pub fn pump(app: &mut App, source: &dyn EventSource, newest: &Newest) {
    loop {
        let requests = app.take_requests();
        if requests.is_empty() {
            return;
        }
        for request in requests {
            // The UI works out the list's health on a thread of its own, off the paths
            // measured here.
            if matches!(request, Request::Health { .. }) {
                continue;
            }
            // Received events are replayed as they come, as the runtime paces the loader.
            if newest.note(&request) {
                perform(source, request, newest, &mut |report| {
                    app.update(Action::Loaded(report));
                    while app.has_backlog() {
                        app.update(Action::Digest);
                    }
                });
            }
        }
        while app.has_backlog() {
            app.update(Action::Digest);
        }
    }
}
