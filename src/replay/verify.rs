//! Do the stored snapshots agree with what replay computes?

use crate::diff::changes;
use crate::model::{Payload, SnapshotOutcome};

use super::{Replay, ReplayError};

#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotCheck {
    /// Index into `Replay::snapshots()`.
    pub snapshot: usize,
    pub version: u64,
    /// The replay position the snapshot claims to shortcut to.
    pub count: usize,
    pub outcome: SnapshotOutcome,
}

impl Replay<'_> {
    /// Compares every snapshot with the replayed state at its version, in version order,
    /// reading one snapshot's state at a time.
    pub fn check_snapshots(&mut self) -> Result<Vec<SnapshotCheck>, ReplayError> {
        let last_version = self
            .len()
            .checked_sub(1)
            .and_then(|i| self.entry(i))
            .map_or(0, |e| e.version);
        let mut checks = Vec::with_capacity(self.snapshots().len());
        for snapshot in 0..self.snapshots().len() {
            let version = self.snapshots()[snapshot].version;
            let count = self.count_through_version(version);
            let outcome = match version > last_version {
                true => SnapshotOutcome::BeyondHistory,
                false => match self.snapshot(snapshot)?.state {
                    Payload::Undecodable { error, .. } => SnapshotOutcome::Undecodable(error),
                    Payload::Json(stored) => {
                        let differences = changes(&stored.value(), self.state_after(count)?);
                        match differences.is_empty() {
                            true => SnapshotOutcome::Agrees,
                            false => SnapshotOutcome::Differs(differences),
                        }
                    }
                },
            };
            checks.push(SnapshotCheck {
                snapshot,
                version,
                count,
                outcome,
            });
        }
        Ok(checks)
    }
}
