//! `rewind export`: an aggregate's history as a transcript, to stdout or a file.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::diff::JsonPath;
use crate::export::{self, ExportOptions, Format, TraceExport};

use super::output::Output;
use super::{parse_position, Session, Settings, EXIT_OK};

/// Pins the header's generated-at time (RFC 3339), for reproducible transcripts.
const GENERATED_AT_VAR: &str = "REWIND_GENERATED_AT";

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    source: String,
    /// The aggregate whose history to write.
    #[arg(required_unless_present = "trace")]
    aggregate: Option<String>,
    /// Write the trace of this correlation id (or event id) instead: the events of one
    /// request across aggregates, as `rewind trace` shows them.
    #[arg(long, value_name = "ID", conflicts_with_all = ["aggregate", "from", "to", "with_state"])]
    trace: Option<String>,
    /// Start position: version (`12`, `v12`) or time [default: v0, the empty state].
    #[arg(long, value_name = "POS")]
    from: Option<String>,
    /// End position [default: the latest event].
    #[arg(long, value_name = "POS")]
    to: Option<String>,
    /// md (code reviews, issues), html (one self-contained page) or jsonl (an aggregate's reopens in rewind; a trace's is for reading)
    /// [default: from the -o file's extension].
    #[arg(long, value_enum)]
    format: Option<ExportFormat>,
    /// Write to this file (atomically; terminals, pipes and /dev/null as they are) instead
    /// of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace the file if it exists (never the store being read).
    #[arg(long, requires = "output")]
    force: bool,
    /// Show the full state after every step (md, html; jsonl always records it).
    #[arg(long)]
    with_state: bool,
    /// Replace the value at this jq-style path (`.owner`) everywhere; repeatable, added to
    /// `redact` in rewind.toml.
    #[arg(long, value_name = "PATH")]
    redact: Vec<String>,
    /// Fail (exit 2, nothing written) when a redacted path matches no value, instead of
    /// warning: a typo must not leave a secret in a transcript meant to hide it.
    #[arg(long)]
    redact_strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    Md,
    Jsonl,
    Html,
}

pub fn run(args: ExportArgs, settings: &Settings, out: &mut Output) -> anyhow::Result<u8> {
    let format = format_of(args.format, args.output.as_deref())?;
    let session = Session::open(&args.source, settings)?;
    if let Some(id) = &args.trace {
        let Some(trace) = crate::inspect::trace(session.source.as_ref(), id, &session.ids)? else {
            // As `rewind trace` says it: an id that names nothing is "not found", exit 1.
            return Ok(super::trace::not_found(&session, id));
        };
        let target = Target {
            format,
            output: args.output.as_deref(),
            force: args.force,
        };
        let redact = Redaction {
            paths: &args.redact,
            strict: args.redact_strict,
        };
        return write_trace_to(&session, &trace, &target, &redact, settings, out);
    }
    let aggregate = args.aggregate.clone().unwrap_or_default();
    let mut redact = settings.redact.clone();
    for path in &args.redact {
        redact.push(JsonPath::parse(path)?);
    }
    let from = args.from.as_deref().map(parse_position).transpose()?;
    let to = args.to.as_deref().map(parse_position).transpose()?;
    let mut replay = session.replay(&aggregate)?;
    let options = ExportOptions {
        format,
        source: session.source.describe(),
        aggregate,
        from,
        to,
        with_state: args.with_state,
        redact,
        generated_at: generated_at()?,
    };
    let unmatched = export::unmatched_redactions(&mut replay, &options)?;
    check_redactions(&unmatched, args.redact_strict)?;
    match &args.output {
        Some(path) => {
            let protected = session.source.files();
            let file = export::FileTarget {
                path,
                force: args.force,
                protected: &protected,
            };
            export::write_file(&file, |w| export::export(&mut replay, &options, w))?
        }
        None => export::export(&mut replay, &options, out.writer())?,
    }
    // The transcript records each failed step; stderr says so too, as every command does.
    super::session::report_step_problems(&options.aggregate, &replay, replay.len());
    Ok(EXIT_OK)
}

/// The transcript format: `--format`, else the output file's extension.
fn format_of(format: Option<ExportFormat>, output: Option<&Path>) -> anyhow::Result<Format> {
    Ok(match (format, output) {
        (Some(ExportFormat::Md), _) => Format::Markdown,
        (Some(ExportFormat::Jsonl), _) => Format::JsonLines,
        (Some(ExportFormat::Html), _) => Format::Html,
        (None, Some(path)) => Format::from_path(path).ok_or_else(|| {
            anyhow::anyhow!(
                "cannot tell the format from {}: give --format md, jsonl or html",
                path.display()
            )
        })?,
        (None, None) => anyhow::bail!("say which transcript to write: --format md, jsonl or html"),
    })
}

/// `rewind trace … -o FILE`: the trace as a transcript, its format from the extension.
pub fn write_trace(
    session: &Session,
    trace: &crate::inspect::Trace,
    path: &Path,
    force: bool,
    redact: &[String],
    redact_strict: bool,
    settings: &Settings,
) -> anyhow::Result<u8> {
    // `trace --format` is how the trace prints, not a transcript format: the file's name
    // alone says which transcript to write.
    let format = Format::from_path(path).ok_or_else(|| {
        anyhow::anyhow!(
            "cannot tell the transcript format from {}: name the file .md, .jsonl or .html (or print the trace without -o)",
            path.display()
        )
    })?;
    let target = Target {
        format,
        output: Some(path),
        force,
    };
    let mut unused = Output::new(Box::new(std::io::sink()));
    let redact = Redaction {
        paths: redact,
        strict: redact_strict,
    };
    write_trace_to(session, trace, &target, &redact, settings, &mut unused)
}

/// The `--redact` paths given, and whether one that matches nothing is an error.
struct Redaction<'a> {
    paths: &'a [String],
    strict: bool,
}

/// A warning on stderr for each redacted path that matched nothing (the header says so
/// too); with `--redact-strict`, one error naming them all before anything is written.
fn check_redactions(unmatched: &[String], strict: bool) -> anyhow::Result<()> {
    if unmatched.is_empty() {
        return Ok(());
    }
    if strict {
        anyhow::bail!(
            "--redact-strict: {} matched no value in what the transcript shows; fix the path or leave it out",
            unmatched.join(", ")
        );
    }
    for path in unmatched {
        super::output::warn(&format!(
            "redacted path {path} matched nothing: no value was hidden there (check the path; --redact-strict makes this an error)"
        ));
    }
    Ok(())
}

/// Where a transcript goes: a file (replaced only with --force) or stdout.
struct Target<'p> {
    format: Format,
    output: Option<&'p Path>,
    force: bool,
}

fn write_trace_to(
    session: &Session,
    trace: &crate::inspect::Trace,
    target: &Target<'_>,
    redact: &Redaction<'_>,
    settings: &Settings,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let mut paths = settings.redact.clone();
    for path in redact.paths {
        paths.push(JsonPath::parse(path)?);
    }
    let unmatched = export::unmatched_trace_redactions(trace, &paths);
    check_redactions(&unmatched, redact.strict)?;
    let options = TraceExport {
        format: target.format,
        source: session.source.describe(),
        redact: paths,
        generated_at: generated_at()?,
    };
    match target.output {
        Some(path) => {
            let protected = session.source.files();
            let file = export::FileTarget {
                path,
                force: target.force,
                protected: &protected,
            };
            export::write_file(&file, |w| export::export_trace(trace, &options, w))?
        }
        None => export::export_trace(trace, &options, out.writer())?,
    }
    Ok(EXIT_OK)
}

fn generated_at() -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    match std::env::var(GENERATED_AT_VAR) {
        Ok(text) => Ok(Some(crate::model::parse_time(&text).ok_or_else(|| {
            anyhow::anyhow!("{GENERATED_AT_VAR}={text:?} is not a time: use RFC 3339")
        })?)),
        Err(_) => Ok(None),
    }
}
