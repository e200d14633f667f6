//! Command-line options for `postgres://` sources, laid over rewind.toml's `[postgres]`.

use crate::source::postgres::PostgresConfig;

#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "PostgreSQL sources (postgres://USER@HOST:PORT/DB)")]
pub struct PostgresArgs {
    /// Seconds the server may spend on one statement before it stops it (statement_timeout)
    /// [default: 30].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub pg_timeout: Option<f64>,

    /// Seconds to wait for the server to answer a connection, unless the URL's
    /// connect_timeout says [default: PGCONNECT_TIMEOUT, else 10].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub pg_connect_timeout: Option<f64>,

    /// The schema the store's tables are in, unless the URL's ?schema= says [default: the
    /// server's search_path].
    #[arg(long, global = true, value_name = "NAME")]
    pub pg_schema: Option<String>,

    /// libpq's sslmode, unless the URL's says: disable, prefer, require, verify-ca,
    /// verify-full (against the system's roots or sslrootcert) [default: PGSSLMODE, else
    /// prefer].
    #[arg(long, global = true, value_name = "MODE")]
    pub pg_sslmode: Option<String>,
}

impl PostgresArgs {
    /// The flags as a `[postgres]` section, to lay over rewind.toml's.
    pub fn to_config(&self) -> PostgresConfig {
        PostgresConfig {
            timeout: self.pg_timeout,
            connect_timeout: self.pg_connect_timeout,
            schema: self.pg_schema.clone(),
            sslmode: self.pg_sslmode.clone(),
            ..PostgresConfig::default()
        }
    }
}
