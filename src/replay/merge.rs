//! RFC 7396 JSON merge patch, applied straight from the patch's text.
//!
//! Events keep their payloads as text; deserialising the patch into the state as it is read
//! allocates only what the state keeps, never a throwaway `Value` of the whole patch.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// RFC 7396 in place: objects merge recursively, null deletes a key, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
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

/// `merge_patch` with the patch given as JSON text.
pub fn merge_patch_text(target: &mut Value, patch: &str) -> Result<(), String> {
    let mut deserializer = serde_json::Deserializer::from_str(patch);
    let is_null = MergeInto(target)
        .deserialize(&mut deserializer)
        .and_then(|is_null| deserializer.end().map(|()| is_null))
        .map_err(|err| format!("invalid JSON: {err}"))?;
    if is_null {
        *target = Value::Null;
    }
    Ok(())
}

/// Merges the value being read into the slot; yields `true` when that value is `null`, so
/// the caller removes the key (or, at the root, nulls the state).
struct MergeInto<'a>(&'a mut Value);

impl<'de> DeserializeSeed<'de> for MergeInto<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MergeInto<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON merge patch")
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_bool<E>(self, v: bool) -> Result<bool, E> {
        *self.0 = Value::Bool(v);
        Ok(false)
    }

    fn visit_i64<E>(self, v: i64) -> Result<bool, E> {
        *self.0 = Value::from(v);
        Ok(false)
    }

    fn visit_u64<E>(self, v: u64) -> Result<bool, E> {
        *self.0 = Value::from(v);
        Ok(false)
    }

    fn visit_f64<E>(self, v: f64) -> Result<bool, E> {
        *self.0 = Value::from(v);
        Ok(false)
    }

    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        *self.0 = Value::String(v.to_string());
        Ok(false)
    }

    fn visit_string<E>(self, v: String) -> Result<bool, E> {
        *self.0 = Value::String(v);
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        // Arrays replace whatever was there; nothing inside them merges.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        *self.0 = Value::Array(items);
        Ok(false)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        if !self.0.is_object() {
            *self.0 = Value::Object(Map::new());
        }
        let Value::Object(fields) = self.0 else {
            unreachable!("made an object above")
        };
        while let Some(key) = map.next_key::<String>()? {
            let slot = fields.entry(key.clone()).or_insert(Value::Null);
            if map.next_value_seed(MergeInto(slot))? {
                fields.remove(&key);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The examples from RFC 7396 appendix A, through both the value and the text path.
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
            let mut by_value = target.clone();
            merge_patch(&mut by_value, &patch);
            assert_eq!(by_value, expected, "{target} + {patch}");
            let mut by_text = target.clone();
            merge_patch_text(&mut by_text, &patch.to_string()).unwrap();
            assert_eq!(by_text, expected, "text: {target} + {patch}");
        }
    }

    #[test]
    fn first_event_on_null_state_builds_the_object() {
        let mut state = Value::Null;
        merge_patch_text(&mut state, r#"{"owner": "ada", "gone": null}"#).unwrap();
        assert_eq!(state, json!({"owner": "ada"}));
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        let mut state = json!({"a": 1});
        assert!(merge_patch_text(&mut state, "{\"a\": ").is_err());
        assert!(merge_patch_text(&mut state, "{} trailing").is_err());
    }
}
