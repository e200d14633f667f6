//! How events change an aggregate's state.

use std::time::Duration;

use serde_json::Value;

use super::StepProblem;
use crate::jq::{event_value, Evaluator, JqError, Outcome};
use crate::model::{Event, Payload};

/// A fold over events. Batches let a reducer amortise its setup (a jq worker, say).
pub trait Reducer: Send + Sync {
    /// Shown in headers and transcripts, e.g. `merge` or `jq:assets/bank.jq`.
    fn name(&self) -> String;

    /// Applies `events` in order to `state`, one outcome per event. An event that fails
    /// leaves the state as it was; the fold goes on with the next.
    fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>>;
}

/// RFC 7396 JSON merge patch of each event's data into the state.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeReducer;

impl Reducer for MergeReducer {
    fn name(&self) -> String {
        "merge".into()
    }

    fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>> {
        events
            .iter()
            .map(|event| match &event.data {
                Payload::Json(data) => {
                    merge_patch(state, data);
                    None
                }
                Payload::Undecodable { error, .. } => Some(StepProblem::Undecodable(error.clone())),
            })
            .collect()
    }
}

/// RFC 7396 in place: objects merge recursively, null deletes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(target_fields) = target else {
        unreachable!("target was just made an object")
    };
    for (key, value) in patch_fields {
        if value.is_null() {
            target_fields.remove(key);
        } else {
            merge_patch(
                target_fields.entry(key.clone()).or_insert(Value::Null),
                value,
            );
        }
    }
}

/// A jq program: `.` is the state before the event, `$event` the event, the output the
/// new state.
pub struct JqReducer {
    evaluator: Evaluator,
}

impl JqReducer {
    /// Compiles the program; `origin` names it in errors and headers (usually its path).
    pub fn new(code: &str, origin: &str, step_limit: Duration) -> Result<JqReducer, JqError> {
        Ok(JqReducer {
            evaluator: Evaluator::new(code, origin, step_limit)?,
        })
    }
}

impl Reducer for JqReducer {
    fn name(&self) -> String {
        format!("jq:{}", self.evaluator.origin())
    }

    fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>> {
        let inputs: Vec<Option<Value>> = events
            .iter()
            .map(|event| event.data.json().map(|_| event_value(event)))
            .collect();
        self.evaluator
            .fold(state, &inputs)
            .into_iter()
            .zip(events)
            .map(|(outcome, event)| match outcome {
                Outcome::Done(_) => None,
                Outcome::Skipped => Some(StepProblem::Undecodable(
                    event.data.error().unwrap_or("undecodable").to_string(),
                )),
                Outcome::Failed(err) => Some(StepProblem::ReducerFailed(err)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The examples from RFC 7396 appendix A.
    #[test]
    fn rfc7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            let mut state = target.clone();
            merge_patch(&mut state, &patch);
            assert_eq!(state, expected, "{target} + {patch}");
        }
    }

    #[test]
    fn first_event_on_null_state_builds_the_object() {
        let mut state = Value::Null;
        merge_patch(&mut state, &json!({"owner": "ada", "gone": null}));
        assert_eq!(state, json!({"owner": "ada"}));
    }

    fn event(event_type: &str, data: Payload) -> Event {
        Event {
            aggregate_id: "acc".into(),
            aggregate_type: None,
            version: 1,
            event_type: event_type.into(),
            timestamp: None,
            data,
            metadata: Value::Null,
            issues: Vec::new(),
        }
    }

    #[test]
    fn jq_reducer_folds_deltas_and_reports_failures_per_event() {
        let code = r#"
            if $event.type == "Opened" then {balance: 0}
            elif $event.type == "Deposited" then .balance += $event.data.amount
            elif $event.type == "Broken" then error("cannot apply")
            else . end"#;
        let reducer = JqReducer::new(code, "bank.jq", Duration::from_secs(1)).unwrap();
        assert_eq!(reducer.name(), "jq:bank.jq");
        let events = [
            event("Opened", Payload::Json(json!({}))),
            event("Deposited", Payload::Json(json!({"amount": 50}))),
            event("Broken", Payload::Json(json!({}))),
            event("Deposited", Payload::from_json_text("{nope")),
            event("Deposited", Payload::Json(json!({"amount": 25}))),
        ];
        let mut state = Value::Null;
        let problems = reducer.apply_all(&mut state, &events);
        assert_eq!(state, json!({"balance": 75}));
        assert!(
            matches!(&problems[2], Some(StepProblem::ReducerFailed(e)) if e.contains("cannot apply"))
        );
        assert!(matches!(&problems[3], Some(StepProblem::Undecodable(_))));
        assert_eq!(problems[4], None);
    }
}
