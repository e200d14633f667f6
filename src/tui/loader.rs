//! The only code that touches the source. It runs on a blocking thread, takes requests from
//! the UI and reports back as actions; a newer history request cancels an older one.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use crate::model::{AggregateSummary, Event, Snapshot};
use crate::source::{Chunk, EventSource};

use super::action::Action;

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
    /// Live follow: the events after the first `already`.
    PollAfter {
        generation: u64,
        aggregate_id: String,
        already: usize,
    },
    /// Abandon any history still loading; nothing is read.
    Cancel {
        generation: u64,
    },
}

/// What the source answered. Errors are already phrased for people.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Aggregates(Result<Vec<AggregateSummary>, String>),
    Events {
        generation: u64,
        events: Vec<Event>,
    },
    Snapshots {
        generation: u64,
        snapshots: Vec<Snapshot>,
    },
    Finished {
        generation: u64,
        error: Option<String>,
    },
    Polled {
        generation: u64,
        result: Result<Vec<Event>, String>,
    },
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
                source.aggregates().map_err(|e| e.to_string()),
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
            let result = source.stream_history(&aggregate_id, &mut |chunk| {
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
                report(Report::Finished {
                    generation,
                    error: result.err().map(|e| e.to_string()),
                });
            }
        }
        Request::PollAfter {
            generation,
            aggregate_id,
            already,
        } => {
            let result = source
                .events_after(&aggregate_id, already)
                .map_err(|e| e.to_string());
            report(Report::Polled { generation, result });
        }
        Request::Cancel { .. } => {}
    }
}

/// The UI's end of the loader thread.
pub struct Loader {
    requests: mpsc::Sender<Request>,
    latest: Arc<AtomicU64>,
}

impl Loader {
    /// Moves the source onto a blocking task; reports arrive on `actions`.
    pub fn spawn(
        source: Box<dyn EventSource>,
        actions: tokio::sync::mpsc::UnboundedSender<Action>,
    ) -> Loader {
        let (requests, incoming) = mpsc::channel::<Request>();
        let latest = Arc::new(AtomicU64::new(0));
        let newest = Arc::clone(&latest);
        tokio::task::spawn_blocking(move || {
            for request in incoming {
                let mut gone = false;
                perform(source.as_ref(), request, &newest, &mut |report| {
                    gone |= actions.send(Action::Loaded(report)).is_err();
                });
                if gone {
                    break;
                }
            }
        });
        Loader { requests, latest }
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
