use serde_json::Value;

use crate::diff::JsonPath;
use crate::replay::{Replay, ReplayError};

/// One event that changed the value at a path.
#[derive(Debug, Clone, PartialEq)]
pub struct BlameLine {
    /// 0-based index of the event.
    pub index: usize,
    pub version: u64,
    pub timestamp: Option<chrono::DateTime<chrono::Utc>>,
    pub event_type: String,
    /// `None`: the path did not exist before / after.
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Every event that changed the value at `path`, in order. Steps through the history
/// once, so each state costs one event to reach.
pub fn blame(replay: &mut Replay, path: &JsonPath) -> Result<Vec<BlameLine>, ReplayError> {
    let mut lines = Vec::new();
    blame_each(replay, path, &mut |line| lines.push(line))?;
    Ok(lines)
}

/// As [`blame`], handing each line over as it is found, so a long history's blame is
/// never held whole.
pub fn blame_each(
    replay: &mut Replay,
    path: &JsonPath,
    visit: &mut dyn FnMut(BlameLine),
) -> Result<(), ReplayError> {
    let mut previous = path.lookup(replay.state_after(0)?).cloned();
    for index in 0..replay.len() {
        let current = path.lookup(replay.state_after(index + 1)?).cloned();
        if current != previous {
            let entry = replay.entry(index);
            visit(BlameLine {
                index,
                version: entry.map_or(0, |e| e.version),
                timestamp: entry.and_then(|e| e.timestamp),
                event_type: entry.map_or(String::new(), |e| replay.type_name(&e).to_string()),
                old: previous,
                new: current.clone(),
            });
        }
        previous = current;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, Payload};
    use crate::replay::MergeReducer;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn lists_only_the_events_that_changed_the_path() {
        let mut replay = Replay::new(Arc::new(MergeReducer));
        let datas = [
            json!({"limits": {"daily": 100}}),
            json!({"name": "x"}),
            json!({"limits": {"daily": 200}}),
            json!({"limits": null}),
        ];
        replay.extend(
            datas
                .iter()
                .enumerate()
                .map(|(i, d)| Event {
                    aggregate_id: "a".into(),
                    aggregate_type: None,
                    version: i as u64 + 1,
                    event_type: "T".into(),
                    timestamp: None,
                    data: Payload::from_value(d.clone()),
                    ..Event::default()
                })
                .collect(),
        );
        let lines = blame(&mut replay, &JsonPath::parse(".limits.daily").unwrap()).unwrap();
        let summary: Vec<(usize, Option<Value>, Option<Value>)> =
            lines.into_iter().map(|l| (l.index, l.old, l.new)).collect();
        assert_eq!(
            summary,
            vec![
                (0, None, Some(json!(100))),
                (2, Some(json!(100)), Some(json!(200))),
                (3, Some(json!(200)), None),
            ]
        );
    }
}
