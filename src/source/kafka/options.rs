//! How to reach and read a Kafka topic: rewind.toml's `[kafka]` section, client properties,
//! and the secrets among them that must never be shown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::mapping::{KafkaMapping, SnapshotMapping};
use super::reader::ReadProgress;
use crate::diff::JsonPath;
use crate::source::BadOption;

/// Called as records arrive, so a front end can show a progress line or gauge.
pub type ProgressFn = Arc<dyn Fn(&ReadProgress) + Send + Sync>;

/// The `[kafka]` section of rewind.toml; the CLI fills the same struct from its flags and
/// lays it over the file's (see [`KafkaConfig::overlay`]).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// `key`, `header:NAME` or a JSON path.
    pub aggregate_id: Option<String>,
    /// `auto`, `header:NAME` or a JSON path.
    pub event_type: Option<String>,
    /// `value` or a JSON path.
    pub event_data: Option<String>,
    /// `order` or a JSON path.
    pub version: Option<String>,
    /// `record` or a JSON path.
    pub timestamp: Option<String>,
    pub snapshots_topic: Option<String>,
    pub snapshot_state: Option<String>,
    pub snapshot_version: Option<String>,
    /// Seconds to wait for the cluster before giving up.
    pub timeout: Option<f64>,
    pub cache_dir: Option<PathBuf>,
    /// `false` reads the topic afresh every time and keeps nothing on disk.
    pub cache: Option<bool>,
    /// A Java-style `key=value` properties file, or a TOML file of `key = "value"`.
    pub properties_file: Option<PathBuf>,
    /// librdkafka properties, e.g. `"security.protocol" = "SASL_SSL"`.
    pub properties: BTreeMap<String, toml::Value>,
}

impl KafkaConfig {
    /// This config with every setting `over` makes taking precedence; properties add up.
    pub fn overlay(self, over: KafkaConfig) -> KafkaConfig {
        let mut properties = self.properties;
        properties.extend(over.properties);
        KafkaConfig {
            aggregate_id: over.aggregate_id.or(self.aggregate_id),
            event_type: over.event_type.or(self.event_type),
            event_data: over.event_data.or(self.event_data),
            version: over.version.or(self.version),
            timestamp: over.timestamp.or(self.timestamp),
            snapshots_topic: over.snapshots_topic.or(self.snapshots_topic),
            snapshot_state: over.snapshot_state.or(self.snapshot_state),
            snapshot_version: over.snapshot_version.or(self.snapshot_version),
            timeout: over.timeout.or(self.timeout),
            cache_dir: over.cache_dir.or(self.cache_dir),
            cache: over.cache.or(self.cache),
            properties_file: over.properties_file.or(self.properties_file),
            properties,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheMode {
    /// The user's cache directory (`$XDG_CACHE_HOME/rewind` or `~/.cache/rewind`).
    Default,
    Dir(PathBuf),
    /// Keep nothing: records live in memory for the life of the source.
    Off,
}

#[derive(Clone)]
pub struct KafkaOptions {
    pub mapping: KafkaMapping,
    /// librdkafka properties in the order given; later ones win.
    pub properties: Vec<(String, String)>,
    pub timeout: Duration,
    pub cache: CacheMode,
    pub progress: Option<ProgressFn>,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            mapping: KafkaMapping::default(),
            properties: Vec::new(),
            timeout: Duration::from_secs(10),
            cache: CacheMode::Default,
            progress: None,
        }
    }
}

/// Property names only: their values may be secrets.
impl std::fmt::Debug for KafkaOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaOptions")
            .field("mapping", &self.mapping.describe())
            .field(
                "properties",
                &self.properties.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl KafkaOptions {
    pub fn from_config(config: &KafkaConfig) -> Result<KafkaOptions, BadOption> {
        let mut mapping = KafkaMapping::default();
        for (field, value) in [
            ("aggregate_id", &config.aggregate_id),
            ("event_type", &config.event_type),
            ("event_data", &config.event_data),
            ("version", &config.version),
            ("timestamp", &config.timestamp),
        ] {
            if let Some(value) = value {
                mapping.set(field, value)?;
            }
        }
        let path = |what: &str, text: &Option<String>, default: &str| {
            let text = text.as_deref().unwrap_or(default);
            JsonPath::parse(text).map_err(|err| BadOption(format!("Kafka {what}: {err}")))
        };
        mapping.snapshots = match config.snapshots_topic.as_deref() {
            None | Some("") => None,
            Some(topic) => Some(SnapshotMapping {
                topic: topic.to_string(),
                state: path("snapshot state", &config.snapshot_state, ".state")?,
                version: path("snapshot version", &config.snapshot_version, ".version")?,
            }),
        };
        let mut properties = Vec::new();
        if let Some(file) = &config.properties_file {
            properties.extend(read_properties_file(file)?);
        }
        for (key, value) in &config.properties {
            let value = match value {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            properties.push((key.clone(), value));
        }
        let timeout = match config.timeout {
            None => Duration::from_secs(10),
            Some(seconds) if (0.1..=3600.0).contains(&seconds) => Duration::from_secs_f64(seconds),
            Some(seconds) => {
                return Err(BadOption(format!(
                    "Kafka timeout {seconds} is out of range: give 0.1 to 3600 seconds"
                )))
            }
        };
        let cache = match (config.cache, &config.cache_dir) {
            (Some(false), _) => CacheMode::Off,
            (_, Some(dir)) => CacheMode::Dir(dir.clone()),
            _ => CacheMode::Default,
        };
        Ok(KafkaOptions {
            mapping,
            properties,
            timeout,
            cache,
            progress: None,
        })
    }

    /// The values among the properties that must never be shown.
    pub fn secrets(&self) -> Secrets {
        Secrets::new(
            self.properties
                .iter()
                .filter(|(key, _)| is_secret_key(key))
                .map(|(_, value)| value.clone()),
        )
    }
}

/// Settings rewind makes itself; a user value for one would break the read-only promise or
/// the way rewind finds the end of a partition.
const RESERVED: [(&str, &str); 7] = [
    (
        "bootstrap.servers",
        "name the brokers in the URL: kafka://HOST:PORT/TOPIC",
    ),
    ("metadata.broker.list", "name the brokers in the URL"),
    ("group.id", "rewind never joins a consumer group"),
    ("group.instance.id", "rewind never joins a consumer group"),
    ("enable.auto.commit", "rewind never commits offsets"),
    ("allow.auto.create.topics", "rewind never creates topics"),
    (
        "enable.partition.eof",
        "rewind finds the end of each partition with it",
    ),
];

/// Refuses properties rewind sets itself, naming the one at fault (never its value).
pub fn check_reserved(properties: &[(String, String)]) -> Result<(), BadOption> {
    for (key, _) in properties {
        if let Some((_, why)) = RESERVED.iter().find(|(name, _)| name == key) {
            return Err(BadOption(format!(
                "Kafka property {key} cannot be set: {why}"
            )));
        }
    }
    Ok(())
}

/// Property names whose values are credentials.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "jaas", "token", "credential", ".pem"]
        .iter()
        .any(|word| key.contains(word))
        || key.ends_with(".key")
        || key == "ssl_key"
}

/// Secret values, to be blanked out of any text rewind shows.
#[derive(Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    pub fn new(values: impl IntoIterator<Item = String>) -> Secrets {
        let mut values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        // Longest first, so a secret that contains another is blanked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Secrets { values }
    }

    pub fn add(&mut self, value: String) {
        let mut values = std::mem::take(&mut self.values);
        values.push(value);
        *self = Secrets::new(values);
    }

    pub fn scrub(&self, text: &str) -> String {
        self.values
            .iter()
            .fold(text.to_string(), |text, secret| text.replace(secret, "***"))
    }
}

/// Reads `key=value` lines (`#` and `!` start comments), or a flat TOML table for `.toml` files.
pub fn read_properties_file(path: &Path) -> Result<Vec<(String, String)>, BadOption> {
    let text = crate::files::bounded::read_small_text(path).map_err(|err| {
        BadOption(format!(
            "cannot read Kafka properties file {}: {err}",
            path.display()
        ))
    })?;
    if path.extension().is_some_and(|ext| ext == "toml") {
        let table: toml::Table = toml::from_str(&text).map_err(|err| {
            BadOption(format!(
                "Kafka properties file {}: {}",
                path.display(),
                err.message().lines().next().unwrap_or("invalid TOML")
            ))
        })?;
        return Ok(table
            .into_iter()
            .map(|(key, value)| match value {
                toml::Value::String(text) => (key, text),
                other => (key, other.to_string()),
            })
            .collect());
    }
    let mut properties = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            return Err(BadOption(format!(
                "Kafka properties file {} line {}: expected key=value",
                path.display(),
                number + 1
            )));
        };
        properties.push((key.trim().to_string(), value.trim().to_string()));
    }
    Ok(properties)
}

/// Parses one `-X key=value`.
pub fn parse_property(text: &str) -> Result<(String, String), BadOption> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => {
            // Show the key part only: what follows may be a secret.
            let key = text.split('=').next().unwrap_or_default();
            Err(BadOption(format!(
                "-X {key:?}: write Kafka properties as KEY=VALUE, e.g. -X security.protocol=SASL_SSL"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::kafka::mapping::FieldSpec;

    #[test]
    fn secrets_are_blanked_longest_first() {
        let secrets = Secrets::new(["abc".to_string(), "abcdef".to_string()]);
        assert_eq!(secrets.scrub("x abcdef y abc"), "x *** y ***");
        assert!(is_secret_key("sasl.password"));
        assert!(is_secret_key("ssl.key.password"));
        assert!(is_secret_key("sasl.oauthbearer.client.secret"));
        assert!(!is_secret_key("sasl.username"));
    }

    #[test]
    fn options_debug_never_shows_property_values() {
        let options = KafkaOptions {
            properties: vec![("sasl.password".into(), "hunter2".into())],
            ..KafkaOptions::default()
        };
        let shown = format!("{options:?}");
        assert!(shown.contains("sasl.password") && !shown.contains("hunter2"));
    }

    #[test]
    fn config_overlay_prefers_the_flags_and_adds_properties() {
        let file: KafkaConfig = toml::from_str(
            "aggregate_id = \".id\"\ntimeout = 3\n[properties]\n\"security.protocol\" = \"SSL\"\n",
        )
        .unwrap();
        let flags = KafkaConfig {
            aggregate_id: Some("header:agg".into()),
            properties: BTreeMap::from([("client.id".to_string(), toml::Value::from("rewind"))]),
            ..KafkaConfig::default()
        };
        let options = KafkaOptions::from_config(&file.overlay(flags)).unwrap();
        assert_eq!(
            options.mapping.aggregate_id,
            FieldSpec::Header("agg".into())
        );
        assert_eq!(options.timeout, Duration::from_secs(3));
        assert_eq!(options.properties.len(), 2);
    }

    #[test]
    fn snapshot_paths_default_to_state_and_version() {
        let config = KafkaConfig {
            snapshots_topic: Some("snaps".into()),
            ..KafkaConfig::default()
        };
        let snapshots = KafkaOptions::from_config(&config)
            .unwrap()
            .mapping
            .snapshots
            .unwrap();
        assert_eq!(snapshots.state.to_string(), ".state");
        assert_eq!(snapshots.version.to_string(), ".version");
    }

    #[test]
    fn properties_files_in_both_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("client.properties");
        std::fs::write(
            &plain,
            "# comment\nsecurity.protocol=SASL_SSL\nsasl.mechanism = PLAIN\n",
        )
        .unwrap();
        assert_eq!(
            read_properties_file(&plain).unwrap(),
            vec![
                ("security.protocol".into(), "SASL_SSL".into()),
                ("sasl.mechanism".into(), "PLAIN".into())
            ]
        );
        let as_toml = dir.path().join("client.toml");
        std::fs::write(&as_toml, "\"socket.timeout.ms\" = 5000\n").unwrap();
        assert_eq!(
            read_properties_file(&as_toml).unwrap(),
            vec![("socket.timeout.ms".into(), "5000".into())]
        );
    }

    #[test]
    fn reserved_properties_and_bad_flags_do_not_echo_values() {
        let err = check_reserved(&[("group.id".into(), "g".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("consumer group"), "{err}");
        let err = parse_property("sasl.password").unwrap_err().to_string();
        assert!(err.contains("KEY=VALUE"));
    }
}
