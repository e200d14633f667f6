//! The one way to read events from a source: what to read, from where, up to when.

use chrono::{DateTime, Utc};

use crate::model::{Event, StorePosition};

/// Which events a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One aggregate's events, in version order.
    Aggregate(String),
    /// Every event of the store, in store order.
    Store,
}

/// Where a query starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Beginning,
    /// The events at or after this store position.
    Position(StorePosition),
    /// The events stored after an earlier query ended: what follow mode polls for.
    Resume(Resume),
    /// An aggregate's events after this one, in the aggregate's (version, position) order:
    /// the next page of a history read in pages.
    After {
        version: u64,
        position: StorePosition,
    },
}

/// Where a query ended, to resume from: a later query that starts from it reads only what
/// was stored since, so a poll with nothing new reads no event rows.
///
/// What it holds is the source's business: the store's highest position when it was read
/// (or a row of Kafka's local cache), and for PostgreSQL the positions below it that were
/// not visible yet, because a sequence hands out positions in the order transactions ask,
/// not the order they commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resume {
    pub(crate) after: i64,
    pub(crate) pending: Vec<Pending>,
}

/// A position below a resume point that no row held when it was read: a transaction that
/// took it may still commit, so later reads look for it until that can no longer happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    pub position: i64,
    /// The server's first unassigned transaction id when the gap was seen: once every
    /// transaction before it has ended, nothing can fill the gap any more.
    pub xid_horizon: u64,
    /// When the gap was seen (the server's clock, ms since the epoch).
    pub seen_at_ms: i64,
}

impl Resume {
    pub(crate) fn at(after: i64) -> Resume {
        Resume {
            after,
            pending: Vec::new(),
        }
    }

    /// The highest position (or row) the query had read.
    pub(crate) fn after(&self) -> i64 {
        self.after
    }
}

/// A read of a source. Sources may narrow it down themselves (in SQL, say), but must hand
/// the sink exactly the events [`Query::admits`] accepts, in the scope's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub scope: Scope,
    pub start: Start,
    /// Only events stamped at or after this time (events without a time are left out).
    pub since: Option<DateTime<Utc>>,
    /// Only events stamped at or before this time (events without a time are left out).
    pub until: Option<DateTime<Utc>>,
    /// Only aggregates of these types; empty: every type.
    pub aggregate_types: Vec<String>,
    /// Only events of these types; empty: every type.
    pub event_types: Vec<String>,
    /// With an aggregate scope, the entries of the aggregate's snapshots follow its events
    /// (their states are read one at a time with `EventSource::snapshot`), from the same
    /// consistent view of the store.
    pub snapshots: bool,
    /// At most this many events (a page); the rest are not read.
    pub limit: Option<usize>,
}

impl Query {
    /// One aggregate's whole history, snapshots included.
    pub fn aggregate(id: &str) -> Query {
        Query {
            scope: Scope::Aggregate(id.to_string()),
            snapshots: true,
            ..Query::store()
        }
    }

    /// Every event of the store.
    pub fn store() -> Query {
        Query {
            scope: Scope::Store,
            start: Start::Beginning,
            since: None,
            until: None,
            aggregate_types: Vec::new(),
            event_types: Vec::new(),
            snapshots: false,
            limit: None,
        }
    }

    /// `limit` events of one aggregate after the one with this version and position (or
    /// from its first event), without snapshots: one page of its history.
    pub fn page(id: &str, after: Option<(u64, StorePosition)>, limit: usize) -> Query {
        let start = match after {
            Some((version, position)) => Start::After { version, position },
            None => Start::Beginning,
        };
        Query {
            scope: Scope::Aggregate(id.to_string()),
            start,
            limit: Some(limit),
            ..Query::store()
        }
    }

    pub fn starting(mut self, start: Start) -> Query {
        self.start = start;
        self
    }

    /// The resume point of the query, if it resumes.
    pub fn resume(&self) -> Option<&Resume> {
        match &self.start {
            Start::Resume(resume) => Some(resume),
            _ => None,
        }
    }

    /// Whether an event read from the store belongs in the answer (the time and type
    /// filters; where the query starts is the source's part).
    pub fn admits(&self, event: &Event) -> bool {
        match &self.start {
            Start::Position(first) if event.position < *first => return false,
            Start::After { version, position }
                if (event.version, event.position) <= (*version, *position) =>
            {
                return false
            }
            _ => {}
        }
        let timed = |bound: &Option<DateTime<Utc>>,
                     keep: fn(&DateTime<Utc>, &DateTime<Utc>) -> bool| {
            bound.is_none_or(|bound| event.timestamp.is_some_and(|t| keep(&t, &bound)))
        };
        let of_type = |wanted: &[String], found: Option<&str>| {
            wanted.is_empty() || found.is_some_and(|found| wanted.iter().any(|w| w == found))
        };
        timed(&self.since, |t, bound| t >= bound)
            && timed(&self.until, |t, bound| t <= bound)
            && of_type(&self.event_types, Some(&event.event_type))
            && of_type(&self.aggregate_types, event.aggregate_type.as_deref())
    }
}

/// The sink a source streams into, cut off after the query's limit: the chunk that reaches
/// it is shortened and the read stops there.
pub fn limited<'s>(
    limit: Option<usize>,
    sink: &'s mut dyn FnMut(crate::model::Chunk) -> std::ops::ControlFlow<()>,
) -> impl FnMut(crate::model::Chunk) -> std::ops::ControlFlow<()> + 's {
    use crate::model::Chunk;
    use std::ops::ControlFlow;
    let mut left = limit.unwrap_or(usize::MAX);
    move |chunk| match chunk {
        Chunk::Events(mut events) => {
            if left == 0 {
                return ControlFlow::Break(());
            }
            events.truncate(left);
            left -= events.len();
            let flow = sink(Chunk::Events(events));
            if left == 0 {
                ControlFlow::Break(())
            } else {
                flow
            }
        }
        other => sink(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn event(at: &str, event_type: &str, aggregate_type: Option<&str>, position: i64) -> Event {
        Event {
            event_type: event_type.into(),
            aggregate_type: aggregate_type.map(str::to_string),
            timestamp: parse_time(at),
            position: StorePosition::Seq(position),
            ..Event::default()
        }
    }

    #[test]
    fn admits_by_time_type_and_start() {
        let mut query = Query::store();
        let deposit = event("2026-01-02", "Deposited", Some("account"), 5);
        assert!(query.admits(&deposit));
        query.since = parse_time("2026-01-02");
        query.until = parse_time("2026-01-03");
        assert!(query.admits(&deposit));
        assert!(!query.admits(&event("2026-01-04", "Deposited", Some("account"), 6)));
        assert!(
            !query.admits(&Event::default()),
            "untimed events fall outside a window"
        );
        query.event_types = vec!["Withdrawn".into(), "Deposited".into()];
        assert!(query.admits(&deposit));
        query.aggregate_types = vec!["order".into()];
        assert!(!query.admits(&deposit));
        let query = Query::store().starting(Start::Position(StorePosition::Seq(6)));
        assert!(!query.admits(&deposit));
    }
}
