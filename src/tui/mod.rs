//! The interactive terminal UI: a thin front end over the core.
//!
//! `App` holds the state and changes only through `App::update(Action)`; `view::render`
//! draws it; `loader` owns the source on a blocking thread and reports back as actions;
//! `run` wires them to a real terminal.

pub mod action;
pub mod app;
pub mod diff_worker;
pub mod jobs;
pub mod keymap;
pub mod layout;
pub mod loader;
pub mod log_pages;
mod pager;
mod remote;
mod runtime;
mod terminal;
#[cfg(test)]
mod testing;
pub mod text;
pub mod theme;
pub mod view;

use std::sync::Arc;

use crate::diff::JsonPath;
use crate::inspect::TraceIds;
use crate::replay::Reducer;
use crate::source::kafka::ProgressFn;
use crate::source::{EventSource, SourceError};

pub use action::{Action, Tab};
pub use app::App;
pub use theme::Theme;

/// Front-end choices the CLI makes.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    pub theme: Theme,
    /// How long a jq filter may take on one event, and how much memory.
    pub jq_limits: crate::jq::Limits,
    /// Paths whose values exported transcripts hide (`redact` in rewind.toml).
    pub redact: Vec<JsonPath>,
    /// Where correlation, causation and event ids live, for traces.
    pub ids: TraceIds,
    /// For a source the UI opens itself: its conventions settle `ids` once it is open.
    pub ids_for: Option<app::IdsFor>,
    /// Open this aggregate once the list is in (`rewind SOURCE AGGREGATE --at POS`).
    pub open_at: Option<OpenAt>,
    /// The jq predicate every state must satisfy, for the list's health column.
    pub invariant: Option<std::sync::Arc<crate::inspect::Invariant>>,
}

/// An aggregate named on the command line, and where to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAt {
    pub aggregate: String,
    /// A version or a time; `None` is its latest event.
    pub at: Option<crate::model::Position>,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            theme: Theme::from_env(),
            jq_limits: crate::jq::Limits::default(),
            redact: Vec::new(),
            ids: TraceIds::default(),
            ids_for: None,
            open_at: None,
            invariant: None,
        }
    }
}

/// Opens a source, calling the progress function while it reads (a Kafka topic).
pub type OpenSource =
    Box<dyn FnOnce(Option<ProgressFn>) -> Result<Box<dyn EventSource>, SourceError> + Send>;

/// The source the UI reads, open already or to be opened once the UI is on screen.
pub enum SourceHandle {
    Ready(Box<dyn EventSource>),
    /// Opened on the loader's thread, so the first frame does not wait for a slow open and
    /// the aggregate list shows a gauge meanwhile. `name` is shown until it is open.
    Later {
        name: String,
        open: OpenSource,
    },
}

impl SourceHandle {
    pub fn name(&self) -> String {
        match self {
            SourceHandle::Ready(source) => source.describe(),
            SourceHandle::Later { name, .. } => name.clone(),
        }
    }
}

/// Runs the UI on the current terminal until the user quits; the terminal is restored on
/// every way out, panics included.
pub fn run(
    source: SourceHandle,
    reducer: Option<Arc<dyn Reducer>>,
    options: TuiOptions,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let result = runtime.block_on(runtime::event_loop(source, reducer, options));
    // The loader may be inside a slow read; do not wait for it.
    runtime.shutdown_background();
    // An export may still be writing: its temporary file goes with the UI.
    crate::files::cleanup::remove_all();
    result
}
