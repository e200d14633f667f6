//! Replaying to states recorded elsewhere (a transcript): each event sets the state its
//! author saw after it, and reports the problem they saw, whatever reducer made them.

use serde_json::Value;

use super::Reducer;
use crate::diff::apply_changes;
use crate::model::transcript::MAX_LINE_DEPTH;
use crate::model::{
    Event, RecordedState, RecordedStates, RecordedStep, StepProblem, StorePosition,
};

pub struct RecordedReducer {
    recorded: RecordedStates,
}

impl RecordedReducer {
    pub fn new(recorded: RecordedStates) -> RecordedReducer {
        RecordedReducer { recorded }
    }

    /// The step an event was recorded as, read back. A transcript's events are its steps
    /// (position n is step n); else versions identify steps, except where a store
    /// repeated one: then the step whose recorded state before it is the current state.
    fn step_of(&self, event: &Event, state: &Value) -> Option<RecordedStep> {
        let steps = &self.recorded.steps;
        if let StorePosition::Seq(number) = event.position {
            let index = usize::try_from(number).ok().and_then(|n| n.checked_sub(1));
            let at = index.and_then(|i| steps.step(i));
            if let Some(step) = at.filter(|step| step.version == event.version) {
                return Some(step);
            }
        }
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

    /// The state recorded before step `step`, where the step before recorded it whole.
    fn state_before(&self, step: usize) -> Option<Value> {
        match step {
            0 => Some(self.recorded.start.clone()),
            _ => match self.recorded.steps.step(step - 1)?.state {
                RecordedState::Whole(state) => Some(state),
                RecordedState::Changes(_) => None,
            },
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
                Some(recorded) => match recorded.state {
                    RecordedState::Whole(recorded_state) => {
                        *state = recorded_state;
                        recorded.problem
                    }
                    // Made from the state before this step, which a fold in order has.
                    RecordedState::Changes(changes) => match apply_changes(state, &changes, MAX_LINE_DEPTH) {
                        Ok(()) => recorded.problem,
                        Err(why) => Some(StepProblem::ReducerFailed(format!(
                            "v{}: {why} (the transcript records this step's changes, not its state)",
                            event.version
                        ))),
                    },
                },
                None => Some(StepProblem::ReducerFailed(format!(
                    "v{} has no recorded state in this transcript; give a --reducer to fold it",
                    event.version
                ))),
            })
            .collect()
    }
}
