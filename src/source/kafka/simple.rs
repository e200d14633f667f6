//! librdkafka's simple (legacy) consumer, as kcat uses it without `-G`: partitions are read
//! from given offsets with no consumer group at all. rdkafka's safe API only reaches
//! partitions through `assign`, which librdkafka ties to a group (it fails with "Unknown
//! group" without a `group.id`), so this small module calls librdkafka directly.

use std::ffi::{c_char, c_void, CStr, CString};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::types::RDKafkaRespErr;

use super::record::RawRecord;

/// What one poll of the queue brought.
pub enum Fetched {
    Record(RawRecord),
    /// The end of a partition, as the broker reported it in a fetch response.
    EndOfPartition(i32),
    Error(String),
}

/// Partitions of one topic being read into one queue; stopped and freed on drop.
pub struct PartitionStream {
    topic: *mut rd::rd_kafka_topic_t,
    queue: *mut rd::rd_kafka_queue_t,
    started: Vec<i32>,
}

/// Where to start a partition: an offset, or its beginning.
pub const BEGINNING: i64 = rd::RD_KAFKA_OFFSET_BEGINNING as i64;

impl PartitionStream {
    /// Starts fetching each `(partition, offset)`.
    ///
    /// # Safety
    /// `client` must be a live librdkafka consumer handle that outlives the stream.
    pub unsafe fn start(
        client: *mut rd::rd_kafka_t,
        topic: &str,
        starts: &[(i32, i64)],
    ) -> Result<PartitionStream, String> {
        let name = CString::new(topic).map_err(|_| format!("bad topic name {topic:?}"))?;
        let topic_handle = rd::rd_kafka_topic_new(client, name.as_ptr(), std::ptr::null_mut());
        if topic_handle.is_null() {
            return Err(last_error());
        }
        let queue = rd::rd_kafka_queue_new(client);
        let mut stream = PartitionStream {
            topic: topic_handle,
            queue,
            started: Vec::new(),
        };
        for &(partition, offset) in starts {
            if rd::rd_kafka_consume_start_queue(stream.topic, partition, offset, stream.queue) != 0
            {
                return Err(format!("partition {partition}: {}", last_error()));
            }
            stream.started.push(partition);
        }
        Ok(stream)
    }

    /// The next record, end of partition or error; `None` if nothing came within `wait`.
    pub fn next(&self, wait: Duration) -> Option<Fetched> {
        let wait_ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: the queue lives as long as self; the message is freed below.
        let message = unsafe { rd::rd_kafka_consume_queue(self.queue, wait_ms) };
        if message.is_null() {
            return None;
        }
        // SAFETY: librdkafka returned a valid message, which we own until destroyed.
        let fetched = unsafe { convert(&*message) };
        unsafe { rd::rd_kafka_message_destroy(message) };
        Some(fetched)
    }
}

impl Drop for PartitionStream {
    fn drop(&mut self) {
        // SAFETY: the handles were created in `start` and are released exactly once here.
        unsafe {
            for &partition in &self.started {
                rd::rd_kafka_consume_stop(self.topic, partition);
            }
            rd::rd_kafka_queue_destroy(self.queue);
            rd::rd_kafka_topic_destroy(self.topic);
        }
    }
}

// SAFETY: librdkafka handles are thread-safe; the stream is used by one thread at a time.
unsafe impl Send for PartitionStream {}

unsafe fn convert(message: &rd::rd_kafka_message_t) -> Fetched {
    if message.err == RDKafkaRespErr::RD_KAFKA_RESP_ERR__PARTITION_EOF {
        return Fetched::EndOfPartition(message.partition);
    }
    if message.err != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        let detail = cstr(rd::rd_kafka_message_errstr(message));
        return Fetched::Error(format!(
            "partition {}: {} ({detail})",
            message.partition,
            cstr(rd::rd_kafka_err2str(message.err))
        ));
    }
    let mut timestamp_type = rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    let timestamp = rd::rd_kafka_message_timestamp(message, &mut timestamp_type);
    Fetched::Record(RawRecord {
        partition: message.partition,
        offset: message.offset,
        key: bytes(message.key, message.key_len),
        value: bytes(message.payload, message.len),
        timestamp_ms: (timestamp >= 0).then_some(timestamp),
        headers: headers(message),
    })
}

unsafe fn bytes(ptr: *const c_void, len: usize) -> Option<Vec<u8>> {
    if ptr.is_null() {
        return None;
    }
    Some(std::slice::from_raw_parts(ptr.cast::<u8>(), len).to_vec())
}

unsafe fn headers(message: &rd::rd_kafka_message_t) -> Vec<(String, Option<Vec<u8>>)> {
    let mut list: *mut rd::rd_kafka_headers_t = std::ptr::null_mut();
    if rd::rd_kafka_message_headers(message, &mut list)
        != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR
    {
        return Vec::new();
    }
    let mut headers = Vec::new();
    for index in 0.. {
        let mut name: *const c_char = std::ptr::null();
        let mut value: *const c_void = std::ptr::null();
        let mut size = 0usize;
        let found = rd::rd_kafka_header_get_all(list, index, &mut name, &mut value, &mut size);
        if found != RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
            break;
        }
        headers.push((cstr(name), bytes(value, size)));
    }
    headers
}

unsafe fn cstr(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    CStr::from_ptr(ptr).to_string_lossy().into_owned()
}

fn last_error() -> String {
    // SAFETY: both calls only read librdkafka's thread-local error state and static strings.
    unsafe { cstr(rd::rd_kafka_err2str(rd::rd_kafka_last_error())) }
}
