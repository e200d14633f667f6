//! Connecting as a PostgreSQL user expects, through the real binary against real servers:
//! libpq's environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`), the
//! password file (`PGPASSFILE`, `~/.pgpass`), a unix-socket host, the `postgresql://`
//! scheme, and every `sslmode` against a server that takes TCP connections only over TLS
//! (its certificate signed by a CA of the test's own, for `localhost` only).

mod support;

use support::pg_cli::PgCli;
use support::postgres::tls::TestCa;
use support::postgres::{PgDatabase, PgRole, PgServer};

const LISTED: &str = "acc-1";

fn native_store<'a>(server: &'a PgServer, test: &str) -> (PgDatabase<'a>, PgRole) {
    let db = server.create_database(test);
    db.load_fixture("native.sql");
    let reader = db.create_role_with_select_only("reader", "public");
    (db, reader)
}

/// `rewind aggregates SPEC` with `cli`'s environment: the list, or the error and exit code.
fn aggregates(cli: &PgCli, spec: &str) -> Result<String, (Option<i32>, String)> {
    let output = cli.run(&["aggregates", spec]);
    match output.status.success() {
        true => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        false => Err((
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )),
    }
}

fn lists(result: Result<String, (Option<i32>, String)>, how: &str) {
    match result {
        Ok(list) => assert!(list.contains(LISTED), "{how}: {list}"),
        Err((code, err)) => panic!("{how}: exit {code:?}: {err}"),
    }
}

/// A one-line error, exit 2, that says `what` and shows no password.
fn refused(result: Result<String, (Option<i32>, String)>, what: &[&str], password: &str) {
    let (code, err) = result.expect_err("the connection is refused");
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(what.iter().any(|w| err.contains(w)), "{what:?}: {err}");
    assert!(!err.contains(password), "{err}");
}

#[test]
fn libpq_environment_and_password_file_name_the_server_and_the_password() {
    let Some(server) = PgServer::shared("libpq environment") else {
        return;
    };
    let (db, reader) = native_store(server, "libpq_env");
    let port = server.port().to_string();
    let env = |cli: PgCli| {
        cli.env("PGHOST", "127.0.0.1")
            .env("PGPORT", &port)
            .env("PGUSER", &reader.name)
            .env("PGDATABASE", db.name())
    };
    lists(
        aggregates(
            &env(PgCli::new()).env("PGPASSWORD", &reader.password),
            "postgres://",
        ),
        "everything from PG* variables",
    );
    lists(
        aggregates(
            &env(PgCli::new()).env("PGPASSWORD", &reader.password),
            "postgresql:///",
        ),
        "the postgresql:// scheme",
    );
    refused(
        aggregates(
            &env(PgCli::new()).env("PGPASSWORD", "not-it"),
            "postgres://",
        ),
        &["password authentication failed"],
        "not-it",
    );
    refused(
        aggregates(&env(PgCli::new()), "postgres://"),
        &["PGPASSWORD"],
        &reader.password,
    );

    // The password file: PGPASSFILE, else ~/.pgpass; libpq ignores one others may read.
    let dir = tempfile::tempdir().unwrap();
    let passfile = dir.path().join("pgpass");
    let line = format!(
        "# a comment\n127.0.0.1:{port}:{}:{}:{}\n",
        db.name(),
        reader.name,
        reader.password
    );
    std::fs::write(&passfile, &line).unwrap();
    set_mode(&passfile, 0o600);
    let passfile_arg = passfile.to_string_lossy().into_owned();
    lists(
        aggregates(
            &env(PgCli::new()).env("PGPASSFILE", &passfile_arg),
            "postgres://",
        ),
        "the password from PGPASSFILE",
    );
    let cli = env(PgCli::new());
    let home_pgpass = cli.home.path().join(".pgpass");
    std::fs::write(
        &home_pgpass,
        format!("*:*:*:{}:{}\n", reader.name, reader.password),
    )
    .unwrap();
    set_mode(&home_pgpass, 0o600);
    lists(
        aggregates(&cli, "postgres://"),
        "the password from ~/.pgpass",
    );
    set_mode(&home_pgpass, 0o644);
    refused(
        aggregates(&cli, "postgres://"),
        &["PGPASSWORD", ".pgpass"],
        &reader.password,
    );

    // The URL wins over the environment, as in libpq.
    let url = db.url_as(&reader);
    let elsewhere = env(PgCli::new()).env("PGDATABASE", "no_such_database");
    lists(
        aggregates(&elsewhere, &url),
        "the URL's database over PGDATABASE",
    );
}

#[test]
fn a_unix_socket_host_in_the_url_or_pghost() {
    let Some(server) = PgServer::shared("unix socket") else {
        return;
    };
    let (db, _) = native_store(server, "unix_socket");
    lists(
        aggregates(&PgCli::new(), &db.socket_url()),
        "?host=/socket/dir",
    );
    let socket_dir = server.dir().to_string_lossy().into_owned();
    let cli = PgCli::new()
        .env("PGHOST", &socket_dir)
        .env("PGPORT", &server.port().to_string())
        .env("PGUSER", support::postgres::SUPERUSER);
    lists(
        aggregates(&cli, &format!("postgres:///{}", db.name())),
        "PGHOST naming the socket dir",
    );
}

#[test]
fn every_sslmode_against_a_server_that_requires_tls() {
    let Some(server) = PgServer::start_private("tls") else {
        return;
    };
    let (db, reader) = native_store(&server, "tls");
    let ca = TestCa::new();
    server.require_tls(&ca);
    let root = ca.root_cert().to_string_lossy().into_owned();
    let url = |host: &str, query: &str| {
        format!(
            "postgres://{}:{}@{host}:{}/{}?{query}",
            reader.name,
            reader.password,
            server.port(),
            db.name()
        )
    };
    let cli = PgCli::new();
    // The server refuses TCP without TLS, so each success was encrypted.
    refused(
        aggregates(&cli, &url("127.0.0.1", "sslmode=disable")),
        &["only encrypted connections here: use sslmode=require"],
        &reader.password,
    );
    lists(
        aggregates(&cli, &url("127.0.0.1", "")),
        "sslmode=prefer, the default",
    );
    lists(
        aggregates(&cli, &url("127.0.0.1", "sslmode=require")),
        "sslmode=require",
    );
    lists(
        aggregates(
            &PgCli::new().env("PGSSLMODE", "require"),
            &url("127.0.0.1", ""),
        ),
        "PGSSLMODE",
    );
    // verify-full: a CA the system does not trust is refused; named, it is trusted.
    refused(
        aggregates(&cli, &url("localhost", "sslmode=verify-full")),
        &["did not pass verification (unable to get local issuer certificate); name the CA that signed it with sslrootcert=FILE"],
        &reader.password,
    );
    let trusted = format!("sslmode=verify-full&sslrootcert={root}");
    lists(
        aggregates(&cli, &url("localhost", &trusted)),
        "verify-full, CA named",
    );
    lists(
        aggregates(
            &PgCli::new()
                .env("PGSSLMODE", "verify-full")
                .env("PGSSLROOTCERT", &root),
            &url("localhost", ""),
        ),
        "PGSSLMODE and PGSSLROOTCERT",
    );
    // The certificate names localhost, not 127.0.0.1: verify-full checks the name,
    // verify-ca only the signature.
    refused(
        aggregates(&cli, &url("127.0.0.1", &trusted)),
        &[
            "certificate verify failed",
            "hostname mismatch",
            "IP address mismatch",
        ],
        &reader.password,
    );
    let ca_only = format!("sslmode=verify-ca&sslrootcert={root}");
    lists(aggregates(&cli, &url("127.0.0.1", &ca_only)), "verify-ca");
    // The setting from rewind.toml's [postgres] section.
    let config = cli.home.path().join("rewind.toml");
    std::fs::write(&config, "[postgres]\nsslmode = \"disable\"\n").unwrap();
    let config_arg = config.to_string_lossy().into_owned();
    let output = cli.run(&["aggregates", &url("127.0.0.1", ""), "--config", &config_arg]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "sslmode from rewind.toml: {output:?}"
    );
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
