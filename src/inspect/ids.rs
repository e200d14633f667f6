//! Where an event's correlation, causation and own ids live: metadata keys, Kafka headers,
//! the store's event id column, or any JSON path over `$event`.

use serde_json::Value;

use crate::diff::{JsonPath, Segment};
use crate::model::Event;

/// One place an id may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdField {
    /// A JSON path over the event as `$event` shows it (`.metadata.correlation_id`).
    Path(JsonPath),
    /// A Kafka record header (`header:traceparent`).
    Header(String),
    /// The store's own event id (an `event_id` column, a message id).
    EventId,
}

/// Places tried in turn; the first that holds a string or number is the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRule(pub Vec<IdField>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a place for an id: use a JSON path over $event like .metadata.correlation_id, header:NAME for a Kafka header, or event_id for the store's event id")]
pub struct IdFieldError {
    pub input: String,
}

impl IdRule {
    /// Parses `SPEC[,SPEC...]`: JSON paths, `header:NAME` or `event_id`.
    pub fn parse(text: &str) -> Result<IdRule, IdFieldError> {
        let fail = || IdFieldError {
            input: text.to_string(),
        };
        let fields = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                if part == "event_id" {
                    Ok(IdField::EventId)
                } else if let Some(name) = part.strip_prefix("header:") {
                    (!name.is_empty())
                        .then(|| IdField::Header(name.to_string()))
                        .ok_or_else(fail)
                } else {
                    JsonPath::parse(part).map(IdField::Path).map_err(|_| fail())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if fields.is_empty() {
            return Err(fail());
        }
        Ok(IdRule(fields))
    }

    /// The usual places for a name: metadata keys and Kafka headers in snake, camel and
    /// `$`-prefixed case (EventStoreDB's `$correlationId`).
    fn conventional(snake: &str, camel: &str) -> IdRule {
        let names = [snake.to_string(), camel.to_string(), format!("${camel}")];
        let metadata = names.iter().map(|name| {
            IdField::Path(JsonPath(vec![
                Segment::Key("metadata".into()),
                Segment::Key(name.clone()),
            ]))
        });
        let headers = names.iter().map(|name| IdField::Header(name.clone()));
        IdRule(metadata.chain(headers).collect())
    }

    fn find(&self, event: &Event, view: &EventView<'_>) -> Option<String> {
        self.0.iter().find_map(|field| match field {
            IdField::EventId => event.event_id.clone(),
            IdField::Header(name) => view
                .metadata()
                .and_then(|m| m.get("kafka")?.get("headers")?.get(name))
                .and_then(id_text),
            IdField::Path(path) => view.lookup(path).and_then(|v| id_text(&v)),
        })
    }
}

impl std::fmt::Display for IdRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|field| match field {
                IdField::Path(path) => path.to_string(),
                IdField::Header(name) => format!("header:{name}"),
                IdField::EventId => "event_id".to_string(),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// The three rules, with conventional defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceIds {
    pub correlation: IdRule,
    pub causation: IdRule,
    pub event_id: IdRule,
}

impl Default for TraceIds {
    fn default() -> Self {
        let mut event_id = IdRule::conventional("event_id", "eventId");
        event_id.0.insert(0, IdField::EventId);
        TraceIds {
            correlation: IdRule::conventional("correlation_id", "correlationId"),
            causation: IdRule::conventional("causation_id", "causationId"),
            event_id,
        }
    }
}

/// An event's ids, as the rules find them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventIds {
    pub event_id: Option<String>,
    pub correlation: Option<String>,
    pub causation: Option<String>,
}

impl TraceIds {
    pub fn of(&self, event: &Event) -> EventIds {
        let view = EventView::new(event);
        EventIds {
            event_id: self.event_id.find(event, &view),
            correlation: self.correlation.find(event, &view),
            causation: self.causation.find(event, &view),
        }
    }

    /// Only the correlation id, for filtering without looking further.
    pub fn correlation_of(&self, event: &Event) -> Option<String> {
        self.correlation.find(event, &EventView::new(event))
    }
}

/// The parts of `$event` a path may reach, parsed at most once per event.
struct EventView<'e> {
    event: &'e Event,
    metadata: std::cell::OnceCell<Value>,
    data: std::cell::OnceCell<Value>,
}

impl<'e> EventView<'e> {
    fn new(event: &'e Event) -> EventView<'e> {
        EventView {
            event,
            metadata: std::cell::OnceCell::new(),
            data: std::cell::OnceCell::new(),
        }
    }

    fn metadata(&self) -> Option<&Value> {
        let value = self.metadata.get_or_init(|| self.event.metadata.value());
        (!value.is_null()).then_some(value)
    }

    fn lookup(&self, path: &JsonPath) -> Option<Value> {
        let (first, rest) = path.0.split_first()?;
        let rest = JsonPath(rest.to_vec());
        let Segment::Key(field) = first else {
            return None;
        };
        let event = self.event;
        match field.as_str() {
            "metadata" => rest.lookup(self.metadata()?).cloned(),
            "data" => {
                let data = self
                    .data
                    .get_or_init(|| event.data.json().unwrap_or(Value::Null));
                rest.lookup(data).cloned()
            }
            _ if !rest.0.is_empty() => None,
            "aggregate_id" => Some(Value::from(event.aggregate_id.as_str())),
            "type" => Some(Value::from(event.event_type.as_str())),
            "event_id" => event.event_id.as_deref().map(Value::from),
            "version" => Some(Value::from(event.version)),
            "position" => Some(event.position.to_json()),
            _ => None,
        }
    }
}

/// Ids are text; a number is written out, anything else is not an id.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{JsonText, Payload};
    use serde_json::json;

    fn event(metadata: Value, data: Value, event_id: Option<&str>) -> Event {
        Event {
            metadata: JsonText::from_value(&metadata),
            data: Payload::from_value(data),
            event_id: event_id.map(str::to_string),
            ..Event::default()
        }
    }

    #[test]
    fn defaults_find_ids_in_metadata_headers_and_the_event_id_column() {
        let ids = TraceIds::default();
        let snake = event(
            json!({"correlation_id": "req-1", "causation_id": "e-0"}),
            json!({}),
            Some("e-1"),
        );
        assert_eq!(
            ids.of(&snake),
            EventIds {
                event_id: Some("e-1".into()),
                correlation: Some("req-1".into()),
                causation: Some("e-0".into()),
            }
        );
        let eventstore = event(
            json!({"$correlationId": "req-2", "$causationId": 7, "eventId": "x"}),
            json!({}),
            None,
        );
        let found = ids.of(&eventstore);
        assert_eq!(found.correlation.as_deref(), Some("req-2"));
        assert_eq!(found.causation.as_deref(), Some("7"));
        assert_eq!(found.event_id.as_deref(), Some("x"));
        let kafka = event(
            json!({"kafka": {"headers": {"correlationId": "req-3"}}}),
            json!({}),
            None,
        );
        assert_eq!(ids.correlation_of(&kafka).as_deref(), Some("req-3"));
    }

    #[test]
    fn rules_parse_paths_headers_and_event_id_in_order() {
        let rule = IdRule::parse(".data.request.id, header:traceparent,event_id").unwrap();
        assert_eq!(
            rule.to_string(),
            ".data.request.id,header:traceparent,event_id"
        );
        let e = event(json!(null), json!({"request": {"id": "r-9"}}), Some("e"));
        assert_eq!(rule.find(&e, &EventView::new(&e)).as_deref(), Some("r-9"));
        for bad in ["", "header:", "nope", ". x"] {
            assert!(IdRule::parse(bad).is_err(), "{bad}");
        }
    }
}
