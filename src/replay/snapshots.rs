//! A replay's snapshots: their entries (version, time, key) in version order, and their
//! states where they are. A state can be as big as the aggregate's and an aggregate can
//! have many, so a replay over a store keeps only the entries and reads one state at a
//! time when it is looked at; a replay built from a history read whole holds them.

use crate::model::{Snapshot, SnapshotEntry};

use super::{Replay, ReplayError};

#[derive(Default)]
pub struct Snapshots {
    /// In version order, ties as the store handed them over.
    entries: Vec<SnapshotEntry>,
    /// States held in memory, by key; empty: they stay in the store.
    held: Vec<Snapshot>,
}

impl Replay<'_> {
    /// Snapshots held whole (a history read into memory); each is keyed by its place.
    pub fn set_snapshots(&mut self, snapshots: Vec<Snapshot>) {
        let entries = (snapshots.iter().zip(0..))
            .map(|(snapshot, key)| snapshot.entry(key))
            .collect();
        self.set_snapshot_entries(entries);
        self.snapshots.held = snapshots;
    }

    /// Snapshots whose states stay in the store, read back by key when looked at.
    pub fn set_snapshot_entries(&mut self, mut entries: Vec<SnapshotEntry>) {
        entries.sort_by_key(|s| s.version);
        self.snapshots = Snapshots {
            entries,
            held: Vec::new(),
        };
    }

    /// The snapshots' entries, in version order.
    pub fn snapshots(&self) -> &[SnapshotEntry] {
        &self.snapshots.entries
    }

    /// Snapshot `index` (into [`Replay::snapshots`]) whole, read from the store unless it
    /// is held; a store that no longer has it as its entry said is an error.
    pub fn snapshot(&mut self, index: usize) -> Result<Snapshot, ReplayError> {
        let Some(entry) = self.snapshots.entries.get(index).copied() else {
            return Err(ReplayError::Read(format!(
                "no snapshot {index} in this history"
            )));
        };
        let place = usize::try_from(entry.key).unwrap_or(usize::MAX);
        let read = match self.snapshots.held.get(place) {
            Some(held) => Some(held.clone()),
            None => self
                .storage
                .read_snapshot(entry.key)
                .map_err(ReplayError::Read)?,
        };
        match read {
            Some(snapshot) if snapshot.version == entry.version => Ok(snapshot),
            _ => Err(ReplayError::Read(
                "the store changed while rewind read it (a snapshot it listed is gone or moved); open it again".into(),
            )),
        }
    }
}
