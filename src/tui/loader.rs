//! The only code that touches the source. It runs on a blocking thread, takes requests from
//! the UI and reports back as actions; a newer history request cancels an older one.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::{AggregateSummary, Chunk, Event, HistoryStart, RecordedStates, SnapshotEntry};
use crate::source::kafka::{ProgressFn, ReadProgress};
use crate::source::{EventSource, Query, Resume};

use super::action::Action;
use super::app::TextLine;
use super::diff_worker::{self, DiffJob, DiffTarget};
use super::jobs::{self, Job, Outcome};
use super::log_pages::{self, Anchor, Page, PageError, PageRequest};
use super::SourceHandle;
use crate::inspect::{Health, Trace, TraceIds};
use crate::tui::remote::RemoteSource;

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
    /// A page of the store log (see `log_pages`); a newer page makes an older one stale.
    LogPage(PageRequest),
    /// The visible tab's diff; the runtime hands it to the diff worker instead.
    Diff(DiffJob),
    /// The health of a few aggregates (the list asks for the next few as each answer
    /// comes, so other requests are never kept waiting for long).
    Health {
        ticket: u64,
        ids: Vec<String>,
        reducer: Option<super::jobs::SharedReducer>,
        invariant: Option<std::sync::Arc<crate::inspect::Invariant>>,
    },
    /// The causation tree of one request across the store.
    Trace {
        ticket: u64,
        id: String,
        ids: TraceIds,
    },
}

impl Request {
    /// Work nobody waits on, done on a second reader so it never holds up a load.
    fn is_background(&self) -> bool {
        match self {
            Request::Health { .. } => true,
            Request::Job(job) => matches!(job.kind, super::jobs::JobKind::CheckSnapshots(_)),
            _ => false,
        }
    }
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
    /// Where the opened source keeps its correlation, causation and event ids.
    Conventions(crate::source::IdConventions),
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
        snapshots: Vec<SnapshotEntry>,
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
    LogPage {
        ticket: u64,
        anchor: Anchor,
        result: Result<Page, String>,
    },
    Traced {
        ticket: u64,
        result: Result<Option<TracedTree>, String>,
    },
    Diffed {
        target: DiffTarget,
        lines: Vec<TextLine>,
    },
    Health {
        ticket: u64,
        results: Vec<(String, Result<Health, String>)>,
    },
}

/// A trace as the UI draws it, the tree lines of each event worked out on the loader's
/// thread (they cost more than a frame for a long trace).
#[derive(Debug, Clone, PartialEq)]
pub struct TracedTree {
    pub trace: Trace,
    /// `├─ ` and `│  ` before each event, in the trace's order.
    pub branches: Vec<String>,
    /// Cells the widest `branch aggregate vN Type` label takes, so columns stay put.
    pub label_width: usize,
}

impl TracedTree {
    pub fn new(trace: Trace) -> TracedTree {
        use unicode_width::UnicodeWidthStr;
        let branches: Vec<String> = (0..trace.events.len()).map(|i| trace.branch(i)).collect();
        let cells = |text: &str| crate::display::pictures(text).width();
        let label_width = trace
            .events
            .iter()
            .zip(&branches)
            .map(|(e, branch)| {
                let event = &e.event;
                cells(branch)
                    + cells(&event.aggregate_id)
                    + cells(&event.event_type)
                    + event.version.to_string().len()
                    + 3
            })
            .max()
            .unwrap_or(0);
        TracedTree {
            trace,
            branches,
            label_width,
        }
    }
}

/// The newest history generation and log page the UI asked for: work for older ones stops
/// at its next chunk.
#[derive(Debug, Default)]
pub struct Newest {
    pub history: AtomicU64,
    pub log: AtomicU64,
}

impl Newest {
    /// Notes a request as the newest of its kind; `false` when it needs no work at all.
    pub fn note(&self, request: &Request) -> bool {
        match request {
            Request::LoadHistory { generation, .. } => {
                self.history.store(*generation, Ordering::Release);
            }
            Request::Cancel { generation } => {
                self.history.store(*generation, Ordering::Release);
                return false;
            }
            Request::LogPage(page) => self.log.store(page.ticket, Ordering::Release),
            _ => {}
        }
        true
    }
}

/// How far opening a source has got: records read of about `expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingProgress {
    pub topic: String,
    pub read: u64,
    pub expected: u64,
}

/// Carries out one request, reporting as it goes. A load or a log page that falls behind
/// `newest` stops at its next chunk.
pub fn perform(
    source: &dyn EventSource,
    request: Request,
    newest: &Newest,
    report: &mut dyn FnMut(Report),
) {
    let latest = &newest.history;
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
                // Read from the UI's thread, but run on one of its own (see `remote`).
                let reader: Box<dyn EventSource> = Box::new(RemoteSource::new(reader));
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
        Request::LogPage(page) => {
            let stale = || newest.log.load(Ordering::Acquire) != page.ticket;
            let result = match log_pages::read_page(source, &page, &stale) {
                Err(PageError::Stale) => return,
                Ok(found) => Ok(found),
                Err(PageError::Failed(error)) => Err(error),
            };
            report(Report::LogPage {
                ticket: page.ticket,
                anchor: page.anchor,
                result,
            });
        }
        Request::Diff(job) => report(diff_worker::work(job)),
        Request::Health {
            ticket,
            ids,
            reducer,
            invariant,
        } => {
            let named = reducer.map(|r| r.0);
            let results = ids
                .into_iter()
                .map(|id| {
                    let reducer = crate::load::reducer_for(source, &id, named.as_ref());
                    let found = crate::load::replay(source, &id, reducer)
                        .map_err(|e| e.describe())
                        .and_then(|mut replay| {
                            crate::inspect::health(&mut replay, invariant.as_deref())
                                .map_err(|e| e.to_string())
                        });
                    (id, found)
                })
                .collect();
            report(Report::Health { ticket, results });
        }
        Request::Trace { ticket, id, ids } => {
            let result = crate::inspect::trace(source, &id, &ids)
                .map(|found| found.map(TracedTree::new))
                .map_err(|e| e.describe());
            report(Report::Traced { ticket, result });
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
    newest: Arc<Newest>,
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
        let newest = Arc::new(Newest::default());
        let shared = Arc::clone(&newest);
        let pace = Arc::new(Pace::default());
        let paced = Arc::clone(&pace);
        tokio::task::spawn_blocking(move || {
            let Some(source) = open(source, &actions) else {
                return;
            };
            let background = source
                .reader()
                .map(|reader| spawn_background(reader, actions.clone(), Arc::clone(&shared)));
            for request in incoming {
                let request = match (&background, request) {
                    (Some(background), request) if request.is_background() => {
                        let _ = background.send(request);
                        continue;
                    }
                    (_, request) => request,
                };
                let mut gone = false;
                perform(source.as_ref(), request, &shared, &mut |report| {
                    if let Report::Events { generation, events } = &report {
                        while paced.ahead() > MAX_AHEAD
                            && shared.history.load(Ordering::Acquire) == *generation
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
            newest,
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
        if !self.newest.note(&request) {
            return;
        }
        // A closed channel means the loader died with the source; the UI keeps running.
        let _ = self.requests.send(request);
    }

    /// Stops any load in progress so the runtime can shut down promptly.
    pub fn cancel_all(&self) {
        self.newest.history.store(u64::MAX, Ordering::Release);
        self.newest.log.store(u64::MAX, Ordering::Release);
    }
}

/// A thread of its own, on a second reader of the source, for the work nobody waits on (the
/// aggregate list's health column: every aggregate replayed), so opening an aggregate never
/// queues behind it.
fn spawn_background(
    reader: Box<dyn EventSource>,
    actions: tokio::sync::mpsc::UnboundedSender<Action>,
    newest: Arc<Newest>,
) -> mpsc::Sender<Request> {
    let (requests, incoming) = mpsc::channel::<Request>();
    std::thread::spawn(move || {
        for request in incoming {
            let mut gone = false;
            perform(reader.as_ref(), request, &newest, &mut |report| {
                gone |= actions.send(Action::Loaded(report)).is_err();
            });
            if gone {
                break;
            }
        }
    });
    requests
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
            let conventions = source.id_conventions();
            let _ = actions.send(Action::Loaded(Report::Conventions(conventions)));
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
