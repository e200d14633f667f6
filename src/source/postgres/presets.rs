//! The PostgreSQL tables of event-sourcing libraries, recognised from the catalog and read
//! with trusted SQL: Python eventsourcing, Emmett, Message DB and Marten.

use super::catalog::{kind_of, PgCatalog, TableInfo};
use crate::source::sql::{
    listed, quote_identifier, Catalog, Codec, Column, Dialect, EventExprs, Kind, Layout, Preset,
    Queries, SnapshotExprs, SqlMapping,
};
use crate::source::{BadOption, SourceError};

/// Message DB's own schema, where its installer puts `messages`.
const MESSAGE_DB_SCHEMA: &str = "message_store";
const EVENTSOURCING_COLUMNS: [&str; 4] = ["originator_id", "originator_version", "topic", "state"];

/// A library's store recognised by its tables (the native `events` table takes precedence).
pub fn detect(catalog: &PgCatalog<'_>) -> Result<Option<Preset>, SourceError> {
    let has = |name: &str| catalog.tables().iter().any(|t| t == name);
    if has("mt_events") {
        return Ok(Some(Preset::Marten));
    }
    if has("emt_messages") {
        return Ok(Some(Preset::Emmett));
    }
    if !eventsourcing_tables(catalog)?.is_empty() {
        return Ok(Some(Preset::Eventsourcing));
    }
    let messages_here = has("messages")
        && catalog
            .table("messages")?
            .is_some_and(|t| t.has("stream_name") && t.has("global_position"));
    if messages_here || catalog.has_schema_table(MESSAGE_DB_SCHEMA, "messages")? {
        return Ok(Some(Preset::MessageDb));
    }
    Ok(None)
}

/// Tables shaped like eventsourcing's `{name}_events` (or `stored_events`).
fn eventsourcing_tables(catalog: &PgCatalog<'_>) -> Result<Vec<String>, SourceError> {
    let mut found = Vec::new();
    for table in catalog.tables().iter().filter(|t| t.ends_with("_events")) {
        if catalog
            .table(table)?
            .is_some_and(|info| EVENTSOURCING_COLUMNS.iter().all(|c| info.has(c)))
        {
            found.push(table.clone());
        }
    }
    Ok(found)
}

/// The library whose table `info` is, by its name and columns as [`detect`] knows them.
fn library_of(info: &TableInfo) -> Option<Preset> {
    let name = info.name.as_str();
    if name == "mt_events" && info.has("seq_id") && info.has("stream_id") {
        Some(Preset::Marten)
    } else if name == "emt_messages" && info.has("stream_id") && info.has("message_kind") {
        Some(Preset::Emmett)
    } else if name == "messages" && info.has("stream_name") && info.has("global_position") {
        Some(Preset::MessageDb)
    } else if name.ends_with("_events") && EVENTSOURCING_COLUMNS.iter().all(|c| info.has(c)) {
        Some(Preset::Eventsourcing)
    } else {
        None
    }
}

/// A mapping whose events table is a library's own and lacks a column the mapping names
/// (the native layout cannot read it): the preset that does, as flags that read it, to add
/// to the mapping's error. Eventsourcing reads the mapped table; the other presets look
/// for their tables in the catalog's schema (Message DB's also in `message_store`), so a
/// table elsewhere needs its schema named too.
pub fn for_mapped_table(
    catalog: &PgCatalog<'_>,
    mapping: &SqlMapping,
) -> Result<Option<String>, SourceError> {
    let e = &mapping.events;
    let Some(info) = catalog.table(&e.table)? else {
        return Ok(None);
    };
    let Some(preset) = library_of(&info) else {
        return Ok(None);
    };
    let named = [&e.aggregate_id, &e.event_type, &e.event_data, &e.version]
        .into_iter()
        .chain(
            [&e.aggregate_type, &e.metadata, &e.timestamp, &e.position]
                .into_iter()
                .flatten(),
        );
    if named.into_iter().all(|column| info.has(column)) {
        return Ok(None);
    }
    let found_there = match preset {
        Preset::Eventsourcing => true,
        Preset::MessageDb if info.schema == MESSAGE_DB_SCHEMA => catalog
            .table("messages")?
            .is_none_or(|here| !here.has("stream_name")),
        _ => false,
    };
    let schema = match found_there || info.schema == catalog.schema {
        true => String::new(),
        false => format!(" --pg-schema {}", info.schema),
    };
    let library = match preset {
        Preset::Eventsourcing => "Python eventsourcing's",
        Preset::Emmett => "Emmett's",
        Preset::MessageDb => "Message DB's",
        Preset::Marten => "Marten's",
        Preset::Native => return Ok(None),
    };
    // Only eventsourcing reads the table the mapping names; the others refuse a mapping.
    let instead = match preset {
        Preset::Eventsourcing => "",
        _ => " instead of the --map",
    };
    Ok(Some(format!(
        "{:?} is {library} events table: read it with --preset {}{schema}{instead}",
        e.table,
        preset.name()
    )))
}

/// The layout of `preset` over the tables the catalog holds.
pub fn layout(
    preset: Preset,
    catalog: &PgCatalog<'_>,
    mapping: &SqlMapping,
) -> Result<Layout, SourceError> {
    match preset {
        Preset::Eventsourcing => eventsourcing(catalog, mapping),
        Preset::Emmett => emmett(catalog),
        Preset::MessageDb => message_db(catalog),
        Preset::Marten => marten(catalog),
        Preset::Native => Err(SourceError::Schema(
            "the native layout comes from the mapping".into(),
        )),
    }
}

/// The table a preset reads, or the error that says it is not there.
fn require(catalog: &PgCatalog<'_>, preset: Preset, name: &str) -> Result<TableInfo, SourceError> {
    catalog.table(name)?.ok_or_else(|| {
        SourceError::Schema(format!(
            "{} has no table {name:?}, which the {} preset reads ({})",
            catalog.store_name(),
            preset.name(),
            listed(catalog.tables())
        ))
    })
}

fn qualified(info: &TableInfo) -> Result<String, BadOption> {
    Ok(format!(
        "{}.{}",
        quote_identifier(&info.schema)?,
        quote_identifier(&info.name)?
    ))
}

/// `alias.column`, read as its type says.
fn col(info: &TableInfo, alias: &str, name: &str) -> Column {
    let kind = info.column_type(name).map_or(Kind::Other, kind_of);
    Column::new(format!("{alias}.\"{name}\""), kind)
}

/// The time at the head of an eventsourcing state, as text: the state's first 160 bytes
/// must read `{"timestamp": {"_type_": "datetime_iso", "_data_": "TIME"` (each space
/// optional), else NULL. Checked part by part between the quotes with `split_part`: the
/// regular expression it replaces (`^\{"timestamp": ?\{…"([^"]+)"`) accepted the same
/// heads, but a match with a capture cost the server some 40 µs a row, the better part of
/// `aggregates` on a plain store (3.5 of 4.1 s for 50,000 events, its pass over every
/// row's time), and every event read selects it too. ALIAS is the table's alias.
const STATE_TIME: &str = "(SELECT CASE WHEN split_part(h, '\"', 1) = '{' \
     AND split_part(h, '\"', 2) = 'timestamp' AND split_part(h, '\"', 3) IN (':{', ': {') \
     AND split_part(h, '\"', 4) = '_type_' AND split_part(h, '\"', 5) IN (':', ': ') \
     AND split_part(h, '\"', 6) = 'datetime_iso' AND split_part(h, '\"', 7) IN (',', ', ') \
     AND split_part(h, '\"', 8) = '_data_' AND split_part(h, '\"', 9) IN (':', ': ') \
     AND length(h) - length(replace(h, '\"', '')) >= 10 \
     THEN nullif(split_part(h, '\"', 10), '') END \
     FROM (SELECT encode(substring(ALIAS.state from 1 for 160), 'escape') AS h) state_head)";

fn eventsourcing(catalog: &PgCatalog<'_>, mapping: &SqlMapping) -> Result<Layout, SourceError> {
    let table = match mapping.events.table.as_str() {
        "events" => {
            let found = eventsourcing_tables(catalog)?;
            match found.as_slice() {
                [one] => one.clone(),
                [] => "stored_events".to_string(),
                several => {
                    return Err(SourceError::Schema(format!(
                        "{} holds several eventsourcing stores ({}); pick one with --map events.table=NAME",
                        catalog.store_name(),
                        several.join(", ")
                    )))
                }
            }
        }
        mapped => mapped.to_string(),
    };
    let info = require(catalog, Preset::Eventsourcing, &table)?;
    let name = table.strip_suffix("_events").unwrap_or(&table);
    let snapshots = catalog.table(&format!("{name}_snapshots"))?;
    // The timestamp is the first key of the JSON state; compressed or encrypted states give
    // NULL here and are decoded (or flagged) per event instead.
    let timestamp = |alias: &str| Column::new(STATE_TIME.replace("ALIAS", alias), Kind::Text);
    let events_from = format!("{} e", qualified(&info)?);
    let position = match info.has("notification_id") {
        true => col(&info, "e", "notification_id"),
        false => Column::null(),
    };
    Ok(Layout {
        dialect: Dialect::Postgres,
        events: EventExprs {
            table: events_from.clone(),
            positions_table: events_from,
            aggregate_id: col(&info, "e", "originator_id"),
            aggregate_type: col(&info, "e", "topic"),
            version: col(&info, "e", "originator_version"),
            event_type: col(&info, "e", "topic"),
            timestamp: timestamp("e"),
            data: col(&info, "e", "state"),
            metadata: Column::null(),
            event_id: Column::null(),
            position,
            filter: None,
        },
        snapshots: match snapshots {
            Some(s) => Some(SnapshotExprs {
                table: format!("{} s", qualified(&s)?),
                aggregate_id: col(&s, "s", "originator_id"),
                version: col(&s, "s", "originator_version"),
                state: col(&s, "s", "state"),
                created_at: timestamp("s"),
            }),
            None => None,
        },
        codec: Codec::Eventsourcing,
        list_override: None,
    })
}

fn emmett(catalog: &PgCatalog<'_>) -> Result<Layout, SourceError> {
    let info = require(catalog, Preset::Emmett, "emt_messages")?;
    let streams = catalog.table("emt_streams")?;
    let messages = format!("{} m", qualified(&info)?);
    // Emmett's partitions (a tenant, a shard) each hold their own streams, and two may use
    // the same stream id: with more than one in the store, an aggregate is PARTITION/ID.
    let partitioned = match &streams {
        Some(s) if s.has("partition") && info.has("partition") => {
            catalog.holds_several(s, "partition")?
        }
        _ => false,
    };
    let (aggregate_id, stream_key) = match partitioned {
        true => (
            Column::new("(m.partition || '/' || m.stream_id)", Kind::Text),
            "m.partition, m.stream_id",
        ),
        false => (col(&info, "m", "stream_id"), "m.stream_id"),
    };
    let (aggregate_type, list_override) = match &streams {
        Some(streams) => {
            let streams = qualified(streams)?;
            let id = &aggregate_id.sql;
            (
                Column::new(
                    format!(
                        "(SELECT s.stream_type FROM {streams} s \
                         WHERE s.stream_id = m.stream_id AND s.partition = m.partition LIMIT 1)"
                    ),
                    Kind::Text,
                ),
                Some(format!(
                    "SELECT {id}, MIN(s.stream_type), COUNT(*), MIN(m.created), MAX(m.created) \
                     FROM {messages} LEFT JOIN (SELECT stream_id, partition, MIN(stream_type) AS stream_type \
                     FROM {streams} GROUP BY stream_id, partition) s \
                     ON s.stream_id = m.stream_id AND s.partition = m.partition \
                     WHERE m.message_kind = 'E' GROUP BY {stream_key} ORDER BY 1"
                )),
            )
        }
        // The stream id's prefix names its type by Emmett convention (`shopping_cart-123`).
        None => (
            Column::new(
                "CASE WHEN strpos(m.stream_id, '-') > 1 THEN split_part(m.stream_id, '-', 1) END",
                Kind::Text,
            ),
            None,
        ),
    };
    Ok(Layout {
        dialect: Dialect::Postgres,
        events: EventExprs {
            table: messages.clone(),
            positions_table: messages,
            aggregate_id,
            aggregate_type,
            version: col(&info, "m", "stream_position"),
            event_type: col(&info, "m", "message_type"),
            timestamp: col(&info, "m", "created"),
            data: col(&info, "m", "message_data"),
            metadata: col(&info, "m", "message_metadata"),
            event_id: col(&info, "m", "message_id"),
            position: col(&info, "m", "global_position"),
            filter: Some("m.message_kind = 'E'".into()),
        },
        snapshots: None,
        codec: Codec::Plain,
        list_override,
    })
}

fn message_db(catalog: &PgCatalog<'_>) -> Result<Layout, SourceError> {
    let info = match catalog.table("messages")? {
        Some(info) if info.has("stream_name") => info,
        _ => require(
            catalog,
            Preset::MessageDb,
            &format!("{MESSAGE_DB_SCHEMA}.messages"),
        )?,
    };
    message_db_layout(&info)
}

/// Message DB's stored `position`, and rewind's version: it counts from 0, and rewind's
/// v0 is the state before the first event.
const MESSAGE_DB_POSITION: &str = "m.\"position\"";
const MESSAGE_DB_VERSION: &str = "(m.\"position\" + 1)";

fn message_db_layout(info: &TableInfo) -> Result<Layout, SourceError> {
    let messages = format!("{} m", qualified(info)?);
    Ok(Layout {
        dialect: Dialect::Postgres,
        events: EventExprs {
            table: messages.clone(),
            positions_table: messages,
            aggregate_id: col(info, "m", "stream_name"),
            // Message DB's category(): the stream name up to its first dash.
            aggregate_type: Column::new("split_part(m.stream_name, '-', 1)", Kind::Text),
            version: Column::new(MESSAGE_DB_VERSION, Kind::BigInt),
            event_type: col(info, "m", "type"),
            timestamp: col(info, "m", "time"),
            data: col(info, "m", "data"),
            metadata: col(info, "m", "metadata"),
            event_id: col(info, "m", "id"),
            position: col(info, "m", "global_position"),
            filter: None,
        },
        snapshots: None,
        codec: Codec::Plain,
        list_override: None,
    })
}

/// The shared statements order one stream's events by the version and page them by
/// `(version, global_position) > (v, p)`. Message DB's version is `position + 1`, an
/// expression its `messages_stream` index (stream_name, position) knows nothing of: the
/// server sorted every history it read and could not start a page at an index position,
/// so each page of the UI read its stream from the first message. The same order and the
/// same rows, from the stored column: `ORDER BY position, global_position` and
/// `(position, global_position) > (v - 1, p)`. The version shown stays `position + 1`.
/// A statement the shared layout writes differently is left as it is (still right, only
/// slower); the unit test below says when that happens.
pub fn message_db_index_order(layout: &Layout, queries: &mut Queries) {
    let e = &layout.events;
    if e.version.sql != MESSAGE_DB_VERSION {
        return;
    }
    let (d, position) = (layout.dialect, &e.position.sql);
    let n = d.first_after_id();
    let by_version = format!("ORDER BY {MESSAGE_DB_VERSION}, {position}");
    let by_position = format!("ORDER BY {MESSAGE_DB_POSITION}, {position}");
    let after_version = format!(
        "({MESSAGE_DB_VERSION}, {position}) > ({}, {})",
        d.integer_param(n),
        d.integer_param(n + 1)
    );
    let after_position = format!(
        "({MESSAGE_DB_POSITION}, {position}) > ({} - 1, {})",
        d.integer_param(n),
        d.integer_param(n + 1)
    );
    for sql in [
        &mut queries.read_events,
        &mut queries.read_events_page,
        &mut queries.read_events_after,
        &mut queries.read_events_from_version,
    ] {
        *sql = sql
            .replace(&after_version, &after_position)
            .replace(&by_version, &by_position);
    }
}

/// What Marten keeps beside the payload, by its column, as a metadata field.
const MARTEN_FIELDS: [(&str, &str, &str); 6] = [
    ("tenant_id", "tenant_id", "e.tenant_id"),
    ("correlation_id", "correlation_id", "e.correlation_id"),
    ("causation_id", "causation_id", "e.causation_id"),
    ("headers", "headers", "e.headers"),
    (
        "is_archived",
        "archived",
        "CASE WHEN e.is_archived THEN true END",
    ),
    ("mt_dotnet_type", "dotnet_type", "e.mt_dotnet_type"),
];

fn marten(catalog: &PgCatalog<'_>) -> Result<Layout, SourceError> {
    let info = require(catalog, Preset::Marten, "mt_events")?;
    let streams = catalog.table("mt_streams")?;
    let events = format!("{} e", qualified(&info)?);
    let fields: Vec<String> = MARTEN_FIELDS
        .iter()
        .filter(|(column, _, _)| info.has(column))
        .map(|(_, name, expr)| format!("'{name}', {expr}"))
        .collect();
    let metadata = match fields.is_empty() {
        true => Column::null(),
        false => Column::expr(format!(
            "jsonb_strip_nulls(jsonb_build_object({}))",
            fields.join(", ")
        )),
    };
    // Conjoined tenancy (the streams' primary key is (id, tenant_id)): two tenants' streams
    // may share an id and are still two streams, so an aggregate is named `TENANT/ID`.
    let conjoined = match &streams {
        Some(s) => catalog
            .primary_key(s)?
            .iter()
            .any(|column| column == "tenant_id"),
        None => false,
    };
    let (aggregate_id, same_stream, stream_name) = match conjoined {
        true => (
            Column::new("(e.tenant_id || '/' || e.stream_id::text)", Kind::Text),
            "s.id = e.stream_id AND s.tenant_id = e.tenant_id",
            "s.tenant_id || '/' || s.id::text",
        ),
        false => (col(&info, "e", "stream_id"), "s.id = e.stream_id", "s.id"),
    };
    let (aggregate_type, list_override) = match &streams {
        Some(s) => {
            let table = qualified(s)?;
            let time = |name: &str| match s.has(name) {
                true => format!("s.\"{name}\""),
                false => "NULL".into(),
            };
            (
                Column::new(
                    format!("(SELECT s.type FROM {table} s WHERE {same_stream} LIMIT 1)"),
                    Kind::Text,
                ),
                // The streams table has each stream's type, version and times: no scan of
                // the events needed.
                Some(format!(
                    "SELECT {stream_name}, s.type, s.version, {}, {} FROM {table} s ORDER BY 1",
                    time("created"),
                    time("timestamp")
                )),
            )
        }
        None => (Column::null(), None),
    };
    Ok(Layout {
        dialect: Dialect::Postgres,
        events: EventExprs {
            table: events.clone(),
            positions_table: events,
            aggregate_id,
            aggregate_type,
            version: col(&info, "e", "version"),
            event_type: col(&info, "e", "type"),
            timestamp: col(&info, "e", "timestamp"),
            data: col(&info, "e", "data"),
            metadata,
            event_id: col(&info, "e", "id"),
            position: col(&info, "e", "seq_id"),
            filter: None,
        },
        snapshots: None,
        codec: Codec::Plain,
        list_override,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_db_table() -> TableInfo {
        let columns = [
            ("global_position", "int8"),
            ("position", "int8"),
            ("time", "timestamp"),
            ("stream_name", "text"),
            ("type", "text"),
            ("data", "jsonb"),
            ("metadata", "jsonb"),
            ("id", "uuid"),
        ];
        TableInfo {
            schema: MESSAGE_DB_SCHEMA.into(),
            name: "messages".into(),
            columns: columns
                .iter()
                .map(|(name, ty)| (name.to_string(), ty.to_string()))
                .collect(),
        }
    }

    #[test]
    fn message_db_histories_are_ordered_and_paged_by_the_stored_position() {
        let layout = message_db_layout(&message_db_table()).unwrap();
        let mut q = layout.queries();
        message_db_index_order(&layout, &mut q);
        let order = "ORDER BY m.\"position\", m.\"global_position\"";
        for sql in [
            &q.read_events,
            &q.read_events_page,
            &q.read_events_after,
            &q.read_events_from_version,
        ] {
            assert!(sql.ends_with(order), "{sql}");
            // The version shown is still the 1-based one.
            assert!(
                sql.starts_with("SELECT split_part(m.stream_name, '-', 1), (m.\"position\" + 1), "),
                "{sql}"
            );
        }
        assert!(
            q.read_events_page.contains(
                "AND (m.\"position\", m.\"global_position\") > ($2::bigint - 1, $3::bigint)"
            ),
            "{}",
            q.read_events_page
        );
        assert!(
            !q.read_events_page.contains("((m.\"position\" + 1),"),
            "{}",
            q.read_events_page
        );
    }
}
