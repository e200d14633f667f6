//! Where each event field lives in a Kafka record: the key, a header, or a JSON path in the value.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};

use super::record::{RawRecord, NO_KEY};
use crate::diff::JsonPath;
use crate::model::{Event, EventIssue, Payload, Snapshot, StorePosition};
use crate::source::{timestamp, BadOption};

/// Event type of a record whose value is null.
pub const TOMBSTONE: &str = "<tombstone>";
/// Event type when no header or field names one.
pub const NO_TYPE: &str = "<no type>";

/// One place in a record, written `key`, `value`, `header:NAME`, `.json.path`, `order`,
/// `record` or `auto`; each field accepts the subset that makes sense for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSpec {
    /// The record key.
    Key,
    /// The whole record value.
    Value,
    Header(String),
    Path(JsonPath),
    /// The record's position among its aggregate's records (versions).
    Order,
    /// The record's own timestamp.
    Record,
    /// Try the usual places in turn (event types).
    Auto,
}

impl FieldSpec {
    pub fn parse(text: &str) -> Result<FieldSpec, String> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("header:") {
            if name.is_empty() {
                return Err("header: needs a header name, e.g. header:event_type".into());
            }
            return Ok(FieldSpec::Header(name.to_string()));
        }
        if text.starts_with('.') {
            return JsonPath::parse(text)
                .map(FieldSpec::Path)
                .map_err(|e| e.to_string());
        }
        match text {
            "key" => Ok(FieldSpec::Key),
            "value" => Ok(FieldSpec::Value),
            "order" => Ok(FieldSpec::Order),
            "record" => Ok(FieldSpec::Record),
            "auto" => Ok(FieldSpec::Auto),
            _ => Err(format!(
                "{text:?} is not a field: use key, value, header:NAME, a JSON path like .event_type, order, record or auto"
            )),
        }
    }
}

impl std::fmt::Display for FieldSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldSpec::Key => f.write_str("key"),
            FieldSpec::Value => f.write_str("value"),
            FieldSpec::Header(name) => write!(f, "header:{name}"),
            FieldSpec::Path(path) => write!(f, "{path}"),
            FieldSpec::Order => f.write_str("order"),
            FieldSpec::Record => f.write_str("record"),
            FieldSpec::Auto => f.write_str("auto"),
        }
    }
}

/// How records of a topic become events and snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaMapping {
    pub aggregate_id: FieldSpec,
    pub event_type: FieldSpec,
    pub event_data: FieldSpec,
    pub version: FieldSpec,
    pub timestamp: FieldSpec,
    pub snapshots: Option<SnapshotMapping>,
}

/// A topic of snapshots keyed by aggregate id, each value holding a state and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMapping {
    pub topic: String,
    pub state: JsonPath,
    pub version: JsonPath,
}

impl Default for KafkaMapping {
    fn default() -> Self {
        KafkaMapping {
            aggregate_id: FieldSpec::Key,
            event_type: FieldSpec::Auto,
            event_data: FieldSpec::Value,
            version: FieldSpec::Order,
            timestamp: FieldSpec::Record,
            snapshots: None,
        }
    }
}

/// The mapping fields, the option that sets each, and what each accepts.
pub const FIELDS: [(&str, &str); 5] = [
    ("aggregate_id", "key, header:NAME or a JSON path"),
    ("event_type", "auto, header:NAME or a JSON path"),
    ("event_data", "value or a JSON path"),
    ("version", "order or a JSON path"),
    ("timestamp", "record or a JSON path"),
];

impl KafkaMapping {
    /// Sets one field from its text form, checking the field accepts that kind of place.
    pub fn set(&mut self, field: &str, text: &str) -> Result<(), BadOption> {
        let bad = |reason: String| BadOption(format!("Kafka mapping {field} = {text:?}: {reason}"));
        let spec = FieldSpec::parse(text).map_err(bad)?;
        let accepts = FIELDS
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, accepts)| *accepts)
            .ok_or_else(|| {
                BadOption(format!(
                    "unknown Kafka mapping field {field:?}; known: {}",
                    FIELDS.map(|(name, _)| name).join(", ")
                ))
            })?;
        let ok = matches!(
            (field, &spec),
            (_, FieldSpec::Path(_))
                | ("aggregate_id", FieldSpec::Key | FieldSpec::Header(_))
                | ("event_type", FieldSpec::Auto | FieldSpec::Header(_))
                | ("event_data", FieldSpec::Value)
                | ("version", FieldSpec::Order)
                | ("timestamp", FieldSpec::Record)
        );
        if !ok {
            return Err(bad(format!("use {accepts}")));
        }
        let slot = match field {
            "aggregate_id" => &mut self.aggregate_id,
            "event_type" => &mut self.event_type,
            "event_data" => &mut self.event_data,
            "version" => &mut self.version,
            _ => &mut self.timestamp,
        };
        *slot = spec;
        Ok(())
    }

    /// The mapping in one line, for messages.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "aggregate_id={} event_type={} event_data={} version={} timestamp={}",
            self.aggregate_id, self.event_type, self.event_data, self.version, self.timestamp
        );
        if let Some(s) = &self.snapshots {
            text.push_str(&format!(
                " snapshots={} state={} version={}",
                s.topic, s.state, s.version
            ));
        }
        text
    }

    /// Which aggregate a record of the events topic belongs to.
    pub fn aggregate_id(&self, record: &RawRecord) -> String {
        let found = match &self.aggregate_id {
            FieldSpec::Key => record.key_text(),
            FieldSpec::Header(name) => record.header_text(name),
            FieldSpec::Path(path) => value_json(record)
                .as_ref()
                .and_then(|v| path.lookup(v))
                .and_then(scalar_text),
            _ => None,
        };
        found
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| NO_KEY.to_string())
    }

    /// Turns a record into an event; `order` is its 1-based place among its aggregate's records.
    pub fn event(&self, record: &RawRecord, aggregate_id: &str, order: u64) -> Event {
        let mut issues = Vec::new();
        let payload = record.value.as_deref().map(Payload::from_json_bytes);
        let parsed = payload.as_ref().and_then(Payload::json);
        let json = parsed.as_ref();
        let event_type = match &payload {
            None => TOMBSTONE.to_string(),
            Some(_) => self.event_type(record, json),
        };
        let version = match &self.version {
            FieldSpec::Path(path) => {
                let found = json.and_then(|v| path.lookup(v));
                match found.and_then(version_number) {
                    Some(v) => v,
                    None => {
                        let raw = found.map_or_else(|| format!("no {path}"), Value::to_string);
                        issues.push(EventIssue::BadVersion(raw));
                        order
                    }
                }
            }
            _ => order,
        };
        let record_time = record
            .timestamp_ms
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
        let mut time_offset = None;
        let timestamp = match &self.timestamp {
            FieldSpec::Path(path) => {
                match json.and_then(|v| path.lookup(v)) {
                    Some(found) => match time_value(found) {
                        Some(t) => {
                            time_offset = found.as_str().and_then(timestamp::written_offset);
                            Some(t)
                        }
                        None => {
                            issues.push(EventIssue::UnparseableTimestamp(found.to_string()));
                            record_time
                        }
                    },
                    // A record without the field keeps its own time, flagged.
                    None => {
                        issues.push(EventIssue::UnparseableTimestamp(format!("no {path}")));
                        record_time
                    }
                }
            }
            _ => record_time,
        };
        let data = match payload {
            None => Payload::Undecodable {
                raw: String::new(),
                error: "tombstone: the record's value is null".into(),
            },
            Some(Payload::Json(text)) => match &self.event_data {
                FieldSpec::Path(path) => match json.and_then(|value| path.lookup(value)) {
                    Some(found) => Payload::from_value(found.clone()),
                    None => Payload::Undecodable {
                        raw: text.to_string(),
                        error: format!("the value has no {path}"),
                    },
                },
                _ => Payload::Json(text),
            },
            Some(undecodable) => undecodable,
        };
        Event {
            aggregate_id: aggregate_id.to_string(),
            aggregate_type: None,
            version,
            position: StorePosition::Record {
                timestamp_ms: record.timestamp_ms.unwrap_or(i64::MIN),
                partition: record.partition,
                offset: record.offset,
            },
            event_id: ["event_id", "eventId", "$eventId", "message_id", "messageId"]
                .iter()
                .find_map(|name| record.header_text(name)),
            event_type,
            timestamp,
            time_offset,
            data,
            metadata: metadata(record).into(),
            issues,
        }
    }

    fn event_type(&self, record: &RawRecord, json: Option<&Value>) -> String {
        let from_path = |path: &str| {
            let path = JsonPath::parse(path).ok()?;
            json.and_then(|v| path.lookup(v)).and_then(scalar_text)
        };
        let found = match &self.event_type {
            FieldSpec::Header(name) => record.header_text(name),
            FieldSpec::Path(path) => json.and_then(|v| path.lookup(v)).and_then(scalar_text),
            _ => record
                .header_text("event_type")
                .or_else(|| record.header_text("type"))
                .or_else(|| from_path(".event_type"))
                .or_else(|| from_path(".type")),
        };
        found.unwrap_or_else(|| NO_TYPE.to_string())
    }

    /// A record of the snapshots topic; `None` when it holds no usable version.
    pub fn snapshot(&self, record: &RawRecord, aggregate_id: &str) -> Option<Snapshot> {
        let mapping = self.snapshots.as_ref()?;
        let value = value_json(record)?;
        let version = mapping.version.lookup(&value).and_then(version_number)?;
        let state = match mapping.state.lookup(&value) {
            Some(state) => Payload::from_value(state.clone()),
            None => Payload::Undecodable {
                raw: value.to_string(),
                error: format!("the snapshot has no {}", mapping.state),
            },
        };
        Some(Snapshot {
            aggregate_id: aggregate_id.to_string(),
            version,
            state,
            timestamp: record
                .timestamp_ms
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        })
    }

    /// Whether versions come from the records (so events must be sorted by them).
    pub fn versions_from_value(&self) -> bool {
        matches!(self.version, FieldSpec::Path(_))
    }
}

fn value_json(record: &RawRecord) -> Option<Value> {
    crate::model::parse_bounded(record.value.as_deref()?).ok()
}

/// Ids and types are text; numbers are written out, other JSON is not an id.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn version_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// RFC 3339 text, or epoch seconds or milliseconds (see `crate::source::timestamp`).
fn time_value(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(text) => timestamp::from_text(text),
        Value::Number(n) => match n.as_i64() {
            Some(n) => timestamp::from_epoch(n),
            None => timestamp::from_epoch_real(n.as_f64()?),
        },
        _ => None,
    }
}

/// Where the event came from, so a person can find the record with other Kafka tools.
fn metadata(record: &RawRecord) -> Value {
    let headers: Map<String, Value> = record
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value
                .as_deref()
                .map_or(Value::Null, |v| Value::from(String::from_utf8_lossy(v)));
            (name.clone(), value)
        })
        .collect();
    json!({
        "kafka": {
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key_text(),
            "headers": headers,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    fn record(key: Option<&str>, value: Option<&str>, headers: &[(&str, &str)]) -> RawRecord {
        RawRecord {
            partition: 0,
            offset: 7,
            key: key.map(|k| k.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            timestamp_ms: Some(1_768_473_000_000),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), Some(v.as_bytes().to_vec())))
                .collect(),
        }
    }

    #[test]
    fn defaults_use_key_header_or_type_field_and_whole_value() {
        let mapping = KafkaMapping::default();
        let r = record(
            Some("acc-1"),
            Some(r#"{"amount":5}"#),
            &[("type", "Deposited")],
        );
        assert_eq!(mapping.aggregate_id(&r), "acc-1");
        let event = mapping.event(&r, "acc-1", 3);
        assert_eq!(event.event_type, "Deposited");
        assert_eq!(event.version, 3);
        assert_eq!(event.data, Payload::from_value(json!({"amount": 5})));
        assert_eq!(event.timestamp, parse_time("2026-01-15T10:30:00Z"));
        assert_eq!(event.metadata.value()["kafka"]["offset"], 7);

        let in_value = record(Some("a"), Some(r#"{"event_type":"Opened"}"#), &[]);
        assert_eq!(mapping.event(&in_value, "a", 1).event_type, "Opened");
        let none = record(Some("a"), Some("{}"), &[]);
        assert_eq!(mapping.event(&none, "a", 1).event_type, NO_TYPE);
    }

    #[test]
    fn json_paths_pick_id_type_data_version_and_time() {
        let mut mapping = KafkaMapping::default();
        mapping.set("aggregate_id", ".meta.id").unwrap();
        mapping.set("event_type", ".kind").unwrap();
        mapping.set("event_data", ".body").unwrap();
        mapping.set("version", ".seq").unwrap();
        mapping.set("timestamp", ".at").unwrap();
        let r = record(
            None,
            Some(
                r#"{"meta":{"id":42},"kind":"Opened","body":{"x":1},"seq":"9","at":"2026-02-01T00:00:00Z"}"#,
            ),
            &[],
        );
        assert_eq!(mapping.aggregate_id(&r), "42");
        let event = mapping.event(&r, "42", 1);
        assert_eq!((event.event_type.as_str(), event.version), ("Opened", 9));
        assert_eq!(event.data, Payload::from_value(json!({"x": 1})));
        assert_eq!(event.timestamp, parse_time("2026-02-01"));
        assert!(event.issues.is_empty());

        let epoch = record(None, Some(r#"{"at":1768473000000}"#), &[]);
        assert_eq!(
            mapping.event(&epoch, "x", 1).timestamp,
            parse_time("2026-01-15T10:30:00Z")
        );
    }

    #[test]
    fn tombstones_garbage_and_missing_ids_are_flagged_not_dropped() {
        let mapping = KafkaMapping::default();
        let tombstone = record(Some("a"), None, &[]);
        let event = mapping.event(&tombstone, "a", 2);
        assert_eq!(event.event_type, TOMBSTONE);
        assert!(event.data.error().unwrap().contains("tombstone"));

        let garbage = record(Some("a"), Some("not json"), &[("event_type", "Odd")]);
        let event = mapping.event(&garbage, "a", 3);
        assert_eq!(event.event_type, "Odd");
        assert!(matches!(event.data, Payload::Undecodable { ref raw, .. } if raw == "not json"));

        assert_eq!(mapping.aggregate_id(&record(None, Some("{}"), &[])), NO_KEY);

        let mut by_version = KafkaMapping::default();
        by_version.set("version", ".v").unwrap();
        let event = by_version.event(&record(Some("a"), Some("{}"), &[]), "a", 4);
        assert_eq!(event.version, 4);
        assert_eq!(event.issues, vec![EventIssue::BadVersion("no .v".into())]);
    }

    #[test]
    fn fields_only_accept_places_that_make_sense() {
        let mut mapping = KafkaMapping::default();
        assert!(mapping.set("aggregate_id", "header:agg").is_ok());
        assert!(mapping.set("version", "header:v").is_err());
        assert!(mapping.set("event_data", "key").is_err());
        assert!(mapping.set("timestamp", "nonsense").is_err());
        let err = mapping.set("colour", "key").unwrap_err().to_string();
        assert!(err.contains("aggregate_id"), "{err}");
    }

    #[test]
    fn snapshots_need_a_version_and_default_to_state() {
        let mapping = KafkaMapping {
            snapshots: Some(SnapshotMapping {
                topic: "snaps".into(),
                state: JsonPath::parse(".state").unwrap(),
                version: JsonPath::parse(".version").unwrap(),
            }),
            ..KafkaMapping::default()
        };
        let r = record(Some("a"), Some(r#"{"version":3,"state":{"b":1}}"#), &[]);
        let snapshot = mapping.snapshot(&r, "a").unwrap();
        assert_eq!(snapshot.version, 3);
        assert_eq!(snapshot.state, Payload::from_value(json!({"b": 1})));
        assert!(mapping
            .snapshot(&record(Some("a"), Some(r#"{"state":{}}"#), &[]), "a")
            .is_none());
    }
}
