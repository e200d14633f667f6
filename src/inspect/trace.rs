//! One request across the store: every event whose correlation id is the one asked for, or
//! that descends through causation ids from the event with that id, in store order, with
//! each event placed under the event that caused it.
//!
//! A causation id may name an event outside the trace or no event at all (a dangling link),
//! and links may form a cycle; both are marked and neither loops.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use super::ids::{EventIds, TraceIds};
use crate::model::{Chunk, Event, StorePosition};
use crate::source::{EventSource, Query, SourceError};

/// How an event of the trace hangs on its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// No causation id: a root of the trace.
    Root,
    /// Under the trace event at this index.
    CausedBy(usize),
    /// Its causation id names an event of the store outside this trace.
    Outside(String),
    /// Its causation id names no event in the store.
    Dangling(String),
    /// Its causes lead back to itself; drawn once, at the earliest event of the loop.
    Cycle(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    pub event: Event,
    pub ids: EventIds,
    pub link: Link,
    /// Depth in the tree drawn (roots are 0).
    pub depth: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub id: String,
    /// In tree order: each event followed by the events it caused (depth first, each
    /// level in store order).
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// How many aggregates the trace touches.
    pub fn aggregates(&self) -> usize {
        let ids: HashSet<&str> = self
            .events
            .iter()
            .map(|e| e.event.aggregate_id.as_str())
            .collect();
        ids.len()
    }

    /// The event the trace starts from: the one whose id was asked for, else the first.
    pub fn root(&self) -> Option<&TraceEvent> {
        self.events
            .iter()
            .find(|e| e.ids.event_id.as_deref() == Some(self.id.as_str()))
            .or_else(|| self.events.first())
    }
}

/// Reads the store for the trace of `id`; `None` when no event has it as its correlation
/// id or its own id.
pub fn trace(
    source: &dyn EventSource,
    id: &str,
    rules: &TraceIds,
) -> Result<Option<Trace>, SourceError> {
    let members = collect(source, id, rules)?;
    if members.is_empty() {
        return Ok(None);
    }
    let by_id = index_by_event_id(&members);
    let unresolved: HashSet<String> = members
        .iter()
        .filter_map(|(_, ids)| ids.causation.clone())
        .filter(|cause| !by_id.contains_key(cause.as_str()))
        .collect();
    let outside = existing_ids(source, &unresolved, rules)?;
    Ok(Some(arrange(id, members, &outside)))
}

/// Every event of the trace, in store order, with its ids.
///
/// One pass over the store takes an event in when its cause is already in, so an event
/// stored before its cause (Kafka orders by the producers' clocks; a mapped position need
/// not follow causation) is left out by that pass. The pass remembers the causes of what
/// it left out, hashed and bounded; when one of them names an event it took in, another
/// pass runs, until a pass adds nothing.
fn collect(
    source: &dyn EventSource,
    id: &str,
    rules: &TraceIds,
) -> Result<Vec<(Event, EventIds)>, SourceError> {
    let mut members: Vec<(Event, EventIds)> = Vec::new();
    let mut taken: HashSet<StorePosition> = HashSet::new();
    let mut member_ids: HashSet<String> = HashSet::new();
    loop {
        let mut left_out = LeftOutCauses::default();
        let mut added = 0usize;
        source.query(&Query::store(), &mut |chunk| {
            if let Chunk::Events(events) = chunk {
                for event in events {
                    if taken.contains(&event.position) {
                        continue;
                    }
                    let ids = rules.of(&event);
                    let belongs = ids.correlation.as_deref() == Some(id)
                        || ids.event_id.as_deref() == Some(id)
                        || ids
                            .causation
                            .as_ref()
                            .is_some_and(|cause| member_ids.contains(cause));
                    match (belongs, &ids.causation) {
                        (true, _) => {
                            if let Some(own) = &ids.event_id {
                                member_ids.insert(own.clone());
                            }
                            taken.insert(event.position);
                            members.push((event, ids));
                            added += 1;
                        }
                        (false, Some(cause)) => left_out.remember(cause),
                        (false, None) => {}
                    }
                }
            }
            ControlFlow::Continue(())
        })?;
        let again = added > 0 && left_out.may_name(members.iter().rev().take(added));
        if !again {
            break;
        }
    }
    members.sort_by_key(|(event, _)| event.position);
    Ok(members)
}

/// The causation ids of the events a pass left out, as hashes, up to a bound: past it the
/// set says "maybe" to everything, which costs a pass, never an event.
#[derive(Default)]
struct LeftOutCauses {
    hashes: HashSet<u64>,
    overflowed: bool,
}

impl LeftOutCauses {
    /// 8 bytes a cause; a store-wide read keeps at most a few MB of them.
    const MAX: usize = 1 << 18;

    fn hash(id: &str) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(id)
    }

    fn remember(&mut self, cause: &str) {
        if self.overflowed {
            return;
        }
        if self.hashes.len() >= Self::MAX {
            self.overflowed = true;
            self.hashes = HashSet::new();
            return;
        }
        self.hashes.insert(Self::hash(cause));
    }

    /// Whether a left-out event may have one of these events as its cause.
    fn may_name<'a>(&self, added: impl Iterator<Item = &'a (Event, EventIds)>) -> bool {
        let mut added = added.filter_map(|(_, ids)| ids.event_id.as_deref());
        self.overflowed || added.any(|own| self.hashes.contains(&Self::hash(own)))
    }
}

fn index_by_event_id(members: &[(Event, EventIds)]) -> HashMap<&str, usize> {
    let mut by_id = HashMap::new();
    for (i, (_, ids)) in members.iter().enumerate() {
        if let Some(own) = &ids.event_id {
            by_id.entry(own.as_str()).or_insert(i);
        }
    }
    by_id
}

/// Which of `wanted` name an event somewhere in the store (a second read, only when the
/// trace has causes outside itself).
fn existing_ids(
    source: &dyn EventSource,
    wanted: &HashSet<String>,
    rules: &TraceIds,
) -> Result<HashSet<String>, SourceError> {
    let mut found = HashSet::new();
    if wanted.is_empty() {
        return Ok(found);
    }
    source.query(&Query::store(), &mut |chunk| {
        if let Chunk::Events(events) = chunk {
            for event in &events {
                if let Some(own) = rules.of(event).event_id {
                    if wanted.contains(&own) {
                        found.insert(own);
                    }
                }
            }
        }
        match found.len() == wanted.len() {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    })?;
    Ok(found)
}

/// Links each event to its cause and lays the events out as a tree.
fn arrange(id: &str, members: Vec<(Event, EventIds)>, outside: &HashSet<String>) -> Trace {
    let by_id = index_by_event_id(&members);
    let parents: Vec<Option<usize>> = members
        .iter()
        .enumerate()
        .map(|(i, (_, ids))| {
            let cause = ids.causation.as_deref()?;
            by_id.get(cause).copied().filter(|&parent| parent != i)
        })
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    for (child, parent) in parents.iter().enumerate() {
        if let Some(parent) = parent {
            children[*parent].push(child);
        }
    }
    let link_of = |i: usize| -> Link {
        let ids = &members[i].1;
        match (parents[i], ids.causation.as_deref()) {
            (Some(parent), _) => Link::CausedBy(parent),
            (None, None) => Link::Root,
            (None, Some(cause)) if cause == ids.event_id.as_deref().unwrap_or_default() => {
                Link::Cycle(cause.to_string())
            }
            (None, Some(cause)) if outside.contains(cause) => Link::Outside(cause.to_string()),
            (None, Some(cause)) => Link::Dangling(cause.to_string()),
        }
    };
    // Depth first from each top, tops in store order: a root, or for a loop of causes its
    // earliest event, so a loop is drawn where it began rather than after everything else.
    let mut order: Vec<(usize, usize, Link)> = Vec::with_capacity(members.len());
    let mut placed = vec![false; members.len()];
    let mut visit = |start: usize, link: Link, placed: &mut Vec<bool>| {
        let mut stack = vec![(start, 0usize, Some(link))];
        while let Some((i, depth, link)) = stack.pop() {
            if placed[i] {
                continue;
            }
            placed[i] = true;
            order.push((i, depth, link.unwrap_or_else(|| link_of(i))));
            for &child in children[i].iter().rev() {
                stack.push((child, depth + 1, None));
            }
        }
    };
    for top in tops(&parents) {
        let link = match parents[top] {
            None => link_of(top),
            Some(_) => Link::Cycle(members[top].1.causation.clone().unwrap_or_default()),
        };
        visit(top, link, &mut placed);
    }
    let mut members: Vec<Option<(Event, EventIds)>> = members.into_iter().map(Some).collect();
    // Indices into the member list become indices into the tree order.
    let mut position = vec![0usize; members.len()];
    for (at, (i, _, _)) in order.iter().enumerate() {
        position[*i] = at;
    }
    let events = order
        .into_iter()
        .map(|(i, depth, link)| {
            let (event, ids) = members[i].take().expect("each event is placed once");
            let link = match link {
                Link::CausedBy(parent) => Link::CausedBy(position[parent]),
                other => other,
            };
            TraceEvent {
                event,
                ids,
                link,
                depth,
            }
        })
        .collect();
    Trace {
        id: id.to_string(),
        events,
    }
}

/// Where each event's chain of causes ends, in store order and once each: at an event
/// with no cause in the trace (a root), or, for a chain that loops, at the loop's earliest
/// event. Every event hangs under exactly one top.
fn tops(parents: &[Option<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    const WALKING: usize = usize::MAX - 1;
    let mut top = vec![UNSEEN; parents.len()];
    let mut path = Vec::new();
    for start in 0..parents.len() {
        let mut at = start;
        let found = loop {
            match top[at] {
                UNSEEN => {}
                WALKING => {
                    // Back on this walk's own path: the loop is the path from `at` on.
                    let from = path.iter().position(|&i| i == at).unwrap_or(0);
                    break path[from..].iter().copied().min().unwrap_or(at);
                }
                known => break known,
            }
            match parents[at] {
                None => {
                    top[at] = at;
                    break at;
                }
                Some(parent) => {
                    top[at] = WALKING;
                    path.push(at);
                    at = parent;
                }
            }
        };
        for &i in &path {
            top[i] = found;
        }
        path.clear();
    }
    let tops: Vec<usize> = top
        .iter()
        .enumerate()
        .filter(|&(i, &t)| t == i)
        .map(|(i, _)| i)
        .collect();
    tops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JsonText;
    use serde_json::json;

    fn member(aggregate: &str, id: &str, cause: Option<&str>) -> (Event, EventIds) {
        let event = Event {
            aggregate_id: aggregate.into(),
            event_id: Some(id.into()),
            metadata: JsonText::from_value(&json!({"correlation_id": "req"})),
            ..Event::default()
        };
        let ids = EventIds {
            event_id: Some(id.into()),
            correlation: Some("req".into()),
            causation: cause.map(str::to_string),
        };
        (event, ids)
    }

    fn shape(trace: &Trace) -> Vec<(String, usize, Link)> {
        trace
            .events
            .iter()
            .map(|e| (e.ids.event_id.clone().unwrap(), e.depth, e.link.clone()))
            .collect()
    }

    #[test]
    fn events_hang_under_their_causes_and_bad_links_are_marked() {
        let members = vec![
            member("order", "a", None),
            member("account", "b", Some("a")),
            member("order", "c", Some("b")),
            member("order", "d", Some("a")),
            member("shipping", "e", Some("ghost")),
            member("x", "f", Some("elsewhere")),
        ];
        let outside = HashSet::from(["elsewhere".to_string()]);
        let trace = arrange("req", members, &outside);
        assert_eq!(
            shape(&trace),
            vec![
                ("a".into(), 0, Link::Root),
                ("b".into(), 1, Link::CausedBy(0)),
                ("c".into(), 2, Link::CausedBy(1)),
                ("d".into(), 1, Link::CausedBy(0)),
                ("e".into(), 0, Link::Dangling("ghost".into())),
                ("f".into(), 0, Link::Outside("elsewhere".into())),
            ]
        );
        assert_eq!(trace.aggregates(), 4);
    }

    #[test]
    fn a_causation_cycle_is_drawn_once_and_marked() {
        let members = vec![
            member("a", "x", Some("y")),
            member("b", "y", Some("x")),
            member("c", "z", Some("z")),
        ];
        let trace = arrange("req", members, &HashSet::new());
        assert_eq!(
            shape(&trace),
            vec![
                ("x".into(), 0, Link::Cycle("y".into())),
                ("y".into(), 1, Link::CausedBy(0)),
                ("z".into(), 0, Link::Cycle("z".into())),
            ]
        );
    }

    #[test]
    fn an_event_stored_before_its_cause_still_hangs_under_it() {
        let members = vec![
            member("b", "child", Some("root")),
            member("a", "root", None),
            member("c", "grandchild", Some("child")),
        ];
        let trace = arrange("req", members, &HashSet::new());
        assert_eq!(
            shape(&trace),
            vec![
                ("root".into(), 0, Link::Root),
                ("child".into(), 1, Link::CausedBy(0)),
                ("grandchild".into(), 2, Link::CausedBy(1)),
            ]
        );
    }

    #[test]
    fn a_loop_is_drawn_where_it_begins_with_its_tail_under_it() {
        let members = vec![
            member("o", "placed", Some("shipped")),
            member("o", "paid", Some("placed")),
            member("s", "ghosted", Some("nowhere")),
            member("o", "shipped", Some("paid")),
            member("o", "tail", Some("paid")),
        ];
        let trace = arrange("req", members, &HashSet::new());
        assert_eq!(
            shape(&trace),
            vec![
                ("placed".into(), 0, Link::Cycle("shipped".into())),
                ("paid".into(), 1, Link::CausedBy(0)),
                ("shipped".into(), 2, Link::CausedBy(1)),
                ("tail".into(), 2, Link::CausedBy(1)),
                ("ghosted".into(), 0, Link::Dangling("nowhere".into())),
            ]
        );
    }
}
