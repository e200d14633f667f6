//! How one event changes an aggregate's state.

use serde_json::Value;

use crate::model::Event;

/// A fold step. Implementations must leave `state` untouched when they return an error.
pub trait Reducer: Send + Sync {
    /// Shown in headers and transcripts, e.g. `merge` or `jq:assets/bank.jq`.
    fn name(&self) -> String;

    /// Applies `event` (whose decoded data is `data`) to `state`.
    fn apply(&self, state: &mut Value, event: &Event, data: &Value) -> Result<(), String>;
}

/// RFC 7396 JSON merge patch of each event's data into the state.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeReducer;

impl Reducer for MergeReducer {
    fn name(&self) -> String {
        "merge".into()
    }

    fn apply(&self, state: &mut Value, _event: &Event, data: &Value) -> Result<(), String> {
        merge_patch(state, data);
        Ok(())
    }
}

/// RFC 7396 in place: objects merge recursively, null deletes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(target_fields) = target else {
        unreachable!("target was just made an object")
    };
    for (key, value) in patch_fields {
        if value.is_null() {
            target_fields.remove(key);
        } else {
            merge_patch(
                target_fields.entry(key.clone()).or_insert(Value::Null),
                value,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The examples from RFC 7396 appendix A.
    #[test]
    fn rfc7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            let mut state = target.clone();
            merge_patch(&mut state, &patch);
            assert_eq!(state, expected, "{target} + {patch}");
        }
    }

    #[test]
    fn first_event_on_null_state_builds_the_object() {
        let mut state = Value::Null;
        merge_patch(&mut state, &json!({"owner": "ada", "gone": null}));
        assert_eq!(state, json!({"owner": "ada"}));
    }
}
