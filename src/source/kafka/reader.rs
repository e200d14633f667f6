//! Reading a topic with librdkafka, strictly as an observer: partitions are read directly
//! with no consumer group, no offset is ever committed, no topic is ever created.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::ClientContext;

use super::options::Secrets;
use super::record::RawRecord;
use super::simple::{Fetched, PartitionStream, BEGINNING};
use crate::source::{BadOption, SourceError};

/// Records are handed to the cache in batches this size, each batch one transaction.
const BATCH: usize = 5000;
/// Non-blocking polls of librdkafka's main queue per round (see `serve_main_queue`).
const MAIN_QUEUE_POLLS: usize = 64;
/// Records read between rounds of serving the main queue while records flow; each round
/// costs far more than a record, and problems show when records stop (then it is served
/// on every poll).
const SERVE_EVERY: usize = 4096;
/// Quiet time after which partitions that report no end are checked against watermarks.
const STALL: Duration = Duration::from_secs(1);
/// How long one poll waits; short, so a stalled read is noticed promptly.
const POLL: Duration = Duration::from_millis(100);

/// How far a read has got, for a progress line or gauge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProgress {
    pub topic: String,
    /// Records read so far in this pass.
    pub read: u64,
    /// Records the brokers said were there when the pass began; an estimate only (the end
    /// of each partition is known from the end-of-partition events, not from this number).
    pub expected: u64,
    pub done: bool,
}

/// Keeps librdkafka's most recent complaint, so errors can say why, and prints nothing
/// unless the user asked for librdkafka's debug output (`-X debug=...`).
#[derive(Default)]
pub struct QuietContext {
    last_problem: Mutex<Option<String>>,
    /// Set with `-X debug=...`: log lines go to stderr, secrets blanked.
    echo: Option<Secrets>,
}

impl QuietContext {
    fn remember(&self, text: String) {
        if let Ok(mut slot) = self.last_problem.lock() {
            *slot = Some(text);
        }
    }

    fn last_problem(&self) -> Option<String> {
        self.last_problem.lock().ok().and_then(|slot| slot.clone())
    }
}

impl ClientContext for QuietContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if let Some(secrets) = &self.echo {
            let line = crate::display::message_line(&secrets.scrub(message));
            eprintln!(
                "librdkafka {}: {line}",
                crate::display::terminal_safe(facility)
            );
        }
        use RDKafkaLogLevel::{Alert, Critical, Emerg, Error, Warning};
        if matches!(level, Emerg | Alert | Critical | Error | Warning) {
            self.remember(tidy_log(message));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.remember(format!("{error}: {reason}"));
    }
}

impl ConsumerContext for QuietContext {}

pub struct Reader {
    consumer: BaseConsumer<QuietContext>,
    timeout: Duration,
    secrets: Secrets,
    /// The brokers, for messages.
    cluster: String,
}

impl Reader {
    pub fn connect(
        config: &ClientConfig,
        debug: bool,
        timeout: Duration,
        secrets: Secrets,
        cluster: String,
    ) -> Result<Reader, SourceError> {
        let consumer: BaseConsumer<QuietContext> = config
            .create_with_context(QuietContext {
                last_problem: Mutex::default(),
                echo: debug.then(|| secrets.clone()),
            })
            .map_err(|err| {
                SourceError::Option(BadOption(secrets.scrub(&format!(
                    "cannot set up a Kafka client: {}; check the -X properties",
                    plain(&err)
                ))))
            })?;
        Ok(Reader {
            consumer,
            timeout,
            secrets,
            cluster,
        })
    }

    /// librdkafka's latest complaint: it queues log lines, and serving the queue hands
    /// them to the context.
    fn drained_problem(&self) -> Option<String> {
        self.serve_main_queue();
        self.consumer.context().last_problem()
    }

    /// Hands queued log lines to the context and returns the latest queued error, if any.
    /// A poll that only served a log line reports nothing, so "nothing" does not mean the
    /// queue is empty: poll a fixed number of times, each without waiting.
    fn serve_main_queue(&self) -> Option<String> {
        let mut latest = None;
        for _ in 0..MAIN_QUEUE_POLLS {
            if let Some(Err(err)) = self.consumer.poll(Duration::ZERO) {
                latest = Some(plain(&err));
            }
        }
        latest
    }

    fn fail(&self, doing: &str, err: &KafkaError) -> SourceError {
        let why = self.drained_problem().unwrap_or_else(|| plain(err));
        let text = match err {
            KafkaError::MetadataFetch(_) | KafkaError::OffsetFetch(_) => format!(
                "cannot connect to Kafka at {} within {} s ({why}); check the address and security settings, or raise --kafka-timeout",
                self.cluster,
                self.timeout.as_secs_f64()
            ),
            _ => format!("Kafka at {}: could not {doing}: {why}", self.cluster),
        };
        SourceError::open(self.secrets.scrub(&text))
    }

    /// The names of every topic the cluster shows this client.
    pub fn topics(&self) -> Result<Vec<String>, SourceError> {
        let metadata = self
            .consumer
            .fetch_metadata(None, self.timeout)
            .map_err(|err| self.fail("list topics", &err))?;
        if metadata.brokers().is_empty() {
            return Err(self.fail(
                "list topics",
                &KafkaError::MetadataFetch(rdkafka::types::RDKafkaErrorCode::BrokerNotAvailable),
            ));
        }
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| t.name().to_string())
            .collect())
    }

    /// The partitions of one topic as the cluster sees them now (they can be added).
    pub fn partitions(&self, topic: &str) -> Result<Vec<i32>, SourceError> {
        let metadata = self
            .consumer
            .fetch_metadata(Some(topic), self.timeout)
            .map_err(|err| self.fail("read the topic's partitions", &err))?;
        let partitions = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect::<Vec<_>>();
        if partitions.is_empty() {
            return Err(SourceError::open(format!(
                "topic {topic:?} is gone from the Kafka cluster at {}",
                self.cluster
            )));
        }
        Ok(partitions)
    }

    /// Reads every partition from `next` (or its beginning) to its end, as the brokers report
    /// it with end-of-partition events, handing records to `sink` in batches. Returns the
    /// number of records read.
    pub fn read(
        &self,
        topic: &str,
        partitions: &[i32],
        next: &HashMap<i32, i64>,
        progress: Option<&dyn Fn(&ReadProgress)>,
        sink: &mut dyn FnMut(Vec<RawRecord>) -> Result<(), SourceError>,
    ) -> Result<u64, SourceError> {
        let starts: Vec<(i32, i64)> = partitions
            .iter()
            .map(|&p| (p, next.get(&p).copied().unwrap_or(BEGINNING)))
            .collect();
        let mut report = ReadProgress {
            topic: topic.to_string(),
            read: 0,
            expected: 0,
            done: false,
        };
        if let Some(progress) = progress {
            report.expected = self.estimate(topic, partitions, next);
            progress(&report);
        }
        // SAFETY: the consumer's handle lives as long as self, and the stream is dropped
        // before this function returns.
        let stream =
            unsafe { PartitionStream::start(self.consumer.client().native_ptr(), topic, &starts) }
                .map_err(|why| {
                    SourceError::read(self.secrets.scrub(&format!(
                        "Kafka at {}: could not start reading topic {topic:?}: {why}",
                        self.cluster
                    )))
                })?;
        self.drain(&stream, topic, &starts, &mut report, progress, sink)?;
        drop(stream);
        report.done = true;
        report.expected = report.expected.max(report.read);
        if let Some(progress) = progress {
            progress(&report);
        }
        Ok(report.read)
    }

    fn drain(
        &self,
        stream: &PartitionStream,
        topic: &str,
        starts: &[(i32, i64)],
        report: &mut ReadProgress,
        progress: Option<&dyn Fn(&ReadProgress)>,
        sink: &mut dyn FnMut(Vec<RawRecord>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut pending: BTreeSet<i32> = starts.iter().map(|(p, _)| *p).collect();
        // The next offset each partition will deliver, once known.
        let mut position: HashMap<i32, i64> = starts
            .iter()
            .filter(|(_, offset)| *offset >= 0)
            .copied()
            .collect();
        let mut batch = Vec::new();
        let mut last_activity = Instant::now();
        // Records arrived since `last_activity` was set: reading the clock for each record
        // costs more than the rest of the loop, so it is read when records pause.
        let mut active = false;
        let mut last_check = Instant::now();
        let mut last_error: Option<String> = None;
        let mut unserved = SERVE_EVERY;
        while !pending.is_empty() {
            if unserved >= SERVE_EVERY {
                if let Some(err) = self.serve_main_queue() {
                    last_error = Some(err);
                }
                unserved = 0;
            }
            match stream.next(POLL) {
                Some(Fetched::Record(record)) => {
                    unserved += 1;
                    active = true;
                    position.insert(record.partition, record.offset + 1);
                    batch.push(record);
                    if batch.len() >= BATCH {
                        report.read += batch.len() as u64;
                        sink(std::mem::take(&mut batch))?;
                        report.expected = report.expected.max(report.read);
                        if let Some(progress) = progress {
                            progress(report);
                        }
                    }
                    // Records are flowing: nothing is stalled or timed out.
                    continue;
                }
                Some(Fetched::EndOfPartition(partition)) => {
                    active = true;
                    pending.remove(&partition);
                }
                Some(Fetched::Error(err)) => last_error = Some(err),
                None => {}
            }
            unserved = SERVE_EVERY;
            if active {
                last_activity = Instant::now();
                active = false;
            }
            if last_activity.elapsed() > STALL && last_check.elapsed() > STALL {
                self.finish_stalled(topic, &position, &mut pending);
                last_check = Instant::now();
            }
            if last_activity.elapsed() > self.timeout {
                let why = last_error
                    .or_else(|| self.drained_problem())
                    .unwrap_or_else(|| "no answer".into());
                let waiting = pending
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(SourceError::read(self.secrets.scrub(&format!(
                    "Kafka at {} stopped answering while rewind read topic {topic:?} (partitions {waiting} unfinished after {} s: {why}); raise --kafka-timeout or try again",
                    self.cluster,
                    self.timeout.as_secs_f64()
                ))));
            }
        }
        if !batch.is_empty() {
            report.read += batch.len() as u64;
            sink(batch)?;
        }
        Ok(())
    }

    /// Some brokers (tansu 0.6 after batched produces) report a high watermark below the
    /// offsets they served, so librdkafka never sees the end of the partition. When nothing
    /// has arrived for a while, a partition already read up to its high watermark is done.
    fn finish_stalled(
        &self,
        topic: &str,
        position: &HashMap<i32, i64>,
        pending: &mut BTreeSet<i32>,
    ) {
        pending.retain(|&p| {
            let Ok((low, high)) = self.consumer.fetch_watermarks(topic, p, self.timeout) else {
                return true;
            };
            position.get(&p).copied().unwrap_or(low) < high
        });
    }

    /// Records between each partition's starting point and its high watermark; only a guide
    /// for progress, since some brokers under-report the high watermark.
    fn estimate(&self, topic: &str, partitions: &[i32], next: &HashMap<i32, i64>) -> u64 {
        partitions
            .iter()
            .filter_map(|&p| {
                let (low, high) = self
                    .consumer
                    .fetch_watermarks(topic, p, self.timeout)
                    .ok()?;
                let start = next.get(&p).copied().unwrap_or(low).max(low);
                Some((high - start).max(0) as u64)
            })
            .sum()
    }
}

/// `[thrd:h:1/bootstrap]: h:1/bootstrap: Connect to … failed` → `Connect to … failed`.
fn tidy_log(message: &str) -> String {
    let mut text = message;
    if text.starts_with("[thrd:") {
        if let Some((_, rest)) = text.split_once("]: ") {
            text = rest;
        }
    }
    if let Some((first, rest)) = text.split_once(": ") {
        if !first.contains(' ') && first.contains('/') {
            text = rest;
        }
    }
    text.to_string()
}

/// rdkafka's Display adds "KafkaError (...)" wrappers; people want the reason.
fn plain(err: &KafkaError) -> String {
    match err.rdkafka_error_code() {
        Some(code) => format!("{err} ({code:?})")
            .replace("KafkaError ", "")
            .trim()
            .to_string(),
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librdkafka_log_lines_lose_their_thread_and_broker_prefixes() {
        assert_eq!(
            tidy_log("[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused"),
            "Connect to ipv4#127.0.0.1:1 failed: Connection refused"
        );
        assert_eq!(tidy_log("plain: words here"), "plain: words here");
    }
}
