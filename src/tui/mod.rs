//! The interactive terminal UI: a thin front end over the core.
//!
//! `App` holds the state and changes only through `App::update(Action)`; `view::render`
//! draws it; `loader` owns the source on a blocking thread and reports back as actions;
//! `run` wires them to a real terminal.

pub mod action;
pub mod app;
pub mod keymap;
pub mod layout;
pub mod loader;
mod runtime;
mod terminal;
#[cfg(test)]
mod testing;
pub mod text;
pub mod theme;
pub mod view;

use std::sync::Arc;

use crate::replay::Reducer;
use crate::source::EventSource;

pub use action::{Action, Tab};
pub use app::App;
pub use theme::Theme;

/// Front-end choices the CLI makes.
#[derive(Debug, Clone, Copy)]
pub struct TuiOptions {
    pub theme: Theme,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            theme: Theme::from_env(),
        }
    }
}

/// Runs the UI on the current terminal until the user quits; the terminal is restored on
/// every way out, panics included.
pub fn run(
    source: Box<dyn EventSource>,
    reducer: Arc<dyn Reducer>,
    options: TuiOptions,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let result = runtime.block_on(runtime::event_loop(source, reducer, options));
    // The loader may be inside a slow read; do not wait for it.
    runtime.shutdown_background();
    result
}
