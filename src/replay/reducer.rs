//! How events change an aggregate's state.

use serde_json::Value;

use super::merge::merge_patch_text;
use crate::jq::{packed_event, Checkpoints, Evaluator, JqError, Limits, Outcome};
use crate::model::{Event, Payload, StepProblem};

/// A fold over events. Batches let a reducer amortise its setup (a jq worker, say).
pub trait Reducer: Send + Sync {
    /// Shown in headers and transcripts, e.g. `merge` or `jq:assets/bank.jq`.
    fn name(&self) -> String;

    /// Applies `events` in order to `state`, one outcome per event. An event that fails
    /// leaves the state as it was; the fold goes on with the next.
    fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>>;

    /// As `apply_all`, calling `checkpoint` with the state after `first` events and every
    /// `every` events after that. One call for a whole history lets a reducer overlap its
    /// work (the jq reducer prepares events while its worker folds).
    fn apply_checkpointed(
        &self,
        state: &mut Value,
        events: &[Event],
        checkpoints: Checkpoints,
        checkpoint: &mut dyn FnMut(&Value),
    ) -> Vec<Option<StepProblem>> {
        let mut problems = Vec::with_capacity(events.len());
        let mut start = 0;
        while start < events.len() {
            let end = checkpoints.after(start).min(events.len());
            problems.extend(self.apply_all(state, &events[start..end]));
            if end == checkpoints.after(start) {
                checkpoint(state);
            }
            start = end;
        }
        problems
    }
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
                Payload::Json(data) => merge_patch_text(state, data.as_str())
                    .err()
                    .map(StepProblem::Undecodable),
                Payload::Undecodable { error, .. } => Some(StepProblem::Undecodable(error.clone())),
            })
            .collect()
    }
}

/// A jq program: `.` is the state before the event, `$event` the event, the output the
/// new state.
pub struct JqReducer {
    evaluator: Evaluator,
}

impl JqReducer {
    /// Compiles the program; `origin` names it in errors and headers (usually its path).
    pub fn new(code: &str, origin: &str, limits: impl Into<Limits>) -> Result<JqReducer, JqError> {
        Ok(JqReducer {
            evaluator: Evaluator::new(code, origin, limits)?,
        })
    }
}

impl Reducer for JqReducer {
    fn name(&self) -> String {
        format!("jq:{}", self.evaluator.origin())
    }

    fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>> {
        let outcomes = self.evaluator.fold(state, jq_inputs(events));
        problems(outcomes, events)
    }

    fn apply_checkpointed(
        &self,
        state: &mut Value,
        events: &[Event],
        checkpoints: Checkpoints,
        checkpoint: &mut dyn FnMut(&Value),
    ) -> Vec<Option<StepProblem>> {
        let outcomes = self.evaluator.fold_with_checkpoints(
            state,
            events.len(),
            &mut |range| jq_inputs(&events[range]),
            checkpoints,
            checkpoint,
        );
        problems(outcomes, events)
    }
}

/// Each event's `$event` text; `None` for one whose payload did not decode.
fn jq_inputs(events: &[Event]) -> Vec<Option<String>> {
    events
        .iter()
        .map(|event| event.data.text().map(|_| packed_event(event)))
        .collect()
}

fn problems(outcomes: Vec<Outcome>, events: &[Event]) -> Vec<Option<StepProblem>> {
    outcomes
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(event_type: &str, data: Payload) -> Event {
        Event {
            aggregate_id: "acc".into(),
            version: 1,
            event_type: event_type.into(),
            data,
            ..Event::default()
        }
    }

    #[test]
    fn jq_reducer_folds_deltas_and_reports_failures_per_event() {
        let code = r#"
            if $event.type == "Opened" then {balance: 0}
            elif $event.type == "Deposited" then .balance += $event.data.amount
            elif $event.type == "Broken" then error("cannot apply")
            else . end"#;
        let reducer = JqReducer::new(code, "bank.jq", std::time::Duration::from_secs(1)).unwrap();
        assert_eq!(reducer.name(), "jq:bank.jq");
        let events = [
            event("Opened", Payload::from_value(json!({}))),
            event("Deposited", Payload::from_value(json!({"amount": 50}))),
            event("Broken", Payload::from_value(json!({}))),
            event("Deposited", Payload::from_json_text("{nope")),
            event("Deposited", Payload::from_value(json!({"amount": 25}))),
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
