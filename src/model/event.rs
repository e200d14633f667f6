use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;

use super::json_shape::{check_json, MAX_JSON_DEPTH, MAX_JSON_VALUES};
use super::StorePosition;

/// Validated JSON text, parsed when needed.
///
/// Events keep their payloads as text: a parsed `Value` costs several times the bytes of
/// its text, and a long history is mostly payloads.
#[derive(Clone)]
pub struct JsonText(Box<str>);

impl JsonText {
    /// Checks that `text` is JSON a `Value` can hold, within the nesting and size limits
    /// of values read from outside.
    pub fn parse(text: &str) -> Result<JsonText, String> {
        check_json(text.as_bytes(), MAX_JSON_DEPTH, MAX_JSON_VALUES)
            .map_err(|reason| format!("invalid JSON: {reason}"))?;
        serde_json::from_str::<serde::de::IgnoredAny>(text)
            .map_err(|err| format!("invalid JSON: {err}"))?;
        Ok(JsonText(text.into()))
    }

    pub fn from_value(value: &Value) -> JsonText {
        JsonText(value.to_string().into_boxed_str())
    }

    pub fn null() -> JsonText {
        JsonText("null".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed value; text that was validated always parses.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    pub fn is_null(&self) -> bool {
        self.0.trim() == "null"
    }
}

/// Payloads are equal when their JSON is, however it was spaced.
impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.0 == other.0 || self.value() == other.value()
    }
}

impl Default for JsonText {
    fn default() -> JsonText {
        JsonText::null()
    }
}

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl std::fmt::Display for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Value> for JsonText {
    fn from(value: Value) -> JsonText {
        JsonText::from_value(&value)
    }
}

/// A stored payload: JSON, or the raw text kept with the reason it did not decode.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(JsonText),
    Undecodable { raw: String, error: String },
}

impl Default for Payload {
    fn default() -> Payload {
        Payload::Json(JsonText::null())
    }
}

impl Payload {
    /// Checks JSON text; failures keep the raw text so a person can read it.
    pub fn from_json_text(text: &str) -> Payload {
        match JsonText::parse(text) {
            Ok(json) => Payload::Json(json),
            Err(error) => Payload::Undecodable {
                raw: text.to_string(),
                error,
            },
        }
    }

    /// Checks bytes that should hold UTF-8 JSON text.
    pub fn from_json_bytes(bytes: &[u8]) -> Payload {
        match std::str::from_utf8(bytes) {
            Ok(text) => Payload::from_json_text(text),
            Err(err) => Payload::Undecodable {
                raw: String::from_utf8_lossy(bytes).into_owned(),
                error: format!("not UTF-8 text: {err}"),
            },
        }
    }

    pub fn from_value(value: Value) -> Payload {
        Payload::Json(JsonText::from_value(&value))
    }

    /// The parsed JSON, if the payload decoded.
    pub fn json(&self) -> Option<Value> {
        match self {
            Payload::Json(text) => Some(text.value()),
            Payload::Undecodable { .. } => None,
        }
    }

    pub fn text(&self) -> Option<&JsonText> {
        match self {
            Payload::Json(text) => Some(text),
            Payload::Undecodable { .. } => None,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            Payload::Json(_) => None,
            Payload::Undecodable { error, .. } => Some(error),
        }
    }
}

/// Something wrong with a stored event that replay can live with; shown next to the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventIssue {
    /// The timestamp column held text that is not a time rewind understands.
    UnparseableTimestamp(String),
    /// The metadata column held something that is not JSON.
    BadMetadata(String),
    /// A required column was NULL; the field is left empty.
    NullColumn(String),
    /// The version column held something that is not a non-negative integer.
    BadVersion(String),
}

impl std::fmt::Display for EventIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventIssue::UnparseableTimestamp(raw) => write!(f, "unparseable timestamp {raw:?}"),
            EventIssue::BadMetadata(err) => write!(f, "metadata is not JSON: {err}"),
            EventIssue::NullColumn(column) => write!(f, "{column} is NULL"),
            EventIssue::BadVersion(raw) if raw.trim().parse::<f64>().is_ok_and(|n| n < 0.0) => {
                write!(
                    f,
                    "version {} is negative (versions count from 1)",
                    raw.trim()
                )
            }
            EventIssue::BadVersion(raw) => write!(f, "version {raw:?} is not a whole number"),
        }
    }
}

/// One immutable fact in an aggregate's history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub aggregate_id: String,
    pub aggregate_type: Option<String>,
    /// 1-based position in its aggregate, as stored.
    pub version: u64,
    /// Where the event sits among all the store's events.
    pub position: StorePosition,
    /// The store's own id for the event (an `event_id` column, a message id), if it has one.
    pub event_id: Option<String>,
    pub event_type: String,
    pub timestamp: Option<DateTime<Utc>>,
    /// The UTC offset the store wrote the time with, when it wrote one other than UTC's:
    /// the instant is `timestamp`; this only lets a display show it as stored.
    pub time_offset: Option<FixedOffset>,
    pub data: Payload,
    pub metadata: JsonText,
    pub issues: Vec<EventIssue>,
}

impl Event {
    /// Archived by its store (Marten's `is_archived`, which its preset carries as
    /// `"archived": true` in the metadata): still history, no longer live; tables mark it.
    pub fn is_archived(&self) -> bool {
        // Most metadata never mentions it: parsed only when it might.
        self.metadata.as_str().contains("\"archived\"")
            && self.metadata.value().get("archived") == Some(&Value::Bool(true))
    }
}

/// A stored shortcut: the state an aggregate had after `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub aggregate_id: String,
    pub version: u64,
    pub state: Payload,
    pub timestamp: Option<DateTime<Utc>>,
}

/// What a history read hands over of a snapshot: which it is and where it sits, not its
/// state. A state can be as big as the aggregate's, and an aggregate can have many; each
/// is read from the store when it is looked at, by its `key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotEntry {
    pub version: u64,
    pub timestamp: Option<DateTime<Utc>>,
    /// The source's own key for it, how it is asked for again: its place in version order
    /// in a SQL store, its row in Kafka's cache, its place in a transcript.
    pub key: u64,
}

impl Snapshot {
    /// This snapshot as a history's index keeps it.
    pub fn entry(&self, key: u64) -> SnapshotEntry {
        SnapshotEntry {
            version: self.version,
            timestamp: self.timestamp,
            key,
        }
    }
}
