//! Bad input and faults on PostgreSQL sources: each is one line on stderr and exit 2 (or a
//! flagged event, for a bad value), bounded in time, and no password is ever printed.

mod support;

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::pg_cli::PgCli;
use support::postgres::{PgDatabase, PgRole, PgServer};

/// The password of every role these tests make: it must never be printed.
fn secret_role(db: &PgDatabase) -> PgRole {
    let role = db.create_role_with_select_only("reader", "public");
    let password = format!("{}-Pw9secret", role.name);
    db.psql(&format!(
        "ALTER ROLE \"{}\" PASSWORD '{password}';",
        role.name
    ));
    PgRole {
        name: role.name,
        password,
    }
}

/// Runs rewind and checks the password appears in neither stream.
fn run_hiding(cli: &PgCli, password: &str, args: &[&str]) -> std::process::Output {
    let output = cli.run(args);
    for (name, stream) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains(password),
            "{args:?} printed the password on {name}: {text}"
        );
    }
    output
}

fn one_line(output: &std::process::Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("rewind: ") && !err.contains("panicked"),
        "{err}"
    );
    err
}

fn native(test: &str) -> Option<PgDatabase<'static>> {
    let db = PgServer::shared(test)?.create_database(test);
    db.load_fixture("native.sql");
    Some(db)
}

#[test]
fn login_failures_say_what_to_check_and_never_the_password() {
    let Some(db) = native("login") else {
        return;
    };
    let cli = PgCli::new();
    let role = secret_role(&db);
    let good = db.url_as(&role);
    let ok = run_hiding(&cli, &role.password, &["aggregates", &good]);
    assert!(ok.status.success());

    let wrong = db
        .server()
        .url(&role.name, &format!("{}x", role.password), db.name());
    let err = one_line(
        &run_hiding(&cli, &role.password, &["aggregates", &wrong]),
        2,
    );
    assert!(
        err.contains("refused the login") && err.contains("password"),
        "{err}"
    );
    assert!(err.contains(&role.name), "names the user: {err}");
    // The line says it in other words; the server's own error stays attached as the cause.
    let opened = rewind::source::postgres::PgSource::open(
        &wrong,
        rewind::source::postgres::PostgresOptions::default(),
    );
    let Err(err) = opened else {
        panic!("a wrong password opened the store");
    };
    let server = err
        .original_cause()
        .and_then(|cause| cause.downcast_ref::<postgres::Error>())
        .expect("the client library's error is kept");
    assert_eq!(
        server.code(),
        Some(&postgres::error::SqlState::INVALID_PASSWORD)
    );
    assert!(!err.describe().contains("db error"), "{}", err.describe());

    let none = good.replace(&format!(":{}", role.password), "");
    let err = one_line(&run_hiding(&cli, &role.password, &["aggregates", &none]), 2);
    assert!(err.contains("asks for a password"), "{err}");
    assert!(
        err.contains("PGPASSWORD") && err.contains(".pgpass"),
        "{err}"
    );

    let unknown = db.server().url(&role.name, &role.password, "no_such_store");
    let err = one_line(
        &run_hiding(&cli, &role.password, &["events", &unknown, "x"]),
        2,
    );
    assert!(err.contains("\"no_such_store\" does not exist"), "{err}");

    // A password in the query string is redacted as well as one in the user info.
    let in_query = format!(
        "postgres://{}@127.0.0.1:{}/{}?password={}x",
        role.name,
        db.server().port(),
        db.name(),
        role.password
    );
    let err = one_line(
        &run_hiding(&cli, &role.password, &["aggregates", &in_query]),
        2,
    );
    assert!(err.contains("refused the login"), "{err}");
}

#[test]
fn a_generated_password_with_url_characters_logs_in_and_is_never_shown() {
    let Some(db) = native("url_chars") else {
        return;
    };
    let cli = PgCli::new();
    let role = db.create_role_with_select_only("gen", "public");
    // As a cloud console generates them: base64 with `/` and `+`, and a `?` besides.
    let password = "Ab/Cd+Ef?Pw9==";
    db.psql(&format!(
        "ALTER ROLE \"{}\" PASSWORD '{password}';",
        role.name
    ));
    // Written raw, not percent-encoded, as people paste them; the client reads it so.
    let raw = |password: &str| {
        format!(
            "postgres://{}:{password}@127.0.0.1:{}/{}",
            role.name,
            db.server().port(),
            db.name()
        )
    };
    let url = raw(password);
    let listed = run_hiding(&cli, password, &["aggregates", &url]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    for format in ["md", "jsonl", "html"] {
        let out = dir.path().join(format!("acc-1.{format}"));
        let out = out.to_str().unwrap();
        let exported = run_hiding(
            &cli,
            password,
            &["export", &url, "acc-1", "--format", format, "-o", out],
        );
        assert!(exported.status.success(), "{format}");
        let written = std::fs::read_to_string(out).unwrap();
        assert!(!written.contains("Ef?Pw9"), "{format} shows the password");
        assert!(written.contains("127.0.0.1"), "{format} names the server");
    }
    let wrong = raw("Ab/Cd?wrong");
    let err = one_line(&run_hiding(&cli, "Ab/Cd?wrong", &["aggregates", &wrong]), 2);
    assert!(err.contains("refused the login"), "{err}");
    assert!(!err.contains("Cd?wrong") && !err.contains("Ab/"), "{err}");
}

#[test]
fn a_role_without_select_is_told_it_needs_select() {
    let Some(db) = native("no select") else {
        return;
    };
    let outsider = db.create_login_role("outsider");
    let cli = PgCli::new();
    let err = one_line(
        &run_hiding(
            &cli,
            &outsider.password,
            &["aggregates", &db.url_as(&outsider)],
        ),
        2,
    );
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains("needs SELECT"), "{err}");
}

#[test]
fn unreachable_servers_fail_within_the_connect_timeout() {
    let cli = PgCli::new();
    // Nothing listens: refused at once.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let url = format!("postgres://ada:Pw9secret@127.0.0.1:{closed}/shop");
    let err = one_line(&run_hiding(&cli, "Pw9secret", &["aggregates", &url]), 2);
    assert!(
        err.contains("cannot connect to postgres://ada@127.0.0.1"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // A name that does not resolve.
    let err = one_line(
        &run_hiding(
            &cli,
            "Pw9secret",
            &[
                "aggregates",
                "postgres://ada:Pw9secret@no-such-host.invalid/shop",
            ],
        ),
        2,
    );
    assert!(err.contains("no-such-host.invalid"), "{err}");

    // A server that accepts and never answers: the URL's, the flag's, the variable's and
    // the default timeout bound the wait.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let accepted = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().take(4) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(15));
    });
    let url = format!("postgres://ada:Pw9secret@127.0.0.1:{port}/shop");
    let with_url = format!("{url}?connect_timeout=1");
    let timed = |cli: &PgCli, args: &[&str], within: (f64, f64)| {
        let started = Instant::now();
        let err = one_line(&run_hiding(cli, "Pw9secret", args), 2);
        let took = started.elapsed().as_secs_f64();
        assert!(
            (within.0..within.1).contains(&took),
            "{args:?} took {took} s: {err}"
        );
        assert!(err.contains("did not answer within"), "{err}");
        err
    };
    let err = timed(&cli, &["aggregates", &with_url], (0.9, 4.0));
    assert!(err.contains("1 s"), "{err}");
    timed(
        &cli,
        &["aggregates", &url, "--pg-connect-timeout", "1"],
        (0.9, 4.0),
    );
    let from_env = PgCli::new().env("PGCONNECT_TIMEOUT", "1");
    timed(&from_env, &["aggregates", &url], (0.9, 4.0));
    let err = timed(&cli, &["aggregates", &url], (9.5, 14.0));
    assert!(err.contains("10 s"), "the default: {err}");
    drop(accepted);
}

/// A missing table or column says the same as it does for SQLite: what is missing, the
/// columns (or tables) there are, and the mapping in use.
#[test]
fn a_missing_table_or_column_is_said_as_for_sqlite() {
    let Some(db) = native("missing column") else {
        return;
    };
    let cli = PgCli::new();
    let store = support::Store::native();
    let sqlite = store.arg();
    let pg = db.url();
    for map in ["events.version=revision", "events.table=domain_events"] {
        let on_pg = cli.bad(&["aggregates", &pg, "--map", map]);
        let on_sqlite = cli.bad(&["aggregates", &sqlite, "--map", map]);
        // Everything but the store's name, its columns and its position is the same.
        let pg_name = format!(
            "{} (schema public)",
            pg.replace(&format!(":{}", support::postgres::SUPERUSER_PASSWORD), "")
        );
        let shape = |err: &str, name: &str| -> String {
            let mut text = err.replace(name, "STORE");
            for open in ["(columns: ", "(tables: "] {
                if let Some(at) = text.find(open) {
                    let close = at + text[at..].find(')').unwrap();
                    text.replace_range(at..=close, "(…)");
                }
            }
            let at = text.find("position=").unwrap();
            let end = at + text[at..].find(';').unwrap();
            text.replace_range(at..end, "position=…");
            text
        };
        assert_eq!(
            shape(&on_pg, &pg_name),
            shape(&on_sqlite, &sqlite),
            "{on_pg}\n{on_sqlite}"
        );
        assert!(on_pg.contains("mapping in use:"), "{on_pg}");
    }
    let err = cli.bad(&["aggregates", &pg, "--map", "events.version=revision"]);
    assert!(
        err.contains("has no column \"revision\" for version")
            && err.contains("global_position, event_id, aggregate_id"),
        "{err}"
    );
    let err = cli.bad(&["aggregates", &pg, "--map", "events.table=domain_events"]);
    assert!(err.contains("tables: events, snapshots"), "{err}");
    // Names are validated, never spliced into SQL.
    let err = cli.bad(&[
        "aggregates",
        &pg,
        "--map",
        "events.table=events; DROP TABLE events",
    ]);
    assert!(!err.contains("syntax error"), "{err}");
    assert_eq!(db.psql("SELECT count(*) FROM events;").trim(), "10");
}

/// A statement that runs past --pg-timeout (or rewind.toml's timeout) is stopped by the
/// server; the message names the setting.
#[test]
fn a_slow_statement_is_stopped_by_the_statement_timeout() {
    let Some(db) = native("statement timeout") else {
        return;
    };
    db.psql(
        "CREATE FUNCTION slowly(bigint) RETURNS bigint LANGUAGE sql VOLATILE
             AS $$ SELECT pg_sleep(0.3); SELECT $1 $$;
         CREATE VIEW slow_events AS SELECT global_position, event_id, aggregate_id, aggregate_type,
             event_type, event_data, metadata, slowly(version) AS version, \"timestamp\" FROM events;",
    );
    let cli = PgCli::new();
    let started = Instant::now();
    let args = [
        "aggregates",
        &db.url(),
        "--map",
        "events.table=slow_events",
        "--pg-timeout",
        "0.5",
    ];
    let err = cli.bad(&args);
    assert!(
        err.contains("statement_timeout") && err.contains("--pg-timeout"),
        "{err}"
    );
    assert!(err.contains("0.5 s"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[postgres]\ntimeout = 0.5\n").unwrap();
    let path = config.path().to_string_lossy().into_owned();
    let err = cli.bad(&[
        "aggregates",
        &db.url(),
        "--map",
        "events.table=slow_events",
        "--config",
        &path,
    ]);
    assert!(err.contains("0.5 s"), "{err}");
    // Out of range is a settings mistake.
    let err = cli.bad(&["aggregates", &db.url(), "--pg-timeout", "0"]);
    assert!(err.contains("--pg-timeout 0 is out of range"), "{err}");
    // Without the short timeout the same read completes.
    let list = cli.json(&[
        "aggregates",
        &db.url(),
        "--map",
        "events.table=slow_events",
        "--format",
        "json",
    ]);
    assert_eq!(list.as_array().unwrap().len(), 3);
}

fn slow_store(db: &PgDatabase) {
    db.psql(
        "INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data, version)
         SELECT gen_random_uuid(), 'big', 'counter', 'Counted', json_build_object('n', v)::jsonb, v
         FROM generate_series(1, 3000) v;
         CREATE FUNCTION slowly(bigint) RETURNS bigint LANGUAGE sql VOLATILE
             AS $$ SELECT pg_sleep(0.004); SELECT $1 $$;
         CREATE VIEW slow_events AS SELECT slowly(global_position) AS global_position, event_id,
             aggregate_id, aggregate_type, event_type, event_data, metadata, version, \"timestamp\"
         FROM events;",
    );
}

/// The server goes away mid-read (its connections cut, or the server stopped): a clear
/// error and exit 2, never a partial history shown as whole.
#[test]
fn a_server_going_away_mid_read_is_an_error_not_a_short_history() {
    let Some(pg) = PgServer::start_private("server going away") else {
        return;
    };
    let db = pg.create_database("going_away");
    db.load_fixture("native.sql");
    slow_store(&db);
    let cli = PgCli::new();
    let url = db.url();
    let map = ["--map", "events.table=slow_events"];
    // Cut while `log` streams: lines were printed, then the error says the read broke.
    let mut child = cli
        .command()
        .args(["log", &url, "--format", "json"])
        .args(map)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = support::stdout_lines(&mut child);
    // The first page (2048 rows) takes 8 s; the rest 4 s more: time enough, on a loaded
    // machine too, to cut the connection while it is read.
    lines
        .recv_timeout(Duration::from_secs(40))
        .expect("log started");
    assert_eq!(db.terminate_connections(), 1);
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("lost the connection"), "{err}");
    let printed = lines.iter().count() + 1;
    assert!(printed < 3010, "the read was cut: {printed} lines");

    // `state` prints nothing it has not read whole.
    let child = cli
        .command()
        .args(["state", &url, "big", "--format", "json"])
        .args(map)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Reading the history (not the catalog, whose lookups are quick but may be caught).
    let busy = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rewind' AND state = 'active' AND query LIKE '%\"slow_events\"%';";
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.psql(busy).trim() != "1" {
        assert!(Instant::now() < deadline, "rewind never queried");
        std::thread::sleep(Duration::from_millis(20));
    }
    pg.stop();
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("lost the connection"), "{err}");
    assert!(
        output.stdout.is_empty(),
        "no partial state: {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    // Back up, the same command reads the whole history.
    pg.restart();
    let state = cli.json(&["state", &url, "big", "--format", "json"]);
    assert_eq!(state["n"], 3000);
}

/// Values that do not decode are flagged on their events: nesting deeper than JSON
/// parsers go, a payload over rewind's 64 MiB limit, bytes that are not UTF-8.
#[test]
fn hostile_values_are_flagged_events() {
    let Some(db) = PgServer::shared("hostile values").map(|pg| pg.create_database("hostile"))
    else {
        return;
    };
    db.create_native_schema();
    db.psql(
        "INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data, version) VALUES
         (gen_random_uuid(), 'deep', 'x', 'Deep', (repeat('[', 5000) || repeat(']', 5000))::jsonb, 1),
         (gen_random_uuid(), 'deep', 'x', 'Fine', '{\"ok\": true}', 2),
         (gen_random_uuid(), 'huge', 'x', 'Huge', jsonb_build_object('blob', repeat('x', 70000000)), 1),
         (gen_random_uuid(), 'huge', 'x', 'Fine', '{\"ok\": true}', 2);
         CREATE TABLE raw_events (seq bigint, stream text, kind text, body bytea, n int, meta bytea);
         INSERT INTO raw_events VALUES
             (1, 'bin', 'Binary', '\\xff00fe'::bytea, 1, NULL),
             (2, 'bin', 'Text', convert_to('{\"ok\": true}', 'UTF8'), 2, '\\xc3'::bytea);",
    );
    let cli = PgCli::new();
    let url = db.url();
    let events = |id: &str, extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["events", &url, id, "--format", "json"];
        args.extend(extra);
        serde_json::from_str(&cli.ok(&args)).unwrap()
    };
    let deep = events("deep", &[]);
    assert!(
        deep[0]["error"].as_str().unwrap().contains("nested deeper"),
        "{}",
        deep[0]["error"]
    );
    assert_eq!(deep[1]["data"]["ok"], true);
    let huge = events("huge", &[]);
    assert!(
        huge[0]["error"]
            .as_str()
            .unwrap()
            .contains("over rewind's limit of 64 MiB"),
        "{}",
        huge[0]["error"]
    );
    assert_eq!(huge[1]["data"]["ok"], true);
    let state = cli.json(&["state", &url, "huge", "--format", "json"]);
    assert_eq!(state["ok"], true);
    let map = [
        "--map",
        "events.table=raw_events",
        "--map",
        "events.position=seq",
        "--map",
        "events.aggregate_id=stream",
        "--map",
        "events.aggregate_type=",
        "--map",
        "events.event_type=kind",
        "--map",
        "events.event_data=body",
        "--map",
        "events.version=n",
        "--map",
        "events.timestamp=",
        "--map",
        "events.metadata=meta",
        "--map",
        "events.event_id=",
        "--map",
        "snapshots.table=",
    ];
    let binary = events("bin", &map);
    assert!(
        binary[0]["error"].as_str().unwrap().contains("not UTF-8"),
        "{}",
        binary[0]
    );
    assert_eq!(binary[1]["data"]["ok"], true);
    assert!(
        binary[1]["warnings"].to_string().contains("metadata"),
        "bad metadata is an issue on its event: {}",
        binary[1]
    );
}

/// Settings mistakes are bad input: an unknown sslmode, a URL the client cannot parse
/// (its password still hidden), an unknown `[postgres]` key.
#[test]
fn bad_settings_are_one_line_without_the_password() {
    let cli = PgCli::new();
    let err = one_line(
        &run_hiding(
            &cli,
            "Pw9secret",
            &[
                "aggregates",
                "postgres://ada:Pw9secret@h/db?sslmode=sometimes",
            ],
        ),
        2,
    );
    assert!(err.contains("sslmode \"sometimes\""), "{err}");
    let err = one_line(
        &run_hiding(
            &cli,
            "Pw9secret",
            &["aggregates", "postgres://ada:Pw9secret@h:port/db"],
        ),
        2,
    );
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
    let err = cli.bad(&["aggregates", "postgres://h/db", "--pg-sslmode", "always"]);
    assert!(err.contains("sslmode \"always\""), "{err}");
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[postgres]\npassword = \"Pw9secret\"\n").unwrap();
    let path = config.path().to_string_lossy().into_owned();
    let err = one_line(
        &run_hiding(
            &cli,
            "Pw9secret",
            &["aggregates", "postgres://h/db", "--config", &path],
        ),
        2,
    );
    assert!(err.contains("unknown field `password`"), "{err}");
}

/// A TCP proxy to the server that cuts a connection, both ways at once, when the client
/// sends a statement holding `needle`: a connection lost at one chosen statement, however
/// quickly the server would have answered it.
struct CuttingProxy {
    port: u16,
    cuts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CuttingProxy {
    fn start(server_port: u16, needle: &'static str) -> CuttingProxy {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpStream};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cuts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&cuts);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", server_port)) else {
                    return;
                };
                let (mut to_client, mut from_server) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(Shutdown::Both);
                });
                let counted = Arc::clone(&counted);
                std::thread::spawn(move || {
                    // The needle may straddle two reads: the tail of the last one is kept.
                    let mut seen: Vec<u8> = Vec::new();
                    let mut chunk = [0u8; 8192];
                    loop {
                        let n = match client.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        seen.extend_from_slice(&chunk[..n]);
                        if seen.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                            counted.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        if server.write_all(&chunk[..n]).is_err() {
                            break;
                        }
                        let keep = seen.len().saturating_sub(needle.len());
                        seen.drain(..keep);
                    }
                    let _ = server.shutdown(Shutdown::Both);
                    let _ = client.shutdown(Shutdown::Both);
                });
            }
        });
        CuttingProxy { port, cuts }
    }

    fn url(&self, db: &PgDatabase) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            support::postgres::SUPERUSER,
            support::postgres::SUPERUSER_PASSWORD,
            self.port,
            db.name()
        )
    }

    fn cuts(&self) -> usize {
        self.cuts.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The connection lost while rewind reads the catalog (the schema it is in, the tables
/// there, a table's columns, a library's tables, Marten's key, Emmett's partitions) is
/// said as a connection lost mid-history is: one line, exit 2, no password.
#[test]
fn a_connection_lost_while_reading_the_catalog_says_so() {
    let Some(pg) = PgServer::shared("catalog lost") else {
        return;
    };
    let cases = [
        ("native.sql", "current_schema()", "the current schema"),
        ("native.sql", "relispartition", "the tables"),
        ("native.sql", "attisdropped", "the mapped table's columns"),
        ("eventsourcing.sql", "attisdropped", "a library's tables"),
        ("message-db.sql", "attisdropped", "Message DB's schema"),
        ("marten.sql", "indisprimary", "Marten's streams key"),
        ("emmett.sql", "IS DISTINCT FROM", "Emmett's partitions"),
    ];
    let cli = PgCli::new();
    for (fixture, needle, what) in cases {
        let db = pg.create_database("catalog lost");
        db.load_fixture(fixture);
        // Read whole through the server's own port.
        assert!(
            cli.run(&["aggregates", &db.url()]).status.success(),
            "{fixture}"
        );
        let proxy = CuttingProxy::start(pg.port(), needle);
        let started = Instant::now();
        let output = run_hiding(
            &cli,
            support::postgres::SUPERUSER_PASSWORD,
            &["aggregates", &proxy.url(&db)],
        );
        let err = one_line(&output, 2);
        assert_eq!(proxy.cuts(), 1, "{what}: the cut happened ({err})");
        assert!(
            err.contains("lost the connection to postgres://rewind@127.0.0.1:")
                && err.contains("while trying to read the schema"),
            "{what}: {err}"
        );
        assert!(!err.contains("could not read"), "{what}: {err}");
        assert!(output.stdout.is_empty(), "{what}");
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
    }
}
