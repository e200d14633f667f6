//! The store-wide commands (`log`, `trace`, `project`, `state --all`) give the same answers
//! on every kind of store: one small shop's history written to a native SQLite store, to a
//! SQLite table of another shape (mapped, with its own position column and rows stored in
//! reverse), and to a Kafka topic over three partitions (tansu), then asked the same
//! questions. Transcripts and the library fixtures (Python eventsourcing, Emmett) are
//! checked for what is meaningful on them.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use rusqlite::{params, Connection};
use serde_json::{json, Value};
use support::kafka::{Broker, Rec};
use support::{run, stderr, stdout};

/// One event of the shared history, in store order.
struct Ev {
    aggregate: &'static str,
    kind: &'static str,
    version: i64,
    event_type: &'static str,
    data: Value,
    id: &'static str,
    correlation: &'static str,
    causation: Option<&'static str>,
}

fn at(n: usize) -> String {
    format!("2026-03-01T10:{:02}:00Z", n * 3)
}

fn at_ms(n: usize) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&at(n))
        .unwrap()
        .timestamp_millis()
}

/// Accounts, orders, a transfer that leaves bob negative for a moment, an order caused by
/// an event that does not exist, and two events that cause each other.
fn history() -> Vec<Ev> {
    let ev = |aggregate, kind, version, event_type, data, id, correlation, causation| Ev {
        aggregate,
        kind,
        version,
        event_type,
        data,
        id,
        correlation,
        causation,
    };
    vec![
        ev(
            "acc-1",
            "account",
            1,
            "Opened",
            json!({"owner": "ada", "balance": 100}),
            "e1",
            "c-1",
            None,
        ),
        ev(
            "acc-2",
            "account",
            1,
            "Opened",
            json!({"owner": "bob", "balance": 50}),
            "e2",
            "c-2",
            None,
        ),
        ev(
            "order-1",
            "order",
            1,
            "OrderPlaced",
            json!({"status": "placed", "total": 30}),
            "e3",
            "req-1",
            None,
        ),
        ev(
            "acc-1",
            "account",
            2,
            "Withdrawn",
            json!({"balance": 70}),
            "e4",
            "req-1",
            Some("e3"),
        ),
        ev(
            "order-1",
            "order",
            2,
            "OrderPaid",
            json!({"status": "paid"}),
            "e5",
            "req-1",
            Some("e4"),
        ),
        ev(
            "acc-2",
            "account",
            2,
            "Withdrawn",
            json!({"balance": -20}),
            "e6",
            "transfer-1",
            None,
        ),
        ev(
            "acc-1",
            "account",
            3,
            "Deposited",
            json!({"balance": 140}),
            "e7",
            "transfer-1",
            Some("e6"),
        ),
        ev(
            "order-1",
            "order",
            3,
            "OrderShipped",
            json!({"status": "shipped"}),
            "e8",
            "req-1",
            Some("e5"),
        ),
        ev(
            "order-2",
            "order",
            1,
            "OrderPlaced",
            json!({"status": "placed", "total": 10}),
            "e9",
            "req-2",
            Some("ghost-1"),
        ),
        ev(
            "acc-2",
            "account",
            3,
            "Deposited",
            json!({"balance": 5}),
            "e10",
            "c-3",
            None,
        ),
        ev(
            "cyc-1",
            "cycle",
            1,
            "Looped",
            json!({"n": 1}),
            "e11",
            "loop",
            Some("e12"),
        ),
        ev(
            "cyc-1",
            "cycle",
            2,
            "Looped",
            json!({"n": 2}),
            "e12",
            "loop",
            Some("e11"),
        ),
    ]
}

fn metadata(ev: &Ev) -> Value {
    json!({"correlation_id": ev.correlation, "causation_id": ev.causation})
}

fn native_store(dir: &Path) -> String {
    let path = dir.join("native.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(support::NATIVE_SCHEMA).unwrap();
    for (n, ev) in history().iter().enumerate() {
        conn.execute(
            "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                ev.id,
                ev.aggregate,
                ev.kind,
                ev.event_type,
                ev.data.to_string(),
                metadata(ev).to_string(),
                ev.version,
                at(n)
            ],
        )
        .unwrap();
    }
    path.to_string_lossy().into_owned()
}

/// Another shape: its own names, a `seq` column that orders the store, and rows stored in
/// reverse, so rowid order is the opposite of store order.
fn mapped_store(dir: &Path) -> (String, Vec<String>) {
    let path = dir.join("mapped.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE journal(seq INTEGER NOT NULL, stream TEXT, kind TEXT, body TEXT,
             n INTEGER, at TEXT, meta TEXT, eid TEXT)",
    )
    .unwrap();
    let events = history();
    for (n, ev) in events.iter().enumerate().rev() {
        conn.execute(
            "INSERT INTO journal VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                n as i64 + 100,
                ev.aggregate,
                ev.event_type,
                ev.data.to_string(),
                ev.version,
                at(n),
                metadata(ev).to_string(),
                ev.id
            ],
        )
        .unwrap();
    }
    let map = [
        "events.table=journal",
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
    let args = map
        .iter()
        .flat_map(|m| ["--map".to_string(), m.to_string()])
        .collect();
    (path.to_string_lossy().into_owned(), args)
}

/// The history on a topic of three partitions, ids in headers, record times as stored.
fn kafka_topic(broker: &Broker, topic: &str) {
    broker.create_topic(topic, 3);
    let events = history();
    let headers: Vec<Vec<(&str, &str)>> = events
        .iter()
        .map(|ev| {
            let mut h = vec![
                ("event_type", ev.event_type),
                ("event_id", ev.id),
                ("correlation_id", ev.correlation),
            ];
            if let Some(cause) = ev.causation {
                h.push(("causation_id", cause));
            }
            h
        })
        .collect();
    let bodies: Vec<String> = events.iter().map(|ev| ev.data.to_string()).collect();
    let partition = |aggregate: &str| match aggregate {
        "acc-1" | "cyc-1" => 0,
        "acc-2" => 1,
        _ => 2,
    };
    let records: Vec<Rec> = events
        .iter()
        .enumerate()
        .map(|(n, ev)| {
            Rec::json(ev.aggregate, &bodies[n])
                .headers(&headers[n])
                .partition(partition(ev.aggregate))
                .at(at_ms(n))
        })
        .collect();
    broker.produce(topic, &records);
}

/// A store and the extra arguments it is read with.
struct Subject {
    name: &'static str,
    source: String,
    args: Vec<String>,
}

impl Subject {
    fn run(&self, command: &str, extra: &[&str]) -> Output {
        let mut args = vec![command.to_string(), self.source.clone()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(self.args.iter().cloned());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&refs)
    }

    fn ok(&self, command: &str, extra: &[&str]) -> String {
        let output = self.run(command, extra);
        assert!(
            output.status.success(),
            "{} {command} {extra:?}: {}",
            self.name,
            stderr(&output)
        );
        stdout(&output)
    }

    fn json_lines(&self, command: &str, extra: &[&str]) -> Vec<Value> {
        self.ok(command, extra)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect()
    }
}

/// What every kind of store agrees on about a log line (positions and metadata are each
/// store's own).
fn log_view(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| {
            json!([
                l["aggregate_id"],
                l["version"],
                l["type"],
                l["timestamp"],
                l["event_id"],
                l["correlation_id"],
                l["causation_id"],
                l["data"]
            ])
        })
        .collect()
}

fn trace_view(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| {
            json!([
                l["aggregate_id"],
                l["version"],
                l["depth"],
                l["link"],
                l["parent"]
            ])
        })
        .collect()
}

const PROJECTION: &str = r#"
(. // {balances: {}, events: 0})
| .events += 1
| if $event.data.balance != null then .balances[$event.aggregate_id] = $event.data.balance else . end
"#;

/// Every question, asked of one store; the answers, for comparison.
fn answers(subject: &Subject, projection: &str) -> Vec<(String, Value)> {
    let all = subject.json_lines("log", &["--format", "json"]);
    assert_eq!(all.len(), 12, "{}: every event is logged", subject.name);
    let mut found = vec![("log".to_string(), json!(log_view(&all)))];
    let asks: [(&str, &[&str]); 6] = [
        (
            "log negative",
            &[
                "--where",
                ".balance != null and .balance < 0",
                "--format",
                "json",
            ],
        ),
        (
            "log transfer",
            &["--correlation", "transfer-1", "--format", "json"],
        ),
        (
            "log window",
            &["--since", &at(3), "--until", &at(8), "--format", "json"],
        ),
        (
            "log types",
            &[
                "--type",
                "OrderPlaced",
                "--type",
                "Deposited",
                "--format",
                "json",
            ],
        ),
        (
            "log event filter",
            &[
                "--where",
                "$event.data.status == \"paid\"",
                "--format",
                "json",
            ],
        ),
        ("log limit", &["--limit", "3", "--format", "json"]),
    ];
    for (name, extra) in asks {
        let lines = subject.json_lines("log", extra);
        found.push((name.to_string(), json!(log_view(&lines))));
    }
    for id in ["req-1", "req-2", "loop", "e6"] {
        let lines = subject.json_lines("trace", &[id, "--format", "json"]);
        found.push((format!("trace {id}"), json!(trace_view(&lines))));
    }
    for extra in [vec![], vec!["--at", "2026-03-01T10:15:00Z"]] {
        let mut args = vec!["--projection", projection, "--format", "json"];
        args.extend(extra.iter().copied());
        let model: Value = serde_json::from_str(&subject.ok("project", &args)).unwrap();
        found.push((format!("project {extra:?}"), model));
    }
    for extra in [vec![], vec!["--at", "2026-03-01T10:15:00Z"]] {
        let mut args = vec!["--all", "--format", "json"];
        args.extend(extra.iter().copied());
        let states: Value = serde_json::from_str(&subject.ok("state", &args)).unwrap();
        found.push((format!("state --all {extra:?}"), states));
    }
    found
}

fn projection_file(dir: &Path) -> PathBuf {
    let path = dir.join("balances.jq");
    std::fs::write(&path, PROJECTION).unwrap();
    path
}

#[test]
fn every_store_gives_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let projection = projection_file(dir.path());
    let projection = projection.to_string_lossy().into_owned();
    let (mapped, map_args) = mapped_store(dir.path());
    let mut subjects = vec![
        Subject {
            name: "native SQLite",
            source: native_store(dir.path()),
            args: Vec::new(),
        },
        Subject {
            name: "mapped SQLite",
            source: mapped,
            args: map_args,
        },
    ];
    let broker = Broker::start("store_wide");
    if let Some(broker) = &broker {
        kafka_topic(broker, "shop");
        subjects.push(Subject {
            name: "Kafka, 3 partitions",
            source: broker.url("shop"),
            args: vec!["--no-cache".into()],
        });
    }
    let reference = answers(&subjects[0], &projection);
    // The answers themselves, on the native store.
    let get = |name: &str| reference.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let negative = get("log negative");
    assert_eq!(negative.as_array().unwrap().len(), 1);
    assert_eq!(negative[0][0], "acc-2");
    assert_eq!(negative[0][1], 2);
    assert_eq!(get("log transfer").as_array().unwrap().len(), 2);
    assert_eq!(get("log window").as_array().unwrap().len(), 6);
    assert_eq!(get("log limit").as_array().unwrap().len(), 3);
    assert_eq!(
        get("trace req-1"),
        json!([
            ["order-1", 1, 0, "root", null],
            ["acc-1", 2, 1, "caused_by", "e3"],
            ["order-1", 2, 2, "caused_by", "e4"],
            ["order-1", 3, 3, "caused_by", "e5"]
        ])
    );
    assert_eq!(
        get("trace req-2"),
        json!([["order-2", 1, 0, "dangling", null]])
    );
    assert_eq!(
        get("trace loop"),
        json!([
            ["cyc-1", 1, 0, "cycle", null],
            ["cyc-1", 2, 1, "caused_by", "e11"]
        ])
    );
    // By event id: the transfer's first event and what it caused.
    assert_eq!(get("trace e6").as_array().unwrap().len(), 2);
    assert_eq!(
        get("project []"),
        json!({"balances": {"acc-1": 140, "acc-2": 5}, "events": 12})
    );
    assert_eq!(
        get("project [\"--at\", \"2026-03-01T10:15:00Z\"]"),
        json!({"balances": {"acc-1": 70, "acc-2": -20}, "events": 6})
    );
    assert_eq!(get("state --all []")["acc-2"]["balance"], 5);
    assert_eq!(
        get("state --all [\"--at\", \"2026-03-01T10:15:00Z\"]")
            .as_object()
            .unwrap()
            .len(),
        3,
        "order-2 and cyc-1 did not exist at 10:15"
    );
    for subject in &subjects[1..] {
        let theirs = answers(subject, &projection);
        for ((name, ours), (_, found)) in reference.iter().zip(&theirs) {
            assert_eq!(found, ours, "{}: {name}", subject.name);
        }
    }
}

#[test]
fn positions_start_a_log_where_each_store_numbers_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let native = native_store(dir.path());
    let lines: Vec<Value> = stdout(&run(&["log", &native, "--since", "9", "--format", "json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["position"], 9);
    let (mapped, map_args) = mapped_store(dir.path());
    let mut args = vec!["log", mapped.as_str(), "--since", "108", "--format", "json"];
    args.extend(map_args.iter().map(String::as_str));
    let mapped_lines = stdout(&run(&args));
    let first: Value = serde_json::from_str(mapped_lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["position"], 108, "the mapped column is the position");
    assert_eq!(first["event_id"], "e9");
    // A Kafka position on a numbered store, a bad time, an unknown trace id.
    let err = support::bad_input(&["log", &native, "--since", "0:3"]);
    assert!(err.contains("Kafka position"), "{err}");
    let err = support::bad_input(&["log", &native, "--until", "soon"]);
    assert!(err.contains("is not a time"), "{err}");
    let unknown = run(&["trace", &native, "req-404"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("req-404"), "{}", stderr(&unknown));
}

#[test]
fn kafka_positions_name_a_partition_and_offset() {
    let Some(broker) = Broker::start("store_wide_positions") else {
        return;
    };
    kafka_topic(&broker, "shop");
    let url = broker.url("shop");
    let lines: Vec<Value> = stdout(&run(&["log", &url, "--no-cache", "--format", "json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Merged across partitions by record time: the order the history was written in.
    let order: Vec<&str> = lines
        .iter()
        .map(|l| l["event_id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = history().iter().map(|ev| ev.id).collect();
    assert_eq!(order, expected);
    // order-1's second record is in partition 2 at offset 1.
    let position = &lines[4]["position"];
    assert_eq!(position, &json!({"partition": 2, "offset": 1}));
    let since = stdout(&run(&[
        "log",
        &url,
        "--no-cache",
        "--since",
        "2:1",
        "--format",
        "json",
    ]));
    assert_eq!(since.lines().count(), 8, "{since}");
    let err = support::bad_input(&["log", &url, "--no-cache", "--since", "7"]);
    assert!(err.contains("PARTITION:OFFSET"), "{err}");
    let err = support::bad_input(&["log", &url, "--no-cache", "--since", "1:99"]);
    assert!(err.contains("no record at 1:99"), "{err}");
}

#[test]
fn a_transcript_answers_for_its_one_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let native = native_store(dir.path());
    let transcript = dir.path().join("acc-1.jsonl");
    let path = transcript.to_string_lossy().into_owned();
    assert!(run(&["export", &native, "acc-1", "-o", &path])
        .status
        .success());
    let lines: Vec<Value> = stdout(&run(&["log", &path, "--format", "json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let native_lines: Vec<Value> = stdout(&run(&["log", &native, "--format", "json"]))
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["aggregate_id"] == "acc-1")
        .collect();
    assert_eq!(log_view(&lines), log_view(&native_lines));
    let states = support::json(&run(&["state", &path, "--all", "--format", "json"]));
    let acc = support::json(&run(&["state", &native, "acc-1", "--format", "json"]));
    assert_eq!(states, json!({"acc-1": acc}));
    let projection = projection_file(dir.path());
    let model = support::json(&run(&[
        "project",
        &path,
        "--projection",
        &projection.to_string_lossy(),
        "--format",
        "json",
    ]));
    assert_eq!(model, json!({"balances": {"acc-1": 140}, "events": 3}));

    // trace: the transcript's events of the request, as the store has them; the cause
    // in another aggregate is not in the transcript, so that link dangles there.
    let trace = |source: &str, id: &str| -> Vec<Value> {
        stdout(&run(&["trace", source, id, "--format", "json"]))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    for id in ["req-1", "e4"] {
        let in_transcript = trace(&path, id);
        let in_store: Vec<Value> = trace(&native, id)
            .into_iter()
            .filter(|l| l["aggregate_id"] == "acc-1")
            .collect();
        let versions = |lines: &[Value]| -> Vec<Value> {
            lines.iter().map(|l| l["version"].clone()).collect()
        };
        assert!(!in_store.is_empty(), "{id}");
        assert_eq!(versions(&in_transcript), versions(&in_store), "{id}");
    }
    let req = trace(&path, "req-1");
    assert_eq!(req[0]["link"], "dangling", "{req:?}");
    let text = stdout(&run(&["trace", &path, "req-1"]));
    assert!(text.contains("e3"), "the missing cause is named: {text}");
}

/// The stores the libraries wrote: every event in the log, in store order, and the
/// store's states at once equal to each aggregate's.
#[test]
fn library_stores_read_whole_in_store_order() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let projection = dir.path().join("count.jq");
    std::fs::write(&projection, "(. // {}) | .[$event.aggregate_id] += 1").unwrap();
    for store in ["eventsourcing/bank.db", "emmett/shopping.db"] {
        let store = fixtures.join(store).to_string_lossy().into_owned();
        let aggregates = support::json(&run(&["aggregates", &store, "--format", "json"]));
        let aggregates = aggregates.as_array().unwrap();
        let total: u64 = aggregates
            .iter()
            .map(|a| a["events"].as_u64().unwrap())
            .sum();
        let lines: Vec<Value> = stdout(&run(&["log", &store, "--format", "json"]))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len() as u64, total, "{store}");
        let positions: Vec<i64> = lines
            .iter()
            .map(|l| l["position"].as_i64().unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{store}: {positions:?}"
        );
        // The same events in the same order as the library's own tables say, read here with
        // SQL rather than through rewind.
        let logged: Vec<(String, i64, String, i64)> = lines
            .iter()
            .map(|l| {
                (
                    l["aggregate_id"].as_str().unwrap().to_string(),
                    l["version"].as_i64().unwrap(),
                    l["type"].as_str().unwrap().to_string(),
                    l["position"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(logged, rows_as_the_library_wrote_them(&store), "{store}");
        let states = support::json(&run(&["state", &store, "--all", "--format", "json"]));
        for aggregate in aggregates {
            let id = aggregate["id"].as_str().unwrap();
            let one = support::json(&run(&["state", &store, id, "--format", "json"]));
            assert_eq!(states[id], one, "{store} {id}");
        }
        // A projection sees every event once: counting them by aggregate gives the list's
        // counts.
        let counted: serde_json::Map<String, Value> = aggregates
            .iter()
            .map(|a| (a["id"].as_str().unwrap().to_string(), a["events"].clone()))
            .collect();
        let model = support::json(&run(&[
            "project",
            &store,
            "--projection",
            &projection.to_string_lossy(),
            "--format",
            "json",
        ]));
        assert_eq!(model, Value::Object(counted), "{store}");
        // Where the store has event ids (Emmett's messageId), trace finds an event by its id.
        if let Some(id) = lines[0]["event_id"].as_str() {
            let trace = run(&["trace", &store, id]);
            assert!(trace.status.success(), "{store}: {}", stderr(&trace));
            assert!(stdout(&trace).starts_with(&format!("trace {id}: 1 event in 1 aggregate")));
        }
    }
}

/// (aggregate, version, type, position) of every event of a library's SQLite store, in the
/// order of its global sequence, straight from its tables.
fn rows_as_the_library_wrote_them(store: &str) -> Vec<(String, i64, String, i64)> {
    // immutable: a WAL store opened read-only would otherwise get -shm and -wal files
    // beside the checked-in fixture.
    let db = Connection::open_with_flags(
        format!("file:{store}?immutable=1"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let sql = if store.contains("eventsourcing") {
        // eventsourcing: the topic's last segment is the event's class.
        "SELECT originator_id, originator_version, topic, rowid FROM stored_events ORDER BY rowid"
    } else {
        "SELECT stream_id, stream_position, message_type, global_position FROM emt_messages \
         WHERE message_kind = 'E' ORDER BY global_position"
    };
    let mut statement = db.prepare(sql).unwrap();
    let rows = statement
        .query_map([], |row| {
            let kind: String = row.get(2)?;
            let kind = kind.rsplit('.').next().unwrap_or_default().to_string();
            Ok((row.get(0)?, row.get(1)?, kind, row.get(3)?))
        })
        .unwrap();
    let rows: Vec<_> = rows.map(Result::unwrap).collect();
    assert!(rows.len() > 3, "{store}: the fixture has events");
    rows
}

/// `rewind log STORE --follow` polling every 0.1 s, JSON lines, with `extra` flags; the
/// child and its stdout's lines.
fn follow_log(
    store: &str,
    extra: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args([
            "log",
            store,
            "--follow",
            "--interval",
            "0.1",
            "--format",
            "json",
        ])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let rx = support::stdout_lines(&mut child);
    (child, rx)
}

#[test]
fn log_follow_prints_what_is_stored_after_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let native = native_store(dir.path());
    let (mut child, rx) = follow_log(&native, &[]);
    let next = || -> Value {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("rewind printed a line");
        serde_json::from_str(&line).unwrap()
    };
    let existing: Vec<Value> = (0..12).map(|_| next()).collect();
    assert_eq!(existing[11]["event_id"], "e12");
    let conn = Connection::open(&native).unwrap();
    conn.execute(
        "INSERT INTO events VALUES ('e13', 'order-2', 'order', 'OrderPaid', '{\"status\":\"paid\"}', '{}', 2, '2026-03-01T11:00:00Z')",
        [],
    )
    .unwrap();
    let fresh = next();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(fresh["event_id"], "e13");
    assert_eq!(fresh["position"], 13);
}

#[test]
fn a_failing_projection_is_reported_at_its_event_and_the_fold_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let native = native_store(dir.path());
    let projection = dir.path().join("picky.jq");
    std::fs::write(
        &projection,
        r#"if $event.type == "OrderPaid" then error("no payments here") else (. // 0) + 1 end"#,
    )
    .unwrap();
    let output = run(&[
        "project",
        &native,
        "--projection",
        &projection.to_string_lossy(),
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "11");
    let err = stderr(&output);
    assert!(
        err.contains("failed at position 5 (order-1 v2)") && err.contains("no payments here"),
        "{err}"
    );
}

#[test]
fn a_trace_exports_as_a_redacted_transcript_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let demo = support::demo_store().to_string_lossy().into_owned();
    for format in ["md", "html", "jsonl"] {
        let path = dir.path().join(format!("req-9d4b.{format}"));
        let path = path.to_string_lossy().into_owned();
        let output = run(&[
            "trace",
            &demo,
            "req-9d4b",
            "-o",
            &path,
            "--redact",
            ".customer",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("cust-176"),
            "{format} leaks the customer:\n{text}"
        );
        assert!(text.contains("[redacted]"), "{format}");
        assert!(
            text.contains("evt-999999"),
            "{format} names the missing cause"
        );
        // The same through export --trace, to stdout.
        let exported = run(&[
            "export",
            &demo,
            "--trace",
            "req-9d4b",
            "--format",
            format,
            "--redact",
            ".customer",
        ]);
        assert!(exported.status.success(), "{}", stderr(&exported));
        let strip = |t: &str| {
            t.lines()
                .filter(|l| !l.contains("enerated"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&stdout(&exported)), strip(&text), "{format}");
    }
    let jsonl = std::fs::read_to_string(dir.path().join("req-9d4b.jsonl")).unwrap();
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["rewind_trace"], 1);
    assert_eq!(lines[0]["events"], 4);
    assert_eq!(lines.len(), 6, "header, four events, end");
    assert_eq!(
        lines[4]["note"],
        "caused by evt-999999, which is not in this store"
    );
    assert_eq!(lines[2]["parent"], lines[1]["event_id"]);

    // trace -o and export --trace take the same options and answer an unknown id alike.
    let strict = dir.path().join("strict.md");
    let strict_path = strict.to_string_lossy().into_owned();
    let refused = run(&[
        "trace",
        &demo,
        "req-9d4b",
        "-o",
        &strict_path,
        "--redact",
        ".nowhere",
        "--redact-strict",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--redact-strict: .nowhere"),
        "{}",
        stderr(&refused)
    );
    assert!(!strict.exists(), "nothing is written");
    let unnamed = dir.path().join("trace.txt");
    let unnamed = run(&["trace", &demo, "req-9d4b", "-o", &unnamed.to_string_lossy()]);
    assert_eq!(unnamed.status.code(), Some(2));
    assert!(
        stderr(&unnamed).contains("name the file .md, .jsonl or .html"),
        "{}",
        stderr(&unnamed)
    );
    for args in [
        vec!["trace", demo.as_str(), "req-404"],
        vec![
            "export",
            demo.as_str(),
            "--trace",
            "req-404",
            "--format",
            "md",
        ],
    ] {
        let missing = run(&args);
        assert_eq!(
            missing.status.code(),
            Some(1),
            "{args:?}: {}",
            stderr(&missing)
        );
        assert!(
            stderr(&missing).contains("\"req-404\""),
            "{}",
            stderr(&missing)
        );
        assert!(stdout(&missing).is_empty());
    }
}

/// `log --type` reads only events of those types: a warning it gives must be one the whole
/// log gives for that event (it once reported a version gap at every hidden event).
#[test]
fn log_by_type_warns_only_of_what_the_whole_log_warns() {
    let store = support::demo_store();
    let store = store.to_string_lossy();
    let warnings = |extra: &[&str]| -> Vec<(u64, Vec<Value>)> {
        let mut args = vec!["log", &store, "--format", "json"];
        args.extend_from_slice(extra);
        let output = run(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|l| {
                (
                    l["position"].as_u64().unwrap(),
                    l["warnings"].as_array().unwrap().clone(),
                )
            })
            .collect()
    };
    let whole: std::collections::HashMap<u64, Vec<Value>> = warnings(&[]).into_iter().collect();
    let mut kept = 0;
    for kind in ["ItemAdded", "Deposited", "AccountOpened"] {
        let by_type = warnings(&["--type", kind]);
        assert!(!by_type.is_empty(), "{kind}");
        for (position, shown) in by_type {
            for warning in &shown {
                assert!(
                    whole[&position].contains(warning),
                    "{kind} at {position}: {warning}"
                );
            }
            kept += shown.len();
        }
    }
    // The demo's order-0020 v5 goes back in time from v4, both ItemAdded: still said.
    assert!(kept > 0, "a warning between events of one type stays");
}

#[test]
fn one_aggregate_is_counted_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("acc-0007.jsonl");
    let transcript = transcript.to_string_lossy();
    let demo = support::demo_store();
    let exported = run(&[
        "export",
        &demo.to_string_lossy(),
        "acc-0007",
        "-o",
        &transcript,
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let output = run(&["state", &transcript, "--all"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(
        text.lines().next(),
        Some("# 1 aggregate at the latest event"),
        "{text}"
    );
}

/// The demo's balances by account, folded in store order.
const BALANCES: &str = "(. // {}) | if $event.data.balance != null then .[$event.aggregate_id] = $event.data.balance else . end";

fn json_of(args: &[&str]) -> Value {
    let output = run(args);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn project_from_to_is_the_change_between_the_two_read_models() {
    let dir = tempfile::tempdir().unwrap();
    let projection = dir.path().join("balances.jq");
    std::fs::write(&projection, BALANCES).unwrap();
    let projection = projection.to_string_lossy().into_owned();
    let demo = support::demo_store().to_string_lossy().into_owned();
    let project = |extra: &[&str]| {
        let mut args = vec!["project", &demo, "--projection", &projection];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let run_project = |extra: &[&str]| {
        let args = project(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        json_of(&args)
    };
    let (before, after) = (
        run_project(&["--at", "100", "--format", "json"]),
        run_project(&["--at", "2000", "--format", "json"]),
    );
    assert_ne!(before, after);
    // The RFC 6902 patch takes the model at --from to the model at --to.
    let patch = run_project(&["--from", "100", "--to", "2000", "--format", "patch"]);
    let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
    let mut patched = before.clone();
    json_patch::patch(&mut patched, &patch).unwrap();
    assert_eq!(patched, after);
    // JSON lists the same changes, and the pretty form counts them.
    let changes = run_project(&["--from", "100", "--to", "2000", "--format", "json"]);
    let count = changes["changes"].as_array().unwrap().len();
    assert_eq!(count, patch.0.len());
    let args = project(&["--from", "100", "--to", "2000"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pretty = stdout(&run(&args));
    let first = pretty.lines().next().unwrap();
    assert!(first.ends_with(&format!(": {count} changes")), "{first}");
    assert!(
        first.contains("from position 100") && first.contains("to position 2000"),
        "{first}"
    );
}

#[test]
fn state_all_from_to_names_the_aggregates_that_changed() {
    let demo = support::demo_store().to_string_lossy().into_owned();
    let (from, to) = ("2026-01-10", "2026-01-20");
    let at = |time: &str| json_of(&["state", &demo, "--all", "--at", time, "--format", "json"]);
    let (before, after) = (at(from), at(to));
    let changed = json_of(&[
        "state", &demo, "--all", "--from", from, "--to", to, "--format", "json",
    ]);
    let mut expected: Vec<&String> = after
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, state)| before.get(id.as_str()) != Some(*state))
        .map(|(id, _)| id)
        .collect();
    expected.sort();
    let mut listed: Vec<&String> = changed.as_object().unwrap().keys().collect();
    listed.sort();
    assert!(!expected.is_empty());
    assert_eq!(listed, expected);
    let pretty = stdout(&run(&["state", &demo, "--all", "--from", from, "--to", to]));
    let header = format!("# {} aggregates changed from", expected.len());
    assert!(pretty.starts_with(&header), "{pretty}");
}

#[test]
fn store_wide_commands_refuse_bad_positions_and_times() {
    let demo = support::demo_store().to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let projection = dir.path().join("count.jq");
    std::fs::write(&projection, "(. // 0) + 1").unwrap();
    let projection = projection.to_string_lossy().into_owned();
    for args in [
        vec![
            "project",
            &demo,
            "--projection",
            &projection,
            "--at",
            "bogus",
        ],
        vec![
            "project",
            &demo,
            "--projection",
            &projection,
            "--from",
            "bogus",
            "--to",
            "5",
        ],
        vec!["state", &demo, "--all", "--at", "x1"],
        vec![
            "state",
            &demo,
            "--all",
            "--from",
            "yesterday",
            "--to",
            "2026-01-20",
        ],
    ] {
        let err = support::bad_input(&args);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn aggregate_type_narrows_the_log_and_state_all_to_that_type() {
    let demo = support::demo_store().to_string_lossy().into_owned();
    let lines = |extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["log", &demo, "--format", "json"];
        args.extend_from_slice(extra);
        let output = run(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let all = lines(&[]);
    let orders = lines(&["--aggregate-type", "order"]);
    let expected: Vec<&Value> = all
        .iter()
        .filter(|l| l["aggregate_type"] == "order")
        .collect();
    assert!(!orders.is_empty() && orders.len() < all.len());
    assert_eq!(
        orders.iter().collect::<Vec<_>>(),
        expected,
        "the same lines, in store order"
    );

    let states = json_of(&[
        "state",
        &demo,
        "--all",
        "--aggregate-type",
        "order",
        "--format",
        "json",
    ]);
    let ids: Vec<&String> = states.as_object().unwrap().keys().collect();
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| id.starts_with("order-")), "{ids:?}");
}

#[test]
fn trace_reads_correlation_ids_where_rewind_toml_says_and_the_flag_overrides_it() {
    let demo = support::demo_store().to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rewind.toml");
    std::fs::write(&config, "[trace]\ncorrelation = \".metadata.user\"\n").unwrap();
    let config = config.to_string_lossy().into_owned();
    // The demo's metadata says which user made each request: `api` made most.
    let found = run(&["trace", &demo, "api", "--config", &config]);
    assert!(found.status.success(), "{}", stderr(&found));
    let text = stdout(&found);
    assert!(text.starts_with("trace api: "), "{text}");
    let by_default = run(&["trace", &demo, "api"]);
    assert!(
        !by_default.status.success(),
        "not a correlation id by default"
    );
    let overridden = run(&[
        "trace",
        &demo,
        "api",
        "--config",
        &config,
        "--correlation-from",
        ".metadata.correlation_id",
    ]);
    assert!(!overridden.status.success());
    assert!(
        stderr(&overridden).contains("read from .metadata.correlation_id;"),
        "{}",
        stderr(&overridden)
    );
    // The flag's own name is a key rewind.toml takes too.
    std::fs::write(&config, "[trace]\ncorrelation_from = \".metadata.user\"\n").unwrap();
    let by_flag_name = run(&["trace", &demo, "api", "--config", &config]);
    assert!(by_flag_name.status.success(), "{}", stderr(&by_flag_name));
}

/// A trace file is for reading; opened as a source it says so instead of "not a transcript".
#[test]
fn a_trace_file_opened_as_a_source_says_what_it_is() {
    let demo = support::demo_store().to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("req.jsonl").to_string_lossy().into_owned();
    assert!(run(&["trace", &demo, "req-9d4b", "-o", &file])
        .status
        .success());
    let opened = run(&["aggregates", &file]);
    assert_eq!(opened.status.code(), Some(2));
    assert!(
        stderr(&opened).contains("is a trace"),
        "{}",
        stderr(&opened)
    );
    assert!(
        stderr(&opened).contains("rewind trace"),
        "{}",
        stderr(&opened)
    );
}

/// `log --follow --where` reading `.`: each aggregate's state is folded on across polls, so
/// a predicate over fields from before rewind started holds on an event written after.
#[test]
fn log_follow_where_judges_states_folded_across_polls() {
    let dir = tempfile::tempdir().unwrap();
    let native = native_store(dir.path());
    // total comes from order-2's first event, status from the one written later.
    let predicate = ".status == \"refunded\" and .total == 10";
    let (mut child, rx) = follow_log(&native, &["--where", predicate]);
    // Nothing in the store matches yet; give rewind a few polls to say otherwise.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(rx.try_recv().is_err(), "nothing matches before the writes");
    let conn = Connection::open(&native).unwrap();
    for (id, version, data) in [
        ("e13", 2, r#"{"note":"asked for a refund"}"#),
        ("e14", 3, r#"{"status":"refunded"}"#),
    ] {
        conn.execute(
            "INSERT INTO events VALUES (?1, 'order-2', 'order', 'Changed', ?2, '{}', ?3, '2026-03-01T11:00:00Z')",
            params![id, data, version],
        )
        .unwrap();
    }
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the refund matches");
    let _ = child.kill();
    let _ = child.wait();
    let line: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line["event_id"], "e14", "{line}");
}

/// Causes stored after what they caused: a refund stored before the payment it answers
/// (another correlation id, so only causation ties it in), and a loop of three causes
/// entered from its middle. A Kafka topic orders by the producers' clocks, so this is
/// ordinary there; the trace still finds every descendant and marks the loop.
#[test]
fn a_trace_finds_descendants_stored_before_their_cause() {
    let rows: [(&str, &str, &str, Option<&str>); 5] = [
        ("refund-1", "Refunded", "other", Some("pay-1")),
        ("pay-1", "Paid", "req-x", None),
        ("loop-a", "Looped", "zz", Some("loop-c")),
        ("loop-b", "Looped", "zz", Some("loop-a")),
        ("loop-c", "Looped", "zz", Some("loop-b")),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(support::NATIVE_SCHEMA).unwrap();
    for (n, (id, ty, correlation, cause)) in rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO events VALUES (?1, ?2, 'thing', ?3, '{}', ?4, 1, ?5)",
            params![
                id,
                format!("agg-{id}"),
                ty,
                json!({"correlation_id": correlation, "causation_id": cause}).to_string(),
                at(n)
            ],
        )
        .unwrap();
    }
    drop(conn);
    let mut sources = vec![(path.to_string_lossy().into_owned(), vec![])];
    let broker = Broker::start("late_causes");
    if let Some(broker) = &broker {
        broker.create_topic("late", 3);
        let headers: Vec<Vec<(&str, &str)>> = rows
            .iter()
            .map(|(id, ty, correlation, cause)| {
                let mut h = vec![
                    ("event_type", *ty),
                    ("event_id", *id),
                    ("correlation_id", *correlation),
                ];
                h.extend(cause.map(|c| ("causation_id", c)));
                h
            })
            .collect();
        let records: Vec<Rec> = rows
            .iter()
            .enumerate()
            .map(|(n, (id, ..))| {
                Rec::json(id, "{}")
                    .headers(&headers[n])
                    .partition((n % 3) as i32)
                    .at(at_ms(n))
            })
            .collect();
        broker.produce("late", &records);
        sources.push((broker.url("late"), vec!["--no-cache"]));
    }
    for (source, extra) in &sources {
        let trace = |id: &str| -> Vec<Value> {
            let mut args = vec!["trace", source.as_str(), id, "--format", "json"];
            args.extend(extra.iter().copied());
            let out = run(&args);
            assert!(out.status.success(), "{source} {id}: {}", stderr(&out));
            stdout(&out)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let view = |lines: &[Value]| -> Vec<Value> {
            lines
                .iter()
                .map(|l| json!([l["event_id"], l["depth"], l["link"]]))
                .collect()
        };
        let expected_payment = json!([["pay-1", 0, "root"], ["refund-1", 1, "caused_by"]]);
        assert_eq!(json!(view(&trace("pay-1"))), expected_payment, "{source}");
        assert_eq!(json!(view(&trace("req-x"))), expected_payment, "{source}");
        // Entered at loop-b, the whole loop is drawn once, from its earliest event.
        let expected_loop = json!([
            ["loop-a", 0, "cycle"],
            ["loop-b", 1, "caused_by"],
            ["loop-c", 2, "caused_by"]
        ]);
        assert_eq!(json!(view(&trace("loop-b"))), expected_loop, "{source}");
        assert_eq!(json!(view(&trace("zz"))), expected_loop, "{source}");
    }
}

/// A follow says a failure once, and again only when a poll brings a new one: the polls in
/// between (ten a second here) stay quiet.
#[test]
fn log_follow_warns_of_a_failure_once_not_every_poll() {
    let dir = tempfile::tempdir().unwrap();
    let native = native_store(dir.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["log", &native, "--follow", "--interval", "0.1"])
        .args([
            "--where",
            "if $event.type == \"OrderPaid\" then error(\"boom\") else true end",
        ])
        .args(["--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let rx = support::stdout_lines(&mut child);
    let next = || -> Value {
        let line = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
        serde_json::from_str(&line).unwrap()
    };
    let existing: Vec<Value> = (0..11).map(|_| next()).collect();
    assert_eq!(existing[10]["event_id"], "e12");
    let conn = Connection::open(&native).unwrap();
    let insert = |id: &str, ty: &str, version: i64| {
        conn.execute(
            "INSERT INTO events VALUES (?1, 'order-2', 'order', ?2, '{}', '{}', ?3, '2026-03-01T11:00:00Z')",
            params![id, ty, version],
        )
        .unwrap();
    };
    // Quiet polls, a second failing event, more quiet polls, then one that passes.
    std::thread::sleep(std::time::Duration::from_millis(500));
    insert("e13", "OrderPaid", 2);
    std::thread::sleep(std::time::Duration::from_millis(500));
    insert("e14", "OrderShipped", 3);
    assert_eq!(next()["event_id"], "e14");
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("failed on")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(warnings[0].contains("--where failed on 1 events"), "{err}");
    assert!(warnings[1].contains("--where failed on 2 events"), "{err}");
}

#[test]
fn kafka_records_of_one_instant_merge_by_partition_then_offset() {
    let Some(broker) = Broker::start("store_wide_ties") else {
        return;
    };
    broker.create_topic("ties", 3);
    // Produced out of partition order, several to an instant: the merge must not depend on
    // the order the consumer happens to see the partitions in.
    let bodies: Vec<String> = (0..9).map(|n| json!({"n": n}).to_string()).collect();
    let plan = [
        (2, 0),
        (0, 0),
        (1, 0),
        (2, 0),
        (0, 0),
        (1, 1),
        (0, 1),
        (2, 1),
        (1, 1),
    ];
    let records: Vec<Rec> = plan
        .iter()
        .enumerate()
        .map(|(n, &(partition, tick))| {
            Rec::json("k", &bodies[n])
                .partition(partition)
                .at(at_ms(0) + tick * 1000)
        })
        .collect();
    broker.produce("ties", &records);
    let url = broker.url("ties");
    let positions: Vec<(u64, u64)> = stdout(&run(&["log", &url, "--no-cache", "--format", "json"]))
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            let p = &line["position"];
            (
                p["partition"].as_u64().unwrap(),
                p["offset"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        positions,
        [
            (0, 0),
            (0, 1),
            (1, 0),
            (2, 0),
            (2, 1),
            (0, 2),
            (1, 1),
            (1, 2),
            (2, 2)
        ],
        "time, then partition, then offset"
    );
    // The cached read (the default) merges the same way.
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_string_lossy().into_owned();
    let cached: Vec<Value> = stdout(&run(&[
        "log",
        &url,
        "--cache-dir",
        &cache_dir,
        "--format",
        "json",
    ]))
    .lines()
    .map(|l| serde_json::from_str::<Value>(l).unwrap()["position"].clone())
    .collect();
    let expected: Vec<Value> = positions
        .iter()
        .map(|(p, o)| json!({"partition": p, "offset": o}))
        .collect();
    assert_eq!(cached, expected);
}
