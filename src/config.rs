//! rewind.toml: settings a user keeps next to their store instead of repeating flags.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::source::kafka::KafkaConfig;
use crate::source::postgres::PostgresConfig;
use crate::source::sqlite::SqliteMapping;
use crate::source::BadOption;

/// A settings file that cannot be read or makes no sense, or a flag out of range: the
/// user's settings are wrong, not their store.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(transparent)]
    Option(#[from] BadOption),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Table and column names for SQLite stores that do not use the native schema.
    pub sqlite: SqliteMapping,
    /// Seconds to wait for a writer's lock before giving up.
    pub lock_timeout: Option<f64>,
    /// Seconds of SQLite's work one query may take before it is stopped.
    pub query_timeout: Option<f64>,
    /// A library's layout (`eventsourcing`, `emmett`, `messagedb`, `marten`), instead of
    /// detecting it.
    pub preset: Option<String>,
    /// A jq program that folds events into state; relative to the config file.
    pub reducer: Option<std::path::PathBuf>,
    /// A jq predicate every state must satisfy; health counts the states that break it.
    pub invariant: Option<String>,
    /// Seconds one event may take in a jq program.
    pub jq_timeout: Option<f64>,
    /// Megabytes (MiB) of memory a jq program may use.
    pub jq_memory: Option<u64>,
    /// Mapping, client properties and cache for `kafka://` sources.
    pub kafka: KafkaConfig,
    /// Mapping, timeouts, schema and sslmode for `postgres://` sources.
    pub postgres: PostgresConfig,
    /// jq-style paths whose values transcripts replace with a marker, e.g. `.owner`.
    pub redact: Vec<String>,
    /// Where correlation, causation and event ids live.
    pub trace: TraceConfig,
}

/// The `[trace]` section: each a comma-separated list of places, as the flags take them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceConfig {
    /// The flags' names (`correlation_from`, …) are accepted too: people write those.
    #[serde(alias = "correlation_from")]
    pub correlation: Option<String>,
    #[serde(alias = "causation_from")]
    pub causation: Option<String>,
    #[serde(alias = "event_id_from")]
    pub event_id: Option<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            crate::files::bounded::read_small_text(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses the file's TOML once: the table says which sections the file names, then
    /// the same table becomes the typed settings.
    pub fn parse(text: &str) -> Result<Config, String> {
        // toml's messages span several lines with a source excerpt; keep the first.
        let first_line =
            |message: &str| message.lines().next().unwrap_or("invalid TOML").to_string();
        let table: toml::Table = toml::from_str(text).map_err(|err| {
            let message = first_line(err.message());
            match err.span() {
                Some(span) => format!("{message} at {}", line_and_column(text, span.start)),
                None => message,
            }
        })?;
        // A snapshots table named in the file must exist; the default one may be absent.
        let named = |section: &str| {
            table
                .get(section)
                .and_then(|s| s.get("snapshots")?.get("table"))
                .is_some()
        };
        let (sqlite_named, postgres_named) = (named("sqlite"), named("postgres"));
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|err: toml::de::Error| first_line(err.message()))?;
        config.sqlite.clear_empty_optionals();
        config.sqlite.snapshots_required = sqlite_named && config.sqlite.snapshots.table.is_some();
        config.postgres.snapshots_named = postgres_named;
        Ok(config)
    }
}

/// "line L, column C" of a byte offset, both from 1, columns in characters.
fn line_and_column(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_syntax_error_says_where() {
        let err = Config::parse("[sqlite]\nx = \n").unwrap_err();
        assert!(err.ends_with(" at line 2, column 5"), "{err}");
    }

    use super::*;

    #[test]
    fn empty_config_is_the_native_schema() {
        let config = Config::parse("").unwrap();
        assert_eq!(config.sqlite, SqliteMapping::default());
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Config::parse("[sqlite.events]\ntabel = \"x\"\n").unwrap_err();
        assert!(err.contains("tabel"), "{err}");
    }

    #[test]
    fn naming_a_snapshots_table_makes_it_required() {
        let config = Config::parse("[sqlite.snapshots]\ntable = \"snaps\"\n").unwrap();
        assert!(config.sqlite.snapshots_required);
        assert_eq!(config.sqlite.snapshots.table.as_deref(), Some("snaps"));
    }

    #[test]
    fn postgres_section_has_its_own_mapping() {
        let config = Config::parse(
            "[postgres]\ntimeout = 5\nschema = \"app\"\n[postgres.events]\ntable = \"domain_events\"\n[postgres.snapshots]\ntable = \"snaps\"\n",
        )
        .unwrap();
        assert_eq!(config.postgres.timeout, Some(5.0));
        assert_eq!(config.postgres.schema.as_deref(), Some("app"));
        let mapping = config.postgres.mapping();
        assert_eq!(mapping.events.table, "domain_events");
        assert!(mapping.snapshots_required);
        assert_eq!(config.sqlite, SqliteMapping::default());
        let err = Config::parse("[postgres]\npassword = \"x\"\n").unwrap_err();
        assert!(err.contains("password"), "{err}");
    }

    #[test]
    fn kafka_section_is_read_and_checked() {
        let config = Config::parse(
            "[kafka]\nevent_type = \"header:kind\"\nsnapshots_topic = \"snaps\"\n[kafka.properties]\n\"security.protocol\" = \"SSL\"\n",
        )
        .unwrap();
        assert_eq!(config.kafka.event_type.as_deref(), Some("header:kind"));
        assert_eq!(config.kafka.properties.len(), 1);
        let err = Config::parse("[kafka]\ntopic = \"x\"\n").unwrap_err();
        assert!(err.contains("topic"), "{err}");
    }
}
