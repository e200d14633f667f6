//! Replaying to states recorded elsewhere (a transcript): each event sets the state its
//! author saw after it, and reports the problem they saw, whatever reducer made them.

use std::collections::HashMap;

use serde_json::Value;

use super::Reducer;
use crate::model::{Event, RecordedStates, StepProblem};

pub struct RecordedReducer {
    recorded: RecordedStates,
    by_version: HashMap<u64, Vec<usize>>,
}

impl RecordedReducer {
    pub fn new(recorded: RecordedStates) -> RecordedReducer {
        let mut by_version: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, step) in recorded.steps.iter().enumerate() {
            by_version.entry(step.version).or_default().push(i);
        }
        RecordedReducer {
            recorded,
            by_version,
        }
    }

    /// The step an event was recorded as. Versions identify steps, except where a store
    /// repeated one: then the step whose recorded state before it is the current state.
    fn step_of(&self, event: &Event, state: &Value) -> Option<usize> {
        let candidates = self.by_version.get(&event.version)?;
        if let [only] = candidates.as_slice() {
            return Some(*only);
        }
        candidates
            .iter()
            .copied()
            .find(|&i| self.state_before(i) == state)
            .or(candidates.first().copied())
    }

    fn state_before(&self, step: usize) -> &Value {
        match step {
            0 => &self.recorded.start,
            _ => &self.recorded.steps[step - 1].state,
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
                Some(step) => {
                    let recorded = &self.recorded.steps[step];
                    *state = recorded.state.clone();
                    recorded.problem.clone()
                }
                None => Some(StepProblem::ReducerFailed(format!(
                    "v{} has no recorded state in this transcript; give a --reducer to fold it",
                    event.version
                ))),
            })
            .collect()
    }
}
