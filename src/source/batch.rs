//! Events gathered for a sink. A batch is handed over at a count or at a size of payload
//! text, whichever comes first: two thousand events of a few hundred bytes are a cheap
//! batch, two thousand of 60 MB each would be a hundred gigabytes.

use std::ops::ControlFlow;

use super::Query;
use crate::model::{Chunk, Event, Payload};

/// The payload text a batch holds at most (beyond its last event).
pub const BATCH_BYTES: usize = 16 << 20;

struct Batch {
    events: Vec<Event>,
    bytes: usize,
    max_events: usize,
}

impl Batch {
    pub fn new(max_events: usize) -> Batch {
        Batch {
            events: Vec::with_capacity(max_events),
            bytes: 0,
            max_events,
        }
    }

    /// Adds an event; the batch so far when it is full.
    pub fn push(&mut self, event: Event) -> Option<Vec<Event>> {
        self.bytes += text_bytes(&event);
        self.events.push(event);
        if self.events.len() < self.max_events && self.bytes < BATCH_BYTES {
            return None;
        }
        self.bytes = 0;
        let capacity = self.max_events;
        Some(std::mem::replace(
            &mut self.events,
            Vec::with_capacity(capacity),
        ))
    }

    /// What is left, if anything.
    pub fn finish(self) -> Option<Vec<Event>> {
        (!self.events.is_empty()).then_some(self.events)
    }
}

/// The events a query admits, handed to a sink a batch at a time: the loop every source's
/// read runs.
pub struct Batched<'a> {
    batch: Batch,
    query: &'a Query,
    sink: &'a mut dyn FnMut(Chunk) -> ControlFlow<()>,
    flow: ControlFlow<()>,
}

impl<'a> Batched<'a> {
    pub fn new(
        max_events: usize,
        query: &'a Query,
        sink: &'a mut dyn FnMut(Chunk) -> ControlFlow<()>,
    ) -> Batched<'a> {
        Batched {
            batch: Batch::new(max_events),
            query,
            sink,
            flow: ControlFlow::Continue(()),
        }
    }

    /// Takes an event if the query admits it; `Break` once the sink has had enough.
    pub fn offer(&mut self, event: Event) -> ControlFlow<()> {
        if self.flow.is_continue() && self.query.admits(&event) {
            if let Some(full) = self.batch.push(event) {
                self.flow = (self.sink)(Chunk::Events(full));
            }
        }
        self.flow
    }

    /// Hands over what is left, unless the sink had enough.
    pub fn finish(self) -> ControlFlow<()> {
        match (self.flow, self.batch.finish()) {
            (ControlFlow::Continue(()), Some(rest)) => (self.sink)(Chunk::Events(rest)),
            (flow, _) => flow,
        }
    }
}

/// The bytes of text an event holds: its payload (or the raw text kept of one that did
/// not decode) and its metadata.
fn text_bytes(event: &Event) -> usize {
    let data = match &event.data {
        Payload::Json(text) => text.as_str().len(),
        Payload::Undecodable { raw, .. } => raw.len(),
    };
    data + event.metadata.as_str().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(bytes: usize) -> Event {
        Event {
            data: Payload::Undecodable {
                raw: "x".repeat(bytes),
                error: String::new(),
            },
            ..Event::default()
        }
    }

    #[test]
    fn full_at_a_count_or_a_size() {
        let mut batch = Batch::new(3);
        assert!(batch.push(event(1)).is_none());
        assert!(batch.push(event(1)).is_none());
        assert_eq!(batch.push(event(1)).map(|b| b.len()), Some(3));
        let mut batch = Batch::new(2048);
        assert!(batch.push(event(BATCH_BYTES / 2)).is_none());
        assert_eq!(batch.push(event(BATCH_BYTES / 2)).map(|b| b.len()), Some(2));
        assert_eq!(batch.push(event(1)), None);
        assert_eq!(batch.finish().map(|b| b.len()), Some(1));
        assert!(Batch::new(4).finish().is_none());
    }
}
