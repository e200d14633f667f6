//! A jq expression judged true or false after each event, e.g. `.balance < 0` or
//! `$event.type == "Withdrawn"`: `.` is the state after the event, `$event` the event.

use serde_json::Value;

use crate::jq::{event_json, Evaluator, JqError, Limits, Outcome};
use crate::replay::Replay;

/// Events are judged in batches this size, each state cloned once.
const BATCH: usize = 512;

pub struct Predicate {
    evaluator: Evaluator,
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
        })
    }

    /// Judges events in order from `from` (0-based), stopping at the first match when
    /// `first_only`.
    pub fn run(&self, replay: &mut Replay, from: usize, first_only: bool) -> PredicateRun {
        let mut run = PredicateRun::default();
        let mut start = from;
        while start < replay.len() {
            let end = (start + BATCH).min(replay.len());
            let items: Vec<(Value, String)> = (start..end)
                .map(|index| {
                    let state = replay.state_after(index + 1).clone();
                    (state, event_json(&replay.events()[index]))
                })
                .collect();
            for (offset, outcome) in self.evaluator.map(&items).into_iter().enumerate() {
                let index = start + offset;
                match outcome {
                    Outcome::Done(Some(value)) if truthy(&value) => {
                        run.matches.push(index);
                        if first_only {
                            return run;
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
        run
    }
}

/// jq's truth: everything but `false` and `null`.
fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}
