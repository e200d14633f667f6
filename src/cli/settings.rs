//! Settings resolved once per run: rewind.toml read once, the flags laid over it once, the
//! result handed to the core and the front ends.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::id_args::NamedIds;
use crate::config::{Config, ConfigError};
use crate::diff::JsonPath;
use crate::jq::{Limits, DEFAULT_MEMORY_MB};
use crate::replay::{JqReducer, Reducer};
use crate::source::postgres::PostgresOptions;
use crate::source::sql::{Preset, SqlMapping};
use crate::source::sqlite::SqliteOptions;
use crate::source::{BadOption, OpenOptions};

use super::StoreArgs;

/// A jq step longer than this is stopped, unless the user says otherwise.
const DEFAULT_JQ_TIMEOUT: f64 = 1.0;

#[derive(Clone)]
pub struct Settings {
    /// How to open each kind of store (no progress reporting: a front end adds its own).
    pub open: OpenOptions,
    /// The reducer the user named, if any; otherwise each aggregate gets the default.
    pub reducer: Option<Arc<dyn Reducer>>,
    /// How long one jq step may take and how much memory a jq program may use.
    pub jq_limits: Limits,
    /// Paths whose values transcripts hide (`redact` in rewind.toml).
    pub redact: Vec<JsonPath>,
    /// Where correlation, causation and event ids live, as far as the user said; the
    /// store's conventions fill in the rest once it is open (`Session::open`).
    pub ids: NamedIds,
    /// The jq predicate every state must satisfy (`--invariant`, `invariant`).
    pub invariant: Option<Arc<crate::inspect::Invariant>>,
}

impl Settings {
    pub fn resolve(args: &StoreArgs) -> anyhow::Result<Settings> {
        let (config, config_dir) = load_config(args)?;
        let jq_limits = Limits::new(jq_timeout(args, &config)?, jq_memory(args, &config)?);
        let reducer = reducer(args, &config, config_dir.as_deref(), jq_limits)?;
        let redact = config
            .redact
            .iter()
            .map(|p| JsonPath::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let ids = args.ids.resolve(&config.trace)?;
        let invariant = match args.invariant.as_ref().or(config.invariant.as_ref()) {
            Some(code) => Some(Arc::new(crate::inspect::Invariant::new(code, jq_limits)?)),
            None => None,
        };
        let kafka = config.kafka.clone().overlay(args.kafka.to_config()?);
        let postgres = postgres_options(&config, args)?;
        let open = OpenOptions {
            kafka: crate::source::kafka::KafkaOptions::from_config(&kafka)
                .map_err(ConfigError::from)?,
            sqlite: sqlite_options(config, args)?,
            postgres,
        };
        Ok(Settings {
            open,
            reducer,
            jq_limits,
            redact,
            ids,
            invariant,
        })
    }
}

/// The name rewind looks for when `--config` is not given.
const CONFIG_NAME: &str = "rewind.toml";

/// The config file named by `--config`, else the first `rewind.toml` of the current
/// directory and the user's config directory; and the folder its relative paths start from.
fn load_config(args: &StoreArgs) -> Result<(Config, Option<PathBuf>), ConfigError> {
    let found = match &args.config {
        Some(path) => Some(path.clone()),
        None => config_candidates().into_iter().find(|path| path.is_file()),
    };
    match found {
        Some(path) => {
            let dir = path.parent().map(Path::to_path_buf);
            Ok((Config::load(&path)?, dir))
        }
        None => Ok((Config::default(), None)),
    }
}

/// `./rewind.toml`, then `$XDG_CONFIG_HOME/rewind/rewind.toml` (else
/// `~/.config/rewind/rewind.toml`), the same on every platform as the cache under
/// `~/.cache/rewind`, so a user finds it where the README says.
fn config_candidates() -> Vec<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let user_dir =
        from_env("XDG_CONFIG_HOME").or_else(|| from_env("HOME").map(|h| h.join(".config")));
    let mut candidates = vec![PathBuf::from(CONFIG_NAME)];
    candidates.extend(user_dir.map(|dir| dir.join("rewind").join(CONFIG_NAME)));
    candidates
}

fn out_of_range(message: String) -> ConfigError {
    ConfigError::Option(BadOption(message))
}

fn jq_timeout(args: &StoreArgs, config: &Config) -> Result<Duration, ConfigError> {
    let seconds = args
        .jq_timeout
        .or(config.jq_timeout)
        .unwrap_or(DEFAULT_JQ_TIMEOUT);
    if !(0.001..=3600.0).contains(&seconds) {
        return Err(out_of_range(format!(
            "jq timeout {seconds} is out of range: give 0.001 to 3600 seconds"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The memory budget of a jq program, in MiB: enough for the worker to start, at most 1 TiB.
fn jq_memory(args: &StoreArgs, config: &Config) -> Result<u64, ConfigError> {
    let mb = args
        .jq_memory
        .or(config.jq_memory)
        .unwrap_or(DEFAULT_MEMORY_MB);
    if !(16..=1 << 20).contains(&mb) {
        return Err(out_of_range(format!(
            "jq memory {mb} MB is out of range: give 16 to 1048576 MB"
        )));
    }
    Ok(mb)
}

fn reducer(
    args: &StoreArgs,
    config: &Config,
    config_dir: Option<&Path>,
    limit: Limits,
) -> anyhow::Result<Option<Arc<dyn Reducer>>> {
    let path = match (&args.reducer, &config.reducer) {
        (Some(path), _) => path.clone(),
        (None, Some(path)) => config_dir.map_or(path.clone(), |dir| dir.join(path)),
        (None, None) => return Ok(None),
    };
    let code = crate::files::bounded::read_small_text(&path)
        .map_err(|err| anyhow::anyhow!("cannot read reducer {}: {err}", path.display()))?;
    Ok(Some(Arc::new(JqReducer::new(
        &code,
        &path.display().to_string(),
        limit,
    )?)))
}

/// `--map KEY=NAME` entries laid over a store's mapping.
fn apply_map_flags(mapping: &mut SqlMapping, args: &StoreArgs) -> Result<(), ConfigError> {
    for entry in &args.map {
        let Some((key, value)) = entry.split_once('=') else {
            return Err(out_of_range(format!(
                "--map {entry:?} must look like KEY=NAME, e.g. events.table=domain_events"
            )));
        };
        mapping.set(key.trim(), value.trim())?;
    }
    Ok(())
}

/// The mapping the flags are laid over: rewind.toml's, unless `--preset` names a library
/// for this store, whose own tables it reads. A mapping in the config file (often the
/// user's global one) describes the stores opened without a preset, so it is left aside
/// rather than refused by the preset; `--map` flags given with `--preset` still are.
fn config_mapping(mapping: SqlMapping, args: &StoreArgs) -> SqlMapping {
    match args.preset {
        Some(_) => SqlMapping::default(),
        None => mapping,
    }
}

fn preset(args: &StoreArgs, config: &Config) -> Result<Option<Preset>, ConfigError> {
    match args.preset.as_ref().or(config.preset.as_ref()) {
        Some(name) => Ok(Some(name.parse()?)),
        None => Ok(None),
    }
}

/// `[postgres]` with the flags over it; `--map` over `[postgres.events]`.
fn postgres_options(config: &Config, args: &StoreArgs) -> Result<PostgresOptions, ConfigError> {
    let settings = config.postgres.clone().overlay(args.postgres.to_config());
    let mut mapping = config_mapping(settings.mapping(), args);
    apply_map_flags(&mut mapping, args)?;
    let mut options = settings.options(mapping)?;
    options.preset = preset(args, config)?;
    Ok(options)
}

fn sqlite_options(config: Config, args: &StoreArgs) -> Result<SqliteOptions, ConfigError> {
    let mut options = SqliteOptions {
        mapping: config_mapping(config.sqlite.clone(), args),
        ..SqliteOptions::default()
    };
    apply_map_flags(&mut options.mapping, args)?;
    options.preset = preset(args, &config)?;
    if let Some(seconds) = args.lock_timeout.or(config.lock_timeout) {
        if !(0.0..=3600.0).contains(&seconds) {
            return Err(out_of_range(format!(
                "lock timeout {seconds} is out of range: give 0 to 3600 seconds"
            )));
        }
        options.busy_timeout = Duration::from_secs_f64(seconds);
    }
    if let Some(seconds) = args.query_timeout.or(config.query_timeout) {
        if !(0.01..=86400.0).contains(&seconds) {
            return Err(out_of_range(format!(
                "query timeout {seconds} is out of range: give 0.01 to 86400 seconds"
            )));
        }
        options.query_timeout = Duration::from_secs_f64(seconds);
    }
    Ok(options)
}
