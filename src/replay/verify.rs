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
    /// Compares every snapshot with the replayed state at its version.
    pub fn check_snapshots(&mut self) -> Result<Vec<SnapshotCheck>, ReplayError> {
        let last_version = self
            .len()
            .checked_sub(1)
            .and_then(|i| self.entry(i))
            .map_or(0, |e| e.version);
        let snapshots: Vec<(u64, Payload)> = self
            .snapshots()
            .iter()
            .map(|s| (s.version, s.state.clone()))
            .collect();
        snapshots
            .into_iter()
            .enumerate()
            .map(|(snapshot, (version, state))| {
                let count = self.count_through_version(version);
                let outcome = match state {
                    _ if version > last_version => SnapshotOutcome::BeyondHistory,
                    Payload::Undecodable { error, .. } => SnapshotOutcome::Undecodable(error),
                    Payload::Json(stored) => {
                        let differences = changes(&stored.value(), self.state_after(count)?);
                        if differences.is_empty() {
                            SnapshotOutcome::Agrees
                        } else {
                            SnapshotOutcome::Differs(differences)
                        }
                    }
                };
                Ok(SnapshotCheck {
                    snapshot,
                    version,
                    count,
                    outcome,
                })
            })
            .collect()
    }
}
