//! A mapping checked against the tables a store really has, with the same messages for
//! every SQL store: the missing table or column, the columns that exist, the mapping in use.

use super::mapping::SqlMapping;
use super::{Dialect, PRESET_NAMES};
use crate::source::SourceError;

/// What a store's schema holds, as the check needs it.
pub trait Catalog {
    fn dialect(&self) -> Dialect;
    /// How the store is named in messages, credentials removed.
    fn store_name(&self) -> String;
    /// Every table and view the mapping could name.
    fn tables(&self) -> &[String];
    /// A table's columns; `None` when there is no such table.
    fn columns(&self, table: &str) -> Result<Option<Vec<String>>, SourceError>;
}

/// A mapping every named column of which exists.
pub struct CheckedMapping {
    pub mapping: SqlMapping,
    pub with_snapshots: bool,
}

/// Checks every mapped table and column, so a wrong mapping fails at open with a message
/// naming it; default columns the table lacks (the event id, PostgreSQL's
/// `global_position`) are left unmapped instead.
pub fn check_mapping(
    catalog: &dyn Catalog,
    mapping: &SqlMapping,
) -> Result<CheckedMapping, SourceError> {
    let mut mapping = mapping.clone();
    let default_position = catalog.dialect().default_position();
    let columns = catalog.columns(&mapping.events.table)?.unwrap_or_default();
    let has = |name: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(name));
    if !mapping.event_id_required && !mapping.events.event_id.as_deref().is_some_and(has) {
        mapping.events.event_id = None;
    }
    if catalog.dialect() == Dialect::Postgres
        && mapping.events.position.is_none()
        && has(default_position)
    {
        mapping.events.position = Some(default_position.to_string());
    }
    let e = &mapping.events;
    let described = mapping.describe_events(default_position);
    let mut wanted = vec![
        ("aggregate_id", e.aggregate_id.as_str()),
        ("event_type", e.event_type.as_str()),
        ("event_data", e.event_data.as_str()),
        ("version", e.version.as_str()),
    ];
    for (field, column) in [
        ("aggregate_type", &e.aggregate_type),
        ("metadata", &e.metadata),
        ("timestamp", &e.timestamp),
        ("event_id", &e.event_id),
        ("position", &e.position),
    ] {
        if let Some(column) = column {
            wanted.push((field, column));
        }
    }
    if !require_columns(catalog, &e.table, &wanted, &described)? {
        return Err(SourceError::Schema(format!(
            "no table {:?} in {} ({}); mapping in use: {described}; point rewind at your table with --map events.table=NAME or rewind.toml, or pick a library layout with --preset ({PRESET_NAMES})",
            e.table,
            catalog.store_name(),
            listed(catalog.tables()),
        )));
    }
    let s = &mapping.snapshots;
    let Some(table) = &s.table else {
        return Ok(CheckedMapping {
            mapping,
            with_snapshots: false,
        });
    };
    let mut wanted = vec![
        ("aggregate_id", s.aggregate_id.as_str()),
        ("version", s.version.as_str()),
        ("state", s.state.as_str()),
    ];
    if let Some(created) = &s.created_at {
        wanted.push(("created_at", created));
    }
    let found = require_columns(catalog, table, &wanted, &mapping.describe_snapshots())?;
    match (found, mapping.snapshots_required) {
        (true, _) | (false, false) => Ok(CheckedMapping {
            mapping,
            with_snapshots: found,
        }),
        (false, true) => Err(SourceError::Schema(format!(
            "no snapshots table {table:?} in {}; mapping in use: {}; use --map snapshots.table= for a store without snapshots",
            catalog.store_name(),
            mapping.describe_snapshots()
        ))),
    }
}

/// Whether the table exists; an error naming every missing column if any is.
fn require_columns(
    catalog: &dyn Catalog,
    table: &str,
    wanted: &[(&str, &str)],
    mapping: &str,
) -> Result<bool, SourceError> {
    let Some(columns) = catalog.columns(table)? else {
        return Ok(false);
    };
    let missing: Vec<String> = wanted
        .iter()
        .filter(|(_, column)| !columns.iter().any(|c| c.eq_ignore_ascii_case(column)))
        .map(|(field, column)| format!("no column {column:?} for {field}"))
        .collect();
    if missing.is_empty() {
        return Ok(true);
    }
    Err(SourceError::Schema(format!(
        "table {table:?} in {} has {} (columns: {}); mapping in use: {mapping}; fix it with --map or rewind.toml",
        catalog.store_name(),
        missing.join(", "),
        columns.join(", ")
    )))
}

/// The tables of a store, for messages.
pub fn listed(tables: &[String]) -> String {
    if tables.is_empty() {
        "it has no tables".to_string()
    } else {
        format!("tables: {}", tables.join(", "))
    }
}
