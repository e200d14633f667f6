use chrono::{DateTime, Utc};
use serde_json::Value;

/// A stored payload: decoded JSON, or the raw text kept with the reason it did not decode.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(Value),
    Undecodable { raw: String, error: String },
}

impl Payload {
    /// Decodes JSON text; failures keep a preview of the raw text so a person can read it.
    pub fn from_json_text(text: &str) -> Payload {
        match serde_json::from_str(text) {
            Ok(value) => Payload::Json(value),
            Err(err) => Payload::Undecodable {
                raw: text.to_string(),
                error: format!("invalid JSON: {err}"),
            },
        }
    }

    /// Decodes bytes that should hold UTF-8 JSON text.
    pub fn from_json_bytes(bytes: &[u8]) -> Payload {
        match std::str::from_utf8(bytes) {
            Ok(text) => Payload::from_json_text(text),
            Err(err) => Payload::Undecodable {
                raw: String::from_utf8_lossy(bytes).into_owned(),
                error: format!("not UTF-8 text: {err}"),
            },
        }
    }

    pub fn json(&self) -> Option<&Value> {
        match self {
            Payload::Json(value) => Some(value),
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
            EventIssue::BadVersion(raw) => write!(f, "version {raw:?} is not a whole number"),
        }
    }
}

/// One immutable fact in an aggregate's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub aggregate_id: String,
    pub aggregate_type: Option<String>,
    /// 1-based position in its aggregate, as stored.
    pub version: u64,
    pub event_type: String,
    pub timestamp: Option<DateTime<Utc>>,
    pub data: Payload,
    pub metadata: Value,
    pub issues: Vec<EventIssue>,
}

/// A stored shortcut: the state an aggregate had after `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub aggregate_id: String,
    pub version: u64,
    pub state: Payload,
    pub timestamp: Option<DateTime<Utc>>,
}
