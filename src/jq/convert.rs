//! serde_json values to jaq's and back.

use jaq_json::Val;
use serde::Deserialize;
use serde_json::{Map, Number, Value};

pub fn to_val(value: &Value) -> Val {
    // Deserialising from a serde_json::Value cannot fail for jaq's superset of JSON.
    Val::deserialize(value).unwrap_or(Val::Null)
}

pub fn from_val(val: &Val) -> Value {
    match val {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(_) => number(val),
        Val::TStr(bytes) | Val::BStr(bytes) => {
            Value::String(String::from_utf8_lossy(bytes).into_owned())
        }
        Val::Arr(items) => Value::Array(items.iter().map(from_val).collect()),
        Val::Obj(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (key(k), from_val(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// Numbers go through their jq text form so big integers and decimals keep their digits.
fn number(val: &Val) -> Value {
    let text = val.to_string();
    if let Ok(number) = text.parse::<Number>() {
        return Value::Number(number);
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn key(val: &Val) -> String {
    match val {
        Val::TStr(bytes) | Val::BStr(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_json() {
        let value = json!({"a": [1, 2.5, -3, true, null, "x"], "b": {"c": 12345678901234u64}});
        assert_eq!(from_val(&to_val(&value)), value);
    }
}
