//! jq programs, run embedded with jaq: reducers that fold events into state, and
//! predicates over states and events (bisect, `--where`).
//!
//! Programs are sandboxed: the native filters that read the environment, the clock, input
//! or write to stderr are not compiled in. Each program runs in a worker process (the
//! rewind executable started as `rewind __jq-worker`), so a runaway step can be killed, and
//! a stack overflow or an exhausted memory budget ends only that process: the step is
//! reported as failed and the fold goes on.

mod convert;
mod evaluator;
mod inputs;
mod limits;
mod packed;
mod process;
mod program;
mod protocol;
mod worker;

pub use evaluator::{Checkpoints, Evaluator, Outcome};
pub use inputs::reads_input;
pub use limits::{Limits, DEFAULT_MEMORY_MB};
pub use packed::packed_event;
pub use process::WORKER_EXE_VAR;
pub use program::{compile, JqError, Program};
pub use worker::{worker_main, WORKER_ARG};

use serde_json::Value;

use crate::model::{format_time, Event, Payload};

/// The `$event` a program sees (what [`packed_event`] hands a worker is the same value), `{type, version, timestamp, aggregate_id, aggregate_type,
/// position, event_id, data, metadata}`, as JSON text: the payloads are spliced in as stored,
/// and jaq parses the whole once.
pub fn event_json(event: &Event) -> String {
    let data = match &event.data {
        Payload::Json(data) => data.as_str(),
        Payload::Undecodable { .. } => "null",
    };
    let metadata = event.metadata.as_str();
    let mut out = String::with_capacity(data.len() + metadata.len() + 128);
    out.push_str(r#"{"type":"#);
    push_json_string(&mut out, &event.event_type);
    out.push_str(r#","version":"#);
    out.push_str(&event.version.to_string());
    out.push_str(r#","timestamp":"#);
    match &event.timestamp {
        Some(t) => push_json_string(&mut out, &format_time(t)),
        None => out.push_str("null"),
    }
    out.push_str(r#","aggregate_id":"#);
    push_json_string(&mut out, &event.aggregate_id);
    out.push_str(r#","aggregate_type":"#);
    push_optional_string(&mut out, event.aggregate_type.as_deref());
    out.push_str(r#","position":"#);
    match &event.position {
        crate::model::StorePosition::Seq(n) => out.push_str(&n.to_string()),
        other => out.push_str(&other.to_json().to_string()),
    }
    out.push_str(r#","event_id":"#);
    push_optional_string(&mut out, event.event_id.as_deref());
    out.push_str(r#","data":"#);
    out.push_str(data);
    out.push_str(r#","metadata":"#);
    out.push_str(metadata);
    out.push('}');
    out
}

fn push_optional_string(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => push_json_string(out, text),
        None => out.push_str("null"),
    }
}

/// Appends `text` as a JSON string; the common case (nothing to escape) is copied as is.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&Value::from(text).to_string());
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_json_is_the_documented_object() {
        let event = Event {
            aggregate_id: "acc-\"1\"".into(),
            aggregate_type: Some("account".into()),
            position: crate::model::StorePosition::Seq(42),
            version: 3,
            event_type: "Deposited".into(),
            timestamp: crate::model::parse_time("2026-01-15T10:00:00Z"),
            data: Payload::from_json_text(r#"{"amount": 5}"#),
            ..Event::default()
        };
        let parsed: Value = serde_json::from_str(&event_json(&event)).unwrap();
        assert_eq!(
            parsed,
            json!({"type": "Deposited", "version": 3, "timestamp": "2026-01-15T10:00:00Z",
                   "aggregate_id": "acc-\"1\"", "aggregate_type": "account", "position": 42,
                   "event_id": null, "data": {"amount": 5}, "metadata": null})
        );
    }
}
