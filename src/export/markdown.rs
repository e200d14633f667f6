//! Markdown transcripts, for code reviews and issue trackers: every piece of event content
//! sits in a code span or a fenced block, so nothing in it is taken for markup.

use std::io::{self, Write};

use serde_json::Value;

use super::Render;
use crate::diff::{pretty, Change, ChangeKind};
use crate::display::json::compact;
use crate::display::{terminal_safe, terminal_safe_lines};
use crate::model::transcript::{Closing, Header, SnapshotMark, Step};
use crate::model::{format_time, Payload, SnapshotOutcome, StepProblem};

pub struct Markdown {
    with_state: bool,
}

impl Markdown {
    pub fn new(with_state: bool) -> Markdown {
        Markdown { with_state }
    }
}

impl Render for Markdown {
    fn header(&mut self, out: &mut dyn Write, header: &Header) -> io::Result<()> {
        let mut text = format!("# rewind transcript: {}\n\n", code(&header.aggregate));
        for (name, value) in header.items(&code, &|plain| plain.to_string(), range(header)) {
            text.push_str(&format!("- **{name}:** {value}\n"));
        }
        if self.with_state && header.from.events > 0 {
            text.push_str(&format!("\n## State at v{}\n\n", header.from.version));
            text.push_str(&fenced("json", &pretty(&header.start_state)));
        }
        text.push_str("\n## Steps\n");
        write(out, &text)
    }

    fn step(&mut self, out: &mut dyn Write, _header: &Header, step: &Step) -> io::Result<()> {
        let event = &step.event;
        let mut text = format!(
            "\n### {}. v{} {} at {}\n\n",
            step.number,
            event.version,
            code(&event.event_type),
            event
                .timestamp
                .as_ref()
                .map_or("an unknown time".into(), format_time)
        );
        for warning in &step.warnings {
            text.push_str(&format!("> **WARNING** {}\n\n", code(warning)));
        }
        match &step.problem {
            Some(StepProblem::Undecodable(err)) => text.push_str(&format!(
                "> **DECODE ERROR** {}: the state is unchanged.\n\n",
                code(err)
            )),
            Some(StepProblem::ReducerFailed(err)) => text.push_str(&format!(
                "> **REDUCER ERROR** {}: the state is unchanged.\n\n",
                code(err)
            )),
            None => {}
        }
        for mark in &step.snapshots {
            text.push_str(&snapshot(mark));
        }
        match &event.data {
            Payload::Json(data) => {
                text.push_str("Data:\n\n");
                text.push_str(&fenced("json", &pretty(&data.value())));
            }
            Payload::Undecodable { raw, .. } => {
                text.push_str("Raw payload (not JSON):\n\n");
                text.push_str(&fenced("text", raw));
            }
        }
        text.push_str("\nMetadata:\n\n");
        text.push_str(&fenced("json", &pretty(&event.metadata.value())));
        text.push_str("\nChanges:\n\n");
        text.push_str(&diff(&step.changes));
        if let (true, Some(state)) = (self.with_state, &step.state) {
            text.push_str(&format!("\nState after v{}:\n\n", event.version));
            text.push_str(&fenced("json", &pretty(state)));
        }
        write(out, &text)
    }

    fn closing(
        &mut self,
        out: &mut dyn Write,
        header: &Header,
        closing: &Closing,
    ) -> io::Result<()> {
        let mut text = String::new();
        if header.steps == 0 {
            text.push_str("\n_No events in this range._\n");
        }
        text.push_str(&format!(
            "\n## Net change v{} → v{}\n\n",
            header.from.version, header.to.version
        ));
        text.push_str(&diff(&closing.net));
        for mark in &closing.snapshots_beyond {
            text.push('\n');
            text.push_str(&snapshot(mark));
        }
        if self.with_state {
            text.push_str(&format!("\nState at v{}:\n\n", header.to.version));
            text.push_str(&fenced("json", &pretty(&closing.state)));
        }
        write(out, &text)
    }
}

fn range(header: &Header) -> String {
    let (from, to) = (&header.from, &header.to);
    let events = match to.events - from.events {
        0 => "no events".to_string(),
        1 => format!("event {} of {}", to.events, header.history_events),
        _ => format!(
            "events {}–{} of {}",
            from.events + 1,
            to.events,
            header.history_events
        ),
    };
    let mut text = format!("v{} → v{}, {events}", from.version, to.version);
    let asked: Vec<String> = [("from", &from.requested), ("to", &to.requested)]
        .into_iter()
        .filter_map(|(name, requested)| Some(format!("--{name} {}", code(requested.as_ref()?))))
        .collect();
    if !asked.is_empty() {
        text.push_str(&format!(" (asked for {})", asked.join(" ")));
    }
    text
}

fn snapshot(mark: &SnapshotMark) -> String {
    let version = mark.snapshot.version;
    match &mark.outcome {
        SnapshotOutcome::Agrees => {
            format!("> **SNAPSHOT** v{version} is stored here and agrees with replay.\n\n")
        }
        SnapshotOutcome::Differs(changes) => format!(
            "> **SNAPSHOT MISMATCH** the snapshot stored at v{version} differs from replay (stored → replayed):\n\n{}\n",
            diff(changes)
        ),
        SnapshotOutcome::Undecodable(err) => format!(
            "> **SNAPSHOT MISMATCH** the snapshot stored at v{version} does not decode: {}\n\n",
            code(err)
        ),
        SnapshotOutcome::BeyondHistory => format!(
            "> **SNAPSHOT MISMATCH** a snapshot is stored for v{version}, beyond the last event.\n\n"
        ),
    }
}

/// `- .path: old` / `+ .path: new` lines in a diff block, which trackers color.
fn diff(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "_No change._\n".to_string();
    }
    let mut body = String::new();
    for change in changes {
        let value = |v: &Option<Value>| v.as_ref().map(compact).unwrap_or_default();
        if change.kind != ChangeKind::Added {
            body.push_str(&format!("- {}: {}\n", change.path, value(&change.old)));
        }
        if change.kind != ChangeKind::Removed {
            body.push_str(&format!("+ {}: {}\n", change.path, value(&change.new)));
        }
    }
    fenced("diff", &body)
}

/// Writes a part of the transcript: whatever slipped past `code` and `fenced` (a raw payload's
/// ESC, say) is shown escaped, so printing or `cat`-ing the file cannot drive a terminal.
pub(super) fn write(out: &mut dyn Write, text: &str) -> io::Result<()> {
    out.write_all(terminal_safe_lines(text).as_bytes())
}

/// A fenced block whose fence is longer than any run of backticks inside, so the content
/// cannot close it.
pub(super) fn fenced(language: &str, body: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(body).max(2) + 1);
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{language}\n{body}{newline}{fence}\n")
}

/// An inline code span that holds any text on one line.
pub(super) fn code(text: &str) -> String {
    let text = terminal_safe(text);
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    if text.is_empty() || text.starts_with('`') || text.ends_with('`') {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backticks_in_the_content() {
        assert_eq!(fenced("json", "\"a```b\"\n"), "````json\n\"a```b\"\n````\n");
        assert_eq!(fenced("text", "x"), "```text\nx\n```\n");
    }

    #[test]
    fn code_spans_hold_backticks_and_newlines() {
        assert_eq!(code("Opened"), "`Opened`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("line\nbreak"), "`line\\nbreak`");
    }
}
