//! Reading a topic with librdkafka, strictly as an observer: partitions are assigned directly
//! (no consumer group), no offset is ever committed, no topic is ever created.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::options::Secrets;
use super::record::RawRecord;
use crate::source::SourceError;

/// Records are handed to the cache in batches this size, each batch one transaction.
const BATCH: usize = 5000;
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

/// Keeps librdkafka's most recent complaint, so errors can say why, and prints nothing.
#[derive(Default)]
pub struct QuietContext {
    last_problem: Mutex<Option<String>>,
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
    fn log(&self, level: RDKafkaLogLevel, _facility: &str, message: &str) {
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
        timeout: Duration,
        secrets: Secrets,
        cluster: String,
    ) -> Result<Reader, SourceError> {
        let consumer: BaseConsumer<QuietContext> = config
            .create_with_context(QuietContext::default())
            .map_err(|err| {
                SourceError::Config(secrets.scrub(&format!(
                    "cannot set up a Kafka client: {}; check the -X properties",
                    plain(&err)
                )))
            })?;
        Ok(Reader {
            consumer,
            timeout,
            secrets,
            cluster,
        })
    }

    fn fail(&self, doing: &str, err: &KafkaError) -> SourceError {
        // librdkafka queues its log lines; serving the queue hands them to the context.
        for _ in 0..1000 {
            if self.consumer.poll(Duration::ZERO).is_none() {
                break;
            }
        }
        let why = self
            .consumer
            .context()
            .last_problem()
            .unwrap_or_else(|| plain(err));
        let text = match err {
            KafkaError::MetadataFetch(_) | KafkaError::OffsetFetch(_) => format!(
                "cannot reach Kafka at {} within {} s ({why}); check the address and security settings, or raise --kafka-timeout",
                self.cluster,
                self.timeout.as_secs_f64()
            ),
            _ => format!("Kafka at {}: could not {doing}: {why}", self.cluster),
        };
        SourceError::Open(self.secrets.scrub(&text))
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
            return Err(SourceError::Open(format!(
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
        let mut assignment = TopicPartitionList::new();
        for &partition in partitions {
            let offset = next
                .get(&partition)
                .map_or(Offset::Beginning, |&o| Offset::Offset(o));
            assignment
                .add_partition_offset(topic, partition, offset)
                .map_err(|err| self.fail("assign partitions", &err))?;
        }
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
        self.consumer
            .assign(&assignment)
            .map_err(|err| self.fail("assign partitions", &err))?;
        let result = self.drain(topic, partitions, &mut report, progress, sink);
        // Assignment is local to this client; dropping it touches nothing on the brokers.
        let _ = self.consumer.unassign();
        result?;
        report.done = true;
        report.expected = report.expected.max(report.read);
        if let Some(progress) = progress {
            progress(&report);
        }
        Ok(report.read)
    }

    fn drain(
        &self,
        topic: &str,
        partitions: &[i32],
        report: &mut ReadProgress,
        progress: Option<&dyn Fn(&ReadProgress)>,
        sink: &mut dyn FnMut(Vec<RawRecord>) -> Result<(), SourceError>,
    ) -> Result<(), SourceError> {
        let mut pending: BTreeSet<i32> = partitions.iter().copied().collect();
        let mut batch = Vec::new();
        let mut last_activity = Instant::now();
        let mut last_error: Option<KafkaError> = None;
        while !pending.is_empty() {
            match self.consumer.poll(POLL) {
                Some(Ok(message)) => {
                    last_activity = Instant::now();
                    batch.push(raw_record(&message));
                    if batch.len() >= BATCH {
                        report.read += batch.len() as u64;
                        sink(std::mem::take(&mut batch))?;
                        report.expected = report.expected.max(report.read);
                        if let Some(progress) = progress {
                            progress(report);
                        }
                    }
                }
                Some(Err(KafkaError::PartitionEOF(partition))) => {
                    last_activity = Instant::now();
                    pending.remove(&partition);
                }
                Some(Err(err)) => last_error = Some(err),
                None => {}
            }
            if last_activity.elapsed() > self.timeout {
                let why = last_error
                    .as_ref()
                    .map(plain)
                    .or_else(|| self.consumer.context().last_problem())
                    .unwrap_or_else(|| "no answer".into());
                let waiting = pending
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(SourceError::Read(self.secrets.scrub(&format!(
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

fn raw_record(message: &impl Message) -> RawRecord {
    let headers = message
        .headers()
        .map(|headers| {
            (0..headers.count())
                .map(|i| {
                    let header = headers.get(i);
                    (header.key.to_string(), header.value.map(<[u8]>::to_vec))
                })
                .collect()
        })
        .unwrap_or_default();
    RawRecord {
        partition: message.partition(),
        offset: message.offset(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        timestamp_ms: message.timestamp().to_millis(),
        headers,
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
