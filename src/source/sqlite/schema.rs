//! The store's schema: which tables and columns it has, which layout reads it (a preset,
//! detected or forced, or the user's mapping), and whether its events have positions.

use super::{quote_identifier, Preset, SqliteMapping, SqliteSource};
use crate::source::sql::{self, Catalog, Dialect, Layout};
use crate::source::{BadOption, SourceError};

impl SqliteSource {
    /// Whether the position expression gives values: a view has a NULL rowid and a
    /// WITHOUT ROWID table none at all.
    pub(super) fn has_positions(&self, layout: &Layout) -> Result<bool, SourceError> {
        let e = &layout.events;
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IS NOT NULL LIMIT 1",
            e.position.sql, e.table, e.aggregate_id.sql
        );
        let conn = self.db.get();
        let Ok(mut stmt) = conn.prepare(&sql) else {
            return Ok(false);
        };
        let first: Option<Option<i64>> =
            stmt.query_row([], |row| row.get(0))
                .map(Some)
                .or_else(|err| match err {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    err => Err(self.error(err, "read the schema")),
                })?;
        // An empty table cannot say; its rowid will be there once rows are.
        Ok(!matches!(first, Some(None)))
    }

    /// A forced preset, a detected one, or the user's mapping (checked column by column).
    pub(super) fn choose_layout(&mut self) -> Result<Layout, SourceError> {
        let tables = self.table_names()?;
        let mapping_is_default = self.options.mapping == SqliteMapping::default();
        let detected = (mapping_is_default && !tables.iter().any(|t| t == "events"))
            .then(|| Preset::detect(&tables))
            .flatten();
        let preset = self.options.preset.or(detected).unwrap_or(Preset::Native);
        self.preset = preset;
        if !preset.available_in(Dialect::Sqlite) {
            return Err(SourceError::Option(BadOption(format!(
                "the {} preset reads PostgreSQL stores; {} is a SQLite file",
                preset.name(),
                self.path.display()
            ))));
        }
        if preset == Preset::Native {
            let catalog = SqliteCatalog {
                source: self,
                tables,
            };
            let checked = match sql::check_mapping(&catalog, &self.options.mapping) {
                Err(SourceError::Schema(message)) => {
                    return Err(SourceError::Schema(library_table_hint(
                        message,
                        &self.options.mapping.events.table,
                    )))
                }
                checked => checked?,
            };
            self.options.mapping = checked.mapping;
            return Ok(Layout::from_mapping(
                &self.options.mapping,
                checked.with_snapshots,
                Dialect::Sqlite,
                &quote_identifier,
                &Default::default(),
            )?);
        }
        let (events, snapshots) = preset.tables();
        // Naming the preset's own tables is no contradiction.
        let mapping = &self.options.mapping;
        let mut honoured = Vec::new();
        if mapping.events.table == events {
            honoured.push("events.table");
        }
        if snapshots.is_some() && mapping.snapshots.table.as_deref() == snapshots {
            honoured.push("snapshots.table");
        }
        mapping
            .refuse_unused(preset.name(), &honoured)
            .map_err(SourceError::Option)?;
        if !tables.iter().any(|t| t == events) {
            return Err(SourceError::Schema(format!(
                "{} has no table {events:?}, which the {} preset reads ({})",
                self.path.display(),
                preset.name(),
                sql::listed(&tables)
            )));
        }
        let with_snapshots = snapshots.is_some_and(|s| tables.iter().any(|t| t == s));
        Ok(preset
            .layout(with_snapshots)
            .expect("non-native presets have a layout"))
    }

    fn table_columns(&self, table: &str) -> Result<Option<Vec<String>>, SourceError> {
        let sql = format!("PRAGMA table_info({})", quote_identifier(table)?);
        let conn = self.db.get();
        let mut stmt = conn
            .prepare(&sql)
            .map_err(|e| self.error(e, "read the schema"))?;
        let names = stmt
            .query_map([], |row| row.get::<_, String>(1))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e, "read the schema"))?;
        Ok((!names.is_empty()).then_some(names))
    }

    fn table_names(&self) -> Result<Vec<String>, SourceError> {
        let conn = self.db.get();
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name")
            .map_err(|e| self.error(e, "read the schema"))?;
        let names = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.error(e, "read the schema"));
        names
    }
}

/// The store's schema as the shared mapping check reads it.
struct SqliteCatalog<'s> {
    source: &'s SqliteSource,
    tables: Vec<String>,
}

impl Catalog for SqliteCatalog<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn store_name(&self) -> String {
        self.source.path.display().to_string()
    }

    fn tables(&self) -> &[String] {
        &self.tables
    }

    fn columns(&self, table: &str) -> Result<Option<Vec<String>>, SourceError> {
        self.source.table_columns(table)
    }
}

/// A mapping's error when the mapped events table is a library's own, which the native
/// layout cannot read: with the preset that does (as PostgreSQL's error says).
fn library_table_hint(message: String, table: &str) -> String {
    let Some(preset) = Preset::detect(&[table.to_string()]) else {
        return message;
    };
    let library = match preset {
        Preset::Eventsourcing => "Python eventsourcing's",
        Preset::Emmett => "Emmett's",
        _ => return message,
    };
    format!(
        "{message}; {table:?} is {library} events table: read it with --preset {} instead of the --map",
        preset.name()
    )
}
