//! The SQLite layouts of widely used event-sourcing libraries, read as they are.

use super::layout::{Codec, EventExprs, Layout, SnapshotExprs};
use crate::source::BadOption;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// rewind's own schema, or a user's mapping.
    Native,
    /// Python `eventsourcing`: `stored_events` / `stored_snapshots`.
    Eventsourcing,
    /// `@event-driven-io/emmett-sqlite`: `emt_messages`, streams as aggregates.
    Emmett,
}

pub const PRESET_NAMES: &str = "native, eventsourcing, emmett";

impl std::str::FromStr for Preset {
    type Err = BadOption;

    fn from_str(name: &str) -> Result<Preset, BadOption> {
        match name.to_ascii_lowercase().as_str() {
            "native" | "rewind" => Ok(Preset::Native),
            "eventsourcing" | "python-eventsourcing" => Ok(Preset::Eventsourcing),
            "emmett" | "emmett-sqlite" => Ok(Preset::Emmett),
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
        }
    }

    /// Recognises a library's store by its tables.
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

    /// The tables the preset reads; the first is required, the second (snapshots) optional.
    pub fn tables(self) -> (&'static str, Option<&'static str>) {
        match self {
            Preset::Native => ("events", Some("snapshots")),
            Preset::Eventsourcing => ("stored_events", Some("stored_snapshots")),
            Preset::Emmett => ("emt_messages", None),
        }
    }

    /// Trusted SQL for the preset; `with_snapshots` when its snapshots table exists.
    pub fn layout(self, with_snapshots: bool) -> Option<Layout> {
        match self {
            Preset::Native => None,
            Preset::Eventsourcing => Some(eventsourcing(with_snapshots)),
            Preset::Emmett => Some(emmett()),
        }
    }
}

fn eventsourcing(with_snapshots: bool) -> Layout {
    // The timestamp lives in the JSON state; compressed or encrypted states give NULL here
    // and are decoded (or flagged) per event instead.
    let timestamp = "CASE WHEN json_valid(CAST(state AS TEXT)) \
                     THEN json_extract(CAST(state AS TEXT), '$.timestamp._data_') END";
    Layout {
        events: EventExprs {
            table: "stored_events".into(),
            aggregate_id: "originator_id".into(),
            aggregate_type: "topic".into(),
            version: "originator_version".into(),
            event_type: "topic".into(),
            timestamp: timestamp.into(),
            data: "state".into(),
            metadata: "NULL".into(),
            event_id: "NULL".into(),
            position: "rowid".into(),
            filter: None,
        },
        snapshots: with_snapshots.then(|| SnapshotExprs {
            table: "stored_snapshots".into(),
            aggregate_id: "originator_id".into(),
            version: "originator_version".into(),
            state: "state".into(),
            created_at: timestamp.into(),
        }),
        codec: Codec::Eventsourcing,
    }
}

fn emmett() -> Layout {
    Layout {
        events: EventExprs {
            table: "emt_messages".into(),
            aggregate_id: "stream_id".into(),
            // The stream id's prefix names its type by Emmett convention (`shopping_cart-123`).
            aggregate_type: "CASE WHEN instr(stream_id, '-') > 1 \
                             THEN substr(stream_id, 1, instr(stream_id, '-') - 1) END"
                .into(),
            version: "stream_position".into(),
            event_type: "message_type".into(),
            timestamp: "created".into(),
            data: "message_data".into(),
            metadata: "message_metadata".into(),
            event_id: "message_id".into(),
            position: "global_position".into(),
            filter: Some("message_kind = 'E'"),
        },
        snapshots: None,
        codec: Codec::Plain,
    }
}
