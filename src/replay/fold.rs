//! The fold of a history as it is read: the latest state, a state every `spacing` events
//! and why steps failed. Kept apart from the index and the payloads so that it can run on
//! a thread of its own while the store reads the next events (`Replay::extend_overlapped`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::reducer::Reducer;
use crate::jq::Checkpoints;
use crate::model::{Event, StepProblem};

/// States are kept every this many events at first, so reaching any position applies few.
const FIRST_SPACING: usize = 64;
/// At most this many checkpoints: past it the spacing doubles, so a long history costs
/// a bounded number of states.
const MAX_CHECKPOINTS: usize = 16_384;

pub(super) struct Fold {
    pub reducer: Arc<dyn Reducer>,
    /// `checkpoints[k]` is the state after `k * spacing` events.
    pub checkpoints: Vec<Value>,
    pub spacing: usize,
    pub head: Value,
    pub problems: BTreeMap<usize, StepProblem>,
    /// Events folded so far.
    folded: usize,
}

impl Fold {
    pub fn new(reducer: Arc<dyn Reducer>) -> Fold {
        Fold {
            reducer,
            checkpoints: vec![Value::Null],
            spacing: FIRST_SPACING,
            head: Value::Null,
            problems: BTreeMap::new(),
            folded: 0,
        }
    }

    /// Starts from `state` instead of null (a history that begins part-way).
    pub fn start_from(&mut self, state: Value) {
        self.checkpoints = vec![state.clone()];
        self.head = state;
    }

    /// Folds the next events into the latest state, capturing the state at each checkpoint
    /// boundary. One call per batch lets a jq reducer keep its worker busy while it makes
    /// the next events' texts.
    pub fn fold(&mut self, events: &[Event]) {
        let first_new = self.folded;
        let spacing = self.spacing;
        let boundaries = Checkpoints {
            first: (first_new / spacing + 1) * spacing - first_new,
            every: spacing,
        };
        let checkpoints = &mut self.checkpoints;
        let outcomes =
            self.reducer
                .apply_checkpointed(&mut self.head, events, boundaries, &mut |state| {
                    checkpoints.push(state.clone())
                });
        for (offset, problem) in outcomes.into_iter().enumerate() {
            if let Some(problem) = problem {
                self.problems.insert(first_new + offset, problem);
            }
        }
        while self.checkpoints.len() > MAX_CHECKPOINTS {
            self.thin_checkpoints();
        }
        self.folded += events.len();
    }

    /// Doubles the spacing: every other checkpoint goes.
    fn thin_checkpoints(&mut self) {
        self.spacing *= 2;
        let kept: Vec<Value> = std::mem::take(&mut self.checkpoints)
            .into_iter()
            .step_by(2)
            .collect();
        self.checkpoints = kept;
    }
}
