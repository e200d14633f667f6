//! The diff of the Diff and Compare tabs, worked out off the UI thread: a text diff of two
//! pretty-printed states can take far longer than a frame. One request waits at a time, and
//! a newer one replaces it (latest wins); answers the UI no longer shows are dropped by it.

use std::sync::{Arc, Condvar, Mutex};

use super::action::Action;
use super::app::DiffInput;
use super::loader::Report;

/// Which diff an answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffTarget {
    /// What event `index` of the history loaded as `generation` changed.
    Event { generation: u64, index: usize },
    /// From the state at mark A to the state at mark B.
    Compare {
        generation: u64,
        marks: (usize, usize),
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiffJob {
    pub target: DiffTarget,
    pub input: DiffInput,
}

/// The answer to a job.
pub fn work(job: DiffJob) -> Report {
    Report::Diffed {
        target: job.target,
        lines: job.input.lines(),
    }
}

#[derive(Default)]
struct Slot {
    next: Option<DiffJob>,
    closed: bool,
}

/// The UI's end of the diff thread.
pub struct DiffWorker {
    slot: Arc<(Mutex<Slot>, Condvar)>,
}

impl DiffWorker {
    pub fn spawn(actions: tokio::sync::mpsc::UnboundedSender<Action>) -> DiffWorker {
        let slot = Arc::new((Mutex::new(Slot::default()), Condvar::new()));
        let shared = Arc::clone(&slot);
        std::thread::spawn(move || loop {
            let job = {
                let (lock, ready) = &*shared;
                let Ok(mut slot) = lock.lock() else {
                    return;
                };
                while slot.next.is_none() && !slot.closed {
                    slot = match ready.wait(slot) {
                        Ok(slot) => slot,
                        Err(_) => return,
                    };
                }
                match slot.next.take() {
                    Some(job) => job,
                    None => return,
                }
            };
            if actions.send(Action::Loaded(work(job))).is_err() {
                return;
            }
        });
        DiffWorker { slot }
    }

    /// Queues a job in place of any that has not started.
    pub fn submit(&self, job: DiffJob) {
        let (lock, ready) = &*self.slot;
        if let Ok(mut slot) = lock.lock() {
            slot.next = Some(job);
            ready.notify_one();
        }
    }
}

impl Drop for DiffWorker {
    fn drop(&mut self) {
        let (lock, ready) = &*self.slot;
        if let Ok(mut slot) = lock.lock() {
            slot.closed = true;
            ready.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(index: usize) -> DiffJob {
        let before = json!({"n": index});
        let after = json!({"n": index + 1});
        DiffJob {
            target: DiffTarget::Event {
                generation: 1,
                index,
            },
            input: DiffInput {
                found: crate::diff::changes(&before, &after),
                before,
                after,
                from_version: index as u64,
                to_version: index as u64 + 1,
            },
        }
    }

    #[test]
    fn a_newer_job_replaces_one_that_has_not_started() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let worker = DiffWorker::spawn(tx);
        // Hold the slot so neither job can start, then queue two.
        {
            let (lock, _) = &*worker.slot;
            let mut slot = lock.lock().unwrap();
            slot.next = Some(job(1));
            slot.next = Some(job(2));
        }
        worker.slot.1.notify_one();
        let answer = rx.blocking_recv().expect("an answer");
        let Action::Loaded(Report::Diffed { target, lines }) = answer else {
            panic!("not a diff: {answer:?}");
        };
        assert_eq!(
            target,
            DiffTarget::Event {
                generation: 1,
                index: 2
            }
        );
        assert!(lines.iter().any(|l| l.text == "~ .n: 2 → 3"), "{lines:?}");
        drop(worker);
        assert!(rx.blocking_recv().is_none(), "only the newest job ran");
    }
}
