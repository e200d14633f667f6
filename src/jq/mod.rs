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

use serde_json::Value;

use crate::model::{format_time, Event, Payload};

/// The `$event` a program sees, `{type, version, timestamp, aggregate_id, data, metadata}`,
/// as JSON text: the payloads are spliced in as stored, and jaq parses the whole once.
pub fn event_json(event: &Event) -> String {
    let text = |s: &str| Value::from(s).to_string();
    let data = match &event.data {
        Payload::Json(data) => data.as_str(),
        Payload::Undecodable { .. } => "null",
    };
    let timestamp = event
        .timestamp
        .as_ref()
        .map_or("null".to_string(), |t| text(&format_time(t)));
    format!(
        r#"{{"type":{},"version":{},"timestamp":{},"aggregate_id":{},"data":{},"metadata":{}}}"#,
        text(&event.event_type),
        event.version,
        timestamp,
        text(&event.aggregate_id),
        data,
        event.metadata.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JsonText;
    use serde_json::json;

    #[test]
    fn event_json_is_the_documented_object() {
        let event = Event {
            aggregate_id: "acc-\"1\"".into(),
            aggregate_type: None,
            version: 3,
            event_type: "Deposited".into(),
            timestamp: crate::model::parse_time("2026-01-15T10:00:00Z"),
            data: Payload::from_json_text(r#"{"amount": 5}"#),
            metadata: JsonText::null(),
            issues: Vec::new(),
        };
        let parsed: Value = serde_json::from_str(&event_json(&event)).unwrap();
        assert_eq!(
            parsed,
            json!({"type": "Deposited", "version": 3, "timestamp": "2026-01-15T10:00:00Z",
                   "aggregate_id": "acc-\"1\"", "data": {"amount": 5}, "metadata": null})
        );
    }
}
