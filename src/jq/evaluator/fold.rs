//! The careful path: folds and maps that survive any job going wrong. A job that dies as a
//! whole (a crash, a state that cannot come back) is run again one step per job until the
//! step to blame is found; a step that overruns is failed and the ones before it run again.

use std::ops::Range;

use serde_json::Value;

use super::{job_end, outcome, parse_value, Evaluator, Inner, JobEnd, Outcome, MAX_STOPS};
use crate::jq::protocol::{self, Reply};

/// A fold in progress over `events`, handing the state to `checkpoint` after each of the
/// `checkpoints` (positions in `events`, ascending).
pub(super) struct Fold<'a> {
    events: &'a [Option<String>],
    checkpoints: &'a [usize],
    checkpoint: &'a mut dyn FnMut(&Value),
    /// Steps before this position run one per job, to find the one that killed a job.
    pub hunt_until: usize,
}

impl<'a> Fold<'a> {
    pub fn new(
        events: &'a [Option<String>],
        checkpoints: &'a [usize],
        checkpoint: &'a mut dyn FnMut(&Value),
    ) -> Fold<'a> {
        Fold {
            events,
            checkpoints,
            checkpoint,
            hunt_until: 0,
        }
    }

    fn is_checkpoint(&self, position: usize) -> bool {
        self.checkpoints.binary_search(&position).is_ok()
    }

    /// The fold has reached `position` with `state`.
    fn reached(&mut self, position: usize, state: &Value) {
        if self.is_checkpoint(position) {
            (self.checkpoint)(state);
        }
    }

    /// Fails the step at `*pos` (the state stays) and moves past it.
    fn fail(&mut self, why: String, state: &Value, pos: &mut usize, outcomes: &mut Vec<Outcome>) {
        outcomes.push(Outcome::Failed(why));
        *pos += 1;
        self.reached(*pos, state);
    }
}

impl Evaluator {
    /// Folds `fold.events[range]` into `state`, one job at a time.
    pub(super) fn fold_range(
        &self,
        inner: &mut Inner,
        state: &mut Value,
        fold: &mut Fold,
        range: Range<usize>,
        outcomes: &mut Vec<Outcome>,
    ) {
        let mut pos = range.start;
        while pos < range.end {
            if inner.stops >= MAX_STOPS {
                while pos < range.end {
                    fold.fail(self.given_up(), state, &mut pos, outcomes);
                }
                return;
            }
            let end = match pos < fold.hunt_until {
                true => pos + 1,
                false => job_end(pos, range.end, |i| {
                    fold.events[i].as_ref().map_or(1, String::len)
                }),
            };
            let mut marks: Vec<usize> = fold
                .checkpoints
                .iter()
                .filter(|&&c| c > pos && c < end)
                .map(|c| c - pos)
                .collect();
            marks.push(end - pos);
            let start = serde_json::to_string(&*state).unwrap_or_else(|_| "null".into());
            let frame = protocol::fold(Some(&start), &fold.events[pos..end], &marks);
            let single = end - pos == 1;
            match self.run_job(inner, frame, end - pos) {
                JobEnd::Replied(Reply::Folded { steps, states })
                    if steps.len() == end - pos && states.len() == marks.len() =>
                {
                    let values: Result<Vec<Value>, String> = states
                        .into_iter()
                        .map(|text| text.and_then(|text| parse_value(&text, "state")))
                        .collect();
                    match values {
                        Ok(values) => {
                            outcomes.extend(steps.into_iter().map(outcome));
                            for (mark, value) in marks.iter().zip(&values) {
                                fold.reached(pos + mark, value);
                            }
                            if let Some(last) = values.into_iter().last() {
                                *state = last;
                            }
                            pos = end;
                        }
                        // Refused, not stopped: the worker did what it should. The hunt
                        // goes on one step at a time to the end of the refused job: a
                        // reducer whose every state is refused would otherwise send the
                        // rest of the history again after each step (quadratic).
                        Err(why) if single => fold.fail(why, state, &mut pos, outcomes),
                        Err(_) => fold.hunt_until = end,
                    }
                }
                JobEnd::Replied(_) => {
                    inner.worker = None;
                    inner.stops += 1;
                    fold.fail(self.unexpected(), state, &mut pos, outcomes);
                }
                JobEnd::TimedOut { at } => {
                    inner.stops += 1;
                    pos = self.fail_stuck(
                        inner,
                        state,
                        fold,
                        pos,
                        pos + at.min(end - pos - 1),
                        outcomes,
                    );
                }
                JobEnd::Stopped(why) if single => {
                    inner.stops += 1;
                    fold.fail(why, state, &mut pos, outcomes);
                    fold.hunt_until = 0;
                }
                JobEnd::Unsent(why) if single => fold.fail(why, state, &mut pos, outcomes),
                JobEnd::Stopped(_) | JobEnd::Unsent(_) => fold.hunt_until = end,
            }
        }
    }

    /// The step at `stuck` overran its time (already counted as a stop): the steps from
    /// `from` before it finished in time and run again, it fails. Where the fold goes on.
    pub(super) fn fail_stuck(
        &self,
        inner: &mut Inner,
        state: &mut Value,
        fold: &mut Fold,
        from: usize,
        stuck: usize,
        outcomes: &mut Vec<Outcome>,
    ) -> usize {
        self.fold_range(inner, state, fold, from..stuck, outcomes);
        let mut pos = stuck;
        fold.fail(self.timed_out(), state, &mut pos, outcomes);
        pos
    }

    pub(super) fn map_into(
        &self,
        inner: &mut Inner,
        items: &[(Value, String)],
        outcomes: &mut Vec<Outcome>,
    ) {
        let mut pos = 0;
        let mut hunt_until = 0;
        while pos < items.len() {
            if inner.stops >= MAX_STOPS {
                outcomes.extend((pos..items.len()).map(|_| Outcome::Failed(self.given_up())));
                return;
            }
            let last = match pos < hunt_until {
                true => pos + 1,
                false => items.len(),
            };
            let (mut texts, mut bytes) = (Vec::new(), 0);
            for (input, event) in &items[pos..last] {
                let input = input.to_string();
                let size = input.len() + event.len();
                if !texts.is_empty() && bytes + size > super::JOB_BYTES {
                    break;
                }
                bytes += size;
                texts.push((input, event.as_str()));
            }
            let end = pos + texts.len();
            let frame = protocol::map(&texts);
            drop(texts);
            let single = end - pos == 1;
            match self.run_job(inner, frame, end - pos) {
                JobEnd::Replied(Reply::Mapped { outputs }) if outputs.len() == end - pos => {
                    outcomes.extend(outputs.into_iter().map(|output| {
                        match output.and_then(|text| parse_value(&text, "output")) {
                            Ok(value) => Outcome::Done(Some(value)),
                            Err(why) => Outcome::Failed(why),
                        }
                    }));
                    pos = end;
                }
                JobEnd::Replied(_) => {
                    inner.worker = None;
                    inner.stops += 1;
                    outcomes.push(Outcome::Failed(self.unexpected()));
                    pos += 1;
                }
                JobEnd::TimedOut { at } => {
                    inner.stops += 1;
                    let at = at.min(end - pos - 1);
                    self.map_into(inner, &items[pos..pos + at], outcomes);
                    outcomes.push(Outcome::Failed(self.timed_out()));
                    pos += at + 1;
                }
                JobEnd::Stopped(why) if single => {
                    inner.stops += 1;
                    outcomes.push(Outcome::Failed(why));
                    pos += 1;
                    hunt_until = 0;
                }
                JobEnd::Unsent(why) if single => {
                    outcomes.push(Outcome::Failed(why));
                    pos += 1;
                    hunt_until = 0;
                }
                JobEnd::Stopped(_) | JobEnd::Unsent(_) => hunt_until = end,
            }
        }
    }
}
