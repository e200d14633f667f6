//! Turning SQLite values into rewind's model, flagging what does not fit instead of failing.

use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;

use crate::model::{EventIssue, JsonText, Payload};
use crate::source::sql::IdForms;
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

/// The value of each storage class whose text, as [`text`] writes it, is `id`: the values
/// an id as listed may stand for. In the order of `Dialect::id_matches`' parameters: the
/// text itself, the INTEGER `42` writes, the REAL `1.5` writes (none for a whole number:
/// SQLite compares the integer with reals as numbers), the BLOB `x'c0ffee'` writes; NULL
/// where none does. `042` and `42.0` are the text of no number, and `c0ffee` of no blob.
pub fn id_candidates(id: &str) -> [SqlValue; 4] {
    let integer = id.parse::<i64>().ok().filter(|n| n.to_string() == id);
    let real = match integer {
        Some(_) => None,
        None => id.parse::<f64>().ok().filter(|f| f.to_string() == id),
    };
    let blob = id
        .strip_prefix("x'")
        .and_then(|rest| rest.strip_suffix('\''))
        .and_then(hex_bytes);
    [
        SqlValue::Text(id.to_string()),
        integer.map_or(SqlValue::Null, SqlValue::Integer),
        real.map_or(SqlValue::Null, SqlValue::Real),
        blob.map_or(SqlValue::Null, SqlValue::Blob),
    ]
}

/// The values a store holds an aggregate id as, bound as `Dialect::id_matches` reads
/// them: each a value the store returned for one of [`id_candidates`], kept only when its
/// text is the id (a column of INTEGER affinity turns `'042'` into 42 when it compares
/// them, and that row is aggregate `42`), once each; NULL in the other places.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIds {
    /// In the places of [`id_candidates`]; NULL where the store holds none.
    pub values: [SqlValue; 4],
}

const NO_IDS: [SqlValue; 4] = [
    SqlValue::Null,
    SqlValue::Null,
    SqlValue::Null,
    SqlValue::Null,
];

impl StoredIds {
    /// From what the store returned for each candidate (`None`: no row, or not asked).
    pub fn of(id: &str, found: [Option<SqlValue>; 4]) -> StoredIds {
        let mut values = NO_IDS;
        for (slot, value) in found.into_iter().enumerate() {
            let Some(value) = value else { continue };
            let shows_as_id = text(ValueRef::from(&value)).is_some_and(|shown| shown == id);
            if shows_as_id && !values.contains(&value) {
                values[slot] = value;
            }
        }
        StoredIds { values }
    }

    /// Whether the id is held in one form (or none): one equality reads it.
    pub fn forms(&self) -> IdForms {
        match self.values.iter().filter(|v| **v != SqlValue::Null).count() {
            0 | 1 => IdForms::One,
            _ => IdForms::Several,
        }
    }
}

/// Lowercase hex, as `text` writes blobs, back to bytes (none for `x''`, the empty blob).
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
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
            ValueRef::Integer(i64::MIN),
            ValueRef::Real(1.5),
            ValueRef::Real(-0.25),
            ValueRef::Real(1e20),
            ValueRef::Blob(&[0xc0, 0xff, 0xee]),
            ValueRef::Blob(&[]),
            ValueRef::Text(b"acc-1"),
            ValueRef::Text(b"042"),
        ] {
            let listed = text(value).unwrap();
            let owned = SqlValue::from(value);
            assert!(
                id_candidates(&listed).contains(&owned),
                "{value:?} listed as {listed}"
            );
        }
        // A blob never lists like the text of its hex.
        assert_eq!(
            text(ValueRef::Blob(&[0xc0, 0xff, 0xee])).unwrap(),
            "x'c0ffee'"
        );
        assert_eq!(text(ValueRef::Text(b"c0ffee")).unwrap(), "c0ffee");
    }

    #[test]
    fn an_id_stands_only_for_values_whose_text_it_is() {
        let nulls = |id: &str| {
            id_candidates(id)
                .iter()
                .filter(|v| **v == SqlValue::Null)
                .count()
        };
        // Text of no number and of no blob: the text alone.
        for id in [
            "042",
            "42.0",
            "1.50",
            "+1",
            "1e3",
            "c0ffee",
            "x'C0FFEE'",
            "x'abc'",
            "",
        ] {
            assert_eq!(nulls(id), 3, "{id}");
        }
        assert_eq!(
            id_candidates("42"),
            [
                SqlValue::Text("42".into()),
                SqlValue::Integer(42),
                SqlValue::Null,
                SqlValue::Null
            ]
        );
        assert_eq!(id_candidates("1.5")[2], SqlValue::Real(1.5));
        assert_eq!(id_candidates("x'00ff'")[3], SqlValue::Blob(vec![0, 0xff]));
    }

    #[test]
    fn stored_ids_keep_what_shows_as_the_id_once() {
        let text = |t: &str| Some(SqlValue::Text(t.into()));
        // INTEGER and TEXT rows of 42: two forms, read with an IN list.
        let mixed = StoredIds::of("42", [text("42"), Some(SqlValue::Integer(42)), None, None]);
        assert_eq!(mixed.forms(), IdForms::Several);
        // A column of INTEGER affinity finds 42 for the text too: one form.
        let typed = StoredIds::of(
            "42",
            [
                Some(SqlValue::Integer(42)),
                Some(SqlValue::Integer(42)),
                None,
                None,
            ],
        );
        assert_eq!(typed.forms(), IdForms::One);
        assert_eq!(
            typed.values,
            [
                SqlValue::Integer(42),
                SqlValue::Null,
                SqlValue::Null,
                SqlValue::Null
            ]
        );
        // …and for '042', which is another aggregate's text: nothing to read.
        let other = StoredIds::of("042", [Some(SqlValue::Integer(42)), None, None, None]);
        assert_eq!(other.values, NO_IDS);
        assert_eq!(other.forms(), IdForms::One);
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
