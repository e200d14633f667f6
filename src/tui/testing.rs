//! Test support: an `App` wired to a real source with the loader run in-line, and small
//! SQLite stores written on the spot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use rusqlite::{params, Connection};

use super::action::Action;
use super::app::App;
use super::loader::{perform, Newest, Report, Request};
use super::theme::Theme;
use super::view;
use crate::replay::Reducer;
use crate::source::{self, EventSource};

pub fn demo_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db")
}

pub fn open_store(path: &Path) -> Box<dyn EventSource> {
    source::open(
        &path.to_string_lossy(),
        &crate::source::OpenOptions::default(),
    )
    .expect("open store")
}

/// An `App` whose requests are carried out synchronously against a real source.
pub struct Harness {
    pub app: App,
    pub source: Box<dyn EventSource>,
    newest: Newest,
}

impl Harness {
    pub fn new(source: Box<dyn EventSource>, width: u16, height: u16) -> Harness {
        Harness::with_named(source, None, width, height)
    }

    pub fn with_reducer(
        source: Box<dyn EventSource>,
        reducer: Arc<dyn Reducer>,
        width: u16,
        height: u16,
    ) -> Harness {
        Harness::with_named(source, Some(reducer), width, height)
    }

    fn with_named(
        source: Box<dyn EventSource>,
        named: Option<Arc<dyn Reducer>>,
        width: u16,
        height: u16,
    ) -> Harness {
        Harness::set_up(source, named, width, height, |_| {})
    }

    /// The demo with the app set up by `setup` before anything is loaded (as the runtime
    /// sets the front end's options).
    pub fn demo_with(setup: impl FnOnce(&mut App)) -> Harness {
        Harness::set_up(open_store(&demo_path()), None, 120, 32, setup)
    }

    fn set_up(
        source: Box<dyn EventSource>,
        named: Option<Arc<dyn Reducer>>,
        width: u16,
        height: u16,
        setup: impl FnOnce(&mut App),
    ) -> Harness {
        let mut app = App::new(
            "sqlite:demo.db".into(),
            named,
            Theme::colored(),
            Rect::new(0, 0, width, height),
        );
        setup(&mut app);
        let mut harness = Harness {
            app,
            source,
            newest: Newest::default(),
        };
        harness.pump();
        harness
    }

    pub fn demo() -> Harness {
        Harness::new(open_store(&demo_path()), 120, 32)
    }

    pub fn send(&mut self, action: Action) {
        self.app.update(action);
        self.pump();
    }

    pub fn send_all(&mut self, actions: impl IntoIterator<Item = Action>) {
        for action in actions {
            self.send(action);
        }
    }

    pub fn type_text(&mut self, text: &str) {
        self.send_all(text.chars().map(Action::InputChar));
    }

    /// Runs every queued request to completion, feeding reports back in order.
    pub fn pump(&mut self) {
        loop {
            let requests = self.app.take_requests();
            if requests.is_empty() {
                break;
            }
            for request in requests {
                for report in self.perform(request) {
                    self.app.update(Action::Loaded(report));
                }
            }
            self.digest_all();
        }
    }

    pub fn digest_all(&mut self) {
        while self.app.has_backlog() {
            self.app.update(Action::Digest);
        }
    }

    /// Carries out one request and returns its reports without applying them.
    pub fn perform(&self, request: Request) -> Vec<Report> {
        let mut reports = Vec::new();
        if self.newest.note(&request) {
            perform(self.source.as_ref(), request, &self.newest, &mut |r| {
                reports.push(r)
            });
        }
        reports
    }

    /// Filters the list down to `id`, opens it (at its latest event) and goes to its first
    /// event, where most tests start.
    pub fn open(&mut self, id: &str) {
        self.open_latest(id);
        if self.app.view.as_ref().is_some_and(|v| !v.is_empty()) {
            self.send(Action::First);
        }
    }

    /// Filters the list down to `id` and opens it.
    pub fn open_latest(&mut self, id: &str) {
        self.send(Action::Filter);
        self.type_text(id);
        self.send(Action::Confirm);
        let selected = self.app.list.selected_summary().map(|s| s.id.clone());
        assert_eq!(selected.as_deref(), Some(id), "{id} is not in the list");
        self.send(Action::Confirm);
    }

    pub fn terminal(&self) -> Terminal<TestBackend> {
        let mut terminal =
            Terminal::new(TestBackend::new(self.app.size.width, self.app.size.height)).unwrap();
        terminal
            .draw(|frame| view::render(&self.app, frame))
            .unwrap();
        terminal
    }

    /// The screen as plain text, one line per row.
    pub fn screen(&self) -> String {
        let terminal = self.terminal();
        let buffer = terminal.backend().buffer();
        let mut text = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                text.push_str(buffer[(x, y)].symbol());
            }
            text.push('\n');
        }
        text
    }

    pub fn cursor_version(&self) -> u64 {
        let view = self.app.view.as_ref().expect("an aggregate is open");
        view.current_entry().expect("events loaded").version
    }
}

/// One row of a test store's events table.
pub struct Row<'a> {
    pub aggregate_id: &'a str,
    pub version: u64,
    pub event_type: &'a str,
    pub data: &'a str,
    pub timestamp: String,
}

pub fn row<'a>(aggregate_id: &'a str, version: u64, event_type: &'a str, data: &'a str) -> Row<'a> {
    Row {
        aggregate_id,
        version,
        event_type,
        data,
        timestamp: format!(
            "2026-01-15T{:02}:{:02}:00Z",
            (version / 60) % 24,
            version % 60
        ),
    }
}

/// A store in rewind's native schema.
pub fn create_store(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("create store");
    conn.execute_batch(
        "CREATE TABLE events(
             event_id TEXT PRIMARY KEY, aggregate_id TEXT NOT NULL, aggregate_type TEXT NOT NULL,
             event_type TEXT NOT NULL, event_data TEXT NOT NULL, metadata TEXT,
             version INTEGER NOT NULL, timestamp TEXT NOT NULL, UNIQUE(aggregate_id, version));
         CREATE TABLE snapshots(
             aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, state TEXT NOT NULL,
             created_at TEXT, PRIMARY KEY(aggregate_id, version));",
    )
    .expect("create schema");
    conn
}

pub fn insert(conn: &Connection, rows: &[Row<'_>]) {
    let tx = conn.unchecked_transaction().unwrap();
    for r in rows {
        tx.execute(
            "INSERT INTO events VALUES (?1, ?2, 'thing', ?3, ?4, '{}', ?5, ?6)",
            params![
                format!("{}-{}", r.aggregate_id, r.version),
                r.aggregate_id,
                r.event_type,
                r.data,
                r.version,
                r.timestamp
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// `count` events for `id` from version `from`, each setting `n` to its version.
pub fn insert_counting(conn: &Connection, id: &str, from: u64, count: u64) {
    let datas: Vec<(String, u64)> = (from..from + count)
        .map(|v| {
            (
                format!(
                    "{{\"n\": {v}, \"parity\": \"{}\"}}",
                    if v % 2 == 0 { "even" } else { "odd" }
                ),
                v,
            )
        })
        .collect();
    let rows: Vec<Row<'_>> = datas
        .iter()
        .map(|(data, v)| row(id, *v, "Counted", data))
        .collect();
    insert(conn, &rows);
}
