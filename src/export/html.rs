//! HTML transcripts: one self-contained page (inline styles, no scripts, no network) with a
//! collapsible block per step. Every piece of content is escaped, and the page's content
//! security policy forbids scripts besides, so an event cannot run code in a reader's browser.

use std::io::{self, Write};

use serde_json::Value;

use super::Render;
use crate::diff::{pretty, Change, ChangeKind};
use crate::display::json::compact;
use crate::display::{terminal_safe, terminal_safe_lines};
use crate::model::transcript::{Closing, Header, SnapshotMark, Step};
use crate::model::{format_time, Payload, SnapshotOutcome, StepProblem};

pub(super) const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
h1 code, summary code { font-size: 0.95em; }
dl.header { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.header dt { font-weight: 600; }
dl.header dd { margin: 0; }
details.step { border: 1px solid #d0d7de; border-radius: 6px; margin: 0.4rem 0; padding: 0.3rem 0.8rem; }
details.step[open] { padding-bottom: 0.8rem; }
details.flagged { border-color: #cf222e; }
summary { cursor: pointer; }
.version { font-weight: 600; }
.time { color: #57606a; }
.mark { display: inline-block; border-radius: 4px; padding: 0 0.4rem; margin-left: 0.4rem; font-size: 0.85em; font-weight: 600; }
.mark.warning { background: #fff8c5; }
.mark.error, .mark.mismatch { background: #ffebe9; color: #a40e26; }
.mark.snapshot { background: #ddf4ff; }
p.note { margin: 0.5rem 0; }
pre { background: #f6f8fa; padding: 0.5rem 0.7rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
pre.diff .del { color: #a40e26; background: #ffebe9; display: block; }
pre.diff .add { color: #116329; background: #dafbe1; display: block; }
h4 { margin: 0.7rem 0 0.2rem; font-size: 0.9rem; }
";

pub struct Html {
    with_state: bool,
}

impl Html {
    pub fn new(with_state: bool) -> Html {
        Html { with_state }
    }
}

impl Render for Html {
    fn header(&mut self, out: &mut dyn Write, header: &Header) -> io::Result<()> {
        let aggregate = escape(&header.aggregate);
        let mut html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>rewind transcript: {aggregate}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <h1>rewind transcript: <code>{aggregate}</code></h1>\n<dl class=\"header\">\n"
        );
        for (name, value) in header.items(&code, &escape, range(header)) {
            html.push_str(&format!("<dt>{name}</dt><dd>{value}</dd>\n"));
        }
        html.push_str("</dl>\n");
        if self.with_state && header.from.events > 0 {
            html.push_str(&format!("<h2>State at v{}</h2>\n", header.from.version));
            html.push_str(&json_block(&header.start_state));
        }
        html.push_str("<h2>Steps</h2>\n<main>\n");
        write(out, &html)
    }

    fn step(&mut self, out: &mut dyn Write, _header: &Header, step: &Step) -> io::Result<()> {
        let event = &step.event;
        let mut marks = String::new();
        let mut notes = String::new();
        for warning in &step.warnings {
            marks.push_str("<span class=\"mark warning\">warning</span>");
            notes.push_str(&format!(
                "<p class=\"note warning\"><strong>Warning:</strong> {}</p>\n",
                escape(warning)
            ));
        }
        match &step.problem {
            Some(StepProblem::Undecodable(err)) => {
                marks.push_str("<span class=\"mark error\">decode error</span>");
                notes.push_str(&format!(
                    "<p class=\"note error\"><strong>Decode error:</strong> {}; the state is unchanged.</p>\n",
                    code(err)
                ));
            }
            Some(StepProblem::ReducerFailed(err)) => {
                marks.push_str("<span class=\"mark error\">reducer error</span>");
                notes.push_str(&format!(
                    "<p class=\"note error\"><strong>Reducer error:</strong> {}; the state is unchanged.</p>\n",
                    code(err)
                ));
            }
            None => {}
        }
        for mark in &step.snapshots {
            let (class, label) = match mark.outcome {
                SnapshotOutcome::Agrees => ("snapshot", "snapshot"),
                _ => ("mismatch", "snapshot mismatch"),
            };
            marks.push_str(&format!("<span class=\"mark {class}\">{label}</span>"));
            notes.push_str(&snapshot(mark));
        }
        let flagged = !step.warnings.is_empty()
            || step.problem.is_some()
            || step
                .snapshots
                .iter()
                .any(|m| m.outcome != SnapshotOutcome::Agrees);
        let mut html = format!(
            "<details class=\"step{}\" id=\"step-{}\"{}>\n<summary><span class=\"version\">v{}</span> {} <span class=\"time\">{}</span>{marks}</summary>\n{notes}",
            if flagged { " flagged" } else { "" },
            step.number,
            if flagged { " open" } else { "" },
            event.version,
            code(&event.event_type),
            escape(&event.timestamp.as_ref().map_or("unknown time".into(), format_time)),
        );
        match &event.data {
            Payload::Json(data) => {
                html.push_str("<h4>Data</h4>\n");
                html.push_str(&json_block(&data.value()));
            }
            Payload::Undecodable { raw, .. } => {
                html.push_str("<h4>Raw payload (not JSON)</h4>\n");
                html.push_str(&format!("<pre class=\"raw\">{}</pre>\n", escape(raw)));
            }
        }
        html.push_str("<h4>Metadata</h4>\n");
        html.push_str(&json_block(&event.metadata.value()));
        html.push_str("<h4>Changes</h4>\n");
        html.push_str(&diff(&step.changes));
        if let (true, Some(state)) = (self.with_state, &step.state) {
            html.push_str(&format!("<h4>State after v{}</h4>\n", event.version));
            html.push_str(&json_block(state));
        }
        html.push_str("</details>\n");
        write(out, &html)
    }

    fn closing(
        &mut self,
        out: &mut dyn Write,
        header: &Header,
        closing: &Closing,
    ) -> io::Result<()> {
        let mut html = String::new();
        if header.steps == 0 {
            html.push_str("<p class=\"note\"><em>No events in this range.</em></p>\n");
        }
        html.push_str(&format!(
            "</main>\n<section id=\"net\">\n<h2>Net change v{} → v{}</h2>\n",
            header.from.version, header.to.version
        ));
        html.push_str(&diff(&closing.net));
        for mark in &closing.snapshots_beyond {
            html.push_str(&snapshot(mark));
        }
        if self.with_state {
            html.push_str(&format!("<h4>State at v{}</h4>\n", header.to.version));
            html.push_str(&json_block(&closing.state));
        }
        html.push_str("</section>\n</body>\n</html>\n");
        write(out, &html)
    }
}

fn range(header: &Header) -> String {
    let (from, to) = (&header.from, &header.to);
    let events = match to.events - from.events {
        0 => "no events".to_string(),
        _ => format!(
            "events {}–{} of {}",
            from.events + 1,
            to.events,
            header.history_events
        ),
    };
    format!("v{} → v{}, {events}", from.version, to.version)
}

fn snapshot(mark: &SnapshotMark) -> String {
    let version = mark.snapshot.version;
    match &mark.outcome {
        SnapshotOutcome::Agrees => format!(
            "<p class=\"note snapshot\"><strong>Snapshot</strong> v{version} is stored here and agrees with replay.</p>\n"
        ),
        SnapshotOutcome::Differs(changes) => format!(
            "<p class=\"note mismatch\"><strong>Snapshot mismatch:</strong> the snapshot stored at v{version} differs from replay (stored → replayed):</p>\n{}",
            diff(changes)
        ),
        SnapshotOutcome::Undecodable(err) => format!(
            "<p class=\"note mismatch\"><strong>Snapshot mismatch:</strong> the snapshot stored at v{version} does not decode: {}</p>\n",
            code(err)
        ),
        SnapshotOutcome::BeyondHistory => format!(
            "<p class=\"note mismatch\"><strong>Snapshot mismatch:</strong> a snapshot is stored for v{version}, beyond the last event.</p>\n"
        ),
    }
}

fn diff(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "<p class=\"note\"><em>No change.</em></p>\n".to_string();
    }
    let mut body = String::new();
    for change in changes {
        let value = |v: &Option<Value>| v.as_ref().map(compact).unwrap_or_default();
        let path = escape(&change.path.to_string());
        if change.kind != ChangeKind::Added {
            body.push_str(&format!(
                "<span class=\"del\">- {path}: {}</span>",
                escape(&value(&change.old))
            ));
        }
        if change.kind != ChangeKind::Removed {
            body.push_str(&format!(
                "<span class=\"add\">+ {path}: {}</span>",
                escape(&value(&change.new))
            ));
        }
    }
    format!("<pre class=\"diff\">{body}</pre>\n")
}

/// Writes a part of the page: control characters in any content (the title's aggregate id, a
/// raw payload) are shown escaped, so printing or `cat`-ing the file cannot drive a terminal.
pub(super) fn write(out: &mut dyn Write, html: &str) -> io::Result<()> {
    out.write_all(terminal_safe_lines(html).as_bytes())
}

pub(super) fn json_block(value: &Value) -> String {
    format!(
        "<pre class=\"json\">{}</pre>\n",
        escape(pretty(value).trim_end())
    )
}

pub(super) fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(&terminal_safe(text)))
}

/// Text as HTML content or attribute value: the five characters with meaning escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<script>alert('x') && \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp;&amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
