//! Resume points that miss nothing although PostgreSQL sequences are not commit-ordered.
//!
//! A transaction can take position 10, another 11 and commit first: a read then sees 11
//! but not 10, and a poll that resumed "after 11" would never see 10. So a resume point
//! also keeps the positions below it that no row held when it was read, while a
//! transaction that may hold one could still commit, and later reads look at them again.
//!
//! Gaps are looked for among the positions that arrived since the last read (an index
//! range the poll reads anyway). On the first read, only while some writing transaction is
//! in progress (the snapshot's in-progress list is not empty), and among the top
//! [`GAP_WINDOW`] positions only: with none running, every position handed out below the
//! top is committed or rolled back for good. A gap is given up once every transaction that
//! had started when it was seen has ended (the server's oldest running transaction id has
//! passed the snapshot's `xmax` of then) and [`GAP_GRACE_MS`] has passed, for writers that
//! take a position (`nextval`) a moment before their first write assigns them a
//! transaction id.

use crate::source::query::Pending;
use crate::source::Resume;

/// How far below the top the first read looks for positions still being written.
pub const GAP_WINDOW: i64 = 100_000;
/// How long a gap is kept at least, once nothing running could fill it.
pub const GAP_GRACE_MS: i64 = 5_000;
/// At most this many gaps are kept (those nearest the top, where writers are).
pub const MAX_PENDING: usize = 10_000;

/// What the read's snapshot said about the transactions around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The oldest transaction still running.
    pub xmin: u64,
    /// The first transaction id not yet handed out.
    pub xmax: u64,
    /// Whether any writing transaction was in progress.
    pub busy: bool,
    /// The server's clock, ms since the epoch.
    pub now_ms: i64,
}

/// The statement that reads [`SnapshotInfo`] in the read's own transaction.
pub const SNAPSHOT_INFO: &str = "SELECT pg_snapshot_xmin(s)::text::bigint, \
     pg_snapshot_xmax(s)::text::bigint, \
     EXISTS (SELECT 1 FROM pg_snapshot_xip(s)), \
     (extract(epoch FROM clock_timestamp()) * 1000)::bigint \
     FROM (SELECT pg_current_snapshot() AS s) snapshot";

/// Where the positions to look at start: after the last resume point, or (first read,
/// writers busy) the top window; `None` when there is nothing to look at.
pub fn scan_from(previous: Option<&Resume>, top: Option<i64>, info: &SnapshotInfo) -> Option<i64> {
    let top = top?;
    let from = match previous {
        Some(resume) => resume.after(),
        None if info.busy => top.saturating_sub(GAP_WINDOW),
        None => return None,
    };
    (from < top).then_some(from)
}

/// Collects the gaps among the visible positions of `(from, top]`, fed in ascending order.
pub struct GapFinder {
    expected: i64,
    gaps: std::collections::VecDeque<i64>,
}

impl GapFinder {
    pub fn new(from: i64) -> GapFinder {
        GapFinder {
            expected: from.saturating_add(1),
            gaps: std::collections::VecDeque::new(),
        }
    }

    pub fn saw(&mut self, position: i64) {
        // A hole far wider than what is kept is recorded by its top end only.
        let first_kept = position
            .saturating_sub(MAX_PENDING as i64)
            .max(self.expected);
        for missing in first_kept..position {
            self.push(missing);
        }
        self.expected = self.expected.max(position.saturating_add(1));
    }

    fn push(&mut self, position: i64) {
        if self.gaps.len() == MAX_PENDING {
            self.gaps.pop_front();
        }
        self.gaps.push_back(position);
    }

    /// The gaps up to and including `top`.
    pub fn finish(mut self, top: i64) -> Vec<i64> {
        self.saw(top.saturating_add(1));
        self.gaps.into()
    }
}

/// The resume point after a read: the top position, the earlier gaps nothing has filled
/// and that could still be filled, and the new ones.
pub fn next_resume(
    previous: Option<&Resume>,
    top: Option<i64>,
    filled: &[i64],
    new_gaps: Vec<i64>,
    info: &SnapshotInfo,
) -> Resume {
    let earlier = previous.map_or(i64::MIN, Resume::after);
    let after = top.map_or(earlier, |top| top.max(earlier));
    let mut pending: Vec<Pending> = previous
        .map(|r| r.pending.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !filled.contains(&p.position))
        .filter(|p| info.xmin < p.xid_horizon || info.now_ms - p.seen_at_ms < GAP_GRACE_MS)
        .collect();
    pending.extend(new_gaps.into_iter().map(|position| Pending {
        position,
        xid_horizon: info.xmax,
        seen_at_ms: info.now_ms,
    }));
    if pending.len() > MAX_PENDING {
        pending.drain(..pending.len() - MAX_PENDING);
    }
    Resume { after, pending }
}

/// The positions a resumed read looks at again.
pub fn pending_positions(resume: Option<&Resume>) -> Vec<i64> {
    resume.map_or_else(Vec::new, |r| r.pending.iter().map(|p| p.position).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(xmin: u64, xmax: u64, busy: bool, now_ms: i64) -> SnapshotInfo {
        SnapshotInfo {
            xmin,
            xmax,
            busy,
            now_ms,
        }
    }

    fn gaps(from: i64, seen: &[i64], top: i64) -> Vec<i64> {
        let mut finder = GapFinder::new(from);
        for &p in seen {
            finder.saw(p);
        }
        finder.finish(top)
    }

    #[test]
    fn gaps_are_the_positions_no_row_holds() {
        assert_eq!(gaps(9, &[11, 12, 14], 14), vec![10, 13]);
        assert_eq!(gaps(0, &[1, 2, 3], 3), Vec::<i64>::new());
        let wide = gaps(0, &[1, 1_000_000], 1_000_000);
        assert_eq!(wide.len(), MAX_PENDING);
        assert_eq!(wide.last(), Some(&999_999));
    }

    #[test]
    fn a_gap_stays_until_filled_or_nothing_running_could_fill_it() {
        let busy = info(100, 105, true, 1_000);
        let first = next_resume(None, Some(11), &[], vec![10], &busy);
        assert_eq!(first.after, 11);
        assert_eq!(pending_positions(Some(&first)), vec![10]);

        // The writer of 10 still runs: kept.
        let later = next_resume(
            Some(&first),
            Some(11),
            &[],
            vec![],
            &info(101, 106, true, 9_000),
        );
        assert_eq!(pending_positions(Some(&later)), vec![10]);
        // It committed: 10 was read, so it is no longer pending.
        let filled = next_resume(
            Some(&first),
            Some(12),
            &[10],
            vec![],
            &info(106, 106, false, 2_000),
        );
        assert!(filled.pending.is_empty());
        // It rolled back: every transaction of then has ended, but the grace has not passed.
        let soon = next_resume(
            Some(&first),
            Some(11),
            &[],
            vec![],
            &info(106, 106, false, 2_000),
        );
        assert_eq!(pending_positions(Some(&soon)), vec![10]);
        let gone = next_resume(
            Some(&first),
            Some(11),
            &[],
            vec![],
            &info(106, 106, false, 7_000),
        );
        assert!(gone.pending.is_empty());
    }

    #[test]
    fn a_first_read_looks_for_gaps_only_while_writers_run() {
        let idle = info(5, 5, false, 0);
        assert_eq!(scan_from(None, Some(500_000), &idle), None);
        let busy = info(5, 9, true, 0);
        assert_eq!(scan_from(None, Some(500_000), &busy), Some(400_000));
        // What arrived since the last read is looked at, busy or not.
        assert_eq!(
            scan_from(Some(&Resume::at(499_990)), Some(500_000), &idle),
            Some(499_990)
        );
        assert_eq!(
            scan_from(Some(&Resume::at(499_990)), Some(500_000), &busy),
            Some(499_990)
        );
        assert_eq!(
            scan_from(Some(&Resume::at(500_000)), Some(500_000), &busy),
            None
        );
        assert_eq!(scan_from(None, None, &busy), None);
    }
}
