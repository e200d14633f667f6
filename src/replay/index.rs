//! What replay keeps of each event once its payload is folded: where it sits (version,
//! store position), when it happened, its type and two marks, in a few bytes.
//!
//! Entries are delta-encoded against the one before, as variable-length integers, in
//! blocks whose first entry is kept whole, so reading any entry decodes at most one block.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use crate::model::{Event, Payload, StorePosition};

/// Entries per block: what a random read decodes at most.
const BLOCK: usize = 128;

/// One event as the index remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub version: u64,
    pub position: StorePosition,
    pub timestamp: Option<DateTime<Utc>>,
    /// The offset the store wrote the time with (see `Event::time_offset`).
    pub time_offset: Option<FixedOffset>,
    /// Index into the type names (see [`EventIndex::type_name`]).
    pub type_id: u32,
    /// The stored payload did not decode.
    pub undecodable: bool,
    /// The store row had problems of its own (they are kept as warnings).
    pub has_issues: bool,
}

struct Block {
    first: Entry,
    /// Every entry after the first, each as the difference from the one before it.
    deltas: Vec<u8>,
    len: usize,
}

#[derive(Default)]
pub struct EventIndex {
    blocks: Vec<Block>,
    len: usize,
    last: Option<Entry>,
    names: Vec<Box<str>>,
    ids: std::collections::HashMap<Box<str>, u32>,
}

const KIND_RECORD: u8 = 1;
const HAS_TIME: u8 = 1 << 1;
const HAS_NANOS: u8 = 1 << 2;
const UNDECODABLE: u8 = 1 << 3;
const HAS_ISSUES: u8 = 1 << 4;
/// The time's offset differs from the entry before's (a store rarely changes it, so it
/// costs nothing in the common case).
const NEW_OFFSET: u8 = 1 << 5;

impl EventIndex {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Remembers one more event (they come in history order).
    pub fn push(&mut self, event: &Event) {
        let entry = Entry {
            version: event.version,
            position: event.position,
            timestamp: event.timestamp,
            time_offset: event.time_offset,
            type_id: self.intern(&event.event_type),
            undecodable: matches!(event.data, Payload::Undecodable { .. }),
            has_issues: !event.issues.is_empty(),
        };
        match (self.blocks.last_mut(), self.last) {
            (Some(block), Some(previous)) if block.len < BLOCK => {
                encode(&mut block.deltas, &previous, &entry);
                block.len += 1;
                if block.len == BLOCK {
                    // A full block never grows again: drop what doubling left unused.
                    block.deltas.shrink_to_fit();
                }
            }
            _ => self.blocks.push(Block {
                first: entry,
                deltas: Vec::new(),
                len: 1,
            }),
        }
        self.last = Some(entry);
        self.len += 1;
    }

    pub fn last(&self) -> Option<Entry> {
        self.last
    }

    /// The entry of event `index` (0-based).
    pub fn get(&self, index: usize) -> Option<Entry> {
        if index >= self.len {
            return None;
        }
        let block = &self.blocks[index / BLOCK];
        let mut entries = Decoder::new(block);
        entries.nth(index % BLOCK)
    }

    /// The entries of `range`, decoded in order.
    pub fn range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = Entry> + '_ {
        let end = range.end.min(self.len);
        let start = range.start.min(end);
        let first_block = start / BLOCK;
        let mut decoders = self.blocks[first_block..].iter().map(Decoder::new);
        // Into the first block without building the entries passed over.
        let mut first = decoders.next();
        if let Some(decoder) = first.as_mut() {
            (0..start - first_block * BLOCK).all(|_| decoder.step());
        }
        first
            .into_iter()
            .chain(decoders)
            .flatten()
            .take(end - start)
    }

    /// Every type name seen, in the order first seen.
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|name| &**name)
    }

    pub fn type_name(&self, type_id: u32) -> &str {
        self.names.get(type_id as usize).map_or("", |name| name)
    }

    /// How many events have a version at most `version` (versions never go down: a
    /// history is read in version order).
    pub fn count_through_version(&self, version: u64) -> usize {
        let block = self.blocks.partition_point(|b| b.first.version <= version);
        let Some(block) = block.checked_sub(1) else {
            return 0;
        };
        let mut decoder = Decoder::new(&self.blocks[block]);
        let mut within = 0;
        while decoder.step() && decoder.current.version <= version {
            within += 1;
        }
        block * BLOCK + within
    }

    /// Bytes the index holds, for the benchmarks' bytes-per-event figure.
    pub fn heap_bytes(&self) -> usize {
        let blocks: usize = self.blocks.iter().map(|b| b.deltas.capacity()).sum();
        let names: usize = self.names.iter().map(|n| n.len() * 2 + 32).sum();
        blocks + self.blocks.capacity() * std::mem::size_of::<Block>() + names
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }
}

fn encode(out: &mut Vec<u8>, previous: &Entry, entry: &Entry) {
    let mut head = 0u8;
    if matches!(entry.position, StorePosition::Record { .. }) {
        head |= KIND_RECORD;
    }
    let nanos = entry.timestamp.map_or(0, |t| t.timestamp_subsec_nanos());
    if entry.timestamp.is_some() {
        head |= HAS_TIME;
    }
    if nanos != 0 {
        head |= HAS_NANOS;
    }
    if entry.undecodable {
        head |= UNDECODABLE;
    }
    if entry.has_issues {
        head |= HAS_ISSUES;
    }
    if entry.time_offset != previous.time_offset {
        head |= NEW_OFFSET;
    }
    out.push(head);
    put_signed(out, entry.version.wrapping_sub(previous.version) as i64);
    match (previous.position, entry.position) {
        (StorePosition::Seq(a), StorePosition::Seq(b)) => put_signed(out, b.wrapping_sub(a)),
        (
            previous,
            StorePosition::Record {
                timestamp_ms,
                partition,
                offset,
            },
        ) => {
            let (pt, pp, po) = match previous {
                StorePosition::Record {
                    timestamp_ms,
                    partition,
                    offset,
                } => (timestamp_ms, partition, offset),
                StorePosition::Seq(_) => (0, 0, 0),
            };
            put_signed(out, timestamp_ms.wrapping_sub(pt));
            put_signed(out, i64::from(partition) - i64::from(pp));
            put_signed(out, offset.wrapping_sub(po));
        }
        (StorePosition::Record { .. }, StorePosition::Seq(b)) => put_signed(out, b),
    }
    if let Some(time) = entry.timestamp {
        let before = previous.timestamp.map_or(0, |t| t.timestamp());
        put_signed(out, time.timestamp().wrapping_sub(before));
        if nanos != 0 {
            put_unsigned(out, u64::from(nanos));
        }
    }
    put_unsigned(out, u64::from(entry.type_id));
    if entry.time_offset != previous.time_offset {
        put_signed(
            out,
            entry
                .time_offset
                .map_or(0, |o| i64::from(o.local_minus_utc())),
        );
    }
}

/// Walks one block. It keeps the entry it is at as raw numbers and builds an [`Entry`] only
/// for what it yields: a random read skips up to a block's worth of entries, and turning
/// seconds into a `DateTime` (and back, for the next delta) cost more than the rest of
/// decoding together (the UI's events list reads each row so).
struct Decoder<'b> {
    block: &'b Block,
    at: usize,
    emitted: usize,
    current: Raw,
}

/// An entry as the deltas build it: its time as whole seconds and nanoseconds.
#[derive(Clone, Copy)]
struct Raw {
    version: u64,
    position: StorePosition,
    seconds: Option<i64>,
    nanos: u32,
    time_offset: Option<FixedOffset>,
    type_id: u32,
    head: u8,
}

impl Raw {
    fn of(entry: &Entry) -> Raw {
        let mut head = 0;
        if entry.undecodable {
            head |= UNDECODABLE;
        }
        if entry.has_issues {
            head |= HAS_ISSUES;
        }
        Raw {
            version: entry.version,
            position: entry.position,
            seconds: entry.timestamp.map(|t| t.timestamp()),
            nanos: entry.timestamp.map_or(0, |t| t.timestamp_subsec_nanos()),
            time_offset: entry.time_offset,
            type_id: entry.type_id,
            head,
        }
    }

    fn entry(&self) -> Entry {
        Entry {
            version: self.version,
            position: self.position,
            timestamp: self
                .seconds
                .and_then(|seconds| Utc.timestamp_opt(seconds, self.nanos).single()),
            time_offset: self.time_offset,
            type_id: self.type_id,
            undecodable: self.head & UNDECODABLE != 0,
            has_issues: self.head & HAS_ISSUES != 0,
        }
    }
}

impl<'b> Decoder<'b> {
    fn new(block: &'b Block) -> Decoder<'b> {
        Decoder {
            block,
            at: 0,
            emitted: 0,
            current: Raw::of(&block.first),
        }
    }

    fn signed(&mut self) -> i64 {
        let raw = self.unsigned();
        ((raw >> 1) as i64) ^ -((raw & 1) as i64)
    }

    fn unsigned(&mut self) -> u64 {
        let mut value = 0u64;
        let mut shift = 0;
        while let Some(&byte) = self.block.deltas.get(self.at) {
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        value
    }

    /// Moves to the next entry; false past the block's end.
    fn step(&mut self) -> bool {
        if self.emitted >= self.block.len {
            return false;
        }
        self.emitted += 1;
        if self.emitted == 1 {
            return true;
        }
        let previous = self.current;
        let head = self.block.deltas[self.at];
        self.at += 1;
        let version = previous.version.wrapping_add(self.signed() as u64);
        let position = if head & KIND_RECORD != 0 {
            let (pt, pp, po) = match previous.position {
                StorePosition::Record {
                    timestamp_ms,
                    partition,
                    offset,
                } => (timestamp_ms, partition, offset),
                StorePosition::Seq(_) => (0, 0, 0),
            };
            StorePosition::Record {
                timestamp_ms: pt.wrapping_add(self.signed()),
                partition: (i64::from(pp) + self.signed()) as i32,
                offset: po.wrapping_add(self.signed()),
            }
        } else {
            match previous.position {
                StorePosition::Seq(a) => StorePosition::Seq(a.wrapping_add(self.signed())),
                StorePosition::Record { .. } => StorePosition::Seq(self.signed()),
            }
        };
        let (seconds, nanos) = if head & HAS_TIME != 0 {
            let seconds = previous.seconds.unwrap_or(0).wrapping_add(self.signed());
            let nanos = if head & HAS_NANOS != 0 {
                self.unsigned() as u32
            } else {
                0
            };
            (Some(seconds), nanos)
        } else {
            (None, 0)
        };
        let type_id = self.unsigned() as u32;
        let time_offset = match head & NEW_OFFSET != 0 {
            // Zero stands for none: a UTC offset is never kept (see `written_offset`).
            true => i32::try_from(self.signed())
                .ok()
                .and_then(FixedOffset::east_opt)
                .filter(|o| o.local_minus_utc() != 0),
            false => previous.time_offset,
        };
        self.current = Raw {
            version,
            position,
            seconds,
            nanos,
            time_offset,
            type_id,
            head,
        };
        true
    }
}

impl Iterator for Decoder<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        self.step().then(|| self.current.entry())
    }

    fn nth(&mut self, n: usize) -> Option<Entry> {
        for _ in 0..n {
            if !self.step() {
                return None;
            }
        }
        self.next()
    }
}

fn put_signed(out: &mut Vec<u8>, value: i64) {
    put_unsigned(out, ((value << 1) ^ (value >> 63)) as u64);
}

fn put_unsigned(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse_time, EventIssue};

    fn event(version: u64, position: StorePosition, at: Option<&str>, kind: &str) -> Event {
        Event {
            version,
            position,
            timestamp: at.and_then(parse_time),
            event_type: kind.into(),
            ..Event::default()
        }
    }

    #[test]
    fn entries_read_back_as_they_went_in_whatever_their_shape() {
        let mut events = Vec::new();
        for i in 0..1000u64 {
            let at = format!("2026-01-01T00:00:{:02}.{:03}Z", i % 60, i % 7);
            let mut e = event(
                i + 1 + i / 300,
                StorePosition::Seq(10 + 3 * i as i64),
                Some(&at),
                ["A", "B", "C"][i as usize % 3],
            );
            // Runs of times written with an offset, across block boundaries.
            if (100..300).contains(&i) || i % 50 == 7 {
                e.time_offset = FixedOffset::east_opt(if i % 2 == 0 { 19_800 } else { -3_600 });
            }
            if i % 97 == 0 {
                e.timestamp = None;
                e.data = Payload::from_json_text("{oops");
                e.issues = vec![EventIssue::NullColumn("x".into())];
            }
            events.push(e);
        }
        events.push(event(
            2000,
            StorePosition::Record {
                timestamp_ms: 5,
                partition: 2,
                offset: 9,
            },
            None,
            "K",
        ));
        events.push(event(
            1999,
            StorePosition::Seq(-4),
            Some("1969-12-31T23:59:59Z"),
            "A",
        ));
        let mut index = EventIndex::default();
        for e in &events {
            index.push(e);
        }
        assert_eq!(index.len(), events.len());
        let check = |i: usize, entry: Entry| {
            let e = &events[i];
            assert_eq!(entry.version, e.version, "{i}");
            assert_eq!(entry.position, e.position, "{i}");
            assert_eq!(entry.timestamp, e.timestamp, "{i}");
            assert_eq!(entry.time_offset, e.time_offset, "{i}");
            assert_eq!(index.type_name(entry.type_id), e.event_type, "{i}");
            assert_eq!(entry.undecodable, e.data.error().is_some(), "{i}");
            assert_eq!(entry.has_issues, !e.issues.is_empty(), "{i}");
        };
        for i in [
            0, 1, 7, 57, 100, 101, 127, 128, 129, 299, 300, 500, 999, 1000, 1001,
        ] {
            check(i, index.get(i).unwrap());
        }
        // Ranges that start anywhere in a block, the first entry of a block included.
        for start in [0, 1, 127, 128, 129, 250, 999, 1000, events.len() - 1] {
            let end = (start + 300).min(events.len());
            assert_eq!(index.range(start..end).count(), end - start, "{start}");
            for (offset, entry) in index.range(start..end).enumerate() {
                check(start + offset, entry);
            }
        }
        assert_eq!(index.range(0..events.len()).count(), events.len());
        assert!(index.get(events.len()).is_none());
        assert!(
            index.heap_bytes() < events.len() * 16,
            "{}",
            index.heap_bytes()
        );
    }

    #[test]
    fn a_regular_history_takes_a_few_bytes_an_event() {
        let mut index = EventIndex::default();
        let start = parse_time("2026-01-01T00:00:00Z").unwrap();
        for i in 0..100_000i64 {
            let at = start + chrono::Duration::seconds(i * 37 % 600 + i * 60);
            index.push(&Event {
                version: i as u64 + 1,
                position: StorePosition::Seq(1000 + i),
                timestamp: Some(at),
                event_type: ["Deposited", "Withdrawn"][i as usize % 2].into(),
                ..Event::default()
            });
        }
        let per_event = index.heap_bytes() as f64 / 100_000.0;
        assert!(per_event < 8.0, "{per_event} bytes an event");
    }

    #[test]
    fn versions_are_found_by_search() {
        let mut index = EventIndex::default();
        for version in [1u64, 2, 2, 3, 7, 8] {
            index.push(&event(
                version,
                StorePosition::Seq(version as i64),
                None,
                "T",
            ));
        }
        assert_eq!(index.count_through_version(0), 0);
        assert_eq!(index.count_through_version(2), 3);
        assert_eq!(index.count_through_version(5), 4);
        assert_eq!(index.count_through_version(99), 6);
    }
}
