use serde_json::Value;

use crate::diff::JsonPath;
use crate::replay::{Replay, ReplayError};

/// One event that changed the value at a path.
#[derive(Debug, Clone, PartialEq)]
pub struct BlameLine {
    /// 0-based index of the event.
    pub index: usize,
    /// `None`: the path did not exist before / after.
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Every event that changed the value at `path`, in order. Steps through the history
/// once, so each state costs one event to reach.
pub fn blame(replay: &mut Replay, path: &JsonPath) -> Result<Vec<BlameLine>, ReplayError> {
    let mut lines = Vec::new();
    let mut previous = path.lookup(replay.state_after(0)?).cloned();
    for index in 0..replay.len() {
        let current = path.lookup(replay.state_after(index + 1)?).cloned();
        if current != previous {
            lines.push(BlameLine {
                index,
                old: previous,
                new: current.clone(),
            });
        }
        previous = current;
    }
    Ok(lines)
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
