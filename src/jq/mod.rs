//! jq programs, run embedded with jaq: reducers that fold events into state, and
//! predicates over states and events (bisect, `--where`).
//!
//! Programs are sandboxed: the native filters that read the environment, the clock, input
//! or write to stderr are not compiled in. Each program runs on a worker thread so a
//! runaway one can be stopped by a per-event time limit.

mod convert;
mod program;
mod worker;

pub use program::{compile, JqError, Program};
pub use worker::{Evaluator, Outcome};

use serde_json::{json, Value};

use crate::model::{format_time, Event};

/// The `$event` a program sees: `{type, version, timestamp, aggregate_id, data, metadata}`.
pub fn event_value(event: &Event) -> Value {
    json!({
        "type": event.event_type,
        "version": event.version,
        "timestamp": event.timestamp.as_ref().map(format_time),
        "aggregate_id": event.aggregate_id,
        "data": event.data.json().cloned().unwrap_or(Value::Null),
        "metadata": event.metadata,
    })
}
