//! Where a replay's payloads live: in memory (transcripts, tests, stores without a second
//! reader), or in the store, read back a page at a time when a step needs them.

use std::borrow::Cow;
use std::ops::Range;

use super::index::EventIndex;
use crate::model::{Event, Snapshot, StorePosition};

/// Reads an aggregate's events back from its store, in history order.
pub trait EventPages {
    /// Up to `limit` events after the one with this version and position (from the first
    /// event without one).
    fn read_page(
        &mut self,
        after: Option<(u64, StorePosition)>,
        limit: usize,
    ) -> Result<Vec<Event>, String>;

    /// The aggregate's snapshot whose entry has this key, state and all.
    fn read_snapshot(&mut self, key: u64) -> Result<Option<Snapshot>, String>;
}

/// Events read back at once, at least: a page costs one query, so it should hold more
/// than a step needs, and little more than a jump from a checkpoint reads.
pub const PAGE: usize = 128;

pub enum Storage<'s> {
    Memory(Vec<Event>),
    Paged {
        pages: Box<dyn EventPages + 's>,
        /// The last events read, `window.0` the index of the first.
        window: (usize, Vec<Event>),
    },
}

impl<'s> Storage<'s> {
    pub fn paged(pages: Box<dyn EventPages + 's>) -> Storage<'s> {
        Storage::Paged {
            pages,
            window: (0, Vec::new()),
        }
    }

    pub fn is_paged(&self) -> bool {
        matches!(self, Storage::Paged { .. })
    }

    /// Keeps a folded batch (memory) or lets it go (paged: the store has it).
    pub fn keep(&mut self, events: Vec<Event>) {
        if let Storage::Memory(kept) = self {
            if kept.is_empty() && kept.capacity() < events.len() {
                // Take the loaded vector as it is: copying it would hold the history twice.
                *kept = events;
            } else {
                kept.extend(events);
            }
        }
    }

    pub fn reserve(&mut self, additional: usize) {
        if let Storage::Memory(kept) = self {
            kept.reserve_exact(additional);
        }
    }

    /// The snapshot with this key, read back from the store (none held in memory here).
    pub fn read_snapshot(&mut self, key: u64) -> Result<Option<Snapshot>, String> {
        match self {
            Storage::Memory(_) => Ok(None),
            Storage::Paged { pages, .. } => pages.read_snapshot(key),
        }
    }

    /// The events of `range`, checked against the index so a store that changed under the
    /// replay is an error, not a silently different history.
    pub fn events(
        &mut self,
        index: &EventIndex,
        range: Range<usize>,
    ) -> Result<Cow<'_, [Event]>, String> {
        let range = range.start.min(index.len())..range.end.min(index.len());
        let (pages, window) = match self {
            Storage::Memory(kept) => return Ok(Cow::Borrowed(&kept[range])),
            Storage::Paged { pages, window } => (pages, window),
        };
        let (first, held) = (window.0, &window.1);
        if range.start >= first && range.end <= first + held.len() {
            let (from, to) = (range.start - first, range.end - first);
            return Ok(Cow::Borrowed(&window.1[from..to]));
        }
        let after = range
            .start
            .checked_sub(1)
            .and_then(|i| index.get(i))
            .map(|e| (e.version, e.position));
        // Past the range's end too: the event a fold stopped before is usually read next
        // (a step's after state, the event shown), and should not cost another query.
        let wanted = (range.len() + PAGE / 2).max(PAGE);
        let mut read = pages.read_page(after, wanted)?;
        let expected: Vec<_> = index.range(range.start..range.start + wanted).collect();
        // Events stored since the index was made come after it: they are not this replay's.
        read.truncate(expected.len());
        let matches = read.len() == expected.len()
            && read.iter().zip(&expected).all(|(event, entry)| {
                event.version == entry.version && event.position == entry.position
            });
        if !matches {
            return Err(
                "the store changed while rewind read it (events it indexed are gone or moved); open it again".into(),
            );
        }
        let len = range.len().min(read.len());
        *window = (range.start, read);
        Ok(Cow::Borrowed(&window.1[..len]))
    }
}
