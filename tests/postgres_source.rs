//! The PostgreSQL source through the real binary against a real server: every command gives
//! the answer it gives on a SQLite store holding the same rows, histories longer than a page
//! read back in pages, follow mode that misses no event although PostgreSQL sequences are
//! not commit-ordered, one snapshot for all of a command's reads, and mapped tables (`--map`, `[postgres.events]`, another schema).

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use rusqlite::{params, Connection};
use serde_json::Value;
use support::pg_cli::PgCli;
use support::postgres::{PgDatabase, PgServer};

fn native_fixture(test: &str) -> Option<PgDatabase<'static>> {
    let db = PgServer::shared(test)?.create_database(test);
    db.load_fixture("native.sql");
    Some(db)
}

/// The rows of the PostgreSQL store, written to a native SQLite store in the same order.
fn sqlite_copy(db: &PgDatabase, dir: &Path) -> String {
    let rows = db.psql(
        "SELECT json_agg(json_build_array(event_id, aggregate_id, aggregate_type, event_type, \
         event_data::text, metadata::text, version, \
         to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) \
         ORDER BY global_position) FROM events;",
    );
    let snapshots = db.psql(
        "SELECT json_agg(json_build_array(aggregate_id, version, state::text, \
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) \
         ORDER BY aggregate_id, version) FROM snapshots;",
    );
    let path = dir.join("copy.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(support::NATIVE_SCHEMA).unwrap();
    let rows: Vec<Vec<Value>> = serde_json::from_str(rows.trim()).unwrap();
    for row in rows {
        let text = |i: usize| row[i].as_str().unwrap().to_string();
        conn.execute(
            "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                text(0),
                text(1),
                text(2),
                text(3),
                text(4),
                text(5),
                row[6].as_i64().unwrap(),
                text(7)
            ],
        )
        .unwrap();
    }
    let snapshots: Vec<Vec<Value>> = serde_json::from_str(snapshots.trim()).unwrap();
    for row in snapshots {
        conn.execute(
            "INSERT INTO snapshots VALUES (?1, ?2, ?3, ?4)",
            params![
                row[0].as_str().unwrap(),
                row[1].as_i64().unwrap(),
                row[2].as_str().unwrap(),
                row[3].as_str().unwrap()
            ],
        )
        .unwrap();
    }
    path.to_string_lossy().into_owned()
}

#[test]
fn every_command_answers_as_it_does_on_sqlite_with_the_same_rows() {
    let Some(db) = native_fixture("every_command") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_copy(&db, dir.path());
    let pg = db.url();
    let shown = pg.replace(&format!(":{}", support::postgres::SUPERUSER_PASSWORD), "");
    // Transcripts drop the user too.
    let anonymous = shown.replace(&format!("{}@", support::postgres::SUPERUSER), "");
    let cli = PgCli::new();
    let projection = dir.path().join("balances.jq");
    std::fs::write(
        &projection,
        "(. // {}) | if $event.data.balance != null then .[$event.aggregate_id] = $event.data.balance else . end",
    )
    .unwrap();
    let projection = projection.to_string_lossy().into_owned();
    let commands: Vec<(Vec<&str>, i32)> = vec![
        (vec!["aggregates"], 0),
        (vec!["aggregates", "--format", "json"], 0),
        (vec!["events", "acc-1"], 0),
        (vec!["events", "acc-1", "--format", "json"], 0),
        (
            vec!["events", "order-1", "--where", ".status == \"paid\""],
            0,
        ),
        (vec!["state", "acc-1"], 0),
        (
            vec!["state", "acc-1", "--at-version", "2", "--format", "json"],
            0,
        ),
        (vec!["state", "--all", "--format", "json"], 0),
        (vec!["diff", "acc-1", "--from", "1", "--to", "3"], 0),
        (vec!["verify"], 1),
        (vec!["verify", "acc-2", "--format", "json"], 0),
        (vec!["bisect", "acc-1", "--until", ".balance > 50"], 0),
        (vec!["blame", "acc-1", ".balance"], 0),
        (vec!["export", "acc-1", "--format", "jsonl"], 0),
        (vec!["export", "acc-1", "--format", "md"], 0),
        (vec!["log", "--format", "json"], 0),
        (vec!["log", "--since", "4", "--type", "Deposited"], 0),
        (vec!["trace", "corr-order-1"], 0),
        (
            vec![
                "trace",
                "00000000-0000-4000-8000-000000000004",
                "--format",
                "json",
            ],
            0,
        ),
        (
            vec!["project", "--projection", &projection, "--format", "json"],
            0,
        ),
        (vec!["rewind-without-a-terminal"], 0),
    ];
    for (command, code) in commands {
        let run = |source: &str| {
            let mut args: Vec<&str> = Vec::new();
            match command[0] {
                // `rewind SOURCE` without a terminal prints the aggregate list.
                "rewind-without-a-terminal" => args.push(source),
                first => {
                    args.push(first);
                    args.push(source);
                    args.extend(&command[1..]);
                }
            }
            let output = cli.run(&args);
            let err = String::from_utf8_lossy(&output.stderr).into_owned();
            assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
            String::from_utf8(output.stdout).unwrap()
        };
        // Transcripts say when they were made.
        let undated = |text: String| -> String {
            text.lines()
                .map(|line| match line.find("\"generated_at\":\"") {
                    Some(at) => format!("{}{}", &line[..at], &line[at + 36..]),
                    None if line.contains("**Generated:**") => String::new(),
                    None => line.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let on_sqlite = undated(run(&sqlite));
        let on_pg = undated(run(&pg));
        assert!(!on_pg.is_empty(), "{command:?} printed nothing");
        // Transcripts name their source; the rest must be byte for byte the same.
        let on_pg = on_pg
            .replace(&shown, "SOURCE")
            .replace(&anonymous, "SOURCE");
        let on_sqlite = on_sqlite
            .replace(&format!("sqlite:{sqlite}"), "SOURCE")
            .replace(&sqlite, "SOURCE");
        assert_eq!(on_pg, on_sqlite, "{command:?}");
    }
}

/// An aggregate of 5,000 events: read back from the server in pages (keyset paging after
/// (version, position)), every state is the one the rows give.
#[test]
fn a_long_history_is_read_back_in_pages() {
    let Some(pg) = PgServer::shared("long history") else {
        return;
    };
    let db = pg.create_database("long_history");
    db.create_native_schema();
    db.psql(
        "INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data, version, \"timestamp\")
         SELECT gen_random_uuid(), 'big', 'counter', 'Counted', json_build_object('n', v, 'half', v / 2)::jsonb, v,
                '2026-01-01'::timestamptz + v * interval '1 second'
         FROM generate_series(1, 5000) v;
         INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data, version)
         SELECT gen_random_uuid(), 'small-' || v, 'counter', 'Counted', '{}', 1 FROM generate_series(1, 3) v;",
    );
    let cli = PgCli::new();
    let url = db.url();
    let state = cli.json(&["state", &url, "big", "--format", "json"]);
    assert_eq!(state, serde_json::json!({"n": 5000, "half": 2500}));
    let early = cli.json(&[
        "state",
        &url,
        "big",
        "--at-version",
        "1234",
        "--format",
        "json",
    ]);
    assert_eq!(early, serde_json::json!({"n": 1234, "half": 617}));
    let events: Vec<Value> =
        serde_json::from_str(&cli.ok(&["events", &url, "big", "--format", "json"])).unwrap();
    let versions: Vec<u64> = events
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, (1..=5000).collect::<Vec<u64>>());
    // blame walks the whole history: every change of .n, across every page.
    let blame: Vec<Value> =
        serde_json::from_str(&cli.ok(&["blame", &url, "big", ".half", "--format", "json"]))
            .unwrap();
    assert_eq!(
        blame.len(),
        2501,
        "half changes at v1 and every even version"
    );
    let bisect = cli.ok(&[
        "bisect",
        &url,
        "big",
        "--until",
        ".n >= 4097",
        "--format",
        "json",
    ]);
    let found: Value = serde_json::from_str(&bisect).unwrap();
    assert_eq!(found["version"], 4097, "{bisect}");
}

fn insert_sql(id: &str, aggregate: &str, version: i64) -> String {
    format!(
        "INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data, version) \
         VALUES ('{id}', '{aggregate}', 'account', 'Noted', '{{\"v\": {version}}}', {version});\n"
    )
}

/// A psql session kept open, so a test can hold a transaction across other writes.
struct Session {
    child: Child,
}

impl Session {
    fn open(db: &PgDatabase) -> Session {
        let mut psql = db.server().psql_command();
        psql.arg("-d").arg(db.url());
        let child = psql
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Session { child }
    }

    fn send(&mut self, sql: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(sql.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    fn close(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A transaction takes position 12 and commits after another has committed 13: the follow
/// poll that saw 13 first still prints 12 when it commits, once.
#[test]
fn follow_prints_an_event_whose_transaction_committed_after_a_later_position() {
    let Some(db) = native_fixture("follow gaps") else {
        return;
    };
    for command in [
        vec!["log", "--follow", "--interval", "0.1", "--format", "json"],
        vec![
            "events",
            "acc-1",
            "--follow",
            "--interval",
            "0.1",
            "--format",
            "json",
        ],
    ] {
        let cli = PgCli::new();
        let url = db.url();
        let mut args = vec![command[0], url.as_str()];
        args.extend(&command[1..]);
        let mut child = cli
            .command()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = support::stdout_lines(&mut child);
        let next = || -> Value {
            let line = lines
                .recv_timeout(Duration::from_secs(20))
                .expect("rewind printed a line");
            serde_json::from_str(&line).unwrap()
        };
        let existing = if command[0] == "log" { 10 } else { 4 };
        // The last position handed out (rows of an earlier round were deleted, not undone).
        let last_position = || -> i64 {
            db.psql("SELECT last_value FROM events_global_position_seq;")
                .trim()
                .parse()
                .unwrap()
        };
        let top = last_position();
        let version = |aggregate: &str| -> i64 {
            db.psql(&format!(
                "SELECT coalesce(max(version), 0) FROM events WHERE aggregate_id = '{aggregate}';"
            ))
            .trim()
            .parse()
            .unwrap()
        };
        for _ in 0..existing {
            next();
        }
        // The slow writer takes the next position and holds it.
        let mut slow = Session::open(&db);
        let v = version("acc-1");
        slow.send(&format!(
            "BEGIN;\n{}",
            insert_sql("10000000-0000-4000-8000-000000000001", "acc-1", v + 1)
        ));
        wait_until("the slow writer's row", || last_position() == top + 1);
        // A fast writer commits the position after it (another aggregate: no version clash).
        db.psql(&insert_sql(
            "10000000-0000-4000-8000-000000000002",
            "acc-2",
            version("acc-2") + 1,
        ));
        if command[0] == "log" {
            let fast = next();
            assert_eq!(fast["position"], top + 2);
        }
        // Several polls pass while position top + 1 is still in flight.
        std::thread::sleep(Duration::from_millis(500));
        slow.send("COMMIT;\n");
        slow.close();
        let late = next();
        assert_eq!(late["data"]["v"], v + 1, "{late}");
        if command[0] == "log" {
            assert_eq!(late["position"], top + 1, "{late}");
            assert_eq!(late["aggregate_id"], "acc-1");
        }
        // Printed once: the next line is the next event, not the late one again.
        db.psql(&insert_sql(
            "10000000-0000-4000-8000-000000000003",
            "acc-1",
            version("acc-1") + 1,
        ));
        let after = next();
        assert_eq!(after["data"]["v"], v + 2, "{after}");
        if command[0] == "log" {
            assert_eq!(after["position"], top + 3, "{after}");
        }
        let _ = child.kill();
        let _ = child.wait();
        db.psql("DELETE FROM events WHERE global_position > 10;");
    }
}

/// A position whose transaction rolled back is a gap for good: later events still come.
#[test]
fn follow_goes_on_past_a_rolled_back_position() {
    let Some(db) = native_fixture("follow rollback") else {
        return;
    };
    let cli = PgCli::new();
    let url = db.url();
    let mut child = cli
        .command()
        .args([
            "log",
            &url,
            "--follow",
            "--interval",
            "0.1",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = support::stdout_lines(&mut child);
    for _ in 0..10 {
        lines.recv_timeout(Duration::from_secs(20)).unwrap();
    }
    db.psql(&format!(
        "BEGIN; {} ROLLBACK;",
        insert_sql("20000000-0000-4000-8000-000000000001", "acc-1", 99)
    ));
    db.psql(&insert_sql(
        "20000000-0000-4000-8000-000000000002",
        "acc-1",
        5,
    ));
    let line: Value =
        serde_json::from_str(&lines.recv_timeout(Duration::from_secs(20)).unwrap()).unwrap();
    assert_eq!(line["position"], 12, "11 rolled back: {line}");
    let _ = child.kill();
    let _ = child.wait();
}

/// A table of another shape in another schema, named by `--map` (schema-qualified), by
/// `?schema=` and by rewind.toml's `[postgres.events]`: the same answers each way.
#[test]
fn a_mapped_table_in_another_schema_reads_like_the_native_one() {
    let Some(db) = native_fixture("mapped schema") else {
        return;
    };
    db.psql(
        "CREATE SCHEMA app;
         CREATE TABLE app.journal (seq bigint PRIMARY KEY, stream text, kind text, body json,
             n integer, at timestamptz, meta jsonb, eid uuid);
         INSERT INTO app.journal
         SELECT global_position + 100, aggregate_id, event_type, event_data::json, version::int,
                \"timestamp\", metadata, event_id FROM events ORDER BY global_position DESC;",
    );
    let cli = PgCli::new();
    let native = cli.ok(&["log", &db.url(), "--format", "json"]);
    let map = [
        "events.position=seq",
        "events.aggregate_id=stream",
        "events.aggregate_type=",
        "events.event_type=kind",
        "events.event_data=body",
        "events.version=n",
        "events.timestamp=at",
        "events.metadata=meta",
        "events.event_id=eid",
        "snapshots.table=",
    ];
    let with_map = |source: &str, table: &str| {
        let mut args = vec![
            "log".to_string(),
            source.to_string(),
            "--format".into(),
            "json".into(),
        ];
        for m in map.iter().copied().chain([table]) {
            args.push("--map".into());
            args.push(m.into());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.ok(&refs)
    };
    let strip = |log: &str| -> Vec<Value> {
        log.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                let o = v.as_object_mut().unwrap();
                o.remove("position");
                o.remove("aggregate_type");
                v
            })
            .collect()
    };
    let qualified = with_map(&db.url(), "events.table=app.journal");
    assert_eq!(strip(&qualified), strip(&native));
    let first: Value = serde_json::from_str(qualified.lines().next().unwrap()).unwrap();
    assert_eq!(first["position"], 101, "the mapped column orders the store");
    let in_schema = with_map(&format!("{}?schema=app", db.url()), "events.table=journal");
    assert_eq!(in_schema, qualified);
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        "[postgres]\nschema = \"app\"\n[postgres.events]\ntable = \"journal\"\nposition = \"seq\"\n\
         aggregate_id = \"stream\"\naggregate_type = \"\"\nevent_type = \"kind\"\nevent_data = \"body\"\n\
         version = \"n\"\ntimestamp = \"at\"\nmetadata = \"meta\"\nevent_id = \"eid\"\n\
         [postgres.snapshots]\ntable = \"\"\n",
    )
    .unwrap();
    let config_path = config.path().to_string_lossy().into_owned();
    let from_file = cli.ok(&[
        "log",
        &db.url(),
        "--config",
        &config_path,
        "--format",
        "json",
    ]);
    assert_eq!(from_file, qualified);
    // The file's schema, overridden by the flag.
    let err = cli.bad(&[
        "log",
        &db.url(),
        "--config",
        &config_path,
        "--pg-schema",
        "public",
    ]);
    assert!(err.contains("no table \"journal\""), "{err}");
}

/// The aggregate id column of type uuid, an id that is no uuid: not found, as any unknown
/// id, with the closest ids listed (never a server error about casting).
#[test]
fn an_id_the_id_column_cannot_hold_is_unknown() {
    let Some(db) = PgServer::shared("uuid ids").map(|pg| pg.create_database("uuid_ids")) else {
        return;
    };
    db.load_fixture("marten.sql");
    let cli = PgCli::new();
    let err = cli.bad(&["events", &db.url(), "not-a-uuid"]);
    assert!(err.contains("not-a-uuid"), "{err}");
    assert!(!err.contains("invalid input syntax"), "{err}");
}

/// Following resumes after the last position: a poll with nothing new reads no event rows,
/// and one after a write reads only that row, for one aggregate and for the whole store.
#[test]
fn a_follow_poll_reads_only_what_arrived() {
    use rewind::source::postgres::{PgSource, PostgresOptions};
    use rewind::source::{EventSource, Query, Start};
    let Some(db) = native_fixture("follow rows") else {
        return;
    };
    let source = PgSource::open(&db.url(), PostgresOptions::default()).unwrap();
    let reducer = std::sync::Arc::new(rewind::replay::MergeReducer);
    let (replay, resume) = rewind::load::replay_to_follow(&source, "acc-1", reducer).unwrap();
    assert!(!replay.is_empty());
    let read = |query: Query| {
        let mut events = Vec::new();
        let resume = source
            .query(&query, &mut |chunk| {
                if let rewind::model::Chunk::Events(chunk) = chunk {
                    events.extend(chunk);
                }
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        (events, resume)
    };
    let store_wide = |resume| read(Query::store().starting(Start::Resume(resume)));
    let (all, store_resume) = read(Query::store());
    assert!(!all.is_empty());

    let before = source.rows_read();
    let (nothing, resume) = rewind::load::poll(&source, "acc-1", resume).unwrap();
    assert!(nothing.is_empty());
    let (nothing_else, store_resume) = store_wide(store_resume);
    assert!(nothing_else.is_empty());
    assert_eq!(source.rows_read(), before, "an idle poll read rows");

    let version = replay.len() + 1;
    db.psql(&format!(
        "INSERT INTO events (event_id, aggregate_id, aggregate_type, event_type, event_data, version, \"timestamp\")
         VALUES (gen_random_uuid(), 'acc-1', 'account', 'Deposited', '{{\"balance\": 1}}', {version}, now());"
    ));
    let (fresh, _) = rewind::load::poll(&source, "acc-1", resume).unwrap();
    assert_eq!(fresh.len(), 1);
    let (fresh_anywhere, _) = store_wide(store_resume);
    assert_eq!(fresh_anywhere.len(), 1);
    assert_eq!(
        source.rows_read(),
        before + 2,
        "each poll read only the new row"
    );
}

/// A command's reads share one snapshot (a transaction held from the first to the last):
/// an event committed meanwhile is in none of them, not even after a read the server
/// refused. Released, or never held (the UI), the next read sees it.
#[test]
fn a_held_snapshot_sees_nothing_committed_after_it_began() {
    use rewind::source::postgres::{PgSource, PostgresOptions};
    use rewind::source::{EventSource, Query};
    let Some(db) = native_fixture("held snapshot") else {
        return;
    };
    let held = PgSource::open(&db.url(), PostgresOptions::default()).unwrap();
    let unheld = PgSource::open(&db.url(), PostgresOptions::default()).unwrap();
    let events_in = |source: &PgSource| {
        let mut count = 0;
        source
            .query(&Query::store(), &mut |chunk| {
                if let rewind::model::Chunk::Events(chunk) = chunk {
                    count += chunk.len();
                }
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        count
    };
    let aggregates_in = |source: &PgSource| source.aggregates().unwrap().len();
    let uuid = |n: u32| format!("e0e0e0e0-0000-4000-8000-{n:012}");
    held.hold_snapshot().unwrap();
    let (events, aggregates) = (events_in(&held), aggregates_in(&held));
    assert_eq!(events_in(&unheld), events);

    db.psql(&insert_sql(&uuid(1), "acc-late", 1));
    assert_eq!(
        events_in(&held),
        events,
        "the held snapshot saw a later commit"
    );
    assert_eq!(aggregates_in(&held), aggregates);
    assert_eq!(held.event_count_hint("acc-late"), Some(0));
    held.execute_in_read_transaction("SELECT 1/0")
        .expect_err("the server refuses to divide by zero");
    assert_eq!(events_in(&held), events, "a failed read ended the snapshot");
    assert_eq!(
        events_in(&unheld),
        events + 1,
        "an unheld read is of its own"
    );

    held.release_snapshot().unwrap();
    assert_eq!(events_in(&held), events + 1);
    assert_eq!(aggregates_in(&held), aggregates + 1);
    // The server takes the snapshot at the transaction's first read.
    held.hold_snapshot().unwrap();
    assert_eq!(events_in(&held), events + 1, "held again: a new snapshot");
    db.psql(&insert_sql(&uuid(2), "acc-late", 2));
    assert_eq!(events_in(&held), events + 1);
    held.release_snapshot().unwrap();
    assert_eq!(events_in(&held), events + 2);
}

/// A time stored as text in mixed formats and offsets: the list's FIRST and LAST are the
/// earliest and latest instants, not the text's MIN and MAX (which would give 10:00 and
/// 06:00 here), and digit-only text is epoch seconds, as an event read reads them.
#[test]
fn text_times_list_their_earliest_and_latest_instants() {
    let Some(db) = PgServer::shared("text times").map(|s| s.create_database("text times")) else {
        return;
    };
    db.psql(
        "CREATE TABLE events (aggregate_id text, aggregate_type text, event_type text,
             event_data text, version integer, \"timestamp\" text);
         INSERT INTO events VALUES
             ('acc-1', 'account', 'Opened', '{}', 1, '2026-03-01T09:00:00Z'),
             ('acc-1', 'account', 'Noted', '{}', 2, '2026-03-01 10:00:00'),
             ('acc-1', 'account', 'Noted', '{}', 3, '2026-03-01T11:00:00+05:00'),
             ('acc-2', 'account', 'Opened', '{}', 1, '1772359200');",
    );
    let list = PgCli::new().json(&[
        "aggregates",
        &db.url(),
        "--format",
        "json",
        "--map",
        "snapshots.table=",
        "--map",
        "events.metadata=",
        "--map",
        "events.position=",
    ]);
    let times: Vec<(Value, Value)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["first_timestamp"].clone(), a["last_timestamp"].clone()))
        .collect();
    assert_eq!(
        times,
        [
            ("2026-03-01T06:00:00Z".into(), "2026-03-01T10:00:00Z".into()),
            ("2026-03-01T10:00:00Z".into(), "2026-03-01T10:00:00Z".into())
        ]
    );
}

/// An aggregate id column of type bytea lists ids as the server writes bytea (`\x…`), and
/// each opens as listed.
#[test]
fn bytea_ids_open_as_they_are_listed() {
    let Some(db) = PgServer::shared("bytea ids").map(|s| s.create_database("bytea ids")) else {
        return;
    };
    db.psql(
        "CREATE TABLE events (global_position bigint GENERATED ALWAYS AS IDENTITY,
             aggregate_id bytea, aggregate_type text, event_type text,
             event_data jsonb, version integer, \"timestamp\" timestamptz);
         INSERT INTO events (aggregate_id, aggregate_type, event_type, event_data, version,
             \"timestamp\") VALUES
             ('\\xc0ffee', 'account', 'Opened', '{\"n\": 1}', 1, '2026-03-01T09:00:00Z'),
             ('\\xc0ffee', 'account', 'Noted', '{\"n\": 2}', 2, '2026-03-01T10:00:00Z');",
    );
    let cli = PgCli::new();
    let map = ["--map", "snapshots.table=", "--map", "events.metadata="];
    let list = cli.json(&[&["aggregates", &db.url(), "--format", "json"][..], &map].concat());
    assert_eq!(list[0]["id"], "\\xc0ffee", "{list}");
    let state = cli.json(
        &[
            &["state", &db.url(), "\\xc0ffee", "--format", "json"][..],
            &map,
        ]
        .concat(),
    );
    assert_eq!(state, serde_json::json!({"n": 2}));
}

/// A table (or view) with no position column: an aggregate reads in version order (the
/// server refuses ordering by a missing position), and the store-wide commands say which
/// column to map, as on SQLite.
#[test]
fn a_table_without_a_position_column_reads_its_aggregates_in_version_order() {
    let Some(db) = PgServer::shared("no position").map(|s| s.create_database("no position")) else {
        return;
    };
    db.psql(
        "CREATE TABLE events (aggregate_id text, aggregate_type text, event_type text,
             event_data jsonb, version integer, \"timestamp\" timestamptz);
         INSERT INTO events VALUES
             ('acc-2', 'account', 'Opened', '{\"n\": 1}', 1, '2026-03-01T09:30:00Z'),
             ('acc-1', 'account', 'Noted', '{\"n\": 2}', 2, '2026-03-01T10:00:00Z'),
             ('acc-1', 'account', 'Opened', '{\"n\": 1}', 1, '2026-03-01T09:00:00Z');",
    );
    let cli = PgCli::new();
    let map = ["--map", "snapshots.table=", "--map", "events.metadata="];
    let url = db.url();
    fn with<'a>(args: &[&'a str], map: &[&'a str]) -> Vec<&'a str> {
        [args, map].concat()
    }
    let state = cli.json(&with(&["state", &url, "acc-1", "--format", "json"], &map));
    assert_eq!(state, serde_json::json!({"n": 2}));
    let events = cli.json(&with(&["events", &url, "acc-1", "--format", "json"], &map));
    let versions: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["version"])
        .collect();
    assert_eq!(versions, [1, 2]);
    let err = cli.bad(&with(&["log", &url], &map));
    assert!(
        err.contains("have no store position") && err.contains("--map events.position="),
        "{err}"
    );
}

/// Without a position, events of one version still come in one order, read after read: a
/// row moved by an UPDATE (as VACUUM FULL or CLUSTER move them) does not swap two events of
/// the same version, so a page read back past the first shows the second, not the first
/// again. The page starts at its version rather than re-reading the rows before it.
#[test]
fn equal_versions_without_a_position_keep_one_order_across_reads() {
    use rewind::model::{Chunk, StorePosition};
    use rewind::source::postgres::{PgSource, PostgresOptions};
    use rewind::source::{EventSource, Query};
    let Some(db) = PgServer::shared("tied versions").map(|s| s.create_database("tied versions"))
    else {
        return;
    };
    db.psql(
        "CREATE TABLE events (event_id text, aggregate_id text, aggregate_type text,
             event_type text, event_data jsonb, version integer, \"timestamp\" timestamptz);
         INSERT INTO events VALUES
             ('a', 'acc', 'account', 'First', '{\"who\": \"first\"}', 1, '2026-03-01T09:00:00Z'),
             ('b', 'acc', 'account', 'Second', '{\"who\": \"second\"}', 1, '2026-03-01T09:00:01Z');
         INSERT INTO events SELECT 'e' || v, 'acc', 'account', 'Counted', '{}', v,
             '2026-03-01T10:00:00Z' FROM generate_series(2, 5) v;",
    );
    let mut options = PostgresOptions::default();
    options.mapping.snapshots.table = None;
    options.mapping.events.metadata = None;
    let read = |query: Query| -> Vec<(String, u64, StorePosition)> {
        let source = PgSource::open(&db.url(), options.clone()).unwrap();
        let mut events = Vec::new();
        source
            .query(&query, &mut |chunk| {
                if let Chunk::Events(chunk) = chunk {
                    events.extend(
                        chunk
                            .into_iter()
                            .map(|e| (e.event_type.clone(), e.version, e.position)),
                    );
                }
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        events
    };
    let whole = read(Query::aggregate("acc"));
    let types: Vec<&str> = whole.iter().map(|(t, ..)| t.as_str()).collect();
    assert_eq!(
        types,
        ["First", "Second", "Counted", "Counted", "Counted", "Counted"]
    );
    // The first event's row moves to the end of the table.
    db.psql("UPDATE events SET event_data = event_data WHERE event_id = 'a';");
    assert_eq!(
        read(Query::aggregate("acc")),
        whole,
        "the same order after the move"
    );
    let (_, version, position) = whole[0].clone();
    let page = read(Query::page("acc", Some((version, position)), 2));
    assert_eq!(page, whole[1..3].to_vec(), "the page after the first event");
    let (_, version, position) = whole[2].clone();
    let page = read(Query::page("acc", Some((version, position)), 10));
    assert_eq!(page, whole[3..].to_vec(), "a page from a later version");
}
