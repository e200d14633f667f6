//! What every command needs: the settings, the opened source and the reducer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::jq::{Limits, DEFAULT_MEMORY_MB};
use crate::replay::{JqReducer, MergeReducer, Reducer, Replay};
use crate::source::EventSource;

use super::{open, StoreArgs};

/// A jq step longer than this is stopped, unless the user says otherwise.
const DEFAULT_JQ_TIMEOUT: f64 = 1.0;

pub struct Session {
    pub source: Box<dyn EventSource>,
    pub reducer: Arc<dyn Reducer>,
    pub jq_limits: Limits,
}

/// What a session settles before it opens the source.
pub struct Settings {
    /// The reducer the user named, if any.
    pub reducer: Option<Arc<dyn Reducer>>,
    pub jq_limits: Limits,
}

impl Settings {
    pub fn load(args: &StoreArgs) -> anyhow::Result<Settings> {
        let (config, config_dir) = load_config(args)?;
        let jq_limits = Limits::new(jq_timeout(args, &config)?, jq_memory(args, &config)?);
        let reducer = reducer(args, &config, config_dir.as_deref(), jq_limits)?;
        Ok(Settings { reducer, jq_limits })
    }
}

impl Session {
    pub fn open(spec: &str, args: &StoreArgs) -> anyhow::Result<Session> {
        let Settings {
            reducer: chosen,
            jq_limits,
        } = Settings::load(args)?;
        let source = open(spec, args)?;
        // A transcript replays to the states it recorded unless the user names a reducer.
        let reducer = chosen
            .or_else(|| source.recorded_reducer())
            .unwrap_or_else(|| Arc::new(MergeReducer));
        Ok(Session {
            source,
            reducer,
            jq_limits,
        })
    }

    /// Reads one aggregate and replays it with the session's reducer.
    pub fn replay(&self, aggregate: &str) -> anyhow::Result<Replay> {
        Ok(Replay::load(
            self.source.as_ref(),
            aggregate,
            self.reducer.clone(),
        )?)
    }
}

/// The config file named by `--config`, and the folder its relative paths start from.
pub fn load_config(args: &StoreArgs) -> anyhow::Result<(Config, Option<PathBuf>)> {
    match &args.config {
        Some(path) => {
            let dir = path.parent().map(Path::to_path_buf);
            Ok((Config::load(path)?, dir))
        }
        None => Ok((Config::default(), None)),
    }
}

fn jq_timeout(args: &StoreArgs, config: &Config) -> anyhow::Result<Duration> {
    let seconds = args
        .jq_timeout
        .or(config.jq_timeout)
        .unwrap_or(DEFAULT_JQ_TIMEOUT);
    if !(0.001..=3600.0).contains(&seconds) {
        anyhow::bail!("jq timeout {seconds} is out of range: give 0.001 to 3600 seconds");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The memory budget of a jq program, in MiB: enough for the worker to start, at most 1 TiB.
fn jq_memory(args: &StoreArgs, config: &Config) -> anyhow::Result<u64> {
    let mb = args
        .jq_memory
        .or(config.jq_memory)
        .unwrap_or(DEFAULT_MEMORY_MB);
    if !(16..=1 << 20).contains(&mb) {
        anyhow::bail!("jq memory {mb} MB is out of range: give 16 to 1048576 MB");
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
    let code = std::fs::read_to_string(&path)
        .map_err(|err| anyhow::anyhow!("cannot read reducer {}: {err}", path.display()))?;
    Ok(Some(Arc::new(JqReducer::new(
        &code,
        &path.display().to_string(),
        limit,
    )?)))
}
