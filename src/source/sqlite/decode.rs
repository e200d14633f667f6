//! Turning SQLite values into rewind's model, flagging what does not fit instead of failing.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;

use crate::model::{EventIssue, JsonText, Payload};
use crate::source::timestamp;

/// A JSON column: text or a blob of UTF-8 JSON.
pub fn payload(value: ValueRef<'_>, column: &str) -> Payload {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Payload::from_json_bytes(bytes),
        ValueRef::Null => Payload::Undecodable {
            raw: String::new(),
            error: format!("{column} is NULL"),
        },
        ValueRef::Integer(i) => Payload::from_value(Value::from(i)),
        ValueRef::Real(f) => Payload::from_value(Value::from(f)),
    }
}

/// Metadata is optional: NULL is null, and bad JSON is an issue, not a failure.
pub fn metadata(value: ValueRef<'_>, issues: &mut Vec<EventIssue>) -> JsonText {
    match payload(value, "metadata") {
        _ if matches!(value, ValueRef::Null) => JsonText::null(),
        Payload::Json(json) => json,
        Payload::Undecodable { error, .. } => {
            issues.push(EventIssue::BadMetadata(error));
            JsonText::null()
        }
    }
}

/// Text of an identifying column; numbers are written out, blobs as SQLite writes a blob
/// literal (`x'c0ffee'`), so a blob id never lists like a text one.
pub fn text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Blob(bytes) => Some(format!("x'{}'", hex(bytes))),
    }
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The values an aggregate id as listed may stand for, in the order `layout::id_matches`
/// tries them: the text, the integer it spells (`42`), the blob its literal spells
/// (`x'c0ffee'`, or bare hex as rewind listed blobs before); NULL where it spells none.
pub fn id_params(id: &str) -> [SqlValue; 3] {
    let integer = id
        .parse::<i64>()
        .ok()
        .filter(|n| n.to_string() == id)
        .map_or(SqlValue::Null, SqlValue::Integer);
    let literal = id
        .strip_prefix("x'")
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or(id);
    let blob = hex_bytes(literal).map_or(SqlValue::Null, SqlValue::Blob);
    [SqlValue::Text(id.to_string()), integer, blob]
}

/// Lowercase hex, as `text` writes blobs, back to bytes.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

pub fn version(value: ValueRef<'_>) -> Option<u64> {
    match value {
        ValueRef::Integer(i) => u64::try_from(i).ok(),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok()?.trim().parse().ok(),
        ValueRef::Real(f) if f >= 0.0 && f.fract() == 0.0 => Some(f as u64),
        _ => None,
    }
}

/// RFC 3339 text (or SQLite's `YYYY-MM-DD HH:MM:SS`), or epoch seconds / milliseconds as a
/// number or as digit-only text (see `crate::source::timestamp`).
pub fn timestamp(value: ValueRef<'_>) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            timestamp::from_text(&text)
                .map(Some)
                .ok_or_else(|| text.into_owned())
        }
        ValueRef::Integer(i) => timestamp::from_epoch(i)
            .map(Some)
            .ok_or_else(|| i.to_string()),
        ValueRef::Real(f) => timestamp::from_epoch_real(f)
            .map(Some)
            .ok_or_else(|| f.to_string()),
        ValueRef::Blob(_) => Err("<blob>".to_string()),
    }
}

/// The offset a time stored as text was written with; numbers and UTC have none.
pub fn time_offset(value: ValueRef<'_>) -> Option<FixedOffset> {
    match value {
        ValueRef::Text(bytes) => timestamp::written_offset(std::str::from_utf8(bytes).ok()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_the_shapes_stores_use() {
        let expected = crate::model::parse_time("2026-01-15T10:30:00Z");
        for value in [
            ValueRef::Text(b"2026-01-15T10:30:00Z"),
            ValueRef::Text(b"2026-01-15 10:30:00"),
            ValueRef::Integer(1_768_473_000),
            ValueRef::Integer(1_768_473_000_000),
            ValueRef::Text(b"1768473000"),
            ValueRef::Text(b"1768473000000"),
            ValueRef::Real(1_768_473_000.0),
        ] {
            assert_eq!(timestamp(value), Ok(expected), "{value:?}");
        }
        assert_eq!(timestamp(ValueRef::Null), Ok(None));
        assert_eq!(
            timestamp(ValueRef::Text(b"yesterday")),
            Err("yesterday".into())
        );
    }

    #[test]
    fn payloads_keep_raw_text_when_they_do_not_decode() {
        assert_eq!(
            payload(ValueRef::Text(br#"{"a":1}"#), "event_data"),
            Payload::from_value(serde_json::json!({"a": 1}))
        );
        let bad = payload(ValueRef::Text(b"{\"a\":"), "event_data");
        assert!(matches!(bad, Payload::Undecodable { ref raw, .. } if raw == "{\"a\":"));
        let not_utf8 = payload(ValueRef::Blob(&[0xff, 0xfe]), "event_data");
        assert!(not_utf8.error().unwrap().contains("not UTF-8"));
        assert!(payload(ValueRef::Null, "event_data")
            .error()
            .unwrap()
            .contains("NULL"));
    }

    #[test]
    fn listed_ids_give_back_the_values_they_were_written_from() {
        for value in [
            ValueRef::Integer(42),
            ValueRef::Integer(-7),
            ValueRef::Blob(&[0xc0, 0xff, 0xee]),
            ValueRef::Text(b"acc-1"),
        ] {
            let listed = text(value).unwrap();
            let owned = SqlValue::from(value);
            assert!(
                id_params(&listed).contains(&owned),
                "{value:?} listed as {listed}"
            );
        }
        // A blob never lists like the text of its hex.
        assert_eq!(
            text(ValueRef::Blob(&[0xc0, 0xff, 0xee])).unwrap(),
            "x'c0ffee'"
        );
        assert_eq!(text(ValueRef::Text(b"c0ffee")).unwrap(), "c0ffee");
        assert_eq!(id_params("c0ffee")[2], id_params("x'c0ffee'")[2]);
        assert_eq!(id_params("007")[1], SqlValue::Null);
        assert_eq!(id_params("abc")[2], SqlValue::Null);
    }

    #[test]
    fn metadata_null_is_null_and_garbage_is_an_issue() {
        let mut issues = Vec::new();
        assert_eq!(metadata(ValueRef::Null, &mut issues), JsonText::null());
        assert!(issues.is_empty());
        metadata(ValueRef::Text(b"nope"), &mut issues);
        assert_eq!(issues.len(), 1);
    }
}
