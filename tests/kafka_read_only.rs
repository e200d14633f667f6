//! rewind reads Kafka without leaving a trace on the cluster: no consumer group, so no
//! committed offsets, and no topic created, even when asked for one that does not exist.
//! Against a real broker (tansu); without it these tests say SKIPPED, unless
//! REWIND_REQUIRE_KAFKA=1.

mod support;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use support::kafka::{Broker, Rec};

const WAIT: Duration = Duration::from_secs(10);

fn rewind(cache: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .expect("rewind runs")
}

/// A plain client of the test's own, to look at the cluster (it joins no group itself).
fn observer(broker: &Broker) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("an observer client")
}

fn consumer_groups(client: &BaseConsumer) -> Vec<String> {
    let list = client
        .fetch_group_list(None, WAIT)
        .expect("the broker lists its consumer groups");
    let mut names: Vec<String> = list.groups().iter().map(|g| g.name().to_string()).collect();
    names.sort();
    names
}

fn topics(client: &BaseConsumer) -> Vec<String> {
    let metadata = client
        .fetch_metadata(None, WAIT)
        .expect("the broker lists its topics");
    let mut names: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    names.sort();
    names
}

fn produce_accounts(broker: &Broker) {
    broker.create_topic("accounts", 2);
    let opened = [("event_type", "Opened")];
    let deposited = [("event_type", "Deposited")];
    broker.produce(
        "accounts",
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
        ],
    );
}

/// `events --follow` for a couple of seconds, seeing one record produced meanwhile.
fn follow_for_a_while(broker: &Broker, cache: &std::path::Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["events", &broker.url("accounts"), "acc-1", "--follow"])
        .args(["--format", "json", "--interval", "0.2"])
        .env("XDG_CACHE_HOME", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = support::stdout_lines(&mut child);
    for _ in 0..2 {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("follow printed the existing events");
    }
    broker.produce(
        "accounts",
        &[Rec::json("acc-1", r#"{"balance":11}"#).partition(0)],
    );
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("follow printed the new event");
    assert!(line.contains("11"), "{line}");
    // Keep following for a couple of seconds: ten more polls that must not commit anything.
    std::thread::sleep(Duration::from_secs(2));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn reading_and_following_a_topic_creates_no_consumer_group_and_no_topic() {
    let Some(broker) = Broker::start("kafka_read_only") else {
        return;
    };
    produce_accounts(&broker);
    let cache = tempfile::tempdir().unwrap();
    let client = observer(&broker);
    let groups_before = consumer_groups(&client);
    let topics_before = topics(&client);
    assert_eq!(topics_before, vec!["accounts"]);

    let url = broker.url("accounts");
    for args in [
        vec!["aggregates", url.as_str()],
        vec!["state", &url, "acc-1", "--format", "json"],
        vec!["state", &url, "acc-1", "--at-version", "1", "--no-cache"],
        vec!["events", &url, "acc-2", "--format", "json"],
        vec!["diff", &url, "acc-1", "--no-cache"],
        vec!["export", &url, "acc-1", "--format", "jsonl"],
    ] {
        let out = rewind(cache.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    follow_for_a_while(&broker, cache.path());

    // Unknown topics are an error, and are not created by asking.
    for args in [
        vec!["aggregates".to_string(), broker.url("no-such-topic")],
        vec![
            "state".to_string(),
            broker.url("orders-typo"),
            "acc-1".to_string(),
            "--no-cache".to_string(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = rewind(cache.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }

    assert_eq!(
        consumer_groups(&client),
        groups_before,
        "rewind left a consumer group behind"
    );
    assert_eq!(groups_before, Vec::<String>::new());
    assert_eq!(topics(&client), topics_before, "rewind created a topic");
}

#[test]
fn the_group_check_sees_a_group_when_there_is_one() {
    // The control for the test above: a consumer that does join a group and commits shows
    // up in the same listing, so "no group" there means none was made.
    let Some(broker) = Broker::start("kafka_group_control") else {
        return;
    };
    produce_accounts(&broker);
    let client = observer(&broker);
    assert_eq!(consumer_groups(&client), Vec::<String>::new());
    let member: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "control-group")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    member.subscribe(&["accounts"]).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut committed = false;
    while !committed && std::time::Instant::now() < deadline {
        if let Some(Ok(_)) = member.poll(Duration::from_millis(200)) {
            committed = member.commit_consumer_state(CommitMode::Sync).is_ok();
        }
    }
    assert!(committed, "the control consumer committed an offset");
    assert_eq!(consumer_groups(&client), vec!["control-group"]);
}
