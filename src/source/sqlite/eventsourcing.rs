//! Python `eventsourcing` payloads: JSON (maybe zlib-compressed) where special values are
//! transcoded as `{"_type_": …, "_data_": …}` and the timestamp lives inside the state.

use std::io::Read;

use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};

use crate::model::{format_time, parse_time, Payload};

/// A decompressed payload larger than this is refused rather than filling memory.
const MAX_INFLATED: u64 = 256 << 20;

/// `module:Class.Event` → (`Event`, `Class`).
pub fn split_topic(topic: &str) -> (String, Option<String>) {
    let path = topic.rsplit(':').next().unwrap_or(topic);
    let mut parts = path.rsplitn(2, '.');
    let event = parts.next().unwrap_or(path).to_string();
    let class = parts
        .next()
        .map(|c| c.rsplit('.').next().unwrap_or(c).to_string());
    (event, class)
}

/// The aggregate class named by any of its event topics.
pub fn aggregate_type(topic: &str) -> Option<String> {
    split_topic(topic).1
}

/// An event's payload: its data without the bookkeeping fields, and its timestamp.
pub fn decode_event(bytes: &[u8]) -> (Payload, Option<DateTime<Utc>>) {
    match decode_json(bytes) {
        Err(error) => (
            Payload::Undecodable {
                raw: preview(bytes),
                error,
            },
            None,
        ),
        Ok(Value::Object(mut fields)) => {
            let timestamp = fields
                .remove("timestamp")
                .and_then(|t| t.as_str().and_then(parse_time));
            fields.remove("originator_topic");
            (Payload::from_value(Value::Object(fields)), timestamp)
        }
        Ok(other) => (Payload::from_value(other), None),
    }
}

/// An event's timestamp alone, for listing: the rest of the payload is skipped, not built.
pub fn event_timestamp(bytes: &[u8]) -> Option<DateTime<Utc>> {
    #[derive(serde::Deserialize)]
    struct Stamp {
        timestamp: Option<Value>,
    }
    let inflated;
    let text = if looks_like_zlib(bytes) {
        inflated = inflate(bytes).ok()?;
        &inflated[..]
    } else {
        bytes
    };
    let stamp: Stamp = serde_json::from_slice(text).ok()?;
    untranscode(stamp.timestamp?).as_str().and_then(parse_time)
}

/// A snapshot's payload: the aggregate state at `.state`.
pub fn decode_snapshot(bytes: &[u8]) -> Payload {
    match decode_json(bytes) {
        Ok(mut value) => match value.get_mut("state") {
            Some(state) => Payload::from_value(state.take()),
            None => Payload::Undecodable {
                raw: preview(bytes),
                error: "snapshot has no .state".into(),
            },
        },
        Err(error) => Payload::Undecodable {
            raw: preview(bytes),
            error,
        },
    }
}

/// How many of a store's first payloads are looked at to tell an encrypted store from one
/// with a few bad events.
pub const SAMPLE: usize = 32;

/// Why a store cannot be read at all, if most of its first payloads do not decode (it is
/// encrypted, say): said once at open. A few bad events are flagged one by one instead.
pub fn unreadable_store_reason(conn: &rusqlite::Connection) -> Option<String> {
    let sql = format!("SELECT state FROM stored_events LIMIT {SAMPLE}");
    let mut stmt = conn.prepare(&sql).ok()?;
    let samples: Vec<Vec<u8>> = stmt
        .query_map([], |row| {
            Ok(row.get_ref(0)?.as_bytes().map(<[u8]>::to_vec).ok())
        })
        .ok()?
        .filter_map(|row| row.ok().flatten())
        .collect();
    majority_unreadable(&samples)
}

/// Why most of these payloads do not decode, if they do not (PostgreSQL samples its own).
pub fn majority_unreadable(samples: &[Vec<u8>]) -> Option<String> {
    let failures: Vec<String> = samples
        .iter()
        .filter_map(|bytes| decode_json(bytes).err())
        .collect();
    (failures.len() * 2 > samples.len())
        .then(|| failures.into_iter().next())
        .flatten()
}

fn decode_json(bytes: &[u8]) -> Result<Value, String> {
    let inflated;
    let text = if looks_like_zlib(bytes) {
        inflated = inflate(bytes)?;
        &inflated[..]
    } else {
        bytes
    };
    crate::model::check_json(
        text,
        crate::model::MAX_JSON_DEPTH,
        crate::model::MAX_JSON_VALUES,
    )
    .map_err(|reason| format!("payload is JSON {reason}"))?;
    let value: Value = serde_json::from_slice(text).map_err(|_| {
        "payload is neither JSON nor zlib-compressed JSON: the store looks encrypted \
         (eventsourcing CIPHER_TOPIC); rewind cannot read encrypted stores"
            .to_string()
    })?;
    Ok(untranscode(value))
}

/// zlib streams start with a CMF byte of 0x78 and a header checksum divisible by 31.
fn looks_like_zlib(bytes: &[u8]) -> bool {
    bytes.len() > 2
        && bytes[0] == 0x78
        && (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 == 0
}

fn inflate(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(bytes)
        .take(MAX_INFLATED)
        .read_to_end(&mut out)
        .map_err(|err| format!("zlib-compressed payload does not inflate: {err}"))?;
    Ok(out)
}

/// Replaces `{"_type_": T, "_data_": D}` with plain JSON a person (and jq) can use.
fn untranscode(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(untranscode).collect()),
        Value::Object(mut fields) if is_transcoded(&fields) => {
            let kind = fields.remove("_type_").unwrap_or(Value::Null);
            let data = untranscode(fields.remove("_data_").unwrap_or(Value::Null));
            decode_special(kind.as_str().unwrap_or(""), data)
        }
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, untranscode(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

fn is_transcoded(fields: &Map<String, Value>) -> bool {
    fields.len() == 2 && fields.contains_key("_type_") && fields.contains_key("_data_")
}

fn decode_special(kind: &str, data: Value) -> Value {
    let text = data.as_str();
    match (kind, text) {
        ("datetime_iso", Some(t)) => {
            parse_time(t).map_or(data.clone(), |t| Value::from(format_time(&t)))
        }
        ("uuid_hex", Some(hex)) if hex.len() == 32 => Value::from(format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )),
        ("decimal_str", Some(number)) => {
            number.parse::<Number>().map(Value::Number).unwrap_or(data)
        }
        _ => data,
    }
}

fn preview(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(64)];
    match std::str::from_utf8(shown) {
        Ok(text) => text.to_string(),
        Err(_) => shown.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn topics_name_the_event_and_the_aggregate_class() {
        assert_eq!(
            split_topic("bank.domain:BankAccount.Deposited"),
            ("Deposited".into(), Some("BankAccount".into()))
        );
        assert_eq!(split_topic("Opened"), ("Opened".into(), None));
    }

    #[test]
    fn transcoded_values_become_plain_json() {
        let stored = json!({
            "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-15T10:00:00+00:00"},
            "originator_topic": "m:BankAccount",
            "amount": {"_type_": "decimal_str", "_data_": "100.50"},
            "ref": {"_type_": "uuid_hex", "_data_": "0000000000000000000000000000002a"},
            "when": [{"_type_": "datetime_iso", "_data_": "2026-01-15T12:00:00+02:00"}],
            "odd": {"_type_": "custom", "_data_": {"x": 1}},
        });
        let (payload, timestamp) = decode_event(stored.to_string().as_bytes());
        assert_eq!(timestamp, parse_time("2026-01-15T10:00:00Z"));
        assert_eq!(
            payload,
            Payload::from_value(json!({
                "amount": 100.50,
                "ref": "00000000-0000-0000-0000-00000000002a",
                "when": ["2026-01-15T10:00:00Z"],
                "odd": {"x": 1},
            }))
        );
    }

    #[test]
    fn zlib_payloads_are_inflated_and_ciphertext_is_named() {
        use std::io::Write;
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(br#"{"a": 1}"#).unwrap();
        let compressed = encoder.finish().unwrap();
        assert_eq!(
            decode_event(&compressed).0,
            Payload::from_value(json!({"a": 1}))
        );
        let cipher = vec![0xb2, 0x69, 0x78, 0xe5, 0x70];
        let reason = majority_unreadable(std::slice::from_ref(&cipher)).unwrap();
        assert!(reason.contains("encrypted"), "{reason}");
        // One bad payload among good ones is flagged at its event, not a refusal.
        let good = br#"{"a": 1}"#.to_vec();
        assert_eq!(
            majority_unreadable(&[cipher.clone(), good.clone(), good]),
            None
        );
        assert!(majority_unreadable(&[cipher.clone(), cipher, compressed]).is_some());
    }
}
