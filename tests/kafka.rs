//! The Kafka source against a real Kafka-API broker (tansu), through the library and the
//! `rewind` binary. Without tansu these tests say SKIPPED, unless REWIND_REQUIRE_KAFKA=1.

mod support;

use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rewind::load;
use rewind::model::Payload;
use rewind::replay::MergeReducer;
use rewind::source::kafka::{
    CacheMode, KafkaConfig, KafkaOptions, KafkaSource, ReadProgress, NO_KEY, TOMBSTONE,
};
use rewind::source::EventSource;
use serde_json::{json, Value};
use support::kafka::{Broker, Rec};

fn rewind(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(args)
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("rewind-kafka-tests-cache"),
        )
        .output()
        .expect("rewind runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn options(config: KafkaConfig) -> KafkaOptions {
    let mut options = KafkaOptions::from_config(&config).expect("valid options");
    options.cache = CacheMode::Off;
    options
}

fn open(broker: &Broker, topic: &str, config: KafkaConfig) -> KafkaSource {
    KafkaSource::open(&broker.url(topic), options(config)).expect("the topic opens")
}

/// Three accounts spread over three partitions, types in a header.
fn produce_accounts(broker: &Broker, topic: &str) {
    broker.create_topic(topic, 3);
    let opened = [("event_type", "Opened")];
    let deposited = [("event_type", "Deposited")];
    broker.produce(
        topic,
        &[
            Rec::json("acc-1", r#"{"owner":"ada","balance":0}"#)
                .headers(&opened)
                .partition(0),
            Rec::json("acc-2", r#"{"owner":"bob","balance":0}"#)
                .headers(&opened)
                .partition(1),
            Rec::json("acc-1", r#"{"balance":10}"#)
                .headers(&deposited)
                .partition(0),
            Rec::json("acc-3", r#"{"owner":"cy","balance":0}"#)
                .headers(&opened)
                .partition(2),
            Rec::json("acc-1", r#"{"balance":25}"#)
                .headers(&deposited)
                .partition(0),
            Rec::json("acc-2", r#"{"balance":5}"#)
                .headers(&deposited)
                .partition(1),
        ],
    );
}

#[test]
fn reads_every_partition_with_types_from_headers_and_versions_in_order() {
    let Some(broker) = Broker::start("reads_every_partition") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    let seen: Arc<Mutex<Vec<ReadProgress>>> = Arc::default();
    let mut options = options(KafkaConfig::default());
    let sink = seen.clone();
    options.progress = Some(Arc::new(move |p: &ReadProgress| {
        sink.lock().unwrap().push(p.clone())
    }));
    let source = KafkaSource::open(&broker.url("accounts"), options).unwrap();

    let aggregates = source.aggregates().unwrap();
    let counts: Vec<(&str, u64)> = aggregates
        .iter()
        .map(|a| (a.id.as_str(), a.events))
        .collect();
    assert_eq!(counts, vec![("acc-1", 3), ("acc-2", 2), ("acc-3", 1)]);
    assert!(aggregates[0].first_timestamp.is_some());

    let history = source.history("acc-1").unwrap();
    let summary: Vec<(u64, &str)> = history
        .events
        .iter()
        .map(|e| (e.version, e.event_type.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![(1, "Opened"), (2, "Deposited"), (3, "Deposited")]
    );
    assert_eq!(
        history.events[2].data,
        Payload::from_value(json!({"balance": 25}))
    );
    assert_eq!(history.events[0].metadata.value()["kafka"]["partition"], 0);

    let progress = seen.lock().unwrap();
    let last = progress.last().expect("progress was reported");
    assert!(last.done && last.read == 6, "{last:?}");
    assert_eq!(source.describe(), broker.url("accounts"));
}

#[test]
fn json_paths_map_id_type_data_version_and_time() {
    let Some(broker) = Broker::start("json_paths") else {
        return;
    };
    broker.create_topic("envelopes", 1);
    let envelope = |id: &str, seq: u32, kind: &str, body: &str, at: &str| {
        format!(
            r#"{{"meta":{{"order":"{id}"}},"seq":{seq},"kind":"{kind}","body":{body},"at":"{at}"}}"#
        )
    };
    let values = [
        envelope(
            "o-1",
            1,
            "Created",
            r#"{"total":5}"#,
            "2026-01-15T10:00:00Z",
        ),
        envelope("o-1", 2, "Paid", r#"{"paid":true}"#, "2026-01-15T11:00:00Z"),
        envelope(
            "o-2",
            1,
            "Created",
            r#"{"total":9}"#,
            "2026-01-16T09:00:00Z",
        ),
    ];
    let records: Vec<Rec> = values
        .iter()
        .map(|v| Rec {
            key: None,
            value: Some(v.as_bytes()),
            headers: &[],
            partition: None,
            timestamp_ms: None,
        })
        .collect();
    broker.produce("envelopes", &records);

    let source = open(
        &broker,
        "envelopes",
        KafkaConfig {
            aggregate_id: Some(".meta.order".into()),
            event_type: Some(".kind".into()),
            event_data: Some(".body".into()),
            version: Some(".seq".into()),
            timestamp: Some(".at".into()),
            ..KafkaConfig::default()
        },
    );
    let ids: Vec<String> = source
        .aggregates()
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, vec!["o-1", "o-2"]);
    let history = source.history("o-1").unwrap();
    assert_eq!(history.events[1].event_type, "Paid");
    assert_eq!(history.events[1].version, 2);
    assert_eq!(
        history.events[1].data,
        Payload::from_value(json!({"paid": true}))
    );
    assert_eq!(
        history.events[1].timestamp,
        rewind::model::parse_time("2026-01-15T11:00:00Z")
    );

    // Through the binary too: state at a time, resolved from the values' own times.
    let url = broker.url("envelopes");
    let out = rewind(&[
        "state",
        &url,
        "o-1",
        "--at",
        "2026-01-15T10:30:00Z",
        "--format",
        "json",
        "--id-from",
        ".meta.order",
        "--type-from",
        ".kind",
        "--data-from",
        ".body",
        "--version-from",
        ".seq",
        "--time-from",
        ".at",
        "--no-cache",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        json!({"total": 5})
    );
}

#[test]
fn snapshots_topic_feeds_the_history() {
    let Some(broker) = Broker::start("snapshots_topic") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    broker.create_topic("accounts-snapshots", 1);
    broker.produce(
        "accounts-snapshots",
        &[Rec::json(
            "acc-1",
            r#"{"version":2,"state":{"owner":"ada","balance":10}}"#,
        )],
    );
    let source = open(
        &broker,
        "accounts",
        KafkaConfig {
            snapshots_topic: Some("accounts-snapshots".into()),
            ..KafkaConfig::default()
        },
    );
    let history = source.history("acc-1").unwrap();
    assert_eq!(history.snapshots.len(), 1);
    assert_eq!(history.snapshots[0].version, 2);
    assert_eq!(
        history.snapshots[0].state,
        Payload::from_value(json!({"owner": "ada", "balance": 10}))
    );
    let listed = source.aggregates().unwrap();
    assert_eq!(listed[0].snapshots, 1);

    let out = rewind(&[
        "aggregates",
        &broker.url("accounts"),
        "--snapshots-topic",
        "accounts-snapshots",
        "--no-cache",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out)
        .lines()
        .any(|l| l.starts_with("acc-1") && l.contains(" 1 ")));
}

#[test]
fn cache_reads_only_new_records_on_reopen() {
    let Some(broker) = Broker::start("cache_reuse") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    let cache = tempfile::tempdir().unwrap();
    let open_cached = |config: KafkaConfig| {
        let mut options = KafkaOptions::from_config(&config).unwrap();
        options.cache = CacheMode::Dir(cache.path().to_path_buf());
        KafkaSource::open(&broker.url("accounts"), options).unwrap()
    };

    let first = open_cached(KafkaConfig::default());
    assert_eq!(first.stats().fetched, 6);
    let file = first.cache_file().unwrap().to_path_buf();
    assert!(file.starts_with(cache.path()));
    drop(first);

    let second = open_cached(KafkaConfig::default());
    assert_eq!(
        second.stats().fetched,
        0,
        "a reopen reads nothing already cached"
    );
    assert_eq!(second.stats().cached, 6);
    assert_eq!(second.history("acc-1").unwrap().events.len(), 3);
    drop(second);

    broker.produce(
        "accounts",
        &[
            Rec::json("acc-3", r#"{"balance":1}"#).partition(2),
            Rec::json("acc-4", r#"{"owner":"dee"}"#).partition(1),
        ],
    );
    // A different mapping is applied to the cached records without reading them again.
    let third = open_cached(KafkaConfig {
        event_type: Some("header:nope".into()),
        ..KafkaConfig::default()
    });
    assert_eq!(
        third.stats().fetched,
        2,
        "only the two new records are read"
    );
    // The per-aggregate summaries kept in the cache grew with the new records.
    let aggregates = third.aggregates().unwrap();
    let counts: Vec<(&str, u64)> = aggregates
        .iter()
        .map(|a| (a.id.as_str(), a.events))
        .collect();
    assert_eq!(
        counts,
        vec![("acc-1", 3), ("acc-2", 2), ("acc-3", 2), ("acc-4", 1)]
    );
    assert!(aggregates[2].first_timestamp < aggregates[2].last_timestamp);
    assert_eq!(third.stats().cached, 8);
    assert_eq!(
        third.history("acc-1").unwrap().events[0].event_type,
        rewind::source::kafka::NO_TYPE
    );

    // The CLI uses the same cache through --cache-dir.
    let out = rewind(&[
        "events",
        &broker.url("accounts"),
        "acc-3",
        "--cache-dir",
        cache.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));

    // The cache is a file this source reads: an export never writes over it, --force or not
    // (rewind itself may have caught up into it: it stays a cache, not a transcript).
    let cache_files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    assert!(!cache_files.is_empty());
    for file in cache_files {
        let out = rewind(&[
            "export",
            &broker.url("accounts"),
            "acc-3",
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "--format",
            "jsonl",
            "--force",
            "-o",
            file.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("is the store being read"),
            "{}",
            stderr(&out)
        );
        if file.extension().is_some_and(|e| e == "sqlite") {
            let head = std::fs::read(&file).unwrap();
            assert!(head.starts_with(b"SQLite format 3\0"), "{}", file.display());
        }
    }
    let out = rewind(&[
        "events",
        &broker.url("accounts"),
        "acc-3",
        "--cache-dir",
        cache.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
}

#[test]
fn events_after_picks_up_newly_produced_events() {
    let Some(broker) = Broker::start("live_follow") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    let source = open(&broker, "accounts", KafkaConfig::default());
    let (replay, resume) =
        load::replay_to_follow(&source, "acc-1", Arc::new(MergeReducer)).unwrap();
    assert_eq!(replay.len(), 3);
    let (nothing, resume) = load::poll(&source, "acc-1", resume).unwrap();
    assert!(nothing.is_empty());
    broker.produce(
        "accounts",
        &[Rec::json("acc-1", r#"{"balance":99}"#)
            .headers(&[("event_type", "Deposited")])
            .partition(0)],
    );
    let (fresh, _) = load::poll(&source, "acc-1", resume).unwrap();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].version, 4);
    assert_eq!(fresh[0].data, Payload::from_value(json!({"balance": 99})));
    assert_eq!(source.stats().fetched_last, 1);
}

#[test]
fn cli_follow_prints_existing_then_new_events_as_json_lines() {
    let Some(broker) = Broker::start("cli_follow") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", &broker.url("accounts"), "acc-2", "--follow"])
        .args(["--format", "json", "--interval", "0.2", "--no-cache"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines_rx = support::stdout_lines(&mut child);
    let next_line = || {
        lines_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("rewind printed a line")
    };
    let first: Value = serde_json::from_str(&next_line()).unwrap();
    let second: Value = serde_json::from_str(&next_line()).unwrap();
    assert_eq!(
        (first["version"].clone(), second["version"].clone()),
        (json!(1), json!(2))
    );

    broker.produce(
        "accounts",
        &[Rec::json("acc-2", r#"{"balance":7}"#)
            .headers(&[("event_type", "Deposited")])
            .partition(1)],
    );
    let third: Value = serde_json::from_str(&next_line()).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(third["version"], 3);
    assert_eq!(third["data"], json!({"balance": 7}));
}

/// `log --follow` on a topic: every record of every partition, then what is produced later,
/// resumed from each partition's next offset.
#[test]
fn log_follow_prints_the_topic_then_new_records_of_any_partition() {
    let Some(broker) = Broker::start("log_follow") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["log", &broker.url("accounts"), "--follow"])
        .args(["--format", "json", "--interval", "0.2", "--no-cache"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines_rx = support::stdout_lines(&mut child);
    let next_line = || -> Value {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("rewind printed a line");
        serde_json::from_str(&line).unwrap()
    };
    let existing: Vec<Value> = (0..6).map(|_| next_line()).collect();
    let mut keys: Vec<&str> = existing
        .iter()
        .map(|l| l["aggregate_id"].as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(keys, ["acc-1", "acc-1", "acc-1", "acc-2", "acc-2", "acc-3"]);
    broker.produce(
        "accounts",
        &[
            Rec::json("acc-3", r#"{"balance":9}"#)
                .headers(&[("event_type", "Deposited")])
                .partition(2),
            Rec::json("acc-1", r#"{"balance":1}"#)
                .headers(&[("event_type", "Withdrawn")])
                .partition(0),
        ],
    );
    let mut fresh = [next_line(), next_line()];
    let _ = child.kill();
    let _ = child.wait();
    fresh.sort_by_key(|l| l["aggregate_id"].as_str().unwrap().to_string());
    assert_eq!(fresh[0]["aggregate_id"], "acc-1");
    assert_eq!(fresh[0]["version"], 4);
    assert_eq!(fresh[0]["position"], json!({"partition": 0, "offset": 3}));
    assert_eq!(fresh[1]["aggregate_id"], "acc-3");
    assert_eq!(fresh[1]["version"], 2);
    assert_eq!(fresh[1]["type"], "Deposited");
}

#[test]
fn undecodable_values_tombstones_and_keyless_records_are_shown_not_dropped() {
    let Some(broker) = Broker::start("odd_records") else {
        return;
    };
    broker.create_topic("odd", 1);
    broker.produce(
        "odd",
        &[
            Rec::json("a", r#"{"n":1}"#),
            Rec::json("a", "this is not json").headers(&[("event_type", "Weird")]),
            Rec {
                key: Some("a"),
                value: Some(&[0xff, 0xfe, 0x00]),
                headers: &[],
                partition: None,
                timestamp_ms: None,
            },
            Rec {
                key: Some("a"),
                value: None,
                headers: &[],
                partition: None,
                timestamp_ms: None,
            },
            Rec::json("a", r#"{"n":2}"#),
            Rec {
                key: None,
                value: Some(br#"{"orphan":true}"#),
                headers: &[],
                partition: None,
                timestamp_ms: None,
            },
        ],
    );
    let source = open(&broker, "odd", KafkaConfig::default());
    let ids: Vec<String> = source
        .aggregates()
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, vec![NO_KEY.to_string(), "a".to_string()]);
    let events = source.history("a").unwrap().events;
    assert_eq!(events.len(), 5);
    assert!(
        matches!(&events[1].data, Payload::Undecodable { raw, .. } if raw == "this is not json")
    );
    assert!(events[2].data.error().unwrap().contains("UTF-8"));
    assert_eq!(events[3].event_type, TOMBSTONE);

    let url = broker.url("odd");
    let out = rewind(&["events", &url, "a", "--format", "json", "--no-cache"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(listed[1]["raw"], "this is not json");
    assert!(listed[1]["error"]
        .as_str()
        .unwrap()
        .contains("invalid JSON"));
    assert_eq!(listed[3]["type"], TOMBSTONE);

    // Replay goes on past them: the latest state has both good events.
    let out = rewind(&["state", &url, "a", "--format", "json", "--no-cache"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        json!({"n": 2})
    );

    let out = rewind(&["aggregates", &url, "--no-cache"]);
    assert!(stdout(&out).contains(NO_KEY), "{}", stdout(&out));
}

#[test]
fn cli_commands_work_on_a_topic_as_on_a_store() {
    let Some(broker) = Broker::start("cli_commands") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    let url = broker.url("accounts");
    let out = rewind(&["aggregates", &url, "--format", "json", "--no-cache"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    // No terminal: no progress line on stderr.
    assert_eq!(stderr(&out), "");

    let out = rewind(&[
        "diff",
        &url,
        "acc-1",
        "--from",
        "1",
        "--to",
        "3",
        "--no-cache",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("25"), "{}", stdout(&out));

    let out = rewind(&[
        "state",
        &url,
        "acc-1",
        "--at-version",
        "2",
        "--format",
        "json",
        "--no-cache",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        json!({"owner": "ada", "balance": 10})
    );

    let out = rewind(&["events", &url, "acc-9", "--no-cache"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("acc-9"), "{}", stderr(&out));
}

#[test]
fn a_partition_whose_end_is_never_reported_still_finishes() {
    let Some(broker) = Broker::start("unreported_end") else {
        return;
    };
    broker.create_topic("batched", 1);
    let records: Vec<Value> = (1..=50)
        .map(|n| json!({"key": "k", "value": {"type": "Tick", "n": n}}))
        .collect();
    broker.produce_with_tansu_cat("batched", &Value::from(records).to_string());
    let started = Instant::now();
    let source = KafkaSource::open(
        &broker.url("batched"),
        options(KafkaConfig {
            timeout: Some(8.0),
            ..KafkaConfig::default()
        }),
    )
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let summaries = source.aggregates().unwrap();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].events, 50);
}

#[test]
fn unknown_topic_lists_the_topics_that_exist() {
    let Some(broker) = Broker::start("unknown_topic") else {
        return;
    };
    broker.create_topic("orders", 1);
    broker.create_topic("payments", 2);
    let out = rewind(&["aggregates", &broker.url("ordrs"), "--no-cache"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("\"ordrs\"") && err.contains("orders") && err.contains("payments"),
        "{err}"
    );
}

#[test]
fn unreachable_broker_fails_fast_with_one_line_and_no_secret() {
    // No broker needed: nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("kafka://user:url-pass-1234@127.0.0.1:{port}/orders");
    let started = Instant::now();
    let out = rewind(&[
        "aggregates",
        &url,
        "--kafka-timeout",
        "2",
        "-X",
        "sasl.password=hunter2-secret",
    ]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot connect to Kafka"), "{err}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    for secret in ["hunter2-secret", "url-pass-1234"] {
        assert!(
            !err.contains(secret) && !stdout(&out).contains(secret),
            "{err}"
        );
    }
}

#[test]
fn secrets_never_appear_in_errors() {
    // A bad property value for a secret setting, rejected when the client is built.
    let out = rewind(&[
        "aggregates",
        "kafka://127.0.0.1:1/t",
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanism=NOPE",
        "-X",
        "sasl.password=hunter2-secret",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("hunter2-secret"), "{}", stderr(&out));

    let out = rewind(&["aggregates", "kafka://127.0.0.1:1/t", "-X", "sasl.password"]);
    assert_eq!(out.status.code(), Some(2));

    let Some(broker) = Broker::start("secrets") else {
        return;
    };
    broker.create_topic("orders", 1);
    // The broker speaks no SASL: the handshake fails; the message must not carry the password.
    let out = rewind(&[
        "aggregates",
        &broker.url("orders"),
        "--kafka-timeout",
        "3",
        "--no-cache",
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanism=PLAIN",
        "-X",
        "sasl.username=bob",
        "-X",
        "sasl.password=hunter2-secret",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(!stderr(&out).contains("hunter2-secret"), "{}", stderr(&out));
}

/// Every file under `dir`, recursively, as bytes.
fn all_bytes_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(all_bytes_under(&path));
        } else {
            found.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    found
}

#[test]
fn secrets_never_appear_in_transcripts_debug_logs_or_the_cache() {
    let Some(broker) = Broker::start("secrets_in_transcripts") else {
        return;
    };
    produce_accounts(&broker, "accounts");
    let (url_secret, property_secret) = ("url-pass-5678", "hunter2-secret");
    let url = format!(
        "kafka://reader:{url_secret}@{}/accounts",
        broker.bootstrap()
    );
    let home = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    for (format, with_debug) in [("md", false), ("jsonl", false), ("html", true)] {
        let file = out_dir.path().join(format!("acc-1.{format}"));
        let mut args = vec![
            "export".to_string(),
            url.clone(),
            "acc-1".into(),
            "-o".into(),
            file.to_string_lossy().into_owned(),
            // The test broker speaks no SASL: credentials are set but not used.
            "-X".into(),
            "security.protocol=PLAINTEXT".into(),
            "-X".into(),
            format!("sasl.password={property_secret}"),
            "-X".into(),
            format!("ssl.key.password={property_secret}"),
        ];
        if with_debug {
            // librdkafka's debug lines, configuration included, go to stderr: scrubbed.
            args.extend(["-X".into(), "debug=all".into()]);
        }
        let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
            .args(&args)
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        if with_debug {
            assert!(
                stderr(&out).contains("librdkafka"),
                "debug output was printed"
            );
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("acc-1") && text.contains(&broker.bootstrap()),
            "{text}"
        );
        for secret in [url_secret, property_secret] {
            assert!(!text.contains(secret), "{format} transcript shows {secret}");
            assert!(!stdout(&out).contains(secret), "stdout shows {secret}");
            assert!(!stderr(&out).contains(secret), "stderr shows {secret}");
        }
        assert!(!text.contains("reader:"), "{format}: URL userinfo kept");
    }
    let cached = all_bytes_under(home.path());
    assert!(!cached.is_empty(), "the cache was used");
    for (path, bytes) in cached {
        let text = String::from_utf8_lossy(&bytes);
        for secret in [url_secret, property_secret] {
            assert!(
                !text.contains(secret) && !path.to_string_lossy().contains(secret),
                "{} holds {secret}",
                path.display()
            );
        }
    }
}
