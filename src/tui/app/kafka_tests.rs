//! A Kafka topic in the headless UI, against a real broker (tansu): an aggregate's history is
//! paged like a SQL store's, its payloads read back from the topic's cache file on the
//! source's second reader rather than held. Without tansu these tests say SKIPPED, unless
//! REWIND_REQUIRE_KAFKA=1.

use super::*;
use crate::source::kafka::{CacheMode, KafkaConfig, KafkaOptions, KafkaSource};
use crate::tui::action::Action;
use crate::tui::testing::Harness;

// The integration tests' broker harness: the headless App exists only in the library's own
// tests, so this is where a UI test of a real topic can run.
#[allow(dead_code)]
#[path = "../../../tests/support/kafka.rs"]
mod broker;

use broker::{Broker, Rec};

const EVENTS: usize = 3000;

fn view(h: &Harness) -> &AggregateView {
    h.app.view.as_ref().expect("an aggregate is open")
}

/// `acc-1`: EVENTS deposits over two partitions (event `i` sets the balance to `i`), and a
/// short `acc-2` beside it.
fn ledger(broker: &Broker) {
    broker.create_topic("ledger", 2);
    let values: Vec<String> = (1..=EVENTS)
        .map(|i| format!(r#"{{"balance":{i},"note":"deposit {i}"}}"#))
        .collect();
    let deposited = [("event_type", "Deposited")];
    let mut records: Vec<Rec> = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            Rec::json("acc-1", value)
                .headers(&deposited)
                .partition((i % 2) as i32)
        })
        .collect();
    records.push(Rec::json("acc-2", r#"{"balance":7}"#).partition(1));
    broker.produce("ledger", &records);
}

#[test]
fn a_kafka_history_is_paged_in_the_ui_and_scrubs_to_a_far_version() {
    let Some(broker) = Broker::start("ui_kafka_paged") else {
        return;
    };
    ledger(&broker);
    let cache = tempfile::tempdir().unwrap();
    let mut options = KafkaOptions::from_config(&KafkaConfig::default()).unwrap();
    options.cache = CacheMode::Dir(cache.path().to_path_buf());
    let source = KafkaSource::open(&broker.url("ledger"), options).unwrap();
    let mut h = Harness::new(Box::new(source), 120, 32);
    h.open("acc-1");
    assert!(!view(&h).loading);
    assert_eq!(view(&h).len(), EVENTS);
    assert!(
        view(&h).replay.is_paged(),
        "payloads are read back from the cache file, not held"
    );
    assert_eq!(h.cursor_version(), 1);

    // Far into the history: the versions, in partition order, are the source's, so event
    // 2345 is the one partition order puts there.
    h.send(Action::JumpToVersion);
    h.type_text("2345");
    h.send(Action::Confirm);
    assert_eq!(h.cursor_version(), 2345);
    let screen = h.screen();
    let view_mut = h.app.view.as_mut().unwrap();
    let event = view_mut
        .event_at_cursor()
        .expect("the event under the cursor");
    let balance = event.data.json().unwrap()["balance"].as_u64().unwrap();
    // Partition 0 holds the odd balances, partition 1 the even ones; 1500 odd come first.
    assert_eq!(balance, 2 * (2345 - 1500));
    assert!(screen.contains("state after v2345"), "{screen}");
    assert!(
        screen.contains(&format!("\"balance\": {balance}")),
        "the state at v2345 shows its balance:\n{screen}"
    );
    assert!(screen.contains(&format!("deposit {balance}")), "{screen}");

    h.send(Action::Last);
    assert_eq!(h.cursor_version(), EVENTS as u64);
    assert!(h.screen().contains(&format!("\"balance\": {EVENTS}")));
    assert!(view(&h).replay.is_paged());
}

#[test]
fn without_a_cache_file_the_ui_holds_the_kafka_history() {
    let Some(broker) = Broker::start("ui_kafka_memory") else {
        return;
    };
    ledger(&broker);
    let mut options = KafkaOptions::from_config(&KafkaConfig::default()).unwrap();
    options.cache = CacheMode::Off;
    let source = KafkaSource::open(&broker.url("ledger"), options).unwrap();
    let mut h = Harness::new(Box::new(source), 120, 32);
    h.open("acc-2");
    assert!(
        !view(&h).replay.is_paged(),
        "--no-cache keeps nothing on disk"
    );
    assert!(h.screen().contains("\"balance\": 7"));
}
