//! How to read a PostgreSQL store: rewind.toml's `[postgres]` section, and the options it
//! and the flags resolve to.

use std::time::Duration;

use serde::Deserialize;

use crate::source::sql::{EventColumns, Preset, SnapshotColumns, SqlMapping};
use crate::source::BadOption;

/// The server stops a statement after this long unless told otherwise (`--pg-timeout`).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct PostgresOptions {
    pub mapping: SqlMapping,
    /// A library's layout, forced; `None` detects it from the tables.
    pub preset: Option<Preset>,
    /// The server stops any statement that runs longer (`statement_timeout`).
    pub statement_timeout: Duration,
    /// How long to wait for the server; `None`: the URL's, `PGCONNECT_TIMEOUT`, or 10 s.
    pub connect_timeout: Option<Duration>,
    /// The schema tables are looked for in, when the URL names none.
    pub schema: Option<String>,
    /// libpq's `sslmode`, when the URL names none.
    pub sslmode: Option<String>,
    /// Every read from opening on shares one snapshot, until `release_snapshot`: a CLI
    /// command's; never the UI's, which stays open (see `connection`).
    pub hold_snapshot: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            mapping: SqlMapping::default(),
            preset: None,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            connect_timeout: None,
            schema: None,
            sslmode: None,
            hold_snapshot: false,
        }
    }
}

/// rewind.toml's `[postgres]` section; the flags (`--pg-timeout`, …) are laid over it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// Seconds a statement may run (`statement_timeout`).
    pub timeout: Option<f64>,
    /// Seconds to wait for the server.
    pub connect_timeout: Option<f64>,
    pub schema: Option<String>,
    pub sslmode: Option<String>,
    /// Table and column names, as `[sqlite.events]` has them.
    pub events: EventColumns,
    pub snapshots: SnapshotColumns,
    /// Set when the file names a snapshots table, so a missing one is an error.
    #[serde(skip)]
    pub snapshots_named: bool,
}

impl PostgresConfig {
    /// The flags' values over the file's: each set flag wins.
    pub fn overlay(mut self, flags: PostgresConfig) -> PostgresConfig {
        self.timeout = flags.timeout.or(self.timeout);
        self.connect_timeout = flags.connect_timeout.or(self.connect_timeout);
        self.schema = flags.schema.or(self.schema);
        self.sslmode = flags.sslmode.or(self.sslmode);
        self
    }

    /// The options these settings make, the mapping given by the caller (the file's, with
    /// `--map` applied).
    pub fn options(&self, mapping: SqlMapping) -> Result<PostgresOptions, BadOption> {
        let seconds = |value: Option<f64>, what: &str| -> Result<Option<Duration>, BadOption> {
            match value {
                None => Ok(None),
                Some(s) if (0.001..=86_400.0).contains(&s) => Ok(Some(Duration::from_secs_f64(s))),
                Some(s) => Err(BadOption(format!(
                    "{what} {s} is out of range: give 0.001 to 86400 seconds"
                ))),
            }
        };
        if let Some(mode) = &self.sslmode {
            if ![
                "disable",
                "allow",
                "prefer",
                "require",
                "verify-ca",
                "verify-full",
            ]
            .contains(&mode.as_str())
            {
                return Err(BadOption(format!(
                    "sslmode {mode:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )));
            }
        }
        Ok(PostgresOptions {
            mapping,
            preset: None,
            statement_timeout: seconds(self.timeout, "--pg-timeout")?
                .unwrap_or(DEFAULT_STATEMENT_TIMEOUT),
            connect_timeout: seconds(self.connect_timeout, "--pg-connect-timeout")?,
            schema: self.schema.clone(),
            sslmode: self.sslmode.clone(),
            hold_snapshot: false,
        })
    }

    /// The mapping the file names.
    pub fn mapping(&self) -> SqlMapping {
        let mut mapping = SqlMapping {
            events: self.events.clone(),
            snapshots: self.snapshots.clone(),
            ..SqlMapping::default()
        };
        mapping.clear_empty_optionals();
        mapping.snapshots_required = self.snapshots_named && mapping.snapshots.table.is_some();
        mapping
    }
}
