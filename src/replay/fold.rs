//! The fold of a history as it is read: the latest state, a state every `spacing` events
//! and why steps failed. Kept apart from the index and the payloads so that it can run on
//! a thread of its own while the store reads the next events (`Replay::extend_overlapped`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::reducer::Reducer;
use super::state_size::state_bytes;
use crate::jq::Checkpoints;
use crate::model::{Event, StepProblem};

/// States are kept every this many events at first, so reaching any position applies few.
const FIRST_SPACING: usize = 64;
/// At most this many checkpoints: past it the spacing doubles, so a long history costs
/// a bounded number of states.
const MAX_CHECKPOINTS: usize = 16_384;
/// And at most about this many bytes of them (`state_bytes`): a reducer that grows its
/// state with every event (a ledger of entries) would otherwise hold thousands of copies
/// of a big state. Past it the spacing doubles too: reaching a position then folds more
/// events, memory stays put.
pub(super) const CHECKPOINT_BUDGET: usize = 64 << 20;

pub(super) struct Fold {
    pub reducer: Arc<dyn Reducer>,
    /// `checkpoints[k]` is the state after `k * spacing` events.
    pub checkpoints: Vec<Value>,
    /// `state_bytes` of each checkpoint, and their sum.
    checkpoint_sizes: Vec<usize>,
    checkpoint_bytes: usize,
    budget: usize,
    pub spacing: usize,
    pub head: Value,
    pub problems: BTreeMap<usize, StepProblem>,
    /// Events folded so far.
    folded: usize,
}

impl Fold {
    pub fn new(reducer: Arc<dyn Reducer>) -> Fold {
        Fold::with_budget(reducer, CHECKPOINT_BUDGET)
    }

    pub fn with_budget(reducer: Arc<dyn Reducer>, budget: usize) -> Fold {
        let null = state_bytes(&Value::Null);
        Fold {
            reducer,
            checkpoints: vec![Value::Null],
            checkpoint_sizes: vec![null],
            checkpoint_bytes: null,
            budget,
            spacing: FIRST_SPACING,
            head: Value::Null,
            problems: BTreeMap::new(),
            folded: 0,
        }
    }

    /// Keeps no checkpoint but the one the fold starts from: not even the first few, which
    /// would each copy the state.
    pub fn keep_no_checkpoints(&mut self) {
        self.budget = 0;
        // Never reached: `first_new / spacing` stays 0 and no boundary comes.
        self.spacing = usize::MAX / 4;
    }

    /// Starts from `state` instead of null (a history that begins part-way).
    pub fn start_from(&mut self, state: Value) {
        let bytes = state_bytes(&state);
        self.checkpoints = vec![state.clone()];
        self.checkpoint_sizes = vec![bytes];
        self.checkpoint_bytes = bytes;
        self.head = state;
    }

    /// Folds the next events into the latest state, capturing the state at each checkpoint
    /// boundary. One call per batch lets a jq reducer keep its worker busy while it makes
    /// the next events' texts; once the checkpoints are big enough that a batch's worth
    /// could overrun the budget, the batch goes in pieces of one checkpoint each, so the
    /// budget is kept between any two of them.
    pub fn fold(&mut self, events: &[Event]) {
        let mut rest = events;
        while !rest.is_empty() {
            let take = self.events_within_budget(rest.len());
            self.fold_batch(&rest[..take]);
            rest = &rest[take..];
        }
    }

    /// How many of the next `len` events can be folded in one call: all of them while the
    /// checkpoints they would make fit the budget at the latest one's size, else as far as
    /// the next checkpoint.
    fn events_within_budget(&self, len: usize) -> usize {
        let to_boundary = self.spacing - self.folded % self.spacing;
        let latest = self.checkpoint_sizes.last().copied().unwrap_or(0).max(1);
        let made = len / self.spacing + 1;
        let room = self.budget.saturating_sub(self.checkpoint_bytes);
        if made.saturating_mul(latest) <= room {
            len
        } else {
            len.min(to_boundary)
        }
    }

    fn fold_batch(&mut self, events: &[Event]) {
        let first_new = self.folded;
        let spacing = self.spacing;
        let boundaries = Checkpoints {
            first: (first_new / spacing + 1) * spacing - first_new,
            every: spacing,
        };
        let checkpoints = &mut self.checkpoints;
        let sizes = &mut self.checkpoint_sizes;
        let bytes = &mut self.checkpoint_bytes;
        let outcomes =
            self.reducer
                .apply_checkpointed(&mut self.head, events, boundaries, &mut |state| {
                    let size = state_bytes(state);
                    *bytes += size;
                    sizes.push(size);
                    checkpoints.push(state.clone())
                });
        for (offset, problem) in outcomes.into_iter().enumerate() {
            if let Some(problem) = problem {
                self.problems.insert(first_new + offset, problem);
            }
        }
        while self.checkpoints.len() > MAX_CHECKPOINTS
            || (self.checkpoint_bytes > self.budget && self.checkpoints.len() > 1)
        {
            self.thin_checkpoints();
        }
        self.folded += events.len();
    }

    /// Doubles the spacing: every other checkpoint goes (the first, where the fold
    /// starts, always stays).
    fn thin_checkpoints(&mut self) {
        self.spacing *= 2;
        let kept: Vec<(Value, usize)> = std::mem::take(&mut self.checkpoints)
            .into_iter()
            .zip(std::mem::take(&mut self.checkpoint_sizes))
            .step_by(2)
            .collect();
        self.checkpoint_bytes = kept.iter().map(|(_, size)| size).sum();
        (self.checkpoints, self.checkpoint_sizes) = kept.into_iter().unzip();
    }

    /// Estimated bytes the checkpoints hold.
    pub fn checkpoint_bytes(&self) -> usize {
        self.checkpoint_bytes
    }
}
