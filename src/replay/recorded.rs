//! Replaying to states recorded elsewhere (a transcript): each event sets the state its
//! author saw after it, and reports the problem they saw, whatever reducer made them.

use serde_json::Value;

use super::Reducer;
use crate::model::{Event, RecordedStates, RecordedStep, StepProblem};

pub struct RecordedReducer {
    recorded: RecordedStates,
}

impl RecordedReducer {
    pub fn new(recorded: RecordedStates) -> RecordedReducer {
        RecordedReducer { recorded }
    }

    /// The step an event was recorded as, read back. Versions identify steps, except where
    /// a store repeated one: then the step whose recorded state before it is the current
    /// state.
    fn step_of(&self, event: &Event, state: &Value) -> Option<RecordedStep> {
        let steps = &self.recorded.steps;
        let candidates = steps.steps_of(event.version);
        if let [only] = candidates.as_slice() {
            return steps.step(*only);
        }
        let found = candidates
            .iter()
            .copied()
            .find(|&i| self.state_before(i).as_ref() == Some(state))
            .or(candidates.first().copied())?;
        steps.step(found)
    }

    fn state_before(&self, step: usize) -> Option<Value> {
        match step {
            0 => Some(self.recorded.start.clone()),
            _ => self.recorded.steps.step(step - 1).map(|s| s.state),
        }
    }
}

impl Reducer for RecordedReducer {
    /// The reducer that computed the recorded states, as the transcript names it.
    fn name(&self) -> String {
        self.recorded.reducer.clone()
    }

    fn apply_all(&self, state: &mut Value, events: &[Event]) -> Vec<Option<StepProblem>> {
        events
            .iter()
            .map(|event| match self.step_of(event, state) {
                Some(recorded) => {
                    *state = recorded.state;
                    recorded.problem
                }
                None => Some(StepProblem::ReducerFailed(format!(
                    "v{} has no recorded state in this transcript; give a --reducer to fold it",
                    event.version
                ))),
            })
            .collect()
    }
}
