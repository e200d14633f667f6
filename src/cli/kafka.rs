//! Command-line options for `kafka://` sources, and the progress line shown while a topic is read.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::display::terminal_safe;
use crate::source::kafka::{parse_property, KafkaConfig, ProgressFn, ReadProgress};

#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Kafka sources (kafka://HOST:PORT[,HOST:PORT]/TOPIC)")]
pub struct KafkaArgs {
    /// Where the aggregate id is: `key` (default), `header:NAME` or a JSON path like `.account_id`.
    #[arg(long, global = true, value_name = "FIELD")]
    pub id_from: Option<String>,

    /// Where the event type is: `header:NAME` or a JSON path [default: header event_type or
    /// type, then .event_type or .type].
    #[arg(long, global = true, value_name = "FIELD")]
    pub type_from: Option<String>,

    /// Where the event data is: `value` (the whole value, default) or a JSON path like `.event_data`.
    #[arg(long, global = true, value_name = "FIELD")]
    pub data_from: Option<String>,

    /// Where the version is: `order` (the aggregate's records in topic order, default) or a JSON path.
    #[arg(long, global = true, value_name = "FIELD")]
    pub version_from: Option<String>,

    /// Where the time is: `record` (the record timestamp, default) or a JSON path (epoch ms or RFC 3339).
    #[arg(long, global = true, value_name = "FIELD")]
    pub time_from: Option<String>,

    /// A topic of snapshots keyed by aggregate id.
    #[arg(long, global = true, value_name = "TOPIC")]
    pub snapshots_topic: Option<String>,

    /// JSON path of the state in a snapshot record [default: .state].
    #[arg(long, global = true, value_name = "PATH")]
    pub snapshot_state: Option<String>,

    /// JSON path of the version in a snapshot record [default: .version].
    #[arg(long, global = true, value_name = "PATH")]
    pub snapshot_version: Option<String>,

    /// A librdkafka property, e.g. `-X security.protocol=SASL_SSL`; repeatable. Values are never printed.
    #[arg(
        short = 'X',
        long = "kafka-property",
        global = true,
        value_name = "KEY=VALUE"
    )]
    pub properties: Vec<String>,

    /// A file of librdkafka properties: `key=value` lines, or TOML if it ends in .toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub kafka_config: Option<PathBuf>,

    /// Seconds to wait for the cluster before giving up [default: 10].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub kafka_timeout: Option<f64>,

    /// Where to keep the local copy of topics [default: $XDG_CACHE_HOME/rewind or ~/.cache/rewind].
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,

    /// Read the whole topic every time and keep nothing on disk.
    #[arg(long, global = true)]
    pub no_cache: bool,
}

impl KafkaArgs {
    /// The flags as a `[kafka]` section, to lay over rewind.toml's.
    pub fn to_config(&self) -> anyhow::Result<KafkaConfig> {
        let mut properties = BTreeMap::new();
        for entry in &self.properties {
            let (key, value) = parse_property(entry)?;
            properties.insert(key, toml::Value::String(value));
        }
        Ok(KafkaConfig {
            aggregate_id: self.id_from.clone(),
            event_type: self.type_from.clone(),
            event_data: self.data_from.clone(),
            version: self.version_from.clone(),
            timestamp: self.time_from.clone(),
            snapshots_topic: self.snapshots_topic.clone(),
            snapshot_state: self.snapshot_state.clone(),
            snapshot_version: self.snapshot_version.clone(),
            timeout: self.kafka_timeout,
            cache_dir: self.cache_dir.clone(),
            cache: self.no_cache.then_some(false),
            properties_file: self.kafka_config.clone(),
            properties,
        })
    }
}

/// A one-line progress report on stderr, redrawn in place; only when stderr is a terminal,
/// so scripts and logs never see it.
pub fn progress_line() -> Option<ProgressFn> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(Arc::new(|progress: &ReadProgress| {
        let mut err = std::io::stderr().lock();
        // The only raw control sequences rewind writes are its own: these, which redraw the line.
        if progress.done {
            let _ = write!(err, "\r\x1b[2K");
        } else {
            let _ = write!(
                err,
                "\r\x1b[2Kreading {}: {} of ~{} records",
                terminal_safe(&progress.topic),
                progress.read,
                progress.expected
            );
        }
        let _ = err.flush();
    }))
}
