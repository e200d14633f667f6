//! `rewind trace`: the events of one request or saga across aggregates, as a causation tree.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use unicode_width::UnicodeWidthStr;

use crate::inspect::{elapsed, Link, Trace, TraceEvent};
use crate::model::format_time;

use super::output::{terminal_safe, warn, Align, Output, Table};
use super::{Session, Settings, EXIT_FOUND, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    pub source: String,
    /// A correlation id, or the id of the event the request started with.
    pub id: String,
    #[arg(long, value_enum, default_value_t = TraceFormat::Tree)]
    format: TraceFormat,
    /// Write the trace as a transcript (md, html or jsonl, from the extension) instead.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Replace the file if it exists.
    #[arg(long, requires = "output")]
    force: bool,
    /// Replace the value at this jq-style path (`.owner`) everywhere in the transcript;
    /// repeatable, added to `redact` in rewind.toml.
    #[arg(long, value_name = "PATH", requires = "output")]
    redact: Vec<String>,
    /// Fail, writing nothing, when a --redact path matches no value.
    #[arg(long, requires = "output")]
    redact_strict: bool,
}

/// No event has the id as its correlation id or its own: said on stderr, exit 1.
pub fn not_found(session: &Session, id: &str) -> u8 {
    warn(&format!(
        "no event in {} has the correlation id or event id {:?} (correlation ids are read from {}; say where with --correlation-from and --event-id-from)",
        session.source.describe(),
        id,
        session.ids.correlation,
    ));
    EXIT_FOUND
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TraceFormat {
    Tree,
    Table,
    Json,
}

pub fn run(
    session: &Session,
    args: TraceArgs,
    settings: &Settings,
    out: &mut Output,
) -> anyhow::Result<u8> {
    let Some(trace) = crate::inspect::trace(session.source.as_ref(), &args.id, &session.ids)?
    else {
        return Ok(not_found(session, &args.id));
    };
    if let Some(path) = &args.output {
        return super::export::write_trace(
            session,
            &trace,
            path,
            args.force,
            &args.redact,
            args.redact_strict,
            settings,
        );
    }
    match args.format {
        TraceFormat::Tree => out.text(&tree(&trace))?,
        TraceFormat::Table => out.text(&table(&trace))?,
        TraceFormat::Json => {
            let start = trace.start_time();
            for event in &trace.events {
                out.json_line(&event_json(&trace, event, start))?;
            }
        }
    }
    Ok(EXIT_OK)
}

/// The causation tree: each event under the one that caused it, with tree lines.
fn tree(trace: &Trace) -> String {
    let start = trace.start_time();
    let labels: Vec<String> = trace
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let event = &e.event;
            format!(
                "{}{} v{} {}",
                trace.branch(i),
                terminal_safe(&event.aggregate_id),
                event.version,
                terminal_safe(&event.event_type)
            )
        })
        .collect();
    let width = labels.iter().map(|l| l.width()).max().unwrap_or(0);
    // Cells are made safe before their widths are measured, so the columns line up.
    let mut text = trace.summary();
    text.push('\n');
    for (label, e) in labels.iter().zip(&trace.events) {
        let time = e.event.timestamp.as_ref().map_or("-".into(), format_time);
        let pad = " ".repeat(width - label.width());
        let line = format!(
            "{label}{pad}  {time}  {:>8}  {}",
            elapsed(start, e.event.timestamp),
            terminal_safe(&e.link.note())
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn table(trace: &Trace) -> String {
    let start = trace.start_time();
    let mut table = Table::new(&[
        ("POSITION", Align::Right),
        ("TIME", Align::Left),
        ("ELAPSED", Align::Right),
        ("AGGREGATE", Align::Left),
        ("VERSION", Align::Right),
        ("EVENT", Align::Left),
        ("CAUSED BY", Align::Left),
        ("NOTES", Align::Left),
    ]);
    let mut in_store_order: Vec<&TraceEvent> = trace.events.iter().collect();
    in_store_order.sort_by_key(|e| e.event.position);
    for e in in_store_order {
        let event = &e.event;
        table.row(vec![
            event.position.to_string(),
            event.timestamp.as_ref().map_or("-".into(), format_time),
            elapsed(start, event.timestamp),
            event.aggregate_id.clone(),
            event.version.to_string(),
            event.event_type.clone(),
            e.ids.causation.clone().unwrap_or_else(|| "-".into()),
            e.link.note(),
        ]);
    }
    format!("{}\n{}", trace.summary(), table.render())
}

fn event_json(trace: &Trace, e: &TraceEvent, start: Option<DateTime<Utc>>) -> Value {
    let event = &e.event;
    let (link, parent) = match &e.link {
        Link::Root => ("root", Value::Null),
        Link::CausedBy(parent) => ("caused_by", json!(trace.events[*parent].ids.event_id)),
        Link::Outside(_) => ("outside", Value::Null),
        Link::Dangling(_) => ("dangling", Value::Null),
        Link::Cycle(_) => ("cycle", Value::Null),
    };
    json!({
        "trace": trace.id,
        "position": event.position.to_json(),
        "timestamp": event.timestamp.as_ref().map(format_time),
        "elapsed_ms": start.zip(event.timestamp).map(|(s, t)| (t - s).num_milliseconds()),
        "aggregate_id": event.aggregate_id,
        "aggregate_type": event.aggregate_type,
        "version": event.version,
        "type": event.event_type,
        "event_id": e.ids.event_id,
        "correlation_id": e.ids.correlation,
        "causation_id": e.ids.causation,
        "depth": e.depth,
        "link": link,
        "parent": parent,
        "data": event.data.json(),
        "metadata": event.metadata,
    })
}
