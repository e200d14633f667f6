//! `rewind export`: an aggregate's history as a transcript, to stdout or a file.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::diff::JsonPath;
use crate::export::{self, ExportOptions, Format};

use super::output::Output;
use super::session::load_config;
use super::{parse_position, Session, StoreArgs, EXIT_OK};

/// Pins the header's generated-at time (RFC 3339), for reproducible transcripts.
const GENERATED_AT_VAR: &str = "REWIND_GENERATED_AT";

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    source: String,
    aggregate: String,
    /// Start position: version (`12`, `v12`) or time [default: v0, the empty state].
    #[arg(long, value_name = "POS")]
    from: Option<String>,
    /// End position [default: the latest event].
    #[arg(long, value_name = "POS")]
    to: Option<String>,
    /// md (code reviews, issues), html (one self-contained page) or jsonl (opens in rewind)
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    Md,
    Jsonl,
    Html,
}

pub fn run(args: ExportArgs, store: &StoreArgs, out: &mut Output) -> anyhow::Result<u8> {
    let format = match (args.format, &args.output) {
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
    };
    let (config, _) = load_config(store)?;
    let redact = config
        .redact
        .iter()
        .chain(&args.redact)
        .map(|p| JsonPath::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let generated_at = match std::env::var(GENERATED_AT_VAR) {
        Ok(text) => Some(crate::model::parse_time(&text).ok_or_else(|| {
            anyhow::anyhow!("{GENERATED_AT_VAR}={text:?} is not a time: use RFC 3339")
        })?),
        Err(_) => None,
    };
    let from = args.from.as_deref().map(parse_position).transpose()?;
    let to = args.to.as_deref().map(parse_position).transpose()?;
    let session = Session::open(&args.source, store)?;
    let mut replay = session.replay(&args.aggregate)?;
    let options = ExportOptions {
        format,
        source: session.source.describe(),
        aggregate: args.aggregate,
        from,
        to,
        with_state: args.with_state,
        redact,
        generated_at,
    };
    match &args.output {
        Some(path) => {
            let protected = session.source.files();
            let target = export::FileTarget {
                path,
                force: args.force,
                protected: &protected,
            };
            export::write_file(&target, |w| export::export(&mut replay, &options, w))?
        }
        None => export::export(&mut replay, &options, out.writer())?,
    }
    Ok(EXIT_OK)
}
