//! How healthy an aggregate's history is, at a glance: snapshots that drift from replay,
//! states that break the user's invariant (a jq predicate, `--invariant`), payloads that did
//! not decode, warnings (version gaps, duplicates, times going backwards, unreadable
//! columns) and events the reducer refused. `rewind aggregates --health` and the UI's
//! aggregate list show the same figures.

use serde::Serialize;

use super::predicate::Predicate;
use crate::jq::{JqError, Limits};
use crate::model::{SnapshotOutcome, StepProblem};
use crate::replay::{Replay, ReplayError};

/// What every state of every aggregate must satisfy, e.g. `.balance >= 0`: a jq predicate
/// over the state after each event (`$event` is the event), true where the state is sound.
pub struct Invariant {
    code: String,
    /// The negation: its matches are the states that break the invariant.
    broken: Predicate,
    /// The first state it could not judge, and why: such states count as breaks, and a
    /// front end says so once.
    first_failure: std::sync::Mutex<Option<String>>,
}

impl Invariant {
    pub fn new(code: &str, limits: Limits) -> Result<Invariant, JqError> {
        // `not` on a line of its own, so a comment ending `code` cannot swallow it.
        let broken = match Predicate::new(&format!("({code}\n) | not"), "--invariant", limits) {
            Ok(broken) => broken,
            // Compiled as written, the error points at the user's own line and column.
            Err(wrapped) => {
                return Err(Predicate::new(code, "--invariant", limits)
                    .err()
                    .unwrap_or(wrapped))
            }
        };
        Ok(Invariant {
            code: code.to_string(),
            broken,
            first_failure: std::sync::Mutex::new(None),
        })
    }

    /// Where and why the invariant first failed to judge a state (`acc-1 v3: …`), if it did.
    pub fn first_failure(&self) -> Option<String> {
        self.failures().clone()
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.first_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Invariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Invariant({:?})", self.code)
    }
}

impl PartialEq for Invariant {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Stored snapshots that disagree with replay or do not decode.
    pub drifts: usize,
    /// Events whose payload did not decode.
    pub malformed: usize,
    pub warnings: usize,
    /// Events the reducer refused.
    pub reducer_errors: usize,
    /// States (after an event) the invariant does not hold for, or could not be judged.
    pub invariant_breaks: usize,
}

impl Health {
    pub fn is_ok(&self) -> bool {
        *self == Health::default()
    }

    /// Worst first: drifts, then broken invariants, reducer errors, malformed events,
    /// warnings.
    pub fn severity(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.drifts,
            self.invariant_breaks,
            self.reducer_errors,
            self.malformed,
            self.warnings,
        )
    }

    /// `ok`, or `1 drift, 2 warnings`: what is wrong, in words.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.drifts, "snapshot drift", "snapshot drifts"),
            (self.invariant_breaks, "invariant break", "invariant breaks"),
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

/// The health of a replayed history (its snapshots checked against replay, each state
/// against the invariant); an error when the store could not be read to the end.
pub fn health(replay: &mut Replay, invariant: Option<&Invariant>) -> Result<Health, ReplayError> {
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
    let invariant_breaks = match invariant {
        Some(invariant) => {
            let run = invariant.broken.run_range(replay, 0..replay.len())?;
            if let Some((index, err)) = run.first_error {
                let event = replay.event(index)?;
                let at = format!("{} v{}: {err}", event.aggregate_id, event.version);
                invariant.failures().get_or_insert(at);
            }
            run.matches.len() + run.errors
        }
        None => 0,
    };
    Ok(Health {
        drifts,
        malformed,
        warnings: replay.warnings().len(),
        reducer_errors,
        invariant_breaks,
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
            health(&mut replay, None).unwrap()
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

    #[test]
    fn an_invariant_counts_the_states_that_break_it() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-data/demo.db");
        let source = crate::source::open(&path.to_string_lossy(), &Default::default()).unwrap();
        // The demo's rule (`rewind demo` applies it): no account below its overdraft.
        let rule = ".balance == null or .balance >= -(.limits.overdraft // 0)";
        let invariant = Invariant::new(rule, Limits::default()).unwrap();
        let of = |id: &str| {
            let reducer = crate::load::reducer_for(source.as_ref(), id, None);
            let mut replay = crate::load::replay(source.as_ref(), id, reducer).unwrap();
            health(&mut replay, Some(&invariant)).unwrap()
        };
        let acc7 = of("acc-0007");
        assert!(acc7.invariant_breaks > 0, "v31 goes negative: {acc7:?}");
        assert!(acc7
            .describe()
            .starts_with(&format!("{} invariant break", acc7.invariant_breaks)));
        assert!(of("acc-0001").is_ok(), "never negative");
        assert!(of("order-0001").is_ok(), "orders have no balance");
        // A state the invariant cannot judge is not vouched for.
        let failing = Invariant::new(".balance | error", Limits::default()).unwrap();
        let reducer = crate::load::reducer_for(source.as_ref(), "acc-0010", None);
        let mut replay = crate::load::replay(source.as_ref(), "acc-0010", reducer).unwrap();
        let len = replay.len();
        assert_eq!(
            health(&mut replay, Some(&failing))
                .unwrap()
                .invariant_breaks,
            len
        );
        let failure = failing.first_failure().expect("the failure is kept");
        assert!(failure.starts_with("acc-0010 v1: "), "{failure}");
        assert_eq!(
            invariant.first_failure(),
            None,
            "a rule that judged every state"
        );
    }
}
