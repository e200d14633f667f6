//! The only code that touches the source. It runs on a blocking thread, takes requests from
//! the UI and reports back as actions; a newer history request cancels an older one.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::{AggregateSummary, Chunk, Event, HistoryStart, RecordedStates, Snapshot};
use crate::source::kafka::{ProgressFn, ReadProgress};
use crate::source::{EventSource, Query, Resume};

use super::action::Action;
use super::jobs::{self, Job, Outcome};
use super::SourceHandle;

/// What the UI wants from the source.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    ListAggregates,
    /// Stream one aggregate's history. `generation` grows with every request, and only the
    /// newest is worth finishing.
    LoadHistory {
        generation: u64,
        aggregate_id: String,
    },
    /// Live follow: the events stored since the last read of this aggregate ended.
    PollAfter {
        generation: u64,
        aggregate_id: String,
        resume: Resume,
    },
    /// Abandon any history still loading; nothing is read.
    Cancel {
        generation: u64,
    },
    /// Blame, filter or export on a replay of its own (see `jobs`).
    Job(Job),
}

/// A second reader of the store, handed from the loader's thread to the UI's once.
#[derive(Clone)]
pub struct SharedReader(Arc<Mutex<Option<Box<dyn EventSource>>>>);

impl SharedReader {
    pub fn take(&self) -> Option<Box<dyn EventSource>> {
        self.0.lock().ok()?.take()
    }
}

impl std::fmt::Debug for SharedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedReader")
    }
}

impl PartialEq for SharedReader {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What the source answered. Errors are already phrased for people.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// A source opened by the loader is still being read (a Kafka topic into its cache).
    Reading(ReadingProgress),
    /// The source the loader was opening is ready, under this name.
    Opened(String),
    Aggregates(Result<Vec<AggregateSummary>, String>),
    /// The states a transcript recorded for the aggregate; sent before anything else of it.
    Recorded {
        generation: u64,
        states: RecordedStates,
    },
    /// A reader of the store for the UI's own use, so the replay can let payloads go and
    /// read them back; sent before the events.
    Reader {
        generation: u64,
        reader: SharedReader,
    },
    /// The history does not begin at v0 (a transcript of part of one); sent before its
    /// events.
    Start {
        generation: u64,
        start: HistoryStart,
    },
    Events {
        generation: u64,
        events: Vec<Event>,
    },
    Snapshots {
        generation: u64,
        snapshots: Vec<Snapshot>,
    },
    /// The history is all there (or failed); `resume` is where follow polls pick up.
    Finished {
        generation: u64,
        error: Option<String>,
        resume: Resume,
    },
    Polled {
        generation: u64,
        result: Result<(Vec<Event>, Resume), String>,
    },
    Done {
        ticket: u64,
        outcome: Outcome,
    },
}

/// How far opening a source has got: records read of about `expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingProgress {
    pub topic: String,
    pub read: u64,
    pub expected: u64,
}

/// Carries out one request, reporting as it goes. `latest` is the newest history generation;
/// a load that falls behind it stops at the next chunk.
pub fn perform(
    source: &dyn EventSource,
    request: Request,
    latest: &AtomicU64,
    report: &mut dyn FnMut(Report),
) {
    match request {
        Request::ListAggregates => {
            report(Report::Aggregates(
                source.aggregates().map_err(|e| e.describe()),
            ));
        }
        Request::LoadHistory {
            generation,
            aggregate_id,
        } => {
            let stale = || latest.load(Ordering::Acquire) != generation;
            if stale() {
                return;
            }
            if let Some(states) = source.recorded_states(&aggregate_id) {
                report(Report::Recorded { generation, states });
            }
            if let Some(start) = source.history_start(&aggregate_id) {
                report(Report::Start { generation, start });
            }
            if let Some(reader) = source.reader() {
                let reader = SharedReader(Arc::new(Mutex::new(Some(reader))));
                report(Report::Reader { generation, reader });
            }
            let result = source.query(&Query::aggregate(&aggregate_id), &mut |chunk| {
                if stale() {
                    return ControlFlow::Break(());
                }
                report(match chunk {
                    Chunk::Events(events) => Report::Events { generation, events },
                    Chunk::Snapshots(snapshots) => Report::Snapshots {
                        generation,
                        snapshots,
                    },
                });
                ControlFlow::Continue(())
            });
            if !stale() {
                let (resume, error) = match result {
                    Ok(resume) => (resume, None),
                    Err(err) => (Resume::default(), Some(err.describe())),
                };
                report(Report::Finished {
                    generation,
                    error,
                    resume,
                });
            }
        }
        Request::PollAfter {
            generation,
            aggregate_id,
            resume,
        } => {
            let result = crate::load::poll(source, &aggregate_id, resume).map_err(|e| e.describe());
            report(Report::Polled { generation, result });
        }
        Request::Cancel { .. } => {}
        Request::Job(job) => {
            let outcome = jobs::run(source, &job);
            report(Report::Done {
                ticket: job.ticket,
                outcome,
            });
        }
    }
}

/// Events the loader may have sent ahead of what the UI has replayed: a long history is
/// read at the pace the UI folds it, so what waits in between stays small.
const MAX_AHEAD: usize = 32_768;

/// Events sent but not yet taken off the channel, and received but not yet replayed.
#[derive(Default)]
struct Pace {
    in_channel: AtomicUsize,
    backlog: AtomicUsize,
}

impl Pace {
    fn ahead(&self) -> usize {
        self.in_channel.load(Ordering::Acquire) + self.backlog.load(Ordering::Acquire)
    }
}

/// The UI's end of the loader thread.
pub struct Loader {
    requests: mpsc::Sender<Request>,
    latest: Arc<AtomicU64>,
    pace: Arc<Pace>,
}

impl Loader {
    /// Moves the source onto a blocking task (opening it there first, if it is not open
    /// yet); reports arrive on `actions`.
    pub fn spawn(
        source: SourceHandle,
        actions: tokio::sync::mpsc::UnboundedSender<Action>,
    ) -> Loader {
        let (requests, incoming) = mpsc::channel::<Request>();
        let latest = Arc::new(AtomicU64::new(0));
        let newest = Arc::clone(&latest);
        let pace = Arc::new(Pace::default());
        let paced = Arc::clone(&pace);
        tokio::task::spawn_blocking(move || {
            let Some(source) = open(source, &actions) else {
                return;
            };
            for request in incoming {
                let mut gone = false;
                perform(source.as_ref(), request, &newest, &mut |report| {
                    if let Report::Events { generation, events } = &report {
                        while paced.ahead() > MAX_AHEAD
                            && newest.load(Ordering::Acquire) == *generation
                        {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        paced.in_channel.fetch_add(events.len(), Ordering::AcqRel);
                    }
                    gone |= actions.send(Action::Loaded(report)).is_err();
                });
                if gone {
                    break;
                }
            }
        });
        Loader {
            requests,
            latest,
            pace,
        }
    }

    /// An action taken off the channel: its events are no longer in it.
    pub fn received(&self, action: &Action) {
        if let Action::Loaded(Report::Events { events, .. }) = action {
            let _ = self
                .pace
                .in_channel
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    Some(n.saturating_sub(events.len()))
                });
        }
    }

    /// How many received events the UI has yet to replay.
    pub fn set_backlog(&self, events: usize) {
        self.pace.backlog.store(events, Ordering::Release);
    }

    pub fn send(&self, request: Request) {
        match &request {
            Request::LoadHistory { generation, .. } => {
                self.latest.store(*generation, Ordering::Release);
            }
            Request::Cancel { generation } => {
                self.latest.store(*generation, Ordering::Release);
                return;
            }
            _ => {}
        }
        // A closed channel means the loader died with the source; the UI keeps running.
        let _ = self.requests.send(request);
    }

    /// Stops any load in progress so the runtime can shut down promptly.
    pub fn cancel_all(&self) {
        self.latest.store(u64::MAX, Ordering::Release);
    }
}

/// The source, opened now if it was handed over unopened; a failure to open is reported
/// as the aggregate list's error.
fn open(
    source: SourceHandle,
    actions: &tokio::sync::mpsc::UnboundedSender<Action>,
) -> Option<Box<dyn EventSource>> {
    let open = match source {
        SourceHandle::Ready(source) => return Some(source),
        SourceHandle::Later { open, .. } => open,
    };
    let sent = actions.clone();
    let progress = throttled(move |progress| {
        let _ = sent.send(Action::Loaded(Report::Reading(progress)));
    });
    match open(Some(progress)) {
        Ok(source) => {
            let _ = actions.send(Action::Loaded(Report::Opened(source.describe())));
            Some(source)
        }
        Err(error) => {
            let _ = actions.send(Action::Loaded(Report::Aggregates(Err(error.describe()))));
            None
        }
    }
}

/// How often a reading source may redraw the gauge.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// A progress callback that passes on at most one report per `PROGRESS_EVERY`, so a fast
/// read does not flood the UI with frames.
pub fn throttled(send: impl Fn(ReadingProgress) + Send + Sync + 'static) -> ProgressFn {
    let last: Mutex<Option<Instant>> = Mutex::new(None);
    Arc::new(move |progress: &ReadProgress| {
        if progress.done {
            return;
        }
        let Ok(mut last) = last.lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < PROGRESS_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        send(ReadingProgress {
            topic: progress.topic.clone(),
            read: progress.read,
            expected: progress.expected,
        });
    })
}
