//! Applying changes to a state: what the state before and a step's [`changes`] make the
//! state after. A transcript whose states are large records a step's changes instead of
//! its whole state, and a reader rebuilds the state this way.
//!
//! [`changes`]: super::changes

use serde_json::Value;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation, RemoveOperation, ReplaceOperation};

use super::{Change, ChangeKind, JsonPath};

/// Applies `changes` (as [`super::changes`] lists them: removals from an array's end
/// backwards) to `state`, in order, as the RFC 6902 operations they are (add, replace,
/// remove) through the `json-patch` crate. Changes that were not made from this state
/// (a path that leads nowhere, a key that is already there) are an error, and then the
/// state is left as it was. No change may put a value deeper than `depth_limit` (its
/// path's length and the value's own nesting), so a state built from changes (a
/// transcript's, which anyone can write) is never deeper than a state read whole may be.
pub fn apply_changes(
    state: &mut Value,
    changes: &[Change],
    depth_limit: usize,
) -> Result<(), String> {
    if let Some(deep) = changes
        .iter()
        .find(|c| c.path.0.len() + c.new.as_ref().map_or(0, nesting) > depth_limit)
    {
        return Err(format!(
            "the change at {} nests deeper than {depth_limit} levels",
            deep.path
        ));
    }
    let operations: Vec<PatchOperation> = changes.iter().map(operation).collect();
    json_patch::patch(state, &operations).map_err(|err| {
        let at = changes
            .get(err.operation)
            .map_or(String::new(), |c| format!(" at {}", c.path));
        format!(
            "the change{at} does not apply to the state before: {}",
            err.kind
        )
    })
}

fn operation(change: &Change) -> PatchOperation {
    let path = PointerBuf::parse(change.path.to_pointer()).unwrap_or_default();
    let value = change.new.clone().unwrap_or(Value::Null);
    match change.kind {
        ChangeKind::Added => PatchOperation::Add(AddOperation { path, value }),
        ChangeKind::Changed => PatchOperation::Replace(ReplaceOperation { path, value }),
        ChangeKind::Removed => PatchOperation::Remove(RemoveOperation { path }),
    }
}

/// How deeply `value` nests (a scalar: 0), without recursion.
fn nesting(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0)];
    while let Some((value, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        match value {
            Value::Array(items) => pending.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(map) => pending.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// Whether a path reads back as itself from its text, as a transcript's reader parses it.
pub fn round_trips(path: &JsonPath) -> bool {
    JsonPath::parse(&path.to_string()).is_ok_and(|parsed| parsed == *path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::changes;
    use serde_json::json;

    #[test]
    fn the_changes_between_two_states_turn_the_first_into_the_second() {
        let before = json!({"a": [1, 2, 3], "b": {"c": 1}, "d": "x"});
        let after = json!({"a": [1, 5], "b": {"e": [true]}, "f": null});
        let mut state = before.clone();
        apply_changes(&mut state, &changes(&before, &after), 64).unwrap();
        assert_eq!(state, after);
        let mut whole = json!(null);
        apply_changes(&mut whole, &changes(&json!(null), &after), 64).unwrap();
        assert_eq!(whole, after);
    }

    #[test]
    fn no_change_puts_a_value_past_the_depth_limit() {
        let deep = changes(&json!({"a": {"b": {}}}), &json!({"a": {"b": {"c": [[1]]}}}));
        let mut state = json!({"a": {"b": {}}});
        assert!(apply_changes(&mut state.clone(), &deep, 5).is_ok());
        let err = apply_changes(&mut state, &deep, 4).unwrap_err();
        assert!(err.contains("deeper than 4"), "{err}");
        assert_eq!(state, json!({"a": {"b": {}}}));
    }

    #[test]
    fn changes_made_from_another_state_are_refused() {
        let made = changes(&json!({"a": {"b": 1}}), &json!({"a": {"b": 2}}));
        let err = apply_changes(&mut json!({"x": 1}), &made, 64).unwrap_err();
        assert!(err.contains(".a.b"), "{err}");
        let removed = changes(&json!([1, 2]), &json!([1]));
        let mut state = json!({"n": [1, 2, 3]});
        let nested = changes(&json!({"n": [1, 2]}), &json!({"n": [1], "m": 1}));
        let mut list = json!({"n": 1});
        assert!(apply_changes(&mut list, &nested, 64).is_err());
        assert_eq!(
            list,
            json!({"n": 1}),
            "a failed application leaves the state as it was"
        );
        assert!(apply_changes(&mut state, &removed, 64).is_err());
    }
}
