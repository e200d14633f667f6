//! How healthy an aggregate's history is, at a glance: snapshots that drift from replay,
//! payloads that did not decode, warnings (version gaps, duplicates, times going backwards,
//! unreadable columns) and events the reducer refused. `rewind aggregates --health` and the
//! UI's aggregate list show the same figures.

use serde::Serialize;

use crate::model::{SnapshotOutcome, StepProblem};
use crate::replay::{Replay, ReplayError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Stored snapshots that disagree with replay or do not decode.
    pub drifts: usize,
    /// Events whose payload did not decode.
    pub malformed: usize,
    pub warnings: usize,
    /// Events the reducer refused.
    pub reducer_errors: usize,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        *self == Health::default()
    }

    /// Worst first: drifts, then reducer errors, malformed events, warnings.
    pub fn severity(&self) -> (usize, usize, usize, usize) {
        (
            self.drifts,
            self.reducer_errors,
            self.malformed,
            self.warnings,
        )
    }

    /// `ok`, or `1 drift, 2 warnings`: what is wrong, in words.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.drifts, "snapshot drift", "snapshot drifts"),
            (self.malformed, "malformed event", "malformed events"),
            (self.reducer_errors, "reducer error", "reducer errors"),
            (self.warnings, "warning", "warnings"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
        match parts.is_empty() {
            true => "ok".to_string(),
            false => parts.join(", "),
        }
    }
}

/// The health of a replayed history (its snapshots checked against replay); an error when
/// the store could not be read to the end.
pub fn health(replay: &mut Replay) -> Result<Health, ReplayError> {
    let drifts = replay
        .check_snapshots()?
        .into_iter()
        .filter(|check| {
            matches!(
                check.outcome,
                SnapshotOutcome::Differs(_) | SnapshotOutcome::Undecodable(_)
            )
        })
        .count();
    // Problems are known once every event has been folded, snapshots or not.
    replay.state_after(replay.len())?;
    let (mut malformed, mut reducer_errors) = (0, 0);
    for (_, problem) in replay.problems() {
        match problem {
            StepProblem::Undecodable(_) => malformed += 1,
            StepProblem::ReducerFailed(_) => reducer_errors += 1,
        }
    }
    Ok(Health {
        drifts,
        malformed,
        warnings: replay.warnings().len(),
        reducer_errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demos_planted_anomalies_show_in_its_health() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db");
        let source = crate::source::open(&path.to_string_lossy(), &Default::default()).unwrap();
        let of = |id: &str| {
            let reducer = crate::load::reducer_for(source.as_ref(), id, None);
            let mut replay = crate::load::replay(source.as_ref(), id, reducer).unwrap();
            health(&mut replay).unwrap()
        };
        assert_eq!(of("acc-0003").drifts, 1, "the snapshot at v50");
        assert_eq!(of("order-0012").malformed, 1, "v4 does not decode");
        assert_eq!(of("order-0020").warnings, 1, "v5 is stamped before v4");
        assert!(of("acc-0001").is_ok());
        assert_eq!(
            Health {
                drifts: 1,
                warnings: 2,
                ..Health::default()
            }
            .describe(),
            "1 snapshot drift, 2 warnings"
        );
    }
}
