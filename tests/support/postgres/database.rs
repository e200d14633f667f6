//! One test's database in a cluster, its URLs, and roles with chosen privileges.

use std::path::Path;

use super::{fixtures_dir, quote_ident, quote_literal, run_psql, PgServer};
use super::{SUPERUSER, SUPERUSER_PASSWORD};

/// A database of its own for one test; dropped (with its connections) with the guard.
pub struct PgDatabase<'a> {
    server: &'a PgServer,
    name: String,
}

/// A login role with a password, for connecting over TCP as someone other than the superuser.
pub struct PgRole {
    pub name: String,
    pub password: String,
}

impl<'a> PgDatabase<'a> {
    pub(super) fn new(server: &'a PgServer, name: String) -> PgDatabase<'a> {
        PgDatabase { server, name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn server(&self) -> &'a PgServer {
        self.server
    }

    /// `postgres://rewind:PASSWORD@127.0.0.1:PORT/DB`: TCP, as the superuser.
    pub fn url(&self) -> String {
        self.server.url(SUPERUSER, SUPERUSER_PASSWORD, &self.name)
    }

    /// The same over TCP as `role`, with its password.
    pub fn url_as(&self, role: &PgRole) -> String {
        self.server.url(&role.name, &role.password, &self.name)
    }

    /// `postgres:///DB?host=/cluster/dir&port=PORT&user=rewind`: the unix socket, which
    /// trusts, so no password.
    pub fn socket_url(&self) -> String {
        format!(
            "postgres:///{}?host={}&port={}&user={SUPERUSER}",
            percent_encode(&self.name),
            percent_encode(&self.server.dir().to_string_lossy()).replace("%2F", "/"),
            self.server.port()
        )
    }

    /// Runs SQL through the real psql (`ON_ERROR_STOP=1`) as the superuser; its output
    /// (unaligned, tuples only), or a panic with the error.
    pub fn psql(&self, sql: &str) -> String {
        self.try_psql(sql)
            .unwrap_or_else(|err| panic!("psql on {} failed: {err}\nSQL: {sql}", self.name))
    }

    pub fn try_psql(&self, sql: &str) -> Result<String, String> {
        self.server.psql_in(&self.name, sql)
    }

    /// Runs SQL as `role` over TCP with its password (what a client of the store does).
    pub fn psql_as(&self, role: &PgRole, sql: &str) -> Result<String, String> {
        let mut psql = self.server.psql_command();
        psql.arg("-d").arg(self.url_as(role));
        run_psql(psql, sql)
    }

    /// Loads a checked-in SQL file (a name under tests/fixtures/postgres, or a path).
    pub fn load_fixture(&self, path: impl AsRef<Path>) {
        let path = fixtures_dir().join(path);
        let mut psql = self.server.psql_command();
        psql.args(["-h"]).arg(self.server.dir());
        psql.args(["-p", &self.server.port().to_string(), "-U", SUPERUSER]);
        psql.args(["-d", &self.name, "-f"]).arg(&path);
        let output = psql.output().expect("psql runs");
        assert!(
            output.status.success(),
            "loading {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The native schema (events with a global position, snapshots), empty.
    pub fn create_native_schema(&self) {
        self.load_fixture("native-schema.sql");
    }

    /// A login role that can connect (and use the public schema, as PUBLIC may) but holds no
    /// table privilege.
    pub fn create_login_role(&self, name_hint: &str) -> PgRole {
        let name = self.server.unique_name(name_hint);
        let password = format!("{name}-secret");
        self.psql(&format!(
            "CREATE ROLE {} LOGIN PASSWORD {};",
            quote_ident(&name),
            quote_literal(&password)
        ));
        PgRole { name, password }
    }

    /// A login role that may SELECT every table of `schema` (as it is now) and nothing else.
    pub fn create_role_with_select_only(&self, name_hint: &str, schema: &str) -> PgRole {
        let role = self.create_login_role(name_hint);
        let (role_ident, schema_ident) = (quote_ident(&role.name), quote_ident(schema));
        self.psql(&format!(
            "GRANT USAGE ON SCHEMA {schema_ident} TO {role_ident};
             GRANT SELECT ON ALL TABLES IN SCHEMA {schema_ident} TO {role_ident};"
        ));
        role
    }

    /// Cuts every other connection to this database (a server going away mid-read, without
    /// stopping the shared cluster); how many were cut.
    pub fn terminate_connections(&self) -> usize {
        let cut = self.psql(&format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = {} AND pid <> pg_backend_pid();",
            quote_literal(&self.name)
        ));
        cut.trim().parse().expect("a count")
    }
}

impl Drop for PgDatabase<'_> {
    fn drop(&mut self) {
        if self.server.is_running() {
            let sql = format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE);",
                quote_ident(&self.name)
            );
            let _ = self.server.psql_in("postgres", &sql);
        }
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
