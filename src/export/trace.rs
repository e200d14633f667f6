//! Trace transcripts: the events of one request across aggregates, as a causation tree, in
//! Markdown, HTML or JSON Lines, with the same redaction as aggregate transcripts.

use std::io::{self, Write};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};

use super::redact::Redactor;
use super::{html, markdown, strip_userinfo, ExportError, Format};
use crate::diff::{pretty, JsonPath};
use crate::display::counted;
use crate::inspect::{Link, Trace};
use crate::model::{format_time, Event, Payload};

/// The JSON Lines trace format's version; its header's first key is [`TRACE_MARKER`].
pub const TRACE_FORMAT_VERSION: u64 = 1;
pub const TRACE_MARKER: &str = "rewind_trace";

#[derive(Debug, Clone)]
pub struct TraceExport {
    pub format: Format,
    /// The source as `EventSource::describe` gives it; URL userinfo is removed here too.
    pub source: String,
    pub redact: Vec<JsonPath>,
    /// The time the header names; `None` is now.
    pub generated_at: Option<DateTime<Utc>>,
}

/// One event of the trace as written: where it hangs and what it says, redacted.
struct Line {
    depth: usize,
    note: Option<String>,
    parent: Option<String>,
    event: Event,
    event_id: Option<String>,
    correlation: Option<String>,
    causation: Option<String>,
}

/// The redacted paths that match no value of the trace's events.
pub fn unmatched_trace_redactions(trace: &Trace, paths: &[JsonPath]) -> Vec<String> {
    learned(trace, paths).unmatched()
}

fn learned(trace: &Trace, paths: &[JsonPath]) -> Redactor {
    let mut redactor = Redactor::new(paths);
    for e in &trace.events {
        if let Some(data) = e.event.data.json() {
            redactor.learn(&data);
        }
        redactor.learn(&e.event.metadata.value());
    }
    redactor
}

pub fn export_trace(
    trace: &Trace,
    options: &TraceExport,
    out: &mut dyn Write,
) -> Result<(), ExportError> {
    let redactor = learned(trace, &options.redact);
    let lines: Vec<Line> = trace
        .events
        .iter()
        .map(|e| {
            let mut event = e.event.clone();
            redactor.event(&mut event);
            let (note, parent) = match &e.link {
                Link::Root => (None, None),
                Link::CausedBy(parent) => (None, trace.events[*parent].ids.event_id.clone()),
                Link::Outside(cause) => {
                    (Some(format!("caused by {cause}, outside this trace")), None)
                }
                Link::Dangling(cause) => (
                    Some(format!("caused by {cause}, which is not in this store")),
                    None,
                ),
                Link::Cycle(cause) => (Some(format!("causation cycle (caused by {cause})")), None),
            };
            Line {
                depth: e.depth,
                note: note.map(|n| redactor.scrub(&n)),
                parent,
                event,
                event_id: e.ids.event_id.clone(),
                correlation: e.ids.correlation.clone(),
                causation: e.ids.causation.clone(),
            }
        })
        .collect();
    let header = Header {
        source: strip_userinfo(&options.source),
        trace: redactor.scrub(&trace.id),
        aggregates: trace.aggregates(),
        generated_at: options
            .generated_at
            .unwrap_or_else(|| Utc::now().trunc_subsecs(0)),
        redacted: options.redact.iter().map(|p| p.to_string()).collect(),
        unmatched: redactor.unmatched(),
        start: trace.root().and_then(|r| r.event.timestamp),
    };
    match options.format {
        Format::JsonLines => jsonl(&header, &lines, out)?,
        Format::Markdown => markdown::write(out, &markdown_text(&header, &lines))?,
        Format::Html => html::write(out, &html_text(&header, &lines))?,
    }
    out.flush()?;
    Ok(())
}

struct Header {
    source: String,
    trace: String,
    aggregates: usize,
    generated_at: DateTime<Utc>,
    redacted: Vec<String>,
    /// Redacted paths that matched nothing.
    unmatched: Vec<String>,
    start: Option<DateTime<Utc>>,
}

impl Header {
    fn summary(&self, events: usize) -> String {
        format!(
            "{} in {}",
            counted(events, "event"),
            counted(self.aggregates, "aggregate")
        )
    }
}

fn elapsed(header: &Header, event: &Event) -> Option<i64> {
    header
        .start
        .zip(event.timestamp)
        .map(|(start, at)| (at - start).num_milliseconds())
}

fn jsonl(header: &Header, lines: &[Line], out: &mut dyn Write) -> io::Result<()> {
    let mut write = |value: Value| -> io::Result<()> {
        crate::display::json::to_writer(&mut *out, &value)?;
        out.write_all(b"\n")
    };
    let mut first = json!({
        TRACE_MARKER: TRACE_FORMAT_VERSION,
        "rewind_version": env!("CARGO_PKG_VERSION"),
        "generated_at": format_time(&header.generated_at),
        "source": header.source,
        "trace": header.trace,
        "events": lines.len(),
        "aggregates": header.aggregates,
        "redacted": header.redacted,
    });
    if !header.unmatched.is_empty() {
        first["redacted_unmatched"] = json!(header.unmatched);
    }
    write(first)?;
    for (i, line) in lines.iter().enumerate() {
        let event = &line.event;
        let (data, raw) = match &event.data {
            Payload::Json(data) => (data.value(), Value::Null),
            Payload::Undecodable { raw, .. } => (Value::Null, Value::from(raw.as_str())),
        };
        write(json!({
            "event": i + 1,
            "depth": line.depth,
            "parent": line.parent,
            "note": line.note,
            "position": event.position.to_json(),
            "timestamp": event.timestamp.as_ref().map(format_time),
            "elapsed_ms": elapsed(header, event),
            "aggregate_id": event.aggregate_id,
            "aggregate_type": event.aggregate_type,
            "version": event.version,
            "type": event.event_type,
            "event_id": line.event_id,
            "correlation_id": line.correlation,
            "causation_id": line.causation,
            "data": data,
            "raw": raw,
            "metadata": event.metadata.value(),
        }))?;
    }
    write(json!({"end": {"events": lines.len()}}))
}

fn when(event: &Event) -> String {
    event
        .timestamp
        .as_ref()
        .map_or("an unknown time".into(), format_time)
}

fn markdown_text(header: &Header, lines: &[Line]) -> String {
    let code = markdown::code;
    let mut text = format!("# rewind trace: {}\n\n", code(&header.trace));
    text.push_str(&format!("- **Source:** {}\n", code(&header.source)));
    text.push_str(&format!("- **Trace:** {}\n", header.summary(lines.len())));
    if !header.redacted.is_empty() {
        let paths: Vec<String> = header.redacted.iter().map(|p| code(p)).collect();
        text.push_str(&format!("- **Redacted:** {}\n", paths.join(", ")));
    }
    if !header.unmatched.is_empty() {
        let paths: Vec<String> = header.unmatched.iter().map(|p| code(p)).collect();
        text.push_str(&format!(
            "- **Warning:** redacted {} matched nothing: no value was hidden there\n",
            paths.join(", ")
        ));
    }
    text.push_str(&format!(
        "- **Generated:** {} by rewind {}\n\n## Causation tree\n\n",
        format_time(&header.generated_at),
        env!("CARGO_PKG_VERSION")
    ));
    for (i, line) in lines.iter().enumerate() {
        let event = &line.event;
        let note = line
            .note
            .as_ref()
            .map_or(String::new(), |n| format!(" — **{}**", code(n)));
        text.push_str(&format!(
            "{}- {}. {} v{} {} at {}{note}\n",
            "  ".repeat(line.depth),
            i + 1,
            code(&event.aggregate_id),
            event.version,
            code(&event.event_type),
            when(event),
        ));
    }
    text.push_str("\n## Events\n");
    for (i, line) in lines.iter().enumerate() {
        let event = &line.event;
        text.push_str(&format!(
            "\n### {}. {} v{} {}\n\n",
            i + 1,
            code(&event.aggregate_id),
            event.version,
            code(&event.event_type)
        ));
        text.push_str(&format!(
            "At {} (position {})\n\n",
            when(event),
            event.position
        ));
        match &event.data {
            Payload::Json(data) => {
                text.push_str("Data:\n\n");
                text.push_str(&markdown::fenced("json", &pretty(&data.value())));
            }
            Payload::Undecodable { raw, .. } => {
                text.push_str("Raw payload (not JSON):\n\n");
                text.push_str(&markdown::fenced("text", raw));
            }
        }
        text.push_str("\nMetadata:\n\n");
        text.push_str(&markdown::fenced("json", &pretty(&event.metadata.value())));
    }
    text
}

fn html_text(header: &Header, lines: &[Line]) -> String {
    let (code, escape) = (html::code, html::escape);
    let title = escape(&header.trace);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>rewind trace: {title}</title>\n<style>{}</style>\n</head>\n<body>\n\
         <h1>rewind trace: <code>{title}</code></h1>\n<dl class=\"header\">\n",
        html::STYLE
    );
    page.push_str(&format!(
        "<dt>Source</dt><dd>{}</dd>\n",
        code(&header.source)
    ));
    page.push_str(&format!(
        "<dt>Trace</dt><dd>{}</dd>\n",
        header.summary(lines.len())
    ));
    if !header.redacted.is_empty() {
        let paths: Vec<String> = header.redacted.iter().map(|p| code(p)).collect();
        page.push_str(&format!("<dt>Redacted</dt><dd>{}</dd>\n", paths.join(", ")));
    }
    if !header.unmatched.is_empty() {
        let paths: Vec<String> = header.unmatched.iter().map(|p| code(p)).collect();
        page.push_str(&format!(
            "<dt>Warning</dt><dd>redacted {} matched nothing: no value was hidden there</dd>\n",
            paths.join(", ")
        ));
    }
    page.push_str(&format!(
        "<dt>Generated</dt><dd>{} by rewind {}</dd>\n</dl>\n",
        format_time(&header.generated_at),
        env!("CARGO_PKG_VERSION")
    ));
    for (i, line) in lines.iter().enumerate() {
        let event = &line.event;
        let flagged = if line.note.is_some() { " flagged" } else { "" };
        let note = line.note.as_ref().map_or(String::new(), |n| {
            format!("<span class=\"mark error\">{}</span>", escape(n))
        });
        page.push_str(&format!(
            "<details class=\"step{flagged}\" style=\"margin-left: {}rem\">\n<summary><span class=\"version\">{}.</span> {} v{} {} <span class=\"time\">{}</span>{note}</summary>\n",
            line.depth * 2,
            i + 1,
            code(&event.aggregate_id),
            event.version,
            code(&event.event_type),
            escape(&when(event)),
        ));
        match &event.data {
            Payload::Json(data) => {
                page.push_str("<h4>Data</h4>\n");
                page.push_str(&html::json_block(&data.value()));
            }
            Payload::Undecodable { raw, .. } => {
                page.push_str("<h4>Raw payload (not JSON)</h4>\n");
                page.push_str(&format!("<pre>{}</pre>\n", escape(raw)));
            }
        }
        page.push_str("<h4>Metadata</h4>\n");
        page.push_str(&html::json_block(&event.metadata.value()));
        page.push_str("</details>\n");
    }
    page.push_str("</body>\n</html>\n");
    page
}
