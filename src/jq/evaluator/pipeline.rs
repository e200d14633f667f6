//! Long folds, pipelined: while the worker folds one job, rewind makes the next job's
//! `$event` texts and queues it, so the two processes work at once; each job hands back the
//! states at the caller's checkpoints. A job that does not come back whole is run again
//! through the careful path (`fold_range`), told what is known of why it failed.

use std::collections::VecDeque;
use std::ops::Range;

use serde_json::Value;

use super::fold::Fold;
use super::{outcome, parse_value, Evaluator, Inner, JobEnd, Outcome, JOB_BYTES, MAX_STOPS};
use crate::jq::protocol::{self, Reply};

/// Where a long fold reports its state: after `first` steps, then every `every` steps
/// (positions count events from the start of the fold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoints {
    pub first: usize,
    pub every: usize,
}

impl Checkpoints {
    pub fn is_at(&self, position: usize) -> bool {
        position >= self.first && (position - self.first) % self.every.max(1) == 0
    }

    /// The first checkpoint after `position`.
    pub fn after(&self, position: usize) -> usize {
        if position < self.first {
            return self.first;
        }
        let every = self.every.max(1);
        self.first + ((position - self.first) / every + 1) * every
    }
}

/// Steps per job: enough that a round trip is noise, few enough to run again cheaply.
const JOB_STEPS: usize = 1024;
/// Events asked of the caller at once (or up to the next checkpoint, if nearer).
const PIECE_STEPS: usize = 64;

/// One job's events, from `start` (a position in the whole fold).
struct Job {
    start: usize,
    texts: Vec<Option<String>>,
    /// Steps after which the worker hands the state back; the last is the job's end.
    marks: Vec<usize>,
    /// Whether each mark is one of the caller's checkpoints.
    checkpoints: Vec<bool>,
}

impl Job {
    fn end(&self) -> usize {
        self.start + self.texts.len()
    }
}

/// What a failed job tells the careful path that runs it again.
enum Known {
    Nothing,
    /// This step (within the job) overran its time; it is not run again.
    Stuck(usize),
    /// The worker died somewhere in the job: its steps run one per job until it happens.
    Died,
}

impl Evaluator {
    /// Folds `count` events into `state` as `fold` does, calling `checkpoint` with the state
    /// at each of `checkpoints`. `texts` is asked for the `$event` texts of a range only
    /// shortly before they are sent, so making them overlaps the worker's folding.
    pub fn fold_with_checkpoints(
        &self,
        state: &mut Value,
        count: usize,
        texts: &mut dyn FnMut(Range<usize>) -> Vec<Option<String>>,
        checkpoints: Checkpoints,
        checkpoint: &mut dyn FnMut(&Value),
    ) -> Vec<Outcome> {
        let mut inner = self.lock();
        let mut outcomes = Vec::with_capacity(count);
        // Sent and not yet answered, oldest first: two, so one is queued while one runs.
        let mut in_flight: VecDeque<(Job, u64)> = VecDeque::new();
        // Made but not sent: only the jobs that were queued behind one that failed.
        let mut unsent: VecDeque<Job> = VecDeque::new();
        let mut made_until = 0;
        // Jobs start small and double: the worker waits only for the first few events'
        // texts, and each job's texts are made while the worker folds the one before.
        let mut job_steps = PIECE_STEPS;
        // Whether the worker's own state is the one after the last job sent.
        let mut continues = false;
        loop {
            while in_flight.len() < 2 {
                let job = match unsent.pop_front() {
                    Some(job) => job,
                    None => match next_job(made_until, count, job_steps, checkpoints, texts) {
                        Some(job) => {
                            made_until = job.end();
                            job_steps = (job_steps * 2).min(JOB_STEPS);
                            job
                        }
                        None => break,
                    },
                };
                if inner.stops >= MAX_STOPS {
                    // Given up: the careful path says so for each step.
                    self.careful(
                        &mut inner,
                        state,
                        &job,
                        Known::Nothing,
                        checkpoint,
                        &mut outcomes,
                    );
                    continue;
                }
                let start = match continues {
                    true => None,
                    false => Some(serde_json::to_string(&*state).unwrap_or_else(|_| "null".into())),
                };
                let frame = protocol::fold(start.as_deref(), &job.texts, &job.marks);
                match self.send_job(&mut inner, frame) {
                    Ok(id) => {
                        continues = true;
                        in_flight.push_back((job, id));
                    }
                    // Too big to send: the jobs before it are answered first.
                    Err(_) if !in_flight.is_empty() => {
                        unsent.push_front(job);
                        break;
                    }
                    // Too big, or no worker could be started: the careful path splits the
                    // job or says why for each step.
                    Err(_) => {
                        self.careful(
                            &mut inner,
                            state,
                            &job,
                            Known::Nothing,
                            checkpoint,
                            &mut outcomes,
                        );
                        continues = false;
                    }
                }
            }
            let Some((job, id)) = in_flight.pop_front() else {
                return outcomes;
            };
            let answer = self.await_job(&mut inner, id, job.texts.len());
            let Some(known) =
                self.take_answer(&mut inner, answer, &job, state, checkpoint, &mut outcomes)
            else {
                continue;
            };
            // What was queued behind it went on from a state that is not right: the worker
            // goes (without counting as a stop: it did nothing wrong), the jobs are resent.
            inner.worker = None;
            continues = false;
            for (queued, _) in in_flight.drain(..).rev() {
                unsent.push_front(queued);
            }
            self.careful(&mut inner, state, &job, known, checkpoint, &mut outcomes);
        }
    }

    /// Takes a job's answer if it came back whole (its outcomes, checkpoints and state);
    /// otherwise says what is known of why not, counting a stop where one is to blame.
    fn take_answer(
        &self,
        inner: &mut Inner,
        answer: JobEnd,
        job: &Job,
        state: &mut Value,
        checkpoint: &mut dyn FnMut(&Value),
        outcomes: &mut Vec<Outcome>,
    ) -> Option<Known> {
        let (steps, states) = match answer {
            JobEnd::Replied(Reply::Folded { steps, states }) => (steps, states),
            JobEnd::TimedOut { at } => {
                inner.stops += 1;
                return Some(Known::Stuck(at.min(job.texts.len() - 1)));
            }
            JobEnd::Stopped(_) => return Some(Known::Died),
            JobEnd::Unsent(_) => return Some(Known::Nothing),
            JobEnd::Replied(_) => {
                inner.stops += 1;
                return Some(Known::Nothing);
            }
        };
        if steps.len() != job.texts.len() || states.len() != job.marks.len() {
            return Some(Known::Nothing);
        }
        let mut values = Vec::with_capacity(states.len());
        for text in states {
            match text.and_then(|text| parse_value(&text, "state")) {
                Ok(value) => values.push(value),
                // Refused (too deep, too large): the careful path finds the step.
                Err(_) => return Some(Known::Nothing),
            }
        }
        outcomes.extend(steps.into_iter().map(outcome));
        for (value, &is_checkpoint) in values.iter().zip(&job.checkpoints) {
            if is_checkpoint {
                checkpoint(value);
            }
        }
        if let Some(last) = values.pop() {
            *state = last;
        }
        None
    }

    /// Runs a job's events again through the careful path.
    fn careful(
        &self,
        inner: &mut Inner,
        state: &mut Value,
        job: &Job,
        known: Known,
        checkpoint: &mut dyn FnMut(&Value),
        outcomes: &mut Vec<Outcome>,
    ) {
        let checkpoints: Vec<usize> = job
            .marks
            .iter()
            .zip(&job.checkpoints)
            .filter(|(_, &is)| is)
            .map(|(&mark, _)| mark)
            .collect();
        let mut fold = Fold::new(&job.texts, &checkpoints, checkpoint);
        let len = job.texts.len();
        match known {
            Known::Nothing => self.fold_range(inner, state, &mut fold, 0..len, outcomes),
            Known::Stuck(at) => {
                let next = self.fail_stuck(inner, state, &mut fold, 0, at, outcomes);
                self.fold_range(inner, state, &mut fold, next..len, outcomes);
            }
            Known::Died => {
                fold.hunt_until = len;
                self.fold_range(inner, state, &mut fold, 0..len, outcomes);
            }
        }
    }
}

/// The job that starts at `start`: pieces of events up to `job_steps` or `JOB_BYTES`,
/// marked at each checkpoint and at its end; `None` past the end.
fn next_job(
    start: usize,
    count: usize,
    job_steps: usize,
    checkpoints: Checkpoints,
    texts: &mut dyn FnMut(Range<usize>) -> Vec<Option<String>>,
) -> Option<Job> {
    if start >= count {
        return None;
    }
    let mut job = Job {
        start,
        texts: Vec::new(),
        marks: Vec::new(),
        checkpoints: Vec::new(),
    };
    let mut bytes = 0;
    let mut end = start;
    while end < count && end - start < job_steps && bytes < JOB_BYTES {
        let piece_end = checkpoints
            .after(end)
            .min(end + PIECE_STEPS)
            .min(start + job_steps)
            .min(count);
        let piece = texts(end..piece_end);
        bytes += piece.iter().flatten().map(String::len).sum::<usize>();
        job.texts.extend(piece);
        end = piece_end;
        if checkpoints.is_at(end) {
            job.marks.push(end - start);
            job.checkpoints.push(true);
        }
    }
    if job.marks.last() != Some(&(end - start)) {
        job.marks.push(end - start);
        job.checkpoints.push(false);
    }
    Some(job)
}
