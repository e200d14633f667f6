//! Runs a program in a worker process, with a time limit per step and a memory budget.
//!
//! A step that overruns its time, or a worker that dies (stack overflow, memory budget),
//! fails that step only: the worker is killed and reaped, a fresh one starts, and the
//! steps before the failed one are run again from the last state rewind knows (programs
//! are deterministic: no clock, no input). After a few such stops the program is not run
//! again. Dropping the evaluator kills its worker.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::convert::Refusal;
use super::limits::Limits;
use super::process::{Death, WorkerProcess};
use super::program::JqError;
use super::protocol::{self, Reply, Step};
use super::worker::WorkerArgs;

mod fold;
mod pipeline;

use fold::Fold;
pub use pipeline::Checkpoints;

/// After this many stopped steps (time-outs, crashes) the program is not run again. A job
/// of many steps that dies counts once its culprit is found, as that step.
const MAX_STOPS: usize = 3;
/// Compiling is quick; this bounds a pathological program.
const COMPILE_TIME: Duration = Duration::from_secs(10);
/// Once every step of a job is done, the worker may take this long to hand back the result.
const REPLY_TIME: Duration = Duration::from_secs(10);
/// Progress is reported at least this often while a step runs, and a worker whose parent
/// is gone notices within it.
const MAX_HEARTBEAT: Duration = Duration::from_millis(100);
/// Bytes of input per job (one item at least): far below any message cap, and a job
/// failed as a whole is not long to run again.
const JOB_BYTES: usize = 4 << 20;

/// What happened to one step.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Folds: the step was applied. Maps: the program's output.
    Done(Option<Value>),
    /// The step was skipped by the caller (e.g. an undecodable event).
    Skipped,
    Failed(String),
}

/// A jq program ready to run within its limits.
pub struct Evaluator {
    code: String,
    origin: String,
    limits: Limits,
    inner: Mutex<Inner>,
}

struct Inner {
    /// Kept between calls; started again after one is stopped.
    worker: Option<Worker>,
    stops: usize,
    /// Steps sent in all jobs: how much work a fold asked for (a refused job's steps are
    /// sent again one by one, never again together).
    steps_sent: usize,
}

struct Worker {
    process: WorkerProcess,
    /// Jobs sent so far: progress reports name the job they belong to.
    jobs: u64,
}

/// How one job ended. None of this counts as a stop yet: the fold or map that sent the
/// job knows which step to blame.
enum JobEnd {
    Replied(Reply),
    /// A step overran the time limit after `at` steps had finished; the worker was killed.
    TimedOut {
        at: usize,
    },
    /// The worker died, or could not be started or understood: why, for the step.
    Stopped(String),
    /// Not sent: the message would be larger than the worker takes. No one is to blame.
    Unsent(String),
}

impl Evaluator {
    /// Starts the worker and has it compile the program, so a broken program is reported
    /// before any event is read. `limits` may be a `Duration` (the default memory budget).
    pub fn new(code: &str, origin: &str, limits: impl Into<Limits>) -> Result<Evaluator, JqError> {
        let evaluator = Evaluator {
            code: code.to_string(),
            origin: origin.to_string(),
            limits: limits.into(),
            inner: Mutex::new(Inner {
                worker: None,
                stops: 0,
                steps_sent: 0,
            }),
        };
        let worker = evaluator.start_worker()?;
        evaluator.lock().worker = Some(worker);
        Ok(evaluator)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The worker's process id, while one runs.
    pub fn worker_id(&self) -> Option<u32> {
        self.lock().worker.as_ref().map(|w| w.process.id())
    }

    /// Folds `events` (each `$event` as JSON text) into `state`; `None` events are skipped.
    /// One outcome per event.
    #[cfg(test)]
    fn steps_sent(&self) -> usize {
        self.lock().steps_sent
    }

    pub fn fold(&self, state: &mut Value, events: Vec<Option<String>>) -> Vec<Outcome> {
        let mut inner = self.lock();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut no_checkpoints = |_: &Value| {};
        let mut fold = Fold::new(&events, &[], &mut no_checkpoints);
        self.fold_range(&mut inner, state, &mut fold, 0..events.len(), &mut outcomes);
        outcomes
    }

    /// Runs the program on each `(input, $event text)`; one outcome per item.
    pub fn map(&self, items: &[(Value, String)]) -> Vec<Outcome> {
        let mut inner = self.lock();
        let mut outcomes = Vec::with_capacity(items.len());
        self.map_into(&mut inner, items, &mut outcomes);
        outcomes
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends one job and waits for its answer, stopping the worker when a step overruns.
    fn run_job(&self, inner: &mut Inner, frame: Vec<u8>, steps: usize) -> JobEnd {
        inner.steps_sent += steps;
        match self.send_job(inner, frame) {
            Ok(job) => self.await_job(inner, job, steps),
            Err(end) => end,
        }
    }

    /// Queues a job for the worker (started first if there is none); the job's number.
    fn send_job(&self, inner: &mut Inner, frame: Vec<u8>) -> Result<u64, JobEnd> {
        let max = self.limits.max_frame();
        if frame.len().saturating_sub(4) > max {
            return Err(JobEnd::Unsent(format!(
                "{}: the input is {} MB of JSON, more than the {} MB a jq budget of {} MB takes",
                self.origin,
                frame.len() >> 20,
                max >> 20,
                self.limits.memory_mb()
            )));
        }
        let worker = match &mut inner.worker {
            Some(worker) => worker,
            slot => match self.start_worker() {
                Ok(worker) => slot.insert(worker),
                Err(err) => return Err(JobEnd::Stopped(err.to_string())),
            },
        };
        worker.jobs += 1;
        worker.process.send(frame);
        Ok(worker.jobs)
    }

    /// Waits for the answer to job `job` of `steps` steps, killing the worker when a step
    /// takes longer than the limit (or the whole answer longer than `REPLY_TIME`).
    fn await_job(&self, inner: &mut Inner, job: u64, steps: usize) -> JobEnd {
        let Some(mut worker) = inner.worker.take() else {
            return JobEnd::Stopped(format!("{} has no jq worker", self.origin));
        };
        let (mut done, mut since) = (0usize, Instant::now());
        loop {
            let allowed = match done >= steps {
                true => REPLY_TIME.max(self.limits.step_time),
                false => self.limits.step_time,
            };
            let left = allowed.saturating_sub(since.elapsed());
            match worker.process.wait(left) {
                Ok(Some(Reply::Progress(tagged))) => {
                    let now = (tagged & u64::from(u32::MAX)) as usize;
                    if tagged >> 32 == job && now > done {
                        (done, since) = (now, Instant::now());
                    }
                }
                Ok(Some(reply)) => {
                    inner.worker = Some(worker);
                    return JobEnd::Replied(reply);
                }
                Ok(None) if since.elapsed() < allowed => {}
                Ok(None) => {
                    // Dropping the worker kills and reaps it.
                    drop(worker);
                    return match done >= steps {
                        true => JobEnd::Stopped(format!(
                            "{} did not hand back its result within {:?} and was stopped",
                            self.origin, allowed
                        )),
                        false => JobEnd::TimedOut { at: done },
                    };
                }
                Err(death) => return JobEnd::Stopped(self.describe(&death)),
            }
        }
    }

    /// A fresh worker with the program compiled.
    fn start_worker(&self) -> Result<Worker, JqError> {
        let heartbeat = (self.limits.step_time / 4).clamp(Duration::from_millis(1), MAX_HEARTBEAT);
        let args = WorkerArgs {
            memory_bytes: self.limits.memory_bytes,
            max_frame: self.limits.max_frame(),
            heartbeat,
        };
        let mut process = WorkerProcess::start(args).map_err(JqError::Worker)?;
        process.send(protocol::program(&self.origin, &self.code));
        let allowed = COMPILE_TIME.max(self.limits.step_time);
        match process.wait(allowed) {
            Ok(Some(Reply::Compiled(Ok(())))) => Ok(Worker { process, jobs: 0 }),
            Ok(Some(Reply::Compiled(Err(err)))) => Err(JqError::Compile(err)),
            Ok(Some(_)) => Err(JqError::Worker(format!(
                "the jq worker ({}) answered out of turn",
                self.origin
            ))),
            Ok(None) => Err(JqError::Compile(format!(
                "{}: compiling took longer than {allowed:?}",
                self.origin
            ))),
            Err(Death::StackOverflow) => Err(JqError::Compile(format!(
                "{}: the program is nested too deeply to compile",
                self.origin
            ))),
            Err(death) => Err(JqError::Worker(self.describe(&death))),
        }
    }

    fn describe(&self, death: &Death) -> String {
        let origin = &self.origin;
        match death {
            Death::StackOverflow => {
                format!("{origin} recursed too deeply (stack overflow) and was stopped")
            }
            Death::OutOfMemory => format!(
                "{origin} exceeded the jq memory budget of {} MB and was stopped",
                self.limits.memory_mb()
            ),
            Death::Crashed(how) => format!("{origin} crashed the jq worker ({how})"),
        }
    }

    fn timed_out(&self) -> String {
        format!(
            "{} ran longer than the {:?} limit and was stopped",
            self.origin, self.limits.step_time
        )
    }

    fn given_up(&self) -> String {
        format!(
            "{} was stopped {MAX_STOPS} times (time-outs, crashes) and is not run again",
            self.origin
        )
    }

    fn unexpected(&self) -> String {
        format!(
            "{} got an answer it did not expect from its jq worker",
            self.origin
        )
    }
}

/// Where a job from `pos` ends: texts of at most `JOB_BYTES` (one item at least).
fn job_end(pos: usize, len: usize, size: impl Fn(usize) -> usize) -> usize {
    let (mut end, mut bytes) = (pos, 0);
    while end < len && (end == pos || bytes + size(end) <= JOB_BYTES) {
        bytes += size(end);
        end += 1;
    }
    end
}

fn outcome(step: Step) -> Outcome {
    match step {
        Step::Done => Outcome::Done(None),
        Step::Skipped => Outcome::Skipped,
        Step::Failed(why) => Outcome::Failed(why),
    }
}

/// JSON from the worker, parsed with serde_json's nesting limit (the worker refuses deeper
/// values already; this keeps a deep value from ever being built here).
fn parse_value(text: &str, what: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|err| {
        if err.to_string().contains("recursion limit") {
            Refusal::TooDeep.describe(what, 0)
        } else {
            format!("the jq worker's {what} does not parse: {err}")
        }
    })
}

#[cfg(test)]
mod tests;
