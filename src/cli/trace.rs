//! `rewind trace`: the events of one request or saga across aggregates, as a causation tree.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use unicode_width::UnicodeWidthStr;

use crate::inspect::{Link, Trace, TraceEvent};
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
        warn(&format!(
            "no event in {} has the correlation id or event id {:?} (correlation ids are read from {}; say where with --correlation-from and --event-id-from)",
            session.source.describe(),
            args.id,
            session.ids.correlation,
        ));
        return Ok(EXIT_FOUND);
    };
    if let Some(path) = &args.output {
        return super::export::write_trace(
            session,
            &trace,
            path,
            args.force,
            &args.redact,
            settings,
        );
    }
    match args.format {
        TraceFormat::Tree => out.text(&tree(&trace))?,
        TraceFormat::Table => out.text(&table(&trace))?,
        TraceFormat::Json => {
            let start = start_time(&trace);
            for event in &trace.events {
                out.json_line(&event_json(&trace, event, start))?;
            }
        }
    }
    Ok(EXIT_OK)
}

fn start_time(trace: &Trace) -> Option<DateTime<Utc>> {
    trace.root().and_then(|root| root.event.timestamp)
}

/// `+1.5s`, `+3m05s`, `+2h10m`, `+4d3h`: how long after the root an event happened.
pub fn elapsed(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> String {
    let (Some(from), Some(to)) = (from, to) else {
        return "-".into();
    };
    let ms = (to - from).num_milliseconds();
    let sign = if ms < 0 { "-" } else { "+" };
    let ms = ms.unsigned_abs();
    let (s, m, h, d) = (ms / 1000, ms / 60_000, ms / 3_600_000, ms / 86_400_000);
    let text = match () {
        _ if ms < 10_000 && ms % 1000 != 0 => format!("{:.1}s", ms as f64 / 1000.0),
        _ if ms < 60_000 => format!("{s}s"),
        _ if ms < 3_600_000 => format!("{m}m{:02}s", s % 60),
        _ if ms < 86_400_000 => format!("{h}h{:02}m", m % 60),
        _ => format!("{d}d{}h", h % 24),
    };
    format!("{sign}{text}")
}

fn link_note(link: &Link) -> String {
    match link {
        Link::Root | Link::CausedBy(_) => String::new(),
        Link::Outside(cause) => format!("caused by {cause}, outside this trace"),
        Link::Dangling(cause) => format!("! caused by {cause}, which is not in this store"),
        Link::Cycle(cause) => format!("! causation cycle (caused by {cause})"),
    }
}

fn summary(trace: &Trace) -> String {
    let last = trace.events.iter().filter_map(|e| e.event.timestamp).max();
    let start = start_time(trace);
    let span = match (start, last) {
        (Some(start), Some(_)) => format!(
            ", from {} over {}",
            format_time(&start),
            elapsed(Some(start), last).trim_start_matches('+')
        ),
        _ => String::new(),
    };
    let events = trace.events.len();
    let aggregates = trace.aggregates();
    format!(
        "trace {}: {events} event{} in {aggregates} aggregate{}{span}",
        trace.id,
        if events == 1 { "" } else { "s" },
        if aggregates == 1 { "" } else { "s" },
    )
}

/// The causation tree: each event under the one that caused it, with tree lines.
fn tree(trace: &Trace) -> String {
    let start = start_time(trace);
    let labels: Vec<String> = trace
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let event = &e.event;
            format!(
                "{}{} v{} {}",
                branch(trace, i),
                terminal_safe(&event.aggregate_id),
                event.version,
                terminal_safe(&event.event_type)
            )
        })
        .collect();
    let width = labels.iter().map(|l| l.width()).max().unwrap_or(0);
    // Cells are made safe before their widths are measured, so the columns line up.
    let mut text = summary(trace);
    text.push('\n');
    for (label, e) in labels.iter().zip(&trace.events) {
        let time = e.event.timestamp.as_ref().map_or("-".into(), format_time);
        let pad = " ".repeat(width - label.width());
        let line = format!(
            "{label}{pad}  {time}  {:>8}  {}",
            elapsed(start, e.event.timestamp),
            terminal_safe(&link_note(&e.link))
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The tree lines before event `i`: `│  ` for each open ancestor level, then `├─ ` or `└─ `.
fn branch(trace: &Trace, i: usize) -> String {
    let depth = trace.events[i].depth;
    if depth == 0 {
        return String::new();
    }
    // Whether a later sibling follows at a given depth before the subtree ends.
    let continues = |from: usize, level: usize| {
        trace.events[from + 1..]
            .iter()
            .take_while(|e| e.depth >= level)
            .any(|e| e.depth == level)
    };
    let mut prefix = String::new();
    for level in 1..depth {
        // The ancestor at `level` is the nearest earlier event at that depth.
        let ancestor = (0..i).rev().find(|&j| trace.events[j].depth == level);
        let open = ancestor.is_some_and(|a| continues(a, level));
        prefix.push_str(if open { "│  " } else { "   " });
    }
    prefix.push_str(if continues(i, depth) {
        "├─ "
    } else {
        "└─ "
    });
    prefix
}

fn table(trace: &Trace) -> String {
    let start = start_time(trace);
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
            link_note(&e.link),
        ]);
    }
    format!("{}\n{}", summary(trace), table.render())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_time;

    #[test]
    fn elapsed_reads_like_a_person_would_say_it() {
        let at = |t: &str| parse_time(t);
        let start = at("2026-01-15T10:00:00Z");
        for (to, shown) in [
            ("2026-01-15T10:00:00Z", "+0s"),
            ("2026-01-15T10:00:01.500Z", "+1.5s"),
            ("2026-01-15T10:00:42Z", "+42s"),
            ("2026-01-15T10:03:05Z", "+3m05s"),
            ("2026-01-15T12:10:00Z", "+2h10m"),
            ("2026-01-19T13:00:00Z", "+4d3h"),
            ("2026-01-15T09:59:59Z", "-1s"),
        ] {
            assert_eq!(elapsed(start, at(to)), shown, "{to}");
        }
        assert_eq!(elapsed(start, None), "-");
    }
}
