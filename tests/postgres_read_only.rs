//! rewind writes nothing to a PostgreSQL server, provably: every command and a scripted UI
//! session run as a role holding nothing but SELECT, against a native store, a Message DB
//! store (both browsed in the UI too) and the stores of Python eventsourcing, Marten and
//! Emmett (partitioned), each watched by an audit trigger on every table, their `pg_stat_user_tables` counters
//! and a digest of their rows, all unchanged afterwards (and a real write shown to move
//! them first, so the comparison can fail). The server's own statement log shows each
//! session made read-only before its first read, every transaction `READ ONLY` and each
//! command's reads in one transaction; a write
//! sent through rewind's own transaction is refused by the server; and a UI session is
//! visible in `pg_stat_activity` as `application_name = rewind`.

mod support;

use std::process::Stdio;
use std::sync::Once;
use std::time::{Duration, Instant};

use rewind::source::postgres::{PgSource, PostgresOptions};
use support::pg_cli::PgCli;
use support::postgres::watch::Watch;
use support::postgres::{quote_literal, PgDatabase, PgRole, PgServer};
use support::tmux::{tmux_available, Tmux};

/// Makes the server log every statement of the reader roles (set per role below), each
/// line naming its role, so the log shows what rewind sent.
fn log_statements_by_role(server: &PgServer) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        server
            .psql_in(
                "postgres",
                "ALTER SYSTEM SET log_line_prefix = '%m [%p] role=%u '; SELECT pg_reload_conf();",
            )
            .unwrap();
        let started = Instant::now();
        while !server
            .psql_in("postgres", "SHOW log_line_prefix;")
            .unwrap()
            .contains("role=%u")
        {
            assert!(started.elapsed() < Duration::from_secs(10), "no reload");
            std::thread::sleep(Duration::from_millis(50));
        }
    });
}

/// A store loaded from a fixture, and a role that may only SELECT from `schema`, whose
/// every statement the server logs.
fn store(test: &str, fixture: &str, schema: &str) -> Option<(PgDatabase<'static>, PgRole)> {
    let server = PgServer::shared(test)?;
    log_statements_by_role(server);
    let db = server.create_database(test);
    db.load_fixture(fixture);
    let reader = db.create_role_with_select_only("reader", schema);
    db.psql(&format!(
        "ALTER ROLE \"{}\" SET log_statement = 'all';",
        reader.name
    ));
    Some((db, reader))
}

/// A role that may write every table and sequence of `schema` (as the application's own
/// role can), its statements logged like the reader's: with it, an unchanged store shows
/// that rewind did not write, not only that it could not.
fn writer_role(db: &PgDatabase, schema: &str) -> PgRole {
    let writer = db.create_role_with_select_only("writer", schema);
    db.psql(&format!(
        "GRANT ALL ON ALL TABLES IN SCHEMA \"{schema}\" TO \"{role}\";
         GRANT ALL ON ALL SEQUENCES IN SCHEMA \"{schema}\" TO \"{role}\";
         ALTER ROLE \"{role}\" SET log_statement = 'all';",
        role = writer.name
    ));
    writer
}

/// Runs every command, in turn, as the reader; each must exit as `expected` says.
fn run_every_command(
    cli: &PgCli,
    (url, role): (&str, &PgRole),
    server: &PgServer,
    commands: &[(Vec<&str>, i32)],
) {
    for (args, expected) in commands {
        let mut full: Vec<&str> = vec![args[0], url];
        full.extend(&args[1..]);
        let output = match args[0] {
            // The UI (here not on a terminal) reads in a transaction per read.
            "SOURCE" => cli.run(&[url]),
            _ => run_in_one_transaction(cli, server, &role.name, &full),
        };
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(*expected), "{args:?}: {err}");
        assert!(!output.stdout.is_empty(), "{args:?} printed nothing");
    }
}

/// Runs one command and checks, in the server's statement log, that it opened one session
/// and read everything in one transaction there: one snapshot for the whole command.
fn run_in_one_transaction(
    cli: &PgCli,
    server: &PgServer,
    role: &str,
    args: &[&str],
) -> std::process::Output {
    let sessions_before: Vec<String> = begins_by_session(server, role).into_keys().collect();
    let output = cli.run(args);
    let new: Vec<(String, usize)> = begins_by_session(server, role)
        .into_iter()
        .filter(|(pid, _)| !sessions_before.contains(pid))
        .collect();
    assert_eq!(new.len(), 1, "{args:?} opened sessions {new:?}");
    assert_eq!(new[0].1, 1, "{args:?} began {} transactions", new[0].1);
    output
}

/// How many transactions each of `role`'s sessions began.
fn begins_by_session(server: &PgServer, role: &str) -> std::collections::HashMap<String, usize> {
    let mut begins = std::collections::HashMap::new();
    for (pid, sql) in statements_of(server, role) {
        let count = begins.entry(pid).or_insert(0);
        let upper = sql.to_uppercase();
        if upper.starts_with("BEGIN") || upper.starts_with("START TRANSACTION") {
            *count += 1;
        }
    }
    begins
}

/// `log --follow` for a moment: its first events, a few polls, then stopped.
fn follow_for_a_moment(cli: &PgCli, url: &str, first_line: &str) {
    let mut child = cli
        .command()
        .args(["log", url, "--follow", "--interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = support::stdout_lines(&mut child);
    let started = Instant::now();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("log --follow prints the store's events");
        if line.contains(first_line) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }
    std::thread::sleep(Duration::from_millis(2500));
    assert!(child.try_wait().unwrap().is_none(), "still following");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The UI over the reader's URL in tmux: the list, an aggregate scrubbed end to end, the
/// store log, quit. While it is open the server shows its sessions as `rewind`.
fn browse(db: &PgDatabase, reader: &PgRole, aggregate: &str, versions: u64, listed: &str) {
    let cli = PgCli::new();
    let tmux = Tmux::start(db.name(), &cli.shell_line(&[&db.url_as(reader)]));
    tmux.wait_for(&["aggregates", listed, "L log"]);
    let sessions = db.psql(&format!(
        "SELECT usename || ' ' || application_name FROM pg_stat_activity
         WHERE datname = {} AND application_name = 'rewind';",
        quote_literal(db.name())
    ));
    // The loader's connection, and the second readers the UI reads pages back and works
    // out health on: every one the reader's, named rewind.
    let sessions: Vec<&str> = sessions
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(!sessions.is_empty(), "no session named rewind");
    for session in &sessions {
        assert_eq!(*session, format!("{} rewind", reader.name), "{sessions:?}");
    }
    tmux.keys(&["/", aggregate, "Enter", "Enter"]);
    let last = format!("v{versions}/{versions}");
    tmux.wait_for(&[&format!("{aggregate} · "), &last]);
    tmux.keys(&["g"]);
    tmux.wait_for(&[&format!("v1/{versions}"), "state after v1"]);
    tmux.keys(&["l"]);
    tmux.wait_for(&[&format!("v2/{versions}"), "state after v2"]);
    tmux.keys(&["G"]);
    tmux.wait_for(&[&last]);
    tmux.keys(&["q", "Escape"]);
    tmux.wait_for(&[listed]);
    tmux.keys(&["L"]);
    tmux.wait_for(&["store log", "│ position "]);
    tmux.keys(&["G", "g", "q", "q"]);
    tmux.wait_for(&["rewind exited 0"]);
}

/// What the server logged for `role`: one entry per statement, with its session's pid.
fn statements_of(server: &PgServer, role: &str) -> Vec<(String, String)> {
    let marker = format!(" role={role} ");
    let mut statements: Vec<(String, String)> = Vec::new();
    let mut current: Option<usize> = None;
    for line in server.log().lines() {
        if let Some(at) = line.find(&marker) {
            let pid = line[..at]
                .rsplit('[')
                .next()
                .unwrap_or("")
                .trim_end_matches(']')
                .to_string();
            let message = &line[at + marker.len()..];
            let text = message.strip_prefix("LOG:  statement: ").or_else(|| {
                message
                    .strip_prefix("LOG:  execute ")
                    .and_then(|m| m.split_once(": ").map(|(_, sql)| sql))
            });
            current = text.map(|sql| {
                statements.push((pid, sql.to_string()));
                statements.len() - 1
            });
        } else if line.starts_with('\t') || line.starts_with(' ') {
            if let Some(i) = current {
                statements[i].1.push(' ');
                statements[i].1.push_str(line.trim());
            }
        } else {
            current = None;
        }
    }
    statements
}

/// Every session of `role` made itself read-only before reading, every transaction it
/// began was READ ONLY, and it sent nothing but reads.
fn assert_sessions_read_only(server: &PgServer, role: &str, sessions_at_least: usize) {
    let statements = statements_of(server, role);
    let mut pids: Vec<&str> = statements.iter().map(|(p, _)| p.as_str()).collect();
    pids.dedup();
    pids.sort_unstable();
    pids.dedup();
    assert!(
        pids.len() >= sessions_at_least,
        "{} sessions logged for {role}, expected at least {sessions_at_least}",
        pids.len()
    );
    for pid in pids {
        let session: Vec<&str> = statements
            .iter()
            .filter(|(p, _)| p == pid)
            .map(|(_, sql)| sql.as_str())
            .collect();
        assert!(
            session[0].contains("SET default_transaction_read_only = on"),
            "session {pid} began with {:?}",
            session[0]
        );
        for sql in &session {
            let upper = sql.to_uppercase();
            if upper.starts_with("BEGIN") || upper.starts_with("START TRANSACTION") {
                assert!(upper.contains("READ ONLY"), "session {pid}: {sql}");
            }
            let first = upper.split_whitespace().next().unwrap_or("");
            assert!(
                [
                    "SET",
                    "BEGIN",
                    "START",
                    "SELECT",
                    "WITH",
                    "COMMIT",
                    "ROLLBACK",
                    "SHOW",
                    "SAVEPOINT",
                    "RELEASE"
                ]
                .contains(&first),
                "session {pid} sent {sql}"
            );
            for word in upper.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
                assert!(
                    ![
                        "INSERT", "UPDATE", "DELETE", "TRUNCATE", "MERGE", "COPY", "NEXTVAL",
                        "SETVAL", "LOCK"
                    ]
                    .contains(&word),
                    "session {pid} sent {sql}"
                );
            }
        }
    }
}

/// A write sent inside the transaction rewind reads in is refused by the server, even for
/// the superuser, who could otherwise write anything.
fn assert_rewinds_transaction_refuses_writes(db: &PgDatabase, table: &str) {
    // A statement the server runs outside a read-only transaction (here rolled back).
    let insert = format!(
        "INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM {table} LIMIT 1 \
         ON CONFLICT DO NOTHING"
    );
    db.psql(&format!("BEGIN; {insert}; ROLLBACK;"));
    let source = PgSource::open(&db.url(), PostgresOptions::default()).unwrap();
    let err = source
        .execute_in_read_transaction(&insert)
        .expect_err("the server refuses the write")
        .to_string();
    assert!(
        err.contains("cannot execute INSERT in a read-only transaction"),
        "{err}"
    );
    // The same session still reads: the refusal ended only that transaction.
    source
        .execute_in_read_transaction("SELECT 1")
        .expect("a read still runs");
}

#[test]
fn no_command_changes_a_native_store() {
    let Some((db, reader)) = store("ro_native", "native.sql", "public") else {
        return;
    };
    let watch = Watch::install(&db);
    assert_eq!(watch.tables, ["public.events", "public.snapshots"]);
    watch.prove_a_write_is_seen();
    let before = watch.settled();

    let dir = tempfile::tempdir().unwrap();
    let projection = dir.path().join("balances.jq");
    std::fs::write(
        &projection,
        "(. // {}) | if $event.data.balance != null then .[$event.aggregate_id] = $event.data.balance else . end",
    )
    .unwrap();
    let projection = projection.to_string_lossy().into_owned();
    let exported = dir.path().join("acc-1.jsonl");
    let exported_arg = exported.to_string_lossy().into_owned();
    let cli = PgCli::new();
    let url = db.url_as(&reader);
    let commands: Vec<(Vec<&str>, i32)> = vec![
        (vec!["aggregates"], 0),
        (vec!["events", "acc-1"], 0),
        (vec!["state", "acc-1"], 0),
        (vec!["state", "--all"], 0),
        (vec!["diff", "acc-1", "--from", "1", "--to", "3"], 0),
        (vec!["verify"], 1),
        (vec!["bisect", "acc-1", "--until", ".balance > 50"], 0),
        (vec!["blame", "acc-1", ".balance"], 0),
        (vec!["export", "acc-1", "--format", "md"], 0),
        (vec!["log"], 0),
        (vec!["trace", "corr-order-1"], 0),
        (vec!["project", "--projection", &projection], 0),
        (vec!["SOURCE"], 0),
    ];
    run_every_command(&cli, (&url, &reader), db.server(), &commands);
    // The same as a role that could write: the counters and the audit trigger below are
    // then evidence that rewind did not, and its sessions are checked statement by statement.
    let writer = writer_role(&db, "public");
    run_every_command(&cli, (&db.url_as(&writer), &writer), db.server(), &commands);
    let export = cli.run(&[
        "export",
        &url,
        "acc-1",
        "--format",
        "jsonl",
        "-o",
        &exported_arg,
    ]);
    assert!(export.status.success(), "{export:?}");
    assert!(std::fs::metadata(&exported).unwrap().len() > 0);
    follow_for_a_moment(&cli, &url, "acc-1");
    if tmux_available() {
        browse(&db, &reader, "acc-1", 4, "3 of 3");
    }

    let after = watch.settled();
    assert_eq!(after, before, "audit: {}", watch.audit_log());
    assert_sessions_read_only(db.server(), &reader.name, commands.len() + 2);
    assert_sessions_read_only(db.server(), &writer.name, commands.len());
    assert_rewinds_transaction_refuses_writes(&db, "events");
}

#[test]
fn no_command_changes_a_message_db_store() {
    let Some((db, reader)) = store("ro_message_db", "message-db.sql", "message_store") else {
        return;
    };
    let watch = Watch::install(&db);
    assert_eq!(watch.tables, ["message_store.messages"]);
    watch.prove_a_write_is_seen();
    let before = watch.settled();

    let dir = tempfile::tempdir().unwrap();
    let projection = dir.path().join("count.jq");
    std::fs::write(&projection, "(. // 0) + 1").unwrap();
    let projection = projection.to_string_lossy().into_owned();
    let exported = dir.path().join("transfer.jsonl");
    let exported_arg = exported.to_string_lossy().into_owned();
    let cli = PgCli::new();
    let url = db.url_as(&reader);
    let commands: Vec<(Vec<&str>, i32)> = vec![
        (vec!["aggregates"], 0),
        (vec!["events", "transfer-7"], 0),
        (vec!["state", "transfer-7"], 0),
        (vec!["state", "--all"], 0),
        (vec!["diff", "transfer-7", "--from", "1", "--to", "3"], 0),
        (vec!["verify"], 0),
        (vec!["bisect", "transfer-7", "--until", "true"], 0),
        (vec!["blame", "transfer-7", "."], 0),
        (vec!["export", "transfer-7", "--format", "md"], 0),
        (vec!["log"], 0),
        (vec!["trace", "transfer-7"], 0),
        (vec!["project", "--projection", &projection], 0),
        (vec!["SOURCE"], 0),
    ];
    run_every_command(&cli, (&url, &reader), db.server(), &commands);
    let export = cli.run(&[
        "export",
        &url,
        "transfer-7",
        "--format",
        "jsonl",
        "-o",
        &exported_arg,
    ]);
    assert!(export.status.success(), "{export:?}");
    follow_for_a_moment(&cli, &url, "transfer-7");
    if tmux_available() {
        browse(&db, &reader, "transfer-7", 3, "5 of 5");
    }

    let after = watch.settled();
    assert_eq!(after, before, "audit: {}", watch.audit_log());
    assert_sessions_read_only(db.server(), &reader.name, commands.len() + 2);
    assert_rewinds_transaction_refuses_writes(&db, "message_store.messages");
}

/// Every command over a library's store, as the reader, on its first aggregate: nothing
/// the watch can see moves. (The UI's reads are the same reads: the native and Message DB
/// tests browse.)
fn no_command_changes(test: &str, fixture: &str, schema: &str) {
    let Some((db, reader)) = store(test, fixture, schema) else {
        return;
    };
    let watch = Watch::install(&db);
    watch.prove_a_write_is_seen();
    let before = watch.settled();

    let cli = PgCli::new();
    let url = db.url_as(&reader);
    let listed = cli.run(&["aggregates", &url, "--format", "json"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let first = listed[0]["id"].as_str().expect("an aggregate").to_string();
    let dir = tempfile::tempdir().unwrap();
    let projection = dir.path().join("count.jq");
    std::fs::write(&projection, "(. // 0) + 1").unwrap();
    let projection = projection.to_string_lossy().into_owned();
    let commands: Vec<Vec<&str>> = vec![
        vec!["aggregates", "--health"],
        vec!["events", &first],
        vec!["state", &first],
        vec!["state", "--all"],
        vec!["diff", &first],
        vec!["verify"],
        vec!["bisect", &first, "--until", "true"],
        vec!["blame", &first, "."],
        vec!["export", &first, "--format", "md"],
        vec!["log"],
        vec!["project", "--projection", &projection],
    ];
    let writer = writer_role(&db, schema);
    let writer_url = db.url_as(&writer);
    let as_both = [(&url, &reader), (&writer_url, &writer)];
    for ((url, role), args) in as_both
        .iter()
        .flat_map(|r| commands.iter().map(move |c| (r, c)))
    {
        let mut full: Vec<&str> = vec![args[0], url];
        full.extend(&args[1..]);
        let output = run_in_one_transaction(&cli, db.server(), &role.name, &full);
        let err = String::from_utf8_lossy(&output.stderr);
        // verify exits 1 for a snapshot that drifts; anything else is a failure.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{test} {args:?}: {err}"
        );
        assert!(!output.stdout.is_empty(), "{test} {args:?} printed nothing");
    }
    follow_for_a_moment(&cli, &url, &first);

    let after = watch.settled();
    assert_eq!(after, before, "{test}: audit: {}", watch.audit_log());
    assert_sessions_read_only(db.server(), &reader.name, commands.len() + 2);
    assert_sessions_read_only(db.server(), &writer.name, commands.len());
}

#[test]
fn no_command_changes_a_python_eventsourcing_store() {
    no_command_changes("ro_eventsourcing", "eventsourcing.sql", "public");
}

#[test]
fn no_command_changes_a_marten_store() {
    no_command_changes("ro_marten", "marten.sql", "public");
}

#[test]
fn no_command_changes_an_emmett_store() {
    no_command_changes("ro_emmett", "emmett.sql", "public");
}
