use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::diff::{changes, pretty, summary, Change};
use crate::display::counted;
use crate::model::{format_time, Position};

use super::output::{terminal_safe, Output};
use super::{Session, StateFormat, EXIT_OK};

/// How one aggregate's state is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Pretty,
    /// The value alone, on one line.
    Json,
    /// The value with the event it is the state after, on one line.
    JsonWithPosition,
}

impl Shape {
    pub fn of(format: StateFormat, with_position: bool) -> anyhow::Result<Shape> {
        Ok(match (format, with_position) {
            (StateFormat::Json, false) => Shape::Json,
            (StateFormat::Json, true) => Shape::JsonWithPosition,
            (StateFormat::Pretty, false) => Shape::Pretty,
            (StateFormat::Pretty, true) => anyhow::bail!(
                "--with-position is for --format json; the pretty header already names the version and time"
            ),
        })
    }
}

pub fn run(
    session: &Session,
    aggregate: &str,
    position: Option<Position>,
    format: Shape,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut replay = session.replay_states_only(aggregate)?;
    let count = match position {
        Some(position) => replay.resolve(position)?,
        None => replay.len(),
    };
    super::session::report_step_problems(aggregate, &replay, count);
    let version = replay.version_after(count);
    let time = replay
        .time_after(count)
        .map_or("-".to_string(), |t| format_time(&t));
    // The event before the state is read first: the state is then printed where it lies,
    // not copied (a big state's copy costs more than the fold).
    let last = match format {
        Shape::JsonWithPosition => count.checked_sub(1).map(|i| replay.event(i)).transpose()?,
        Shape::Json | Shape::Pretty => None,
    };
    let total = replay.len();
    let state = replay.state_after(count)?;
    match format {
        Shape::Json => out.json_line(state)?,
        Shape::JsonWithPosition => {
            let last = last.as_ref();
            out.json_line(&json!({
                "aggregate": aggregate,
                "version": version,
                "events": count,
                "timestamp": last.and_then(|e| e.timestamp.as_ref().map(format_time)),
                "position": last.map(|e| e.position.to_json()),
                "event_id": last.and_then(|e| e.event_id.clone()),
                "state": state,
            }))?
        }
        Shape::Pretty => {
            out.line(&format!(
                "# {} at v{version} ({count} of {} events, {time})",
                terminal_safe(aggregate),
                total
            ))?;
            out.text(&pretty(state))?;
        }
    }
    Ok(EXIT_OK)
}

/// `state --all`: every aggregate's state at an instant (the latest without one), keyed by
/// id; with two instants, the aggregates whose state changed between them and how. Each
/// aggregate is replayed as `state AGGREGATE --at` would, so the answers agree.
pub fn run_all(
    session: &Session,
    aggregate_types: &[String],
    instants: &[Option<DateTime<Utc>>],
    format: StateFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let aggregates = session.source.aggregates()?;
    let wanted = aggregates.iter().filter(|a| {
        aggregate_types.is_empty()
            || a.aggregate_type
                .as_ref()
                .is_some_and(|t| aggregate_types.contains(t))
    });
    // Per instant: id to state, for the aggregates that existed then.
    let mut states: Vec<Map<String, Value>> = vec![Map::new(); instants.len()];
    for summary in wanted {
        let mut replay = session.replay_states_only(&summary.id)?;
        let mut furthest = 0;
        for (instant, found) in instants.iter().zip(states.iter_mut()) {
            let count = match instant {
                Some(time) => replay.resolve(Position::Time(*time))?,
                None => replay.len(),
            };
            furthest = furthest.max(count);
            if count > 0 {
                found.insert(summary.id.clone(), replay.state_after(count)?.clone());
            }
        }
        super::session::report_step_problems(&summary.id, &replay, furthest);
    }
    if let [before, after] = states.as_slice() {
        return print_changes(before, after, instants, format, out);
    }
    let all = Value::Object(states.pop().unwrap_or_default());
    match format {
        StateFormat::Json => out.json_line(&all)?,
        StateFormat::Pretty => {
            let at = instants[0]
                .as_ref()
                .map_or("the latest event".into(), format_time);
            let count = all.as_object().map_or(0, Map::len);
            out.line(&format!("# {} at {at}", counted(count, "aggregate")))?;
            out.text(&pretty(&all))?;
        }
    }
    Ok(EXIT_OK)
}

fn print_changes(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    instants: &[Option<DateTime<Utc>>],
    format: StateFormat,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut ids: Vec<&String> = before.keys().chain(after.keys()).collect();
    ids.sort();
    ids.dedup();
    // An aggregate that did not exist yet is compared from the empty object, so its
    // fields are listed one by one.
    let empty = Value::Object(Map::new());
    let changed: Vec<(&String, Vec<Change>)> = ids
        .into_iter()
        .map(|id| {
            let old = before.get(id).unwrap_or(&empty);
            let new = after.get(id).unwrap_or(&empty);
            (id, changes(old, new))
        })
        .filter(|(_, found)| !found.is_empty())
        .collect();
    match format {
        StateFormat::Json => {
            let map: Map<String, Value> = changed
                .iter()
                .map(|(id, found)| {
                    let entry = json!({
                        "from": before.get(*id),
                        "to": after.get(*id),
                        "changes": found,
                    });
                    ((*id).clone(), entry)
                })
                .collect();
            out.json_line(&Value::Object(map))?;
        }
        StateFormat::Pretty => {
            let time = |t: &Option<DateTime<Utc>>| t.as_ref().map_or("now".into(), format_time);
            out.line(&format!(
                "# {} changed from {} to {}",
                counted(changed.len(), "aggregate"),
                time(&instants[0]),
                time(&instants[1])
            ))?;
            for (id, found) in &changed {
                let new = if before.contains_key(*id) {
                    ""
                } else {
                    " (new)"
                };
                out.line("")?;
                out.line(&format!("{id}{new}"))?;
                out.text(&summary(found, 120))?;
            }
        }
    }
    Ok(EXIT_OK)
}
