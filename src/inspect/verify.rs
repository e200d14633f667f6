use serde_json::Value;

use crate::diff::{Change, JsonPath};
use crate::model::SnapshotOutcome;
use crate::replay::{Replay, ReplayError};

/// A stored snapshot that does not match replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub aggregate: String,
    pub version: u64,
    pub kind: DriftKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DriftKind {
    /// Paths where the stored snapshot (expected) and replay (actual) differ.
    Differs(Vec<Change>),
    Undecodable(String),
    BeyondHistory {
        last_version: u64,
    },
}

/// Checks every snapshot of one replayed aggregate; differences under `ignore` paths (e.g.
/// bookkeeping fields the reducer does not rebuild) do not count.
pub fn verify_aggregate(
    aggregate: &str,
    replay: &mut Replay,
    ignore: &[JsonPath],
) -> Result<(usize, Vec<Drift>), ReplayError> {
    let last_version = replay
        .len()
        .checked_sub(1)
        .and_then(|i| replay.entry(i))
        .map_or(0, |e| e.version);
    let checks = replay.check_snapshots()?;
    let checked = checks.len();
    let drifts = checks
        .into_iter()
        .filter_map(|check| {
            let kind = match check.outcome {
                SnapshotOutcome::Agrees => return None,
                SnapshotOutcome::Differs(changes) => {
                    let kept: Vec<Change> = changes
                        .into_iter()
                        .filter(|c| !ignore.iter().any(|path| c.path.0.starts_with(&path.0)))
                        .collect();
                    if kept.is_empty() {
                        return None;
                    }
                    DriftKind::Differs(kept)
                }
                SnapshotOutcome::Undecodable(err) => DriftKind::Undecodable(err),
                SnapshotOutcome::BeyondHistory => DriftKind::BeyondHistory { last_version },
            };
            Some(Drift {
                aggregate: aggregate.to_string(),
                version: check.version,
                kind,
            })
        })
        .collect();
    Ok((checked, drifts))
}

impl Drift {
    /// One `(path, expected, actual)` per difference, for tables and JSON.
    pub fn rows(&self) -> Vec<(String, Option<Value>, Option<Value>)> {
        match &self.kind {
            DriftKind::Differs(changes) => changes
                .iter()
                .map(|c| (c.path.to_string(), c.old.clone(), c.new.clone()))
                .collect(),
            DriftKind::Undecodable(err) => {
                vec![(".".into(), Some(Value::from(err.as_str())), None)]
            }
            DriftKind::BeyondHistory { last_version } => vec![(
                ".".into(),
                None,
                Some(Value::from(format!("history ends at v{last_version}"))),
            )],
        }
    }
}
