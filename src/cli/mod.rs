//! The command line: clap definitions and one module per command.

mod aggregates;
mod bisect;
mod blame;
mod demo;
mod diff;
mod events;
mod export;
mod kafka;
mod output;
pub mod panic;
mod session;
mod state;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::model::Position;
use crate::source::sqlite::SqliteOptions;
use crate::source::{self, EventSource, OpenOptions};

pub use kafka::KafkaArgs;

pub use output::Output;
pub use session::Session;

/// Success.
pub const EXIT_OK: u8 = 0;
/// A check ran and found a problem (verify, bisect).
pub const EXIT_FOUND: u8 = 1;
/// Bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "rewind",
    version,
    about = "A time-travel debugger for event-sourced systems",
    long_about = "rewind reads an event store, lists its aggregates and rebuilds any aggregate's \
                  state at any version or time, with the diff each event caused.\n\n\
                  `rewind SOURCE` opens the terminal UI; the subcommands are for scripts.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Store to open in the terminal UI (a SQLite file, optionally prefixed `sqlite:`, or
    /// `kafka://HOST:PORT[,HOST:PORT]/TOPIC`).
    pub source: Option<String>,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// How to read a store; shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Settings file (table mapping, lock timeout); see the README.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Map a field to your schema, e.g. `events.table=domain_events`; repeatable.
    #[arg(long = "map", global = true, value_name = "KEY=NAME")]
    pub map: Vec<String>,

    /// Seconds to wait for a writer's lock on a SQLite store [default: 5].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub lock_timeout: Option<f64>,

    /// Read a library's layout: native, eventsourcing, emmett [default: detected].
    #[arg(long, global = true, value_name = "NAME")]
    pub preset: Option<String>,

    /// jq program that folds events into state (default: JSON merge patch).
    #[arg(long, global = true, value_name = "FILE")]
    pub reducer: Option<PathBuf>,

    /// Seconds one event may take in a jq program before it is stopped [default: 1].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub jq_timeout: Option<f64>,

    /// Megabytes (MiB) a jq program may use before it is stopped [default: 512].
    #[arg(long, global = true, value_name = "MB")]
    pub jq_memory: Option<u64>,

    #[command(flatten)]
    pub kafka: KafkaArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the aggregates in a store.
    Aggregates {
        source: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// List one aggregate's events in version order.
    Events {
        source: String,
        aggregate: String,
        /// Only events for which this jq expression holds; `.` is the state after the
        /// event, `$event` the event, e.g. `$event.type == "Withdrawn"`.
        #[arg(long = "where", value_name = "JQ")]
        where_: Option<String>,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Keep running and print new events as they arrive (one JSON object per line with
        /// `--format json`), until interrupted.
        #[arg(long)]
        follow: bool,
        /// Seconds between checks for new events with --follow.
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = 1.0,
            requires = "follow"
        )]
        interval: f64,
    },
    /// Print an aggregate's state at a version or time (default: latest).
    State {
        source: String,
        aggregate: String,
        /// Version to stop at (`12` or `v12`; 0 is the empty state).
        #[arg(long, value_name = "N", conflicts_with = "at")]
        at_version: Option<String>,
        /// Time to stop at: RFC 3339, or a UTC prefix like `2026-01-15 10:30`.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[arg(long, value_enum, default_value_t = StateFormat::Pretty)]
        format: StateFormat,
    },
    /// Show what changed between two positions of an aggregate.
    Diff {
        source: String,
        aggregate: String,
        /// Start position: version (`12`, `v12`) or time [default: v0, the empty state].
        #[arg(long, value_name = "POS")]
        from: Option<String>,
        /// End position [default: the latest event].
        #[arg(long, value_name = "POS")]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = DiffFormat::Unified)]
        format: DiffFormat,
    },
    /// Check every stored snapshot against replay; exit 1 when any drifts.
    Verify {
        source: String,
        /// Only this aggregate (default: all).
        aggregate: Option<String>,
        /// Differences at or under this jq-style path do not count; repeatable.
        #[arg(long, value_name = "PATH")]
        ignore: Vec<String>,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Find the first event after which a jq predicate holds; exit 1 if none does.
    Bisect {
        source: String,
        aggregate: String,
        /// jq expression over the state (`.`) and `$event`, e.g. `.balance < 0`.
        #[arg(long, value_name = "JQ")]
        until: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// List every event that changed the value at a jq-style path, e.g. `.limits.daily`.
    Blame {
        source: String,
        aggregate: String,
        path: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Write an aggregate's history as a transcript: Markdown or HTML to read, JSON Lines
    /// to open in rewind without the store.
    Export(export::ExportArgs),
    /// Open the bundled demo store.
    Demo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Unified,
    Patch,
    Json,
}

/// Runs a parsed command line; errors are user-facing one-liners.
pub fn run(cli: Cli, out: &mut Output) -> anyhow::Result<u8> {
    match cli.command {
        Some(Command::Aggregates { source, format }) => {
            aggregates::run(&Session::open(&source, &cli.store)?, format, out)
        }
        Some(Command::Events {
            source,
            aggregate,
            where_,
            format,
            follow,
            interval,
        }) => {
            let session = Session::open(&source, &cli.store)?;
            if follow {
                let interval = events::follow_interval(interval)?;
                events::follow(
                    &session,
                    &aggregate,
                    where_.as_deref(),
                    format,
                    interval,
                    out,
                )
            } else {
                events::run(&session, &aggregate, where_.as_deref(), format, out)
            }
        }
        Some(Command::Verify {
            source,
            aggregate,
            ignore,
            format,
        }) => {
            let session = Session::open(&source, &cli.store)?;
            verify::run(&session, aggregate.as_deref(), &ignore, format, out)
        }
        Some(Command::Bisect {
            source,
            aggregate,
            until,
            format,
        }) => bisect::run(
            &Session::open(&source, &cli.store)?,
            &aggregate,
            &until,
            format,
            out,
        ),
        Some(Command::Blame {
            source,
            aggregate,
            path,
            format,
        }) => blame::run(
            &Session::open(&source, &cli.store)?,
            &aggregate,
            &path,
            format,
            out,
        ),
        Some(Command::State {
            source,
            aggregate,
            at_version,
            at,
            format,
        }) => {
            let position = match (at_version, at) {
                (Some(v), _) => Some(parse_version(&v)?),
                (None, Some(t)) => Some(parse_time(&t)?),
                (None, None) => None,
            };
            state::run(
                &Session::open(&source, &cli.store)?,
                &aggregate,
                position,
                format,
                out,
            )
        }
        Some(Command::Diff {
            source,
            aggregate,
            from,
            to,
            format,
        }) => {
            let from = from.map(|p| parse_position(&p)).transpose()?;
            let to = to.map(|p| parse_position(&p)).transpose()?;
            let session = Session::open(&source, &cli.store)?;
            diff::run(&session, &aggregate, from, to, format, out)
        }
        Some(Command::Export(args)) => export::run(args, &cli.store, out),
        Some(Command::Demo) => demo::run(&cli.store, out),
        None => match cli.source {
            Some(source) => browse_source(&source, &cli.store, out),
            None => anyhow::bail!("no source given; try `rewind demo` or `rewind --help`"),
        },
    }
}

/// `rewind SOURCE`: the terminal UI. A Kafka topic is opened inside the UI, which draws at
/// once and shows a gauge while the topic is read into the cache.
fn browse_source(spec: &str, args: &StoreArgs, out: &mut Output) -> anyhow::Result<u8> {
    if !(spec.starts_with("kafka://") && interactive()) {
        return browse(Session::open(spec, args)?, args, out);
    }
    let settings = session::Settings::load(args)?;
    let options = tui_options(args, settings.jq_limits)?;
    let mut open_with = open_options(args)?;
    let owned = spec.to_string();
    let open: crate::tui::OpenSource = Box::new(move |progress| {
        open_with.kafka.progress = progress;
        source::open(&owned, open_with)
    });
    let handle = crate::tui::SourceHandle::Later {
        name: source::kafka::redact(spec),
        open,
    };
    let reducer = settings
        .reducer
        .unwrap_or_else(|| std::sync::Arc::new(crate::replay::MergeReducer));
    crate::tui::run(handle, reducer, options)?;
    Ok(EXIT_OK)
}

fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// Opens the terminal UI on a source; without a terminal (piped, scripted) prints the
/// aggregate list instead, as `rewind aggregates` would.
pub fn browse(session: Session, args: &StoreArgs, out: &mut Output) -> anyhow::Result<u8> {
    if !interactive() {
        return aggregates::run(&session, ListFormat::Table, out);
    }
    let options = tui_options(args, session.jq_limits)?;
    crate::tui::run(
        crate::tui::SourceHandle::Ready(session.source),
        panic::ui_reducer(session.reducer),
        options,
    )?;
    Ok(EXIT_OK)
}

/// The UI's settings: colors from the environment, the jq limit, and the paths exports
/// redact (`redact` in rewind.toml).
fn tui_options(
    args: &StoreArgs,
    jq_limits: crate::jq::Limits,
) -> anyhow::Result<crate::tui::TuiOptions> {
    let redact = load_config(args)?
        .redact
        .iter()
        .map(|p| crate::diff::JsonPath::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::tui::TuiOptions {
        theme: crate::tui::Theme::from_env(),
        jq_limits,
        redact,
    })
}

/// Opens a source with the mapping from rewind.toml and the command line's overrides; a Kafka
/// topic shows a progress line on stderr while it is read, when stderr is a terminal.
pub fn open(spec: &str, args: &StoreArgs) -> anyhow::Result<Box<dyn EventSource>> {
    let mut options = open_options(args)?;
    options.kafka.progress = kafka::progress_line();
    Ok(source::open(spec, options)?)
}

/// Options for every kind of source, from rewind.toml and the flags (no progress reporting;
/// a front end adds its own).
pub fn open_options(args: &StoreArgs) -> anyhow::Result<OpenOptions> {
    let config = load_config(args)?;
    let kafka = config.kafka.clone().overlay(args.kafka.to_config()?);
    Ok(OpenOptions {
        sqlite: sqlite_options_from(config, args)?,
        kafka: source::kafka::KafkaOptions::from_config(&kafka)?,
    })
}

fn load_config(args: &StoreArgs) -> anyhow::Result<Config> {
    Ok(session::load_config(args)?.0)
}

pub fn sqlite_options(args: &StoreArgs) -> anyhow::Result<SqliteOptions> {
    sqlite_options_from(load_config(args)?, args)
}

fn sqlite_options_from(config: Config, args: &StoreArgs) -> anyhow::Result<SqliteOptions> {
    let mut options = SqliteOptions {
        mapping: config.sqlite,
        ..SqliteOptions::default()
    };
    for entry in &args.map {
        let Some((key, value)) = entry.split_once('=') else {
            anyhow::bail!(
                "--map {entry:?} must look like KEY=NAME, e.g. events.table=domain_events"
            );
        };
        options.mapping.set(key.trim(), value.trim())?;
    }
    if let Some(name) = args.preset.as_ref().or(config.preset.as_ref()) {
        options.preset = Some(name.parse()?);
    }
    if let Some(seconds) = args.lock_timeout.or(config.lock_timeout) {
        if !(0.0..=3600.0).contains(&seconds) {
            anyhow::bail!("lock timeout {seconds} is out of range: give 0 to 3600 seconds");
        }
        options.busy_timeout = Duration::from_secs_f64(seconds);
    }
    Ok(options)
}

fn parse_position(text: &str) -> anyhow::Result<Position> {
    Ok(text.parse::<Position>()?)
}

fn parse_version(text: &str) -> anyhow::Result<Position> {
    match text.parse::<Position>()? {
        version @ Position::Version(_) => Ok(version),
        Position::Time(_) => anyhow::bail!("--at-version {text:?} is a time; use --at for times"),
    }
}

fn parse_time(text: &str) -> anyhow::Result<Position> {
    crate::model::parse_time(text).map(Position::Time).ok_or_else(|| {
        anyhow::anyhow!(
            "--at {text:?} is not a time: use RFC 3339 like 2026-01-15T10:30:00Z or a prefix like 2026-01-15 10:30"
        )
    })
}

/// Maps a run's result to the process exit code, printing errors as one line.
pub fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if output::is_broken_pipe(&err) => ExitCode::from(EXIT_OK),
        Err(err) => {
            eprintln!("rewind: {}", output::one_line(&format!("{err:#}")));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
