//! Kafka figures (issue 7, target 5): reading the 1M-event topic into rewind's cache against
//! a bare consume loop that does nothing with the messages, and reopening on a warm cache.
//!
//! `cargo bench --bench kafka` (scripts/bench runs it). Starts tansu on a free loopback port,
//! or uses the broker at `REWIND_BENCH_KAFKA=host:port`; creates a 3-partition topic and
//! produces the benchmark events into it once (an existing topic holding them all is reused),
//! then measures side by side, interleaved, `REWIND_BENCH_ROUNDS` rounds (default 3), and
//! prints one JSON object per metric (medians).
//!
//! Baselines use rewind's own client settings and, for the simple consumer, rewind's own
//! consumption mechanism (librdkafka's group-less simple consumer), so only what rewind does
//! with the messages differs.

#[path = "../tests/support/kafka.rs"]
#[allow(dead_code)]
mod broker;
#[path = "data/events.rs"]
mod events;

use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::bindings as rd;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use rewind::source::kafka::{CacheMode, KafkaOptions, KafkaSource};
use rewind::source::EventSource;
use serde_json::json;

const PARTITIONS: i32 = 3;
const TIMEOUT: Duration = Duration::from_secs(30);
/// The same quiet-then-check rule rewind applies to brokers that never report a partition's end.
const STALL: Duration = Duration::from_secs(1);

fn main() {
    // `cargo test --all-targets` runs bench binaries too; only `cargo bench` passes --bench.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let rounds: usize = std::env::var("REWIND_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let topic =
        std::env::var("REWIND_BENCH_KAFKA_TOPIC").unwrap_or_else(|_| "rewind-bench-events".into());
    let (bootstrap, _broker) = match std::env::var("REWIND_BENCH_KAFKA") {
        Ok(address) => (address, None),
        Err(_) => match broker::Broker::start("kafka bench") {
            Some(broker) => (broker.bootstrap(), Some(broker)),
            None => return,
        },
    };
    let total = events::TOTAL_EVENTS as u64;
    let url = format!("kafka://{bootstrap}/{topic}");
    let work = tempfile::tempdir().expect("a temp dir");
    let binary = env!("CARGO_BIN_EXE_rewind");

    let produced = ensure_topic(&bootstrap, &topic, total);
    if let Some(seconds) = produced {
        report(
            "kafka_produce_msgs_per_s",
            total as f64 / seconds,
            "msgs/s",
            &[seconds],
        );
    }

    // Unmeasured: the broker's first read of the topic may be slower than the rest.
    let (_, warm_up) = bare_simple_consume(&bootstrap, &topic);
    assert_eq!(warm_up, total, "the bare loop read every record");

    let mut bare = Vec::new();
    let mut assign = Vec::new();
    let mut fill_memory = Vec::new();
    let mut fill_disk = Vec::new();
    let mut warm_lib = Vec::new();
    let mut warm_cli = Vec::new();
    let mut cache_bytes = 0;
    // CPU seconds of the bare loop and of the on-disk fill: with a broker faster than
    // tansu, the rates would be bound by these rather than by the broker.
    let mut bare_cpu = Vec::new();
    let mut fill_cpu = Vec::new();
    for round in 0..rounds {
        eprintln!("kafka bench: round {}/{rounds}", round + 1);
        let (seconds, count) = with_cpu(&mut bare_cpu, || bare_simple_consume(&bootstrap, &topic));
        assert_eq!(count, total, "the bare loop read every record");
        bare.push(seconds);
        if let Some(time) = bare_assign_consume(&bootstrap, &topic, total) {
            assign.push(time);
        }
        fill_memory.push(fill(&url, CacheMode::Off, total));
        // A fresh cache directory each round: a cold fill.
        let dir = work.path().join(format!("cache-{round}"));
        let cold = CacheMode::Dir(dir.clone());
        fill_disk.push(with_cpu(&mut fill_cpu, || fill(&url, cold, total)));
        cache_bytes = dir_size(&dir);
        warm_lib.push(warm_reopen(&url, &dir));
        warm_cli.push(warm_reopen_binary(binary, &url, &dir));
        eprintln!(
            "kafka bench: bare {:.2} s, assign {:?}, fill memory {:.2} s, fill disk {:.2} s, warm {:.3} s, warm binary {:.3} s",
            bare[round],
            assign.last(),
            fill_memory[round],
            fill_disk[round],
            warm_lib[round],
            warm_cli[round]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    let rate = |times: &[f64]| total as f64 / median(times);
    report("bare_consume_msgs_per_s", rate(&bare), "msgs/s", &bare);
    if !assign.is_empty() {
        report(
            "bare_assign_consume_msgs_per_s",
            rate(&assign),
            "msgs/s",
            &assign,
        );
    }
    report(
        "cache_fill_msgs_per_s",
        rate(&fill_disk),
        "msgs/s",
        &fill_disk,
    );
    report(
        "cache_fill_memory_msgs_per_s",
        rate(&fill_memory),
        "msgs/s",
        &fill_memory,
    );
    report(
        "cache_fill_ratio",
        median(&bare) / median(&fill_disk),
        "x bare",
        &[],
    );
    // The whole command is what a person waits for; the library figure is printed beside it.
    report("warm_reopen_s", median(&warm_cli), "s", &warm_cli);
    report("warm_reopen_library_s", median(&warm_lib), "s", &warm_lib);
    report("cache_file_mb", cache_bytes as f64 / 1e6, "MB", &[]);
    if !bare_cpu.is_empty() && !fill_cpu.is_empty() {
        report("bare_consume_cpu_s", median(&bare_cpu), "s", &bare_cpu);
        report("cache_fill_cpu_s", median(&fill_cpu), "s", &fill_cpu);
    }
}

/// Creates the topic and produces every benchmark event into it, unless it already holds
/// them; returns the seconds producing took, if it produced.
fn ensure_topic(bootstrap: &str, topic: &str, total: u64) -> Option<f64> {
    let probe = consumer(bootstrap);
    let metadata = probe
        .fetch_metadata(Some(topic), TIMEOUT)
        .expect("the broker answers");
    let exists = metadata
        .topics()
        .iter()
        .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
    if exists {
        // Not the high watermarks: tansu 0.6 under-reports them.
        let (_, held) = bare_simple_consume(bootstrap, topic);
        assert_eq!(
            held, total,
            "topic {topic} exists but holds {held} records, not {total}; delete it or set REWIND_BENCH_KAFKA_TOPIC"
        );
        eprintln!("kafka bench: reusing topic {topic} ({held} records)");
        return None;
    }
    create_topic(bootstrap, topic);
    eprintln!("kafka bench: producing {total} events into {topic}");
    let started = Instant::now();
    produce(bootstrap, topic, total);
    let seconds = started.elapsed().as_secs_f64();
    let reported = high_watermarks(&probe, topic).values().sum::<i64>();
    eprintln!("kafka bench: produced in {seconds:.1} s; the broker's high watermarks add up to {reported}");
    Some(seconds)
}

fn create_topic(bootstrap: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("an admin client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let new = NewTopic::new(topic, PARTITIONS, TopicReplication::Fixed(1));
    let results = runtime
        .block_on(admin.create_topics([&new], &AdminOptions::new()))
        .expect("the broker answers CreateTopics");
    for result in results {
        result.unwrap_or_else(|(name, err)| panic!("cannot create topic {name}: {err:?}"));
    }
}

/// Counts deliveries, so a failed produce fails the bench instead of skewing it.
#[derive(Default)]
struct Deliveries {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let counter = if result.is_ok() {
            &self.ok
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Produces the events keyed by aggregate id, each value the event as `gen_bench
/// --events-only-jsonl` writes it, and waits until the broker has acknowledged them all.
fn produce(bootstrap: &str, topic: &str, total: u64) {
    let producer: BaseProducer<Deliveries> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("allow.auto.create.topics", "false")
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "500000")
        .create_with_context(Deliveries::default())
        .expect("a producer");
    events::for_each_event(|event| {
        let value = event.to_json().to_string();
        let mut record = BaseRecord::to(topic)
            .key(event.aggregate_id)
            .payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
                Err((err, _)) => panic!("cannot produce: {err}"),
            }
        }
        producer.poll(Duration::ZERO);
    });
    producer
        .flush(Duration::from_secs(600))
        .expect("the broker acknowledges every record");
    let deliveries = producer.context();
    assert_eq!(
        deliveries.failed.load(Ordering::Relaxed),
        0,
        "failed deliveries"
    );
    assert_eq!(deliveries.ok.load(Ordering::Relaxed), total);
}

/// rewind's client settings (src/source/kafka/mod.rs `client_config`), for the baselines.
fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("client.id", "rewind-bench")
        .set("socket.connection.setup.timeout.ms", "10000")
        .set("log.connection.close", "false")
        .set("fetch.wait.max.ms", "100")
        .set("bootstrap.servers", bootstrap)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("allow.auto.create.topics", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set_log_level(RDKafkaLogLevel::Warning);
    config
}

fn consumer(bootstrap: &str) -> BaseConsumer {
    client_config(bootstrap).create().expect("a consumer")
}

fn partitions(consumer: &BaseConsumer, topic: &str) -> Vec<i32> {
    let metadata = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .expect("topic metadata");
    metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect()
}

fn high_watermarks(consumer: &BaseConsumer, topic: &str) -> HashMap<i32, i64> {
    partitions(consumer, topic)
        .into_iter()
        .map(|p| {
            let (_, high) = consumer
                .fetch_watermarks(topic, p, TIMEOUT)
                .expect("watermarks");
            (p, high)
        })
        .collect()
}

/// Drops partitions that have been read up to their high watermark, for brokers that never
/// report a partition's end (as rewind's reader does after a quiet second).
fn finish_stalled(
    consumer: &BaseConsumer,
    topic: &str,
    next: &HashMap<i32, i64>,
    pending: &mut BTreeSet<i32>,
) {
    pending.retain(|p| {
        let (_, high) = consumer
            .fetch_watermarks(topic, *p, TIMEOUT)
            .expect("watermarks");
        next.get(p).copied().unwrap_or(0) < high
    });
}

/// The limit: librdkafka's group-less simple consumer, as rewind reads, over every partition
/// from its beginning to its end, doing nothing with the messages. Seconds (client
/// included) and the number of records.
fn bare_simple_consume(bootstrap: &str, topic: &str) -> (f64, u64) {
    let started = Instant::now();
    let consumer = consumer(bootstrap);
    let partitions = partitions(&consumer, topic);
    let name = CString::new(topic).unwrap();
    let mut count = 0u64;
    // SAFETY: the handles are created here from the live consumer, used by this thread only,
    // and released before the consumer is dropped; each message is destroyed once.
    unsafe {
        let client = consumer.client().native_ptr();
        let handle = rd::rd_kafka_topic_new(client, name.as_ptr(), std::ptr::null_mut());
        let queue = rd::rd_kafka_queue_new(client);
        for &p in &partitions {
            let offset = rd::RD_KAFKA_OFFSET_BEGINNING as i64;
            assert_eq!(
                rd::rd_kafka_consume_start_queue(handle, p, offset, queue),
                0
            );
        }
        let mut pending: BTreeSet<i32> = partitions.iter().copied().collect();
        let mut next: HashMap<i32, i64> = HashMap::new();
        let mut last_activity = Instant::now();
        let mut ended = 0;
        while !pending.is_empty() {
            let message = rd::rd_kafka_consume_queue(queue, 100);
            if message.is_null() {
                if last_activity.elapsed() > STALL {
                    finish_stalled(&consumer, topic, &next, &mut pending);
                    last_activity = Instant::now();
                }
                continue;
            }
            last_activity = Instant::now();
            let m = &*message;
            if m.err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__PARTITION_EOF {
                pending.remove(&m.partition);
                ended += 1;
            } else if m.err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
                count += 1;
                next.insert(m.partition, m.offset + 1);
            } else {
                panic!("consume error {:?} on partition {}", m.err, m.partition);
            }
            rd::rd_kafka_message_destroy(message);
        }
        for &p in &partitions {
            rd::rd_kafka_consume_stop(handle, p);
        }
        rd::rd_kafka_queue_destroy(queue);
        rd::rd_kafka_topic_destroy(handle);
        if ended < partitions.len() {
            eprintln!(
                "kafka bench: the broker reported the end of {ended} of {} partitions; the rest ended after {} s of quiet",
                partitions.len(),
                STALL.as_secs_f64()
            );
        }
    }
    (started.elapsed().as_secs_f64(), count)
}

/// rdkafka's plain `BaseConsumer` with `assign` and `poll`, doing nothing with the messages.
/// librdkafka refuses `assign` without a consumer group, so this one names a group it never
/// joins (no subscribe) and never commits to; `None` if the broker will not serve it.
fn bare_assign_consume(bootstrap: &str, topic: &str, total: u64) -> Option<f64> {
    let started = Instant::now();
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", "rewind-bench-never-joined")
        .create()
        .expect("a consumer");
    let partitions = partitions(&consumer, topic);
    let mut list = TopicPartitionList::new();
    for &p in &partitions {
        list.add_partition_offset(topic, p, Offset::Beginning)
            .expect("a partition list");
    }
    if let Err(err) = consumer.assign(&list) {
        eprintln!("kafka bench: no plain assign loop: {err}");
        return None;
    }
    let mut pending: BTreeSet<i32> = partitions.iter().copied().collect();
    let mut next: HashMap<i32, i64> = HashMap::new();
    let mut count = 0u64;
    let mut last_activity = Instant::now();
    while !pending.is_empty() {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                count += 1;
                next.insert(message.partition(), message.offset() + 1);
                last_activity = Instant::now();
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                pending.remove(&p);
                last_activity = Instant::now();
            }
            Some(Err(err)) => {
                eprintln!("kafka bench: no plain assign loop: {err}");
                return None;
            }
            None if last_activity.elapsed() > STALL => {
                finish_stalled(&consumer, topic, &next, &mut pending);
                last_activity = Instant::now();
            }
            None => {}
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(count, total, "the assign loop read every record");
    Some(seconds)
}

/// `KafkaSource::open` reading the whole topic into a cache. Seconds.
fn fill(url: &str, cache: CacheMode, total: u64) -> f64 {
    let options = KafkaOptions {
        cache,
        timeout: TIMEOUT,
        ..KafkaOptions::default()
    };
    let started = Instant::now();
    let source = KafkaSource::open(url, options).expect("the topic opens");
    let seconds = started.elapsed().as_secs_f64();
    let stats = source.stats();
    assert_eq!(stats.fetched, total, "a cold open reads every record");
    assert_eq!(stats.cached, total);
    seconds
}

/// `KafkaSource::open` on a warm cache plus `aggregates()`. Seconds.
fn warm_reopen(url: &str, dir: &Path) -> f64 {
    let options = KafkaOptions {
        cache: CacheMode::Dir(dir.to_path_buf()),
        timeout: TIMEOUT,
        ..KafkaOptions::default()
    };
    let started = Instant::now();
    let source = KafkaSource::open(url, options).expect("the topic opens");
    let aggregates = source.aggregates().expect("aggregates");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        source.stats().fetched,
        0,
        "a warm reopen reads nothing again"
    );
    assert_eq!(aggregates.len(), events::aggregates().len());
    seconds
}

/// The real binary: `rewind aggregates URL --cache-dir DIR` on a warm cache. Seconds.
fn warm_reopen_binary(binary: &str, url: &str, dir: &Path) -> f64 {
    let started = Instant::now();
    let status = Command::new(binary)
        .args(["aggregates", url, "--cache-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("rewind runs");
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.success(), "rewind aggregates failed: {status}");
    seconds
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// CPU seconds this process (all its threads, librdkafka's included) has used; Linux only.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux rewind runs on.
    Some(ticks / 100.0)
}

/// Runs `measure` and adds the CPU seconds it used to `cpu`.
fn with_cpu<T>(cpu: &mut Vec<f64>, measure: impl FnOnce() -> T) -> T {
    let before = cpu_seconds();
    let result = measure();
    if let (Some(before), Some(after)) = (before, cpu_seconds()) {
        cpu.push(after - before);
    }
    result
}

fn median(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn report(metric: &str, value: f64, unit: &str, runs: &[f64]) {
    println!(
        "{}",
        json!({"metric": metric, "value": value, "unit": unit, "runs": runs})
    );
}
