//! The command line: clap definitions and one module per command.

mod aggregates;
mod bisect;
mod blame;
mod demo;
mod diff;
mod events;
mod export;
mod id_args;
mod kafka;
mod log;
pub(crate) mod output;
pub mod panic;
mod postgres_args;
mod project;
mod session;
mod settings;
mod state;
mod stream_table;
mod trace;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::model::Position;
use crate::source;

pub use kafka::KafkaArgs;

pub use output::Output;
pub use session::Session;
pub use settings::Settings;

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

    /// Store to open in the terminal UI: a SQLite file (optionally prefixed `sqlite:`),
    /// `postgres://USER@HOST:PORT/DB`, `kafka://HOST:PORT[,HOST:PORT]/TOPIC`, or a
    /// transcript (`*.jsonl`, `transcript:PATH`).
    pub source: Option<String>,

    /// Open the terminal UI on this aggregate (at its latest event, or --at).
    pub aggregate: Option<String>,

    /// Where the aggregate opens: a version (`12`) or a time (`2026-01-15 10:30`).
    #[arg(long, value_name = "POS", requires = "aggregate")]
    pub at: Option<String>,

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

    /// Seconds of work SQLite may spend on one query of a store before it is stopped (a
    /// schema that loops) [default: 60].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub query_timeout: Option<f64>,

    /// Read a library's layout: native, eventsourcing, emmett, messagedb, marten [default:
    /// detected].
    #[arg(long, global = true, value_name = "NAME")]
    pub preset: Option<String>,

    /// jq program that folds events into state (default: JSON merge patch).
    #[arg(long, global = true, value_name = "FILE")]
    pub reducer: Option<PathBuf>,

    /// jq predicate every state must satisfy (e.g. '.balance >= 0'); health counts the
    /// states that break it.
    #[arg(long, global = true, value_name = "JQ")]
    pub invariant: Option<String>,

    /// Seconds one event may take in a jq program before it is stopped [default: 1].
    #[arg(long, global = true, value_name = "SECONDS")]
    pub jq_timeout: Option<f64>,

    /// Megabytes (MiB) a jq program may use before it is stopped [default: 512].
    #[arg(long, global = true, value_name = "MB")]
    pub jq_memory: Option<u64>,

    #[command(flatten)]
    pub ids: id_args::IdArgs,

    #[command(flatten)]
    pub kafka: KafkaArgs,

    #[command(flatten)]
    pub postgres: postgres_args::PostgresArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the aggregates in a store.
    Aggregates {
        source: String,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Replay each aggregate and say how healthy it is: snapshot drifts, malformed
        /// events, warnings, reducer errors.
        #[arg(long)]
        health: bool,
    },
    /// List one aggregate's events in version order.
    Events {
        source: String,
        aggregate: String,
        /// Only events for which this jq expression holds; `.` is the state after the
        /// event, `$event` the event, e.g. `$event.type == "Withdrawn"`.
        #[arg(long = "where", value_name = "JQ")]
        where_: Option<String>,
        #[command(flatten)]
        range: events::EventRange,
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
        #[arg(required_unless_present = "all")]
        aggregate: Option<String>,
        /// Every aggregate's state, as one JSON object keyed by id: what the whole store held.
        #[arg(long, conflicts_with_all = ["aggregate", "at_version"])]
        all: bool,
        /// With --all: only aggregates of this type; repeatable.
        #[arg(long = "aggregate-type", value_name = "TYPE", requires = "all")]
        aggregate_types: Vec<String>,
        /// Version to stop at (`12` or `v12`; 0 is the empty state).
        #[arg(long, value_name = "N", conflicts_with = "at")]
        at_version: Option<String>,
        /// Time to stop at: RFC 3339, or a UTC prefix like `2026-01-15 10:30`.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// With --all and --to: the aggregates whose state changed between this time and --to.
        #[arg(
            long,
            value_name = "TIME",
            requires = "all",
            requires = "to",
            conflicts_with = "at"
        )]
        from: Option<String>,
        #[arg(long, value_name = "TIME", requires = "from")]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = StateFormat::Pretty)]
        format: StateFormat,
        /// With --format json: `{version, events, timestamp, position, state}`, saying which
        /// event the --at time or version resolved to.
        #[arg(long, conflicts_with = "all")]
        with_position: bool,
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
    /// Every event of the store in store order, across aggregates; filter by time, type,
    /// correlation id or a jq predicate over each aggregate's state.
    Log(log::LogArgs),
    /// The events of one request or saga across aggregates: every event with this
    /// correlation id or descending from the event with this id, as a causation tree.
    Trace(trace::TraceArgs),
    /// Fold every event of the store, in store order, into one read model with a jq program,
    /// as of any instant (or show what changed in it between two).
    Project(project::ProjectArgs),
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
    /// One line per changed path, `~ .balance: 10 → 25`.
    Summary,
    Patch,
    Json,
}

/// Runs a parsed command line; errors are user-facing one-liners.
pub fn run(cli: Cli, out: &mut Output) -> anyhow::Result<u8> {
    let settings = Settings::resolve(&cli.store)?;
    let open = |source: &str| Session::open(source, &settings);
    match cli.command {
        Some(Command::Aggregates {
            source,
            format,
            health,
        }) => match health {
            true => aggregates::run_with_health(&open(&source)?, &settings, format, out),
            false => aggregates::run(&open(&source)?, format, out),
        },
        Some(Command::Events {
            source,
            aggregate,
            where_,
            range,
            format,
            follow,
            interval,
        }) => {
            let session = open(&source)?;
            if follow {
                let interval = events::follow_interval(interval)?;
                events::follow(
                    &session,
                    &aggregate,
                    where_.as_deref(),
                    range.tail,
                    format,
                    interval,
                    out,
                )
            } else {
                events::run(&session, &aggregate, where_.as_deref(), &range, format, out)
            }
        }
        Some(Command::Verify {
            source,
            aggregate,
            ignore,
            format,
        }) => verify::run(&open(&source)?, aggregate.as_deref(), &ignore, format, out),
        Some(Command::Bisect {
            source,
            aggregate,
            until,
            format,
        }) => bisect::run(&open(&source)?, &aggregate, &until, format, out),
        Some(Command::Blame {
            source,
            aggregate,
            path,
            format,
        }) => blame::run(&open(&source)?, &aggregate, &path, format, out),
        Some(Command::State {
            source,
            aggregate,
            all,
            aggregate_types,
            at_version,
            at,
            from,
            to,
            format,
            with_position,
        }) => {
            let position = match (at_version, &at) {
                (Some(v), _) => Some(parse_version(&v)?),
                (None, Some(t)) => Some(parse_time(t)?),
                (None, None) => None,
            };
            let session = open(&source)?;
            match (all, aggregate) {
                (false, Some(aggregate)) => {
                    let format = state::Shape::of(format, with_position)?;
                    state::run(&session, &aggregate, position, format, out)
                }
                _ => {
                    let instants = match (from, to) {
                        (Some(from), Some(to)) => {
                            vec![Some(parse_time_arg(&from)?), Some(parse_time_arg(&to)?)]
                        }
                        _ => vec![at.as_deref().map(parse_time_arg).transpose()?],
                    };
                    state::run_all(&session, &aggregate_types, &instants, format, out)
                }
            }
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
            diff::run(&open(&source)?, &aggregate, from, to, format, out)
        }
        Some(Command::Export(args)) => export::run(args, &settings, out),
        Some(Command::Log(args)) => log::run(&open(&args.source)?, args, out),
        Some(Command::Trace(args)) => trace::run(&open(&args.source)?, args, &settings, out),
        Some(Command::Project(args)) => project::run(&open(&args.source)?, args, out),
        Some(Command::Demo) => {
            let path = demo::demo_store_path()?;
            let mut demo = settings.clone();
            if demo.invariant.is_none() {
                let invariant = crate::inspect::Invariant::new(demo::INVARIANT, demo.jq_limits)?;
                demo.invariant = Some(std::sync::Arc::new(invariant));
            }
            browse(open(&path.to_string_lossy())?, &demo, out)
        }
        None => match cli.source {
            Some(source) => {
                let open_at = match cli.aggregate {
                    Some(aggregate) => {
                        if !interactive() {
                            anyhow::bail!(
                                "`rewind SOURCE {aggregate}` opens the terminal UI; in a script use `rewind state` or `rewind events SOURCE {aggregate}`"
                            );
                        }
                        let at = cli.at.as_deref().map(parse_position).transpose()?;
                        Some(crate::tui::OpenAt { aggregate, at })
                    }
                    None => None,
                };
                browse_source(&source, &settings, open_at, out)
            }
            None => anyhow::bail!("no source given; try `rewind demo` or `rewind --help`"),
        },
    }
}

/// `rewind SOURCE`: the terminal UI. A store that is slow to open (a Kafka topic) is opened
/// inside the UI, which draws at once and shows a gauge meanwhile.
fn browse_source(
    spec: &str,
    settings: &Settings,
    open_at: Option<crate::tui::OpenAt>,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let backend = source::backend_for(spec);
    if !(backend.slow_to_open && interactive()) {
        return browse_at(
            Session::open_unheld(spec, settings)?,
            settings,
            open_at,
            out,
        );
    }
    let mut options = settings.open.clone();
    let owned = spec.to_string();
    let open: crate::tui::OpenSource = Box::new(move |progress| {
        options.kafka.progress = progress;
        backend.open(&owned, &options)
    });
    let handle = crate::tui::SourceHandle::Later {
        name: backend.shown(spec),
        open,
    };
    // The source is opened on the UI's loader: the user's id rules meet its conventions
    // (Message DB's, Marten's) once it is open, as `Session::open` does for the CLI.
    let named = settings.ids.clone();
    let ids = named.with_conventions(crate::source::IdConventions::default());
    let options = crate::tui::TuiOptions {
        open_at,
        ids_for: Some(crate::tui::app::IdsFor(std::sync::Arc::new(
            move |conventions| named.with_conventions(conventions),
        ))),
        ..tui_options(settings, ids)
    };
    crate::tui::run(handle, settings.reducer.clone(), options)?;
    Ok(EXIT_OK)
}

fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// Opens the terminal UI on a source; without a terminal (piped, scripted) prints the
/// aggregate list instead, as `rewind aggregates` would.
pub fn browse(session: Session, settings: &Settings, out: &mut Output) -> anyhow::Result<u8> {
    browse_at(session, settings, None, out)
}

/// As [`browse`], opening an aggregate the command line named once the list is in.
fn browse_at(
    session: Session,
    settings: &Settings,
    open_at: Option<crate::tui::OpenAt>,
    out: &mut Output,
) -> anyhow::Result<u8> {
    if !interactive() {
        return aggregates::run(&session, ListFormat::Table, out);
    }
    let options = crate::tui::TuiOptions {
        open_at,
        ..tui_options(settings, session.ids.clone())
    };
    crate::tui::run(
        crate::tui::SourceHandle::Ready(session.source),
        panic::ui_reducer(session.named_reducer),
        options,
    )?;
    Ok(EXIT_OK)
}

/// The UI's settings: colors from the environment, the jq limit, and the paths exports
/// redact.
fn tui_options(settings: &Settings, ids: crate::inspect::TraceIds) -> crate::tui::TuiOptions {
    crate::tui::TuiOptions {
        theme: crate::tui::Theme::from_env(),
        jq_limits: settings.jq_limits,
        redact: settings.redact.clone(),
        ids,
        ids_for: None,
        open_at: None,
        invariant: settings.invariant.clone(),
    }
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

/// A time given on the command line (`--until`, `--at` of the store-wide commands).
fn parse_time_arg(text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    crate::model::parse_time(text).ok_or_else(|| {
        anyhow::anyhow!(
            "{text:?} is not a time: use RFC 3339 like 2026-01-15T10:30:00Z or a prefix like 2026-01-15 10:30"
        )
    })
}

fn parse_time(text: &str) -> anyhow::Result<Position> {
    crate::model::parse_time(text).map(Position::Time).ok_or_else(|| {
        anyhow::anyhow!(
            "--at {text:?} is not a time: use RFC 3339 like 2026-01-15T10:30:00Z or a prefix like 2026-01-15 10:30"
        )
    })
}

/// Maps a run's result to the process exit code, printing an error as one bounded line.
/// What clap has to say instead of a parsed command line: `--help` and `--version` as it
/// prints them; a usage error through the sanitizer, since it quotes what was typed and an
/// argument may carry escapes (`--format $'\e]0;…\a'` retitled the terminal). The error
/// is made again without clap's colors, so every escape left in it is the argument's own and
/// shows as `\u{1b}`; clap's own rendering would either send it raw or strip it unseen.
pub fn command_line_error(err: &clap::Error) -> ExitCode {
    use clap::CommandFactory;
    if !err.use_stderr() {
        let _ = err.print();
        return ExitCode::from(EXIT_OK);
    }
    let plain = Cli::command()
        .styles(clap::builder::Styles::plain())
        .try_get_matches_from(std::env::args_os())
        .err()
        .map_or_else(|| err.render(), |again| again.render());
    let text = plain.ansi().to_string();
    eprint!("{}", crate::display::terminal_safe_lines(&text));
    ExitCode::from(EXIT_BAD_INPUT)
}

pub fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => {
            output::flush_warnings();
            ExitCode::from(code)
        }
        Err(err) if output::is_broken_pipe(&err) => ExitCode::from(EXIT_OK),
        Err(err) => {
            output::drop_warnings();
            output::warn(&output::error_line(&err));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}
