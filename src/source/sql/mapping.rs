//! Which tables and columns hold each field, for stores that do not use rewind's native schema.

use serde::Deserialize;

use crate::source::BadOption;

/// Column names of the events table. `None` marks an optional field the store does not have.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventColumns {
    pub table: String,
    pub aggregate_id: String,
    pub aggregate_type: Option<String>,
    pub event_type: String,
    pub event_data: String,
    pub metadata: Option<String>,
    pub version: String,
    pub timestamp: Option<String>,
    /// The store's id for each event; used when the table has such a column.
    pub event_id: Option<String>,
    /// A column that orders the whole store; `None` is the backend's default (SQLite's
    /// rowid, PostgreSQL's `global_position` where the table has one).
    pub position: Option<String>,
}

impl Default for EventColumns {
    fn default() -> Self {
        EventColumns {
            table: "events".into(),
            aggregate_id: "aggregate_id".into(),
            aggregate_type: Some("aggregate_type".into()),
            event_type: "event_type".into(),
            event_data: "event_data".into(),
            metadata: Some("metadata".into()),
            version: "version".into(),
            timestamp: Some("timestamp".into()),
            event_id: Some("event_id".into()),
            position: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotColumns {
    /// `None`: the store keeps no snapshots.
    pub table: Option<String>,
    pub aggregate_id: String,
    pub version: String,
    pub state: String,
    pub created_at: Option<String>,
}

impl Default for SnapshotColumns {
    fn default() -> Self {
        SnapshotColumns {
            table: Some("snapshots".into()),
            aggregate_id: "aggregate_id".into(),
            version: "version".into(),
            state: "state".into(),
            created_at: Some("created_at".into()),
        }
    }
}

/// How a SQL store's tables map onto events and snapshots (SQLite and PostgreSQL alike).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqlMapping {
    pub events: EventColumns,
    pub snapshots: SnapshotColumns,
    /// Set once a user names the snapshots table, so a missing one is an error, not "none".
    #[serde(skip)]
    pub snapshots_required: bool,
    /// Set once a user names the event id column, so a missing one is an error: the
    /// default `event_id` is used only where the table has it.
    #[serde(skip)]
    pub event_id_required: bool,
}

impl SqlMapping {
    /// Applies one `key=value` override such as `events.table=domain_events`.
    /// An empty value switches an optional field off.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), BadOption> {
        let optional = || (!value.is_empty()).then(|| value.to_string());
        let required = |field: &mut String| -> Result<(), BadOption> {
            if value.is_empty() {
                return Err(BadOption(format!(
                    "mapping {key} cannot be empty: it names a required column"
                )));
            }
            *field = value.to_string();
            Ok(())
        };
        let events = &mut self.events;
        let snapshots = &mut self.snapshots;
        match key {
            "events.table" => required(&mut events.table)?,
            "events.aggregate_id" => required(&mut events.aggregate_id)?,
            "events.aggregate_type" => events.aggregate_type = optional(),
            "events.event_type" => required(&mut events.event_type)?,
            "events.event_data" => required(&mut events.event_data)?,
            "events.metadata" => events.metadata = optional(),
            "events.version" => required(&mut events.version)?,
            "events.timestamp" => events.timestamp = optional(),
            "events.event_id" => {
                events.event_id = optional();
                self.event_id_required = events.event_id.is_some();
            }
            "events.position" => events.position = optional(),
            "snapshots.table" => {
                snapshots.table = optional();
                self.snapshots_required = snapshots.table.is_some();
            }
            "snapshots.aggregate_id" => required(&mut snapshots.aggregate_id)?,
            "snapshots.version" => required(&mut snapshots.version)?,
            "snapshots.state" => required(&mut snapshots.state)?,
            "snapshots.created_at" => snapshots.created_at = optional(),
            _ => {
                return Err(BadOption(format!(
                    "unknown mapping key {key:?}; known keys: {}",
                    MAPPING_KEYS.join(", ")
                )))
            }
        }
        Ok(())
    }

    /// The mapping keys set to other columns than the native schema's, in `MAPPING_KEYS`
    /// order.
    pub fn changed_keys(&self) -> Vec<&'static str> {
        let (e, de) = (&self.events, EventColumns::default());
        let (s, ds) = (&self.snapshots, SnapshotColumns::default());
        let changed = [
            e.table != de.table,
            e.aggregate_id != de.aggregate_id,
            e.aggregate_type != de.aggregate_type,
            e.event_type != de.event_type,
            e.event_data != de.event_data,
            e.metadata != de.metadata,
            e.version != de.version,
            e.timestamp != de.timestamp,
            e.event_id != de.event_id,
            e.position != de.position,
            s.table != ds.table,
            s.aggregate_id != ds.aggregate_id,
            s.version != ds.version,
            s.state != ds.state,
            s.created_at != ds.created_at,
        ];
        MAPPING_KEYS
            .iter()
            .zip(changed)
            .filter_map(|(key, changed)| changed.then_some(*key))
            .collect()
    }

    /// A library preset reads its own tables and columns: a mapping key it would not use
    /// (all but those in `honoured`) is an error rather than silently ignored.
    pub fn refuse_unused(&self, preset: &str, honoured: &[&str]) -> Result<(), BadOption> {
        let unused: Vec<&str> = self
            .changed_keys()
            .into_iter()
            .filter(|key| !honoured.contains(key))
            .collect();
        if unused.is_empty() {
            return Ok(());
        }
        let reads = match honoured {
            [] => String::new(),
            keys => format!(" (it takes only {})", keys.join(", ")),
        };
        Err(BadOption(format!(
            "the {preset} preset reads its library's own tables and columns, so the mapping of {} would not be used{reads}; drop it (from rewind.toml too), or read the tables as mapped columns without --preset",
            unused.join(", ")
        )))
    }

    /// An empty name in a config file switches an optional column off, as `--map key=` does.
    pub fn clear_empty_optionals(&mut self) {
        let events = &mut self.events;
        for column in [
            &mut events.aggregate_type,
            &mut events.metadata,
            &mut events.timestamp,
            &mut events.event_id,
            &mut events.position,
            &mut self.snapshots.table,
            &mut self.snapshots.created_at,
        ] {
            if column.as_deref() == Some("") {
                *column = None;
            }
        }
    }

    /// The mapping in one line, for error messages; `default_position` names what an
    /// unmapped position is.
    pub fn describe_events(&self, default_position: &str) -> String {
        let e = &self.events;
        let opt = |c: &Option<String>| c.clone().unwrap_or_else(|| "-".into());
        format!(
            "events.table={} aggregate_id={} aggregate_type={} event_type={} event_data={} metadata={} version={} timestamp={} event_id={} position={}",
            e.table,
            e.aggregate_id,
            opt(&e.aggregate_type),
            e.event_type,
            e.event_data,
            opt(&e.metadata),
            e.version,
            opt(&e.timestamp),
            opt(&e.event_id),
            e.position.as_deref().unwrap_or(default_position)
        )
    }

    pub fn describe_snapshots(&self) -> String {
        let s = &self.snapshots;
        format!(
            "snapshots.table={} aggregate_id={} version={} state={} created_at={}",
            s.table.as_deref().unwrap_or("-"),
            s.aggregate_id,
            s.version,
            s.state,
            s.created_at.as_deref().unwrap_or("-")
        )
    }
}

pub const MAPPING_KEYS: [&str; 15] = [
    "events.table",
    "events.aggregate_id",
    "events.aggregate_type",
    "events.event_type",
    "events.event_data",
    "events.metadata",
    "events.version",
    "events.timestamp",
    "events.event_id",
    "events.position",
    "snapshots.table",
    "snapshots.aggregate_id",
    "snapshots.version",
    "snapshots.state",
    "snapshots.created_at",
];

/// Quotes an identifier for SQL after checking it is one a schema could really hold.
///
/// Nothing a user types reaches SQL any other way.
pub fn quote_identifier(name: &str) -> Result<String, BadOption> {
    let bad = name.is_empty() || name.len() > 128 || name.chars().any(|c| c.is_control());
    if bad {
        return Err(BadOption(format!(
            "{name:?} is not a valid table or column name (1-128 printable characters)"
        )));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_refuses_the_keys_it_would_not_use() {
        let mut mapping = SqlMapping::default();
        assert_eq!(mapping.changed_keys(), Vec::<&str>::new());
        assert!(mapping.refuse_unused("emmett", &[]).is_ok());
        mapping.set("events.table", "bank_events").unwrap();
        mapping.set("events.timestamp", "").unwrap();
        mapping.set("snapshots.state", "body").unwrap();
        assert_eq!(
            mapping.changed_keys(),
            ["events.table", "events.timestamp", "snapshots.state"]
        );
        let BadOption(why) = mapping
            .refuse_unused("eventsourcing", &["events.table"])
            .unwrap_err();
        assert!(
            why.contains("mapping of events.timestamp, snapshots.state would not be used")
                && why.contains("it takes only events.table"),
            "{why}"
        );
        // Set back to the native column: nothing to refuse.
        mapping.set("events.timestamp", "timestamp").unwrap();
        mapping.set("snapshots.state", "state").unwrap();
        assert!(mapping
            .refuse_unused("eventsourcing", &["events.table"])
            .is_ok());
    }

    #[test]
    fn overrides_change_one_field_and_empty_switches_optional_off() {
        let mut mapping = SqlMapping::default();
        mapping.set("events.table", "domain_events").unwrap();
        mapping.set("events.metadata", "").unwrap();
        assert_eq!(mapping.events.table, "domain_events");
        assert_eq!(mapping.events.metadata, None);
        assert!(!mapping.snapshots_required);
        mapping.set("snapshots.table", "snaps").unwrap();
        assert!(mapping.snapshots_required);
    }

    #[test]
    fn required_fields_cannot_be_emptied_and_unknown_keys_are_named() {
        let mut mapping = SqlMapping::default();
        assert!(mapping.set("events.version", "").is_err());
        let err = mapping.set("events.colour", "x").unwrap_err().to_string();
        assert!(
            err.contains("events.colour") && err.contains("events.table"),
            "{err}"
        );
    }

    #[test]
    fn identifiers_are_quoted_and_hostile_ones_stay_inert() {
        assert_eq!(quote_identifier("events").unwrap(), "\"events\"");
        assert_eq!(
            quote_identifier("x\"; DROP TABLE events; --").unwrap(),
            "\"x\"\"; DROP TABLE events; --\""
        );
        assert!(quote_identifier("").is_err());
        assert!(quote_identifier("a\nb").is_err());
    }

    #[test]
    fn toml_mapping_fills_unnamed_fields_with_defaults() {
        let mapping: SqlMapping =
            toml::from_str("[events]\ntable = \"domain_events\"\nversion = \"seq\"\n").unwrap();
        assert_eq!(mapping.events.table, "domain_events");
        assert_eq!(mapping.events.version, "seq");
        assert_eq!(mapping.events.event_type, "event_type");
        assert_eq!(mapping.snapshots, SnapshotColumns::default());
    }
}
