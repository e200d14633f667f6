//! The UI's own reader of the store, kept on a thread of its own. The UI's thread runs inside
//! the async runtime, where a client that blocks on a runtime of its own (PostgreSQL's) must
//! not be called or dropped; each read is handed to the reader's thread and waited for, its
//! chunks carried back and given to the sink here.

use std::ops::ControlFlow;
use std::sync::mpsc;

use crate::model::{AggregateSummary, Chunk, Snapshot};
use crate::source::{EventSource, Query, Resume, SourceError};

type Work = Box<dyn FnOnce(&dyn EventSource) + Send>;

pub struct RemoteSource {
    name: String,
    work: mpsc::Sender<Work>,
}

impl RemoteSource {
    /// Moves `source` onto a thread that lives as long as this handle.
    pub fn new(source: Box<dyn EventSource>) -> RemoteSource {
        let name = source.describe();
        let (work, incoming) = mpsc::channel::<Work>();
        std::thread::spawn(move || {
            for job in incoming {
                job(source.as_ref());
            }
        });
        RemoteSource { name, work }
    }

    fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&dyn EventSource) -> T + Send + 'static,
    ) -> Result<T, SourceError> {
        let (answer, result) = mpsc::channel();
        let sent = self.work.send(Box::new(move |source: &dyn EventSource| {
            let _ = answer.send(job(source));
        }));
        let gone = || SourceError::Read {
            message: format!("the reader of {} stopped", self.name),
            cause: None,
        };
        sent.map_err(|_| gone())?;
        result.recv().map_err(|_| gone())
    }
}

impl EventSource for RemoteSource {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn aggregates(&self) -> Result<Vec<AggregateSummary>, SourceError> {
        self.call(|source| source.aggregates())?
    }

    /// The read runs there whole (the UI's reads are pages), then its chunks go to `sink`.
    fn query(
        &self,
        query: &Query,
        sink: &mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Result<Resume, SourceError> {
        let query = query.clone();
        let (chunks, resume) = self.call(move |source| {
            let mut chunks = Vec::new();
            let resume = source.query(&query, &mut |chunk| {
                chunks.push(chunk);
                ControlFlow::Continue(())
            });
            (chunks, resume)
        })?;
        for chunk in chunks {
            if sink(chunk).is_break() {
                break;
            }
        }
        resume
    }

    fn snapshot(&self, aggregate_id: &str, key: u64) -> Result<Option<Snapshot>, SourceError> {
        let aggregate_id = aggregate_id.to_string();
        self.call(move |source| source.snapshot(&aggregate_id, key))?
    }
}
