use crate::diff::{changes, Change};
use crate::replay::{Replay, ReplayError};

use super::predicate::{Predicate, PredicateRun};

/// The first event after which a predicate holds, and what that event changed.
#[derive(Debug)]
pub struct Bisection {
    /// 0-based index of the event; `None` when the predicate never became true.
    pub found: Option<usize>,
    pub changes: Vec<Change>,
    /// How the predicate fared, including events where it errored.
    pub run: PredicateRun,
}

/// Judges the state after every event in order: predicates need not be monotonic, so the
/// first event after which it holds is found by a scan, not a binary search that could
/// skip over it.
pub fn bisect(replay: &mut Replay, predicate: &Predicate) -> Result<Bisection, ReplayError> {
    let run = predicate.run(replay, 0, true)?;
    let found = run.matches.first().copied();
    let changes = match found {
        Some(index) => {
            let (before, after) = replay.step(index)?;
            changes(&before, &after)
        }
        None => Vec::new(),
    };
    Ok(Bisection {
        found,
        changes,
        run,
    })
}
