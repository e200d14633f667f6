//! One request across the store: every event whose correlation id is the one asked for, or
//! that descends through causation ids from the event with that id, in store order, with
//! each event placed under the event that caused it.
//!
//! A causation id may name an event outside the trace or no event at all (a dangling link),
//! and links may form a cycle; both are marked and neither loops.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use super::ids::{EventIds, TraceIds};
use crate::model::{Chunk, Event};
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
fn collect(
    source: &dyn EventSource,
    id: &str,
    rules: &TraceIds,
) -> Result<Vec<(Event, EventIds)>, SourceError> {
    let mut members = Vec::new();
    let mut member_ids: HashSet<String> = HashSet::new();
    source.query(&Query::store(), &mut |chunk| {
        if let Chunk::Events(events) = chunk {
            for event in events {
                let ids = rules.of(&event);
                let belongs = ids.correlation.as_deref() == Some(id)
                    || ids.event_id.as_deref() == Some(id)
                    || ids
                        .causation
                        .as_ref()
                        .is_some_and(|cause| member_ids.contains(cause));
                if belongs {
                    if let Some(own) = &ids.event_id {
                        member_ids.insert(own.clone());
                    }
                    members.push((event, ids));
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(members)
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
    // Depth first from each root; events left over lie on causation cycles.
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
    for (i, parent) in parents.iter().enumerate() {
        if parent.is_none() {
            visit(i, link_of(i), &mut placed);
        }
    }
    for i in 0..members.len() {
        if !placed[i] {
            let cause = members[i].1.causation.clone().unwrap_or_default();
            visit(i, Link::Cycle(cause), &mut placed);
        }
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
                ("z".into(), 0, Link::Cycle("z".into())),
                ("x".into(), 0, Link::Cycle("y".into())),
                ("y".into(), 1, Link::CausedBy(1)),
            ]
        );
    }
}
