//! Roughly how many bytes a JSON state holds on the heap, so that the replay's checkpoints
//! can keep to a budget whatever the size of the states a reducer makes.
//!
//! An estimate, not an accounting: `serde_json` does not expose its allocations, and the
//! budget only has to scale with what the states really hold. The walk is iterative because
//! a state can be nested far deeper than the stack allows recursion.

use std::mem::size_of;

use serde_json::Value;

/// What one object entry costs besides its key's text and its value: the key's `String`
/// and the B-tree's share of node and edge space (about a third again of its slots).
const ENTRY_OVERHEAD: usize = size_of::<String>() + size_of::<Value>() / 2 + 16;

/// Estimated heap bytes of `value`, including its own slot.
pub fn state_bytes(value: &Value) -> usize {
    let mut total = 0;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        total += size_of::<Value>();
        match value {
            Value::String(text) => total += text.capacity(),
            Value::Array(items) => {
                // The elements' own slots are counted as each is visited.
                total += (items.capacity() - items.len()) * size_of::<Value>();
                pending.extend(items.iter());
            }
            Value::Object(map) => {
                for (key, item) in map {
                    total += ENTRY_OVERHEAD + key.capacity();
                    pending.push(item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn grows_with_what_the_state_holds() {
        let small = state_bytes(&json!({"a": 1}));
        let keys: serde_json::Map<String, Value> =
            (0..1000).map(|n| (format!("key{n}"), json!(n))).collect();
        let big = state_bytes(&Value::Object(keys));
        assert!(big > 900 * small / 2, "{small} {big}");
        let text = state_bytes(&json!("x".repeat(100_000)));
        assert!(text >= 100_000, "{text}");
        assert_eq!(state_bytes(&Value::Null), size_of::<Value>());
    }

    #[test]
    fn nested_states_count_every_level() {
        let mut deep = Value::Null;
        for _ in 0..100 {
            deep = Value::Array(vec![deep]);
        }
        assert!(state_bytes(&deep) >= 100 * size_of::<Value>());
    }
}
