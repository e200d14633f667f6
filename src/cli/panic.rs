//! What a bug looks like to the user: one line on stderr naming it as rewind's bug, exit 101
//! (Rust's panic code). The UI's own hook restores the terminal first and then calls this one.

use std::sync::Arc;

use serde_json::Value;

use crate::model::{Event, StepProblem};
use crate::replay::Reducer;

use super::output::{warn, warn_lines};

/// Replaces the default panic message (several lines, a backtrace hint) with one line.
/// `RUST_BACKTRACE=1` still prints a backtrace after it, for whoever debugs the report.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        warn(&format!(
            "internal error (a bug in rewind, please report it): {what}{place}"
        ));
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            warn_lines(&std::backtrace::Backtrace::force_capture().to_string());
        }
    }));
}

/// Set to 1 to make the UI's replay panic, so tests can watch the terminal being restored.
/// Debug builds only: a release build has no way to fire it.
pub const TEST_PANIC_VAR: &str = "REWIND_TEST_PANIC";

/// The reducer the UI gets: in debug builds with `REWIND_TEST_PANIC=1`, one that panics at
/// the first event it folds (on the UI thread, with the terminal in raw mode and the
/// alternate screen); otherwise the one the user named, if any.
pub fn ui_reducer(named: Option<Arc<dyn Reducer>>) -> Option<Arc<dyn Reducer>> {
    if cfg!(debug_assertions) && std::env::var(TEST_PANIC_VAR).is_ok_and(|v| v == "1") {
        Some(Arc::new(PanickingReducer))
    } else {
        named
    }
}

struct PanickingReducer;

impl Reducer for PanickingReducer {
    fn name(&self) -> String {
        "panic (REWIND_TEST_PANIC)".into()
    }

    fn apply_all(&self, _state: &mut Value, _events: &[Event]) -> Vec<Option<StepProblem>> {
        panic!("{TEST_PANIC_VAR} is set\n(a second line)");
    }
}
