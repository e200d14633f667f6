//! Runs a compiled program on a worker thread and stops waiting for it when one step
//! overruns the time limit.
//!
//! A thread cannot be killed: a runaway step keeps its worker busy until the process exits,
//! so the evaluator starts a fresh worker for the next step and gives up on the program
//! after a few time-outs rather than pile up busy threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use jaq_json::Val;

use super::program::{compile, from_value, into_value, parse_event, JqError, Program};

/// After this many runaway steps the program is not run again.
const MAX_TIMEOUTS: usize = 3;
/// Deep recursion in a jq program uses the Rust stack; give it room.
const WORKER_STACK: usize = 256 << 20;

/// What happened to one step.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Folds: the step was applied. Maps: the program's output.
    Done(Option<Value>),
    /// The step was skipped by the caller (e.g. an undecodable event).
    Skipped,
    Failed(String),
}

enum Job {
    /// Chains the items: each output is the next input; the final state comes back.
    Fold {
        state: Value,
        events: Arc<[Option<String>]>,
        range: std::ops::Range<usize>,
    },
    /// Runs each `(input, event)` independently.
    Map { items: Vec<(Value, String)> },
}

struct Reply {
    outcomes: Vec<Outcome>,
    state: Option<Value>,
}

struct Worker {
    jobs: Sender<Job>,
    replies: Receiver<Reply>,
    progress: Arc<AtomicUsize>,
}

enum Run {
    Finished(Reply),
    /// The step at this index (within the job) overran the limit or crashed the worker.
    Stuck {
        at: usize,
        why: String,
    },
}

/// A jq program ready to run with a per-step time limit.
pub struct Evaluator {
    code: Arc<str>,
    origin: String,
    limit: Duration,
    worker: Mutex<Option<Worker>>,
    timeouts: AtomicUsize,
}

impl Evaluator {
    /// Compiles now, so a broken program is reported before any event is read.
    pub fn new(code: &str, origin: &str, limit: Duration) -> Result<Evaluator, JqError> {
        compile(code, origin)?;
        Ok(Evaluator {
            code: code.into(),
            origin: origin.to_string(),
            limit,
            worker: Mutex::new(None),
            timeouts: AtomicUsize::new(0),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Folds `events` (each `$event` as JSON text) into `state`; `None` events are skipped.
    /// One outcome per event.
    pub fn fold(&self, state: &mut Value, events: Vec<Option<String>>) -> Vec<Outcome> {
        // Shared with the worker, so retrying after a stuck step copies nothing.
        let events: Arc<[Option<String>]> = events.into();
        let mut outcomes = Vec::with_capacity(events.len());
        let (mut start, mut end) = (0, events.len());
        let mut stuck: Option<(usize, String)> = None;
        while start < events.len() {
            if start == end {
                // The steps before a stuck one are done; record it and go on after it.
                let (at, why) = stuck.take().expect("end only stops short of a stuck step");
                outcomes.push(Outcome::Failed(why));
                start = at + 1;
                end = events.len();
                continue;
            }
            if self.gave_up() {
                outcomes.extend((start..events.len()).map(|_| self.given_up()));
                break;
            }
            let job = Job::Fold {
                state: state.clone(),
                events: events.clone(),
                range: start..end,
            };
            match self.run(job) {
                Run::Finished(reply) => {
                    outcomes.extend(reply.outcomes);
                    *state = reply.state.unwrap_or(Value::Null);
                    start = end;
                }
                // Rerun the steps before the stuck one; they finished in time before.
                Run::Stuck { at, why } => {
                    stuck = Some((start + at, why));
                    end = start + at;
                }
            }
        }
        outcomes
    }

    /// Runs the program on each `(input, $event text)`; one outcome per item.
    pub fn map(&self, items: &[(Value, String)]) -> Vec<Outcome> {
        let mut outcomes = Vec::with_capacity(items.len());
        let mut start = 0;
        while start < items.len() {
            if self.gave_up() {
                outcomes.extend((start..items.len()).map(|_| self.given_up()));
                break;
            }
            match self.run(Job::Map {
                items: items[start..].to_vec(),
            }) {
                Run::Finished(reply) => {
                    outcomes.extend(reply.outcomes);
                    break;
                }
                Run::Stuck { at, why } => {
                    // Items before the stuck one finished; run them again for their outputs.
                    let done = self.map(&items[start..start + at]);
                    outcomes.extend(done);
                    outcomes.push(Outcome::Failed(why));
                    start += at + 1;
                }
            }
        }
        outcomes
    }

    fn gave_up(&self) -> bool {
        self.timeouts.load(Ordering::Relaxed) >= MAX_TIMEOUTS
    }

    fn given_up(&self) -> Outcome {
        Outcome::Failed(format!(
            "{} was stopped after {MAX_TIMEOUTS} time-outs and is not run again",
            self.origin
        ))
    }

    fn run(&self, job: Job) -> Run {
        let mut slot = self
            .worker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let worker = match slot.take() {
            Some(worker) => worker,
            None => match spawn(self.code.clone(), self.origin.clone()) {
                Ok(worker) => worker,
                Err(why) => return Run::Stuck { at: 0, why },
            },
        };
        worker.progress.store(0, Ordering::SeqCst);
        if worker.jobs.send(job).is_err() {
            return Run::Stuck {
                at: 0,
                why: format!("{} worker stopped unexpectedly", self.origin),
            };
        }
        let mut last = 0;
        loop {
            match worker.replies.recv_timeout(self.limit) {
                Ok(reply) => {
                    *slot = Some(worker);
                    return Run::Finished(reply);
                }
                Err(RecvTimeoutError::Timeout) => {
                    let now = worker.progress.load(Ordering::SeqCst);
                    if now == last {
                        // Dropping the worker abandons its thread; it exits when it finishes.
                        self.timeouts.fetch_add(1, Ordering::Relaxed);
                        return Run::Stuck {
                            at: now,
                            why: format!(
                                "{} ran longer than the {:?} limit and was stopped",
                                self.origin, self.limit
                            ),
                        };
                    }
                    last = now;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Run::Stuck {
                        at: worker.progress.load(Ordering::SeqCst),
                        why: format!("{} crashed the jq interpreter", self.origin),
                    };
                }
            }
        }
    }
}

/// Folds one job's events. The state is handed to the program by value, so jaq updates it
/// in place instead of copying it for every event. A failing step consumes that value, so
/// the state before it is rebuilt by replaying the job's earlier steps (programs are
/// deterministic: no clock, no input); from then on the job keeps a copy before each step.
fn fold_job(
    program: &Program,
    start: &Value,
    events: &[Option<String>],
    counter: &AtomicUsize,
) -> (Vec<Outcome>, Val) {
    let mut val = from_value(start);
    let mut outcomes = Vec::with_capacity(events.len());
    let mut careful = false;
    for (i, event) in events.iter().enumerate() {
        let outcome = match event.as_deref().map(parse_event) {
            None => Outcome::Skipped,
            Some(Err(err)) => Outcome::Failed(err),
            Some(Ok(event)) if careful => match program.run_val(val.clone(), event) {
                Ok(next) => {
                    val = next;
                    Outcome::Done(None)
                }
                Err(err) => Outcome::Failed(err),
            },
            Some(Ok(event)) => match program.run_val(std::mem::take(&mut val), event) {
                Ok(next) => {
                    val = next;
                    Outcome::Done(None)
                }
                Err(err) => {
                    val = replay_done(program, start, &events[..i], &outcomes);
                    careful = true;
                    Outcome::Failed(err)
                }
            },
        };
        counter.fetch_add(1, Ordering::SeqCst);
        outcomes.push(outcome);
    }
    (outcomes, val)
}

/// The state after the steps that were applied, computed again from the job's start.
fn replay_done(
    program: &Program,
    start: &Value,
    events: &[Option<String>],
    outcomes: &[Outcome],
) -> Val {
    let mut val = from_value(start);
    for (event, outcome) in events.iter().zip(outcomes) {
        if let (Some(event), Outcome::Done(_)) = (event, outcome) {
            if let Ok(next) = parse_event(event).and_then(|e| program.run_val(val.clone(), e)) {
                val = next;
            }
        }
    }
    val
}

fn spawn(code: Arc<str>, origin: String) -> Result<Worker, String> {
    let (jobs, job_rx) = mpsc::channel::<Job>();
    let (reply_tx, replies) = mpsc::channel::<Reply>();
    let progress = Arc::new(AtomicUsize::new(0));
    let counter = progress.clone();
    std::thread::Builder::new()
        .name("rewind-jq".into())
        .stack_size(WORKER_STACK)
        .spawn(move || {
            // jaq values are reference-counted and not Send: compile on this thread.
            let Ok(program) = compile(&code, &origin) else {
                return;
            };
            for job in job_rx {
                let reply = match job {
                    Job::Fold {
                        state,
                        events,
                        range,
                    } => {
                        let (outcomes, val) = fold_job(&program, &state, &events[range], &counter);
                        Reply {
                            outcomes,
                            state: Some(into_value(&val)),
                        }
                    }
                    Job::Map { items } => Reply {
                        outcomes: items
                            .iter()
                            .map(|(input, event)| {
                                let outcome = match program.run(input, event) {
                                    Ok(value) => Outcome::Done(Some(value)),
                                    Err(err) => Outcome::Failed(err),
                                };
                                counter.fetch_add(1, Ordering::SeqCst);
                                outcome
                            })
                            .collect(),
                        state: None,
                    },
                };
                if reply_tx.send(reply).is_err() {
                    return;
                }
            }
        })
        .map_err(|err| format!("cannot start a jq worker: {err}"))?;
    Ok(Worker {
        jobs,
        replies,
        progress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMIT: Duration = Duration::from_millis(200);

    #[test]
    fn folds_chain_and_skip() {
        let evaluator = Evaluator::new(". + $event", "sum", LIMIT).unwrap();
        let mut state = json!(0);
        let outcomes = evaluator.fold(&mut state, vec![Some("1".into()), None, Some("2".into())]);
        assert_eq!(state, json!(3));
        assert_eq!(outcomes[1], Outcome::Skipped);
    }

    #[test]
    fn a_runaway_step_is_stopped_and_the_fold_goes_on() {
        let code = r#"if $event == "loop" then def f: f; f else . + $event end"#;
        let evaluator = Evaluator::new(code, "loopy.jq", LIMIT).unwrap();
        let mut state = json!(0);
        let events = [Some("1".into()), Some(r#""loop""#.into()), Some("2".into())];
        let outcomes = evaluator.fold(&mut state, events.to_vec());
        assert_eq!(state, json!(3));
        assert_eq!(outcomes[0], Outcome::Done(None));
        assert!(matches!(&outcomes[1], Outcome::Failed(why) if why.contains("limit")));
        assert_eq!(outcomes[2], Outcome::Done(None));
    }

    #[test]
    fn a_failing_step_leaves_the_state_as_it_was_and_later_steps_apply() {
        let code = r#"if $event == "bad" then error("no") else .n += $event end"#;
        let evaluator = Evaluator::new(code, "t.jq", LIMIT).unwrap();
        let mut state = json!({"n": 0});
        let events: Vec<Option<String>> = ["1", r#""bad""#, "2", r#""bad""#, "4"]
            .iter()
            .map(|e| Some(e.to_string()))
            .collect();
        let outcomes = evaluator.fold(&mut state, events);
        assert_eq!(state, json!({"n": 7}));
        assert!(matches!(&outcomes[1], Outcome::Failed(e) if e.contains("no")));
        assert!(matches!(&outcomes[3], Outcome::Failed(_)));
        assert_eq!(outcomes[4], Outcome::Done(None));
    }

    #[test]
    fn gives_up_after_repeated_time_outs() {
        let evaluator =
            Evaluator::new("def f: f; f", "spin.jq", Duration::from_millis(50)).unwrap();
        let items: Vec<(Value, String)> = (0..6).map(|i| (json!(i), "null".into())).collect();
        let outcomes = evaluator.map(&items);
        assert_eq!(outcomes.len(), 6);
        assert!(matches!(&outcomes[5], Outcome::Failed(why) if why.contains("not run again")));
    }
}
