//! Keypress-to-frame cost on a 100,000-event aggregate: `App::update` plus a full render
//! on a 200×50 `TestBackend`. The budget is 16 ms per frame.
//!
//! The store is a temp SQLite file in rewind's native schema, loaded through the same
//! loader the UI uses.

use rewind::tui::loader::Newest;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use rusqlite::{params, Connection};

mod support;

use rewind::replay::MergeReducer;
use rewind::source;
use rewind::tui::{layout, view, Action, App, Tab, Theme};

const EVENTS: u64 = 100_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;

fn build_store(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE events(
             event_id TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, aggregate_type TEXT NOT NULL,
             event_type TEXT NOT NULL, event_data TEXT NOT NULL, metadata TEXT,
             version INTEGER NOT NULL, timestamp TEXT NOT NULL, UNIQUE(aggregate_id, version));
         CREATE TABLE snapshots(
             aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL,
             created_at TEXT, PRIMARY KEY(aggregate_id, version));",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = tx
            .prepare("INSERT INTO events VALUES (?1, 'big', 'account', ?2, ?3, '{\"user\":\"bench\"}', ?4, ?5)")
            .unwrap();
        let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap();
        for v in 1..=EVENTS {
            let data = if v % 25_000 == 0 {
                "{\"truncated\": ".to_string()
            } else {
                format!(
                    "{{\"balance\": {}, \"last\": {{\"ref\": \"TX-{v:06}\", \"amount\": {}}}, \"tags\": {{\"t{}\": true}}, \"owner\": {{\"name\": \"Ada\", \"city\": \"C{}\"}}}}",
                    v * 3 % 10_007,
                    v % 97,
                    v % 13,
                    v % 7
                )
            };
            let at = start + chrono::Duration::seconds(v as i64 * 30);
            insert
                .execute(params![
                    format!("e{v}"),
                    if v % 2 == 0 { "Deposited" } else { "Withdrawn" },
                    data,
                    v,
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ])
                .unwrap();
        }
    }
    for v in (1000..=EVENTS).step_by(1000) {
        tx.execute(
            "INSERT INTO snapshots VALUES ('big', ?1, '{\"balance\": 0}', NULL)",
            params![v],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

fn open_big_aggregate() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let started = Instant::now();
    build_store(&path);
    eprintln!("built a {EVENTS}-event store in {:?}", started.elapsed());
    let source = source::open(&path.to_string_lossy(), &source::OpenOptions::default()).unwrap();
    let latest = Newest::default();
    let mut app = App::new(
        "bench".into(),
        Some(Arc::new(MergeReducer)),
        Theme::colored(),
        Rect::new(0, 0, WIDTH, HEIGHT),
    );
    support::pump(&mut app, source.as_ref(), &latest);
    let started = Instant::now();
    app.update(Action::Confirm);
    support::pump(&mut app, source.as_ref(), &latest);
    eprintln!(
        "loaded and replayed {} events (snapshots checked) in {:?}",
        app.view.as_ref().unwrap().len(),
        started.elapsed()
    );
    (app, dir)
}

/// A small deterministic generator, so runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn frame(terminal: &mut Terminal<TestBackend>, app: &App) {
    terminal.draw(|f| view::render(app, f)).unwrap();
    black_box(terminal.backend().buffer().area);
}

fn bench(c: &mut Criterion) {
    let (mut app, _dir) = open_big_aggregate();
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut group = c.benchmark_group("tui_frame_100k");

    group.bench_function("render_only", |b| b.iter(|| frame(&mut terminal, &app)));

    for tab in [Tab::State, Tab::Diff, Tab::Event] {
        app.update(Action::SelectTab(tab));
        app.update(Action::First);
        group.bench_function(format!("step_forward+render/{tab:?}"), |b| {
            b.iter(|| {
                if app.view.as_ref().unwrap().at_end() {
                    app.update(Action::First);
                }
                app.update(Action::StepForward);
                frame(&mut terminal, &app);
            })
        });
    }
    app.update(Action::SelectTab(Tab::State));

    group.bench_function("step_back+render", |b| {
        app.update(Action::Last);
        b.iter(|| {
            if app.view.as_ref().unwrap().cursor == 0 {
                app.update(Action::Last);
            }
            app.update(Action::StepBack);
            frame(&mut terminal, &app);
        })
    });

    let bar = layout::aggregate(Rect::new(0, 0, WIDTH, HEIGHT)).bar;
    let mut rng = Lcg(7);
    group.bench_function("scrub_random+render", |b| {
        b.iter(|| {
            let column = bar.x + rng.below(bar.width as u64) as u16;
            app.update(Action::Drag {
                column,
                row: bar.y + 1,
            });
            frame(&mut terminal, &app);
        })
    });

    group.bench_function("jump_random_version+render", |b| {
        b.iter(|| {
            let version = 1 + rng.below(EVENTS);
            app.update(Action::JumpToVersion);
            for c in version.to_string().chars() {
                app.update(Action::InputChar(c));
            }
            app.update(Action::Confirm);
            frame(&mut terminal, &app);
        })
    });

    app.update(Action::First);
    app.update(Action::MarkA);
    app.update(Action::Last);
    app.update(Action::MarkB);
    app.update(Action::OpenCompare);
    group.bench_function("compare_first_last+render", |b| {
        b.iter(|| {
            // Moving mark A invalidates the comparison, so each frame recomputes it.
            let a = rng.below(EVENTS / 2);
            app.view.as_mut().unwrap().marks[0] = Some(a as usize);
            app.update(Action::StepBack);
            frame(&mut terminal, &app);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
