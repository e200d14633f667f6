//! Replay transcripts: an aggregate's history, step by step, for a person to read
//! (Markdown, HTML) or for rewind to open elsewhere without the store (JSON Lines).
//!
//! [`export`] walks a [`Replay`] once and streams the transcript to any writer;
//! [`write_file`] puts it in a file without ever leaving half of one behind.

mod atomic;
mod html;
mod jsonl;
mod markdown;
mod plan;
mod redact;
mod trace;

use std::io::{self, Write};
use std::path::PathBuf;

use chrono::{DateTime, SubsecRound, Utc};

use crate::diff::JsonPath;
use crate::model::transcript::{Closing, Header, Step};
use crate::model::Position;
use crate::replay::{Replay, ReplayError};

pub use atomic::{write_file, FileTarget};
pub use redact::REDACTED;
pub use trace::{
    export_trace, unmatched_trace_redactions, TraceExport, TRACE_FORMAT_VERSION, TRACE_MARKER,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    JsonLines,
    Html,
}

impl Format {
    /// The format a file name asks for: `.md`, `.jsonl`, `.html`.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "jsonl" => Some(Format::JsonLines),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    /// The source as `EventSource::describe` gives it; any URL userinfo is removed here too.
    pub source: String,
    pub aggregate: String,
    /// Start of the range (default: v0, the empty state).
    pub from: Option<Position>,
    /// End of the range (default: the latest event).
    pub to: Option<Position>,
    /// Markdown and HTML show the full state after every step (JSON Lines always has it).
    pub with_state: bool,
    /// Values at these paths are replaced with [`REDACTED`] everywhere.
    pub redact: Vec<JsonPath>,
    /// The time the header names; `None` is now. Tests and reproducible builds pin it.
    pub generated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Range(#[from] ReplayError),
    #[error("the range runs backwards: --from is v{from}, after --to v{to}; swap them")]
    Backwards { from: u64, to: u64 },
    #[error("{} already exists; pass --force to replace it", .0.display())]
    Exists(PathBuf),
    #[error("{} is the store being read (or one of its files); write the transcript elsewhere", .0.display())]
    IsSource(PathBuf),
    #[error("cannot write {}: it is {what}", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("cannot write {}: it is a FIFO that nothing reads; start the reader first", .0.display())]
    NoReader(PathBuf),
    /// The cause is part of the message and not a `source`, so it is not printed twice.
    #[error("cannot write {}: {error}", path.display())]
    File { path: PathBuf, error: io::Error },
    #[error("cannot write the transcript: {0}")]
    Write(#[from] io::Error),
}

/// Writes one part of a transcript in one format.
trait Render {
    fn header(&mut self, out: &mut dyn Write, header: &Header) -> io::Result<()>;
    fn step(&mut self, out: &mut dyn Write, header: &Header, step: &Step) -> io::Result<()>;
    fn closing(
        &mut self,
        out: &mut dyn Write,
        header: &Header,
        closing: &Closing,
    ) -> io::Result<()>;
}

/// Streams the transcript of `replay` over the options' range to `out`.
pub fn export(
    replay: &mut Replay,
    options: &ExportOptions,
    out: &mut dyn Write,
) -> Result<(), ExportError> {
    let from = options
        .from
        .map(|p| replay.resolve(p))
        .transpose()?
        .unwrap_or(0);
    let to = options
        .to
        .map(|p| replay.resolve(p))
        .transpose()?
        .unwrap_or(replay.len());
    if from > to {
        return Err(ExportError::Backwards {
            from: replay.version_after(from),
            to: replay.version_after(to),
        });
    }
    let mut plan = plan::Plan::new(replay, from, to)?;
    let mut redactor = redact::Redactor::new(&options.redact);
    if redactor.is_active() {
        learn_secrets(replay, &plan, &mut redactor)?;
    }
    let mut header = plan.header(
        replay,
        [
            options.from.map(|p| p.to_string()),
            options.to.map(|p| p.to_string()),
        ],
    )?;
    header.source = strip_userinfo(&options.source);
    header.aggregate = options.aggregate.clone();
    header.generated_at = options
        .generated_at
        .unwrap_or_else(|| Utc::now().trunc_subsecs(0));
    redactor.header(&mut header);

    let mut render: Box<dyn Render> = match options.format {
        Format::Markdown => Box::new(markdown::Markdown::new(options.with_state)),
        Format::JsonLines => Box::new(jsonl::JsonLines::default()),
        Format::Html => Box::new(html::Html::new(options.with_state)),
    };
    render.header(out, &header)?;
    for index in plan.indices() {
        let mut step = plan.step(replay, index)?;
        redactor.step(&mut step);
        render.step(out, &header, &step)?;
        if !redactor.is_active() {
            plan.hand_back(&mut step, index);
        }
    }
    let mut closing = plan.closing(replay)?;
    redactor.closing(&mut closing);
    render.closing(out, &header, &closing)?;
    out.flush()?;
    Ok(())
}

/// The redacted paths of `options` that match no value the transcript would show: a typo,
/// or a field this history never had. Front ends warn about them (or refuse, if asked).
pub fn unmatched_redactions(
    replay: &mut Replay,
    options: &ExportOptions,
) -> Result<Vec<String>, ExportError> {
    if options.redact.is_empty() {
        return Ok(Vec::new());
    }
    let from = options
        .from
        .map(|p| replay.resolve(p))
        .transpose()?
        .unwrap_or(0);
    let to = options
        .to
        .map(|p| replay.resolve(p))
        .transpose()?
        .unwrap_or(replay.len());
    let plan = plan::Plan::new(replay, from, to.max(from))?;
    let mut redactor = redact::Redactor::new(&options.redact);
    learn_secrets(replay, &plan, &mut redactor)?;
    Ok(redactor.unmatched())
}

/// Every value the transcript will show, so secrets quoted in messages can be scrubbed
/// before the first line is written.
fn learn_secrets(
    replay: &mut Replay,
    plan: &plan::Plan,
    redactor: &mut redact::Redactor,
) -> Result<(), ReplayError> {
    redactor.learn(&replay.state_after(plan.from)?.clone());
    replay.for_each_event(plan.indices(), &mut |_, event| {
        if let Some(data) = event.data.json() {
            redactor.learn(&data);
        }
        redactor.learn(&event.metadata.value());
    })?;
    for index in plan.indices() {
        redactor.learn(&replay.state_after(index + 1)?.clone());
    }
    for snapshot in 0..replay.snapshots().len() {
        if let Some(state) = replay.snapshot(snapshot)?.state.json() {
            redactor.learn(&state);
        }
    }
    Ok(())
}

/// `kafka://user:secret@host/topic` → `kafka://host/topic`: a header never shows
/// credentials, even if a source's description kept them.
pub fn strip_userinfo(source: &str) -> String {
    let Some(scheme_end) = source.find("://") else {
        return source.to_string();
    };
    let authority_start = scheme_end + 3;
    let rest = &source[authority_start..];
    // PostgreSQL's client reads the user info up to the first `@`, `/` and `?` included
    // (a generated password may hold them); other URLs end their authority at `/`.
    let authority_len = match source.starts_with("postgres") {
        true => rest.find('@').map_or(0, |at| at + 1),
        false => rest.find(['/', '?', '#']).unwrap_or(rest.len()),
    };
    match rest[..authority_len].rfind('@') {
        Some(at) => format!(
            "{}{}",
            &source[..authority_start],
            &source[authority_start + at + 1..]
        ),
        None => source.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_removed_from_urls_only() {
        assert_eq!(
            strip_userinfo("kafka://alice:s3cret@broker:9092/topic"),
            "kafka://broker:9092/topic"
        );
        assert_eq!(
            strip_userinfo("postgres://u@db/x?user=a@b"),
            "postgres://db/x?user=a@b"
        );
        assert_eq!(
            strip_userinfo("postgres://u:Ab/Cd?e@db/x"),
            "postgres://db/x"
        );
        assert_eq!(
            strip_userinfo("sqlite:/data/me@home/store.db"),
            "sqlite:/data/me@home/store.db"
        );
    }

    #[test]
    fn formats_follow_file_extensions() {
        let format = |name: &str| Format::from_path(std::path::Path::new(name));
        assert_eq!(format("bug.MD"), Some(Format::Markdown));
        assert_eq!(format("t.jsonl"), Some(Format::JsonLines));
        assert_eq!(format("t.htm"), Some(Format::Html));
        assert_eq!(format("t.txt"), None);
    }
}
