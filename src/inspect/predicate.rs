//! A jq expression judged true or false after each event, e.g. `.balance < 0` or
//! `$event.type == "Withdrawn"`: `.` is the state after the event, `$event` the event.

use serde_json::Value;

use crate::jq::{packed_event, Evaluator, JqError, Limits, Outcome};
use crate::replay::{Replay, ReplayError};

/// Events are judged in batches this size, each state cloned once.
const BATCH: usize = 512;

pub struct Predicate {
    evaluator: Evaluator,
    /// Whether the program may read `.`; if not, no state need be folded for it.
    reads_state: bool,
}

/// Which events matched, and the first failure if the expression errored on some.
#[derive(Debug, Default)]
pub struct PredicateRun {
    pub matches: Vec<usize>,
    pub errors: usize,
    pub first_error: Option<(usize, String)>,
}

impl Predicate {
    pub fn new(code: &str, origin: &str, limit: impl Into<Limits>) -> Result<Predicate, JqError> {
        Ok(Predicate {
            evaluator: Evaluator::new(code, origin, limit)?,
            reads_state: crate::jq::reads_input(code),
        })
    }

    pub fn reads_state(&self) -> bool {
        self.reads_state
    }

    /// Judges each `(state, $event text)`: whether it holds, or why the program failed.
    pub fn judge(&self, items: &[(Value, String)]) -> Vec<Result<bool, String>> {
        self.evaluator
            .map(items)
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Done(Some(value)) => Ok(truthy(&value)),
                Outcome::Done(None) | Outcome::Skipped => Ok(false),
                Outcome::Failed(err) => Err(err),
            })
            .collect()
    }

    /// Judges the events of `range`, every one.
    pub fn run_range(
        &self,
        replay: &mut Replay,
        range: std::ops::Range<usize>,
    ) -> Result<PredicateRun, ReplayError> {
        self.judge_events(replay, range, false)
    }

    /// Judges events in order from `from` (0-based), stopping at the first match when
    /// `first_only`.
    pub fn run(
        &self,
        replay: &mut Replay,
        from: usize,
        first_only: bool,
    ) -> Result<PredicateRun, ReplayError> {
        let end = replay.len();
        self.judge_events(replay, from..end, first_only)
    }

    fn judge_events(
        &self,
        replay: &mut Replay,
        range: std::ops::Range<usize>,
        first_only: bool,
    ) -> Result<PredicateRun, ReplayError> {
        let mut run = PredicateRun::default();
        let mut start = range.start;
        let last = range.end.min(replay.len());
        while start < last {
            let end = (start + BATCH).min(last);
            let texts: Vec<String> = replay
                .events(start..end)?
                .iter()
                .map(packed_event)
                .collect();
            let mut items: Vec<(Value, String)> = Vec::with_capacity(texts.len());
            for (index, text) in (start..end).zip(texts) {
                items.push((replay.state_after(index + 1)?.clone(), text));
            }
            for (offset, outcome) in self.evaluator.map(&items).into_iter().enumerate() {
                let index = start + offset;
                match outcome {
                    Outcome::Done(Some(value)) if truthy(&value) => {
                        run.matches.push(index);
                        if first_only {
                            return Ok(run);
                        }
                    }
                    Outcome::Failed(err) => {
                        run.errors += 1;
                        run.first_error.get_or_insert((index, err));
                    }
                    _ => {}
                }
            }
            start = end;
        }
        Ok(run)
    }
}

/// jq's truth: everything but `false` and `null`.
fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}
