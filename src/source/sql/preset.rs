//! The layouts of widely used event-sourcing libraries, read as they are: their names and
//! how they are recognised here, SQLite's tables below, PostgreSQL's in
//! `source::postgres::presets`.

use super::layout::{Codec, EventExprs, Layout, SnapshotExprs};
use super::{Column, Dialect};
use crate::source::BadOption;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// rewind's own schema, or a user's mapping.
    Native,
    /// Python `eventsourcing`: `stored_events` / `stored_snapshots` (PostgreSQL:
    /// `{name}_events` / `{name}_snapshots`).
    Eventsourcing,
    /// Emmett (`@event-driven-io/emmett-sqlite`, `-postgresql`): `emt_messages`, streams
    /// as aggregates.
    Emmett,
    /// Message DB (PostgreSQL): `message_store.messages`, streams as aggregates.
    MessageDb,
    /// Marten (PostgreSQL): `mt_events` / `mt_streams`.
    Marten,
}

pub const PRESET_NAMES: &str = "native, eventsourcing, emmett, messagedb, marten";

impl std::str::FromStr for Preset {
    type Err = BadOption;

    fn from_str(name: &str) -> Result<Preset, BadOption> {
        match name.to_ascii_lowercase().as_str() {
            "native" | "rewind" => Ok(Preset::Native),
            "eventsourcing" | "python-eventsourcing" => Ok(Preset::Eventsourcing),
            "emmett" | "emmett-sqlite" | "emmett-postgresql" => Ok(Preset::Emmett),
            "messagedb" | "message-db" | "message_db" => Ok(Preset::MessageDb),
            "marten" => Ok(Preset::Marten),
            _ => Err(BadOption(format!(
                "unknown preset {name:?}; known presets: {PRESET_NAMES}"
            ))),
        }
    }
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Native => "native",
            Preset::Eventsourcing => "eventsourcing",
            Preset::Emmett => "emmett",
            Preset::MessageDb => "messagedb",
            Preset::Marten => "marten",
        }
    }

    /// Whether a store of this dialect can hold the preset's tables.
    pub fn available_in(self, dialect: Dialect) -> bool {
        match self {
            Preset::MessageDb | Preset::Marten => dialect == Dialect::Postgres,
            _ => true,
        }
    }

    /// Recognises a library's SQLite store by its tables.
    pub fn detect(tables: &[String]) -> Option<Preset> {
        let has = |name: &str| tables.iter().any(|t| t.eq_ignore_ascii_case(name));
        if has("stored_events") {
            Some(Preset::Eventsourcing)
        } else if has("emt_messages") {
            Some(Preset::Emmett)
        } else {
            None
        }
    }

    /// The SQLite tables the preset reads; the first is required, the second (snapshots)
    /// optional.
    pub fn tables(self) -> (&'static str, Option<&'static str>) {
        match self {
            Preset::Native => ("events", Some("snapshots")),
            Preset::Eventsourcing => ("stored_events", Some("stored_snapshots")),
            Preset::Emmett => ("emt_messages", None),
            Preset::MessageDb => ("messages", None),
            Preset::Marten => ("mt_events", None),
        }
    }

    /// Trusted SQLite SQL for the preset; `with_snapshots` when its snapshots table exists.
    pub fn layout(self, with_snapshots: bool) -> Option<Layout> {
        match self {
            Preset::Eventsourcing => Some(eventsourcing(with_snapshots)),
            Preset::Emmett => Some(emmett()),
            Preset::Native | Preset::MessageDb | Preset::Marten => None,
        }
    }
}

fn eventsourcing(with_snapshots: bool) -> Layout {
    // The timestamp lives in the JSON state; compressed or encrypted states give NULL here
    // and are decoded (or flagged) per event instead.
    let timestamp = "CASE WHEN json_valid(CAST(state AS TEXT)) \
                     THEN json_extract(CAST(state AS TEXT), '$.timestamp._data_') END";
    Layout {
        dialect: Dialect::Sqlite,
        events: EventExprs {
            table: "stored_events".into(),
            positions_table: "stored_events".into(),
            aggregate_id: Column::expr("originator_id"),
            aggregate_type: Column::expr("topic"),
            version: Column::expr("originator_version"),
            event_type: Column::expr("topic"),
            timestamp: Column::expr(timestamp),
            data: Column::expr("state"),
            metadata: Column::null(),
            event_id: Column::null(),
            position: Column::expr("rowid"),
            filter: None,
        },
        snapshots: with_snapshots.then(|| SnapshotExprs {
            table: "stored_snapshots".into(),
            aggregate_id: Column::expr("originator_id"),
            version: Column::expr("originator_version"),
            state: Column::expr("state"),
            created_at: Column::expr(timestamp),
        }),
        codec: Codec::Eventsourcing,
        list_override: None,
    }
}

fn emmett() -> Layout {
    Layout {
        dialect: Dialect::Sqlite,
        events: EventExprs {
            table: "emt_messages".into(),
            positions_table: "emt_messages".into(),
            aggregate_id: Column::expr("stream_id"),
            // The stream id's prefix names its type by Emmett convention (`shopping_cart-123`).
            aggregate_type: Column::expr(
                "CASE WHEN instr(stream_id, '-') > 1 \
                 THEN substr(stream_id, 1, instr(stream_id, '-') - 1) END",
            ),
            version: Column::expr("stream_position"),
            event_type: Column::expr("message_type"),
            timestamp: Column::expr("created"),
            data: Column::expr("message_data"),
            metadata: Column::expr("message_metadata"),
            event_id: Column::expr("message_id"),
            position: Column::expr("global_position"),
            filter: Some("message_kind = 'E'".into()),
        },
        snapshots: None,
        codec: Codec::Plain,
        list_override: None,
    }
}
