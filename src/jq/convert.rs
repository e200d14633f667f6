//! jaq values from JSON text and back to JSON text, in the worker process.
//!
//! What jaq computes can be more than JSON (NaN, byte strings, non-string keys); it is
//! written as the nearest JSON: non-finite numbers as null, bytes as text, keys as their
//! jq text. Values nested too deeply for serde_json to read back are refused here, so the
//! parent never meets one.

use std::io::Write;

use jaq_json::{Num, Val};
use serde_json::Number;

use crate::model::MAX_JSON_DEPTH;

/// serde_json reads at most this many nested arrays and objects; payloads stop there too.
pub const MAX_DEPTH: usize = MAX_JSON_DEPTH - 1;

/// Why a value is not handed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooDeep,
    TooLarge,
}

impl Refusal {
    /// `what` is "state" or "output".
    pub fn describe(self, what: &str, max_bytes: usize) -> String {
        match self {
            Refusal::TooDeep => format!("{what} nested deeper than {MAX_DEPTH} levels"),
            Refusal::TooLarge => format!(
                "{what} larger than {} MB as JSON",
                max_bytes.div_ceil(1 << 20)
            ),
        }
    }
}

/// Parses JSON text straight into jaq's values.
pub fn parse(text: &[u8]) -> Result<Val, String> {
    jaq_json::read::parse_single(text).map_err(|err| err.to_string())
}

/// `val` as compact JSON text of at most `max_bytes`.
pub fn to_json(val: &Val, max_bytes: usize) -> Result<String, Refusal> {
    let mut out = Vec::with_capacity(64);
    write_val(val, 0, max_bytes, &mut out)?;
    // Everything written is UTF-8: texts go through serde_json or from_utf8_lossy.
    String::from_utf8(out).map_err(|_| Refusal::TooLarge)
}

fn write_val(val: &Val, depth: usize, max: usize, out: &mut Vec<u8>) -> Result<(), Refusal> {
    if out.len() > max {
        return Err(Refusal::TooLarge);
    }
    match val {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::Num(num) => write_num(num, out),
        Val::TStr(bytes) | Val::BStr(bytes) => write_str(bytes, out),
        Val::Arr(items) => {
            if depth >= MAX_DEPTH {
                return Err(Refusal::TooDeep);
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_val(item, depth + 1, max, out)?;
            }
            out.push(b']');
        }
        Val::Obj(map) => {
            if depth >= MAX_DEPTH {
                return Err(Refusal::TooDeep);
            }
            out.push(b'{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match key {
                    Val::TStr(bytes) | Val::BStr(bytes) => write_str(bytes, out),
                    other => write_str(other.to_string().as_bytes(), out),
                }
                out.push(b':');
                write_val(value, depth + 1, max, out)?;
            }
            out.push(b'}');
        }
    }
    match out.len() > max {
        true => Err(Refusal::TooLarge),
        false => Ok(()),
    }
}

/// Numbers keep their digits where JSON can hold them; the rest become null.
fn write_num(num: &Num, out: &mut Vec<u8>) {
    let number = match num {
        Num::Int(i) => {
            let _ = write!(out, "{i}");
            return;
        }
        Num::Float(f) => Number::from_f64(*f),
        Num::Dec(text) => text
            .parse::<Number>()
            .ok()
            .or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64)),
        Num::BigInt(big) => {
            let text = big.to_string();
            text.parse::<Number>()
                .ok()
                .or_else(|| text.parse::<f64>().ok().and_then(Number::from_f64))
        }
    };
    match number {
        Some(number) => {
            let _ = write!(out, "{number}");
        }
        None => out.extend_from_slice(b"null"),
    }
}

fn write_str(bytes: &[u8], out: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(bytes);
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text.as_ref());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn round_trip(text: &str) -> Value {
        let val = parse(text.as_bytes()).unwrap();
        serde_json::from_str(&to_json(&val, 1 << 20).unwrap()).unwrap()
    }

    #[test]
    fn json_round_trips() {
        let value =
            json!({"a": [1, 2.5, -3, true, null, "x\n\"y\""], "b": {"c": 12345678901234u64}});
        assert_eq!(round_trip(&value.to_string()), value);
        assert_eq!(round_trip("324.63"), json!(324.63));
        assert_eq!(round_trip("1e400"), Value::Null);
    }

    #[test]
    fn what_json_cannot_hold_becomes_the_nearest_json() {
        let program =
            super::super::compile(r#"[nan, infinite, ("ab" | tobytes), {(1): 2}]"#, "t").unwrap();
        let val = program.run_val(Val::Null, Val::Null).unwrap();
        let text = to_json(&val, 1 << 20).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, json!([null, null, "ab", {"1": 2}]));
    }

    #[test]
    fn values_too_deep_or_too_large_are_refused() {
        let fits = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let text = to_json(&parse(fits.as_bytes()).unwrap(), 1 << 20).unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_ok());
        let deeper = format!("[{fits}]");
        let val = parse(deeper.as_bytes()).unwrap();
        assert_eq!(to_json(&val, 1 << 20), Err(Refusal::TooDeep));
        assert!(serde_json::from_str::<Value>(&deeper).is_err());
        let long = parse(format!("\"{}\"", "x".repeat(100)).as_bytes()).unwrap();
        assert_eq!(to_json(&long, 50), Err(Refusal::TooLarge));
        assert_eq!(
            Refusal::TooDeep.describe("state", 0),
            "state nested deeper than 127 levels"
        );
    }
}
