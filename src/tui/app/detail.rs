//! What the right pane shows for one cursor position, computed once when the cursor moves
//! (not on every frame): the state as foldable lines, this event's diff, the raw event.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::diff::{by_key, change_line, changes, pretty, unified, Change, ChangeKind, JsonPath};
use crate::model::{Event, Payload};
use crate::replay::{Replay, ReplayError};
use crate::tui::text::{format_time_in, Zone};

use super::json_tree::{self, JsonLine};
use super::SnapshotMark;

/// How a line of text should look; the views map tones to styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Heading,
    Muted,
    Added,
    Removed,
    Changed,
    Hunk,
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    pub tone: Tone,
    pub text: String,
}

fn line(tone: Tone, text: impl Into<String>) -> TextLine {
    TextLine {
        tone,
        text: text.into(),
    }
}

/// What a diff is worked out from, off the UI thread: the two states, their structural
/// changes and the versions that label them.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffInput {
    pub before: Value,
    pub after: Value,
    pub found: Vec<Change>,
    pub from_version: u64,
    pub to_version: u64,
}

impl DiffInput {
    /// The change list and the unified diff: the costly part (a text diff of the pretty
    /// JSON), run by the diff worker.
    pub fn lines(&self) -> Vec<TextLine> {
        change_lines(
            &self.found,
            &self.before,
            &self.after,
            self.from_version,
            self.to_version,
        )
    }
}

/// The line a diff shows until the worker has it.
pub fn computing() -> TextLine {
    line(Tone::Muted, "working out the diff…")
}

/// Everything the State, Diff and Event tabs draw for event `index`.
#[derive(Debug, Clone)]
pub struct Detail {
    pub index: usize,
    /// This is v0, the state before event `index` (0): no event, no diff.
    pub before_first: bool,
    pub state: Vec<JsonLine>,
    /// Indices into `state` left after folding.
    pub visible: Vec<usize>,
    /// The Diff tab: its heading, then the diff once the worker sent it.
    pub diff: Vec<TextLine>,
    /// Lines of `diff` that are the heading (kept when the body arrives).
    pub diff_head: usize,
    /// Not sent to the worker yet: it is asked for only when the Diff tab shows.
    pub diff_input: Option<DiffInput>,
    pub diff_ready: bool,
    pub event: Vec<TextLine>,
}

impl Detail {
    pub fn compute(
        replay: &mut Replay,
        index: usize,
        folds: &BTreeSet<JsonPath>,
        snapshots: &[SnapshotMark],
        zone: Zone,
    ) -> Result<Detail, ReplayError> {
        // The fold first: the page it reads holds the event too.
        let (before, after) = replay.step(index)?;
        let event = replay.event(index)?;
        let found = changes(&before, &after);
        let mut state = json_tree::flatten(&after);
        json_tree::mark_changes(&mut state, &found);
        let visible = json_tree::visible(&state, folds);
        let mut diff = vec![line(
            Tone::Heading,
            format!(
                "v{} {}: {}",
                event.version,
                event.event_type,
                count(found.len(), "change")
            ),
        )];
        if let Some(problem) = replay.problem(index) {
            diff.push(line(Tone::Error, format!("state unchanged: {problem}")));
        }
        let previous = replay.version_after(index);
        let diff_head = diff.len();
        diff.push(computing());
        let to_version = event.version;
        let event_lines = event_lines(replay, &event, index, snapshots, zone);
        Ok(Detail {
            index,
            before_first: false,
            state,
            visible,
            diff,
            diff_head,
            diff_input: Some(DiffInput {
                before,
                after,
                found,
                from_version: previous,
                to_version,
            }),
            diff_ready: false,
            event: event_lines,
        })
    }

    /// v0: the state the history starts from (`null` for a whole history), before any event.
    pub fn start(replay: &mut Replay, folds: &BTreeSet<JsonPath>) -> Result<Detail, ReplayError> {
        let state = json_tree::flatten(replay.state_after(0)?);
        let visible = json_tree::visible(&state, folds);
        let heading = "v0 · empty state: the state before the first event";
        let next = "no event here; l or → steps to v1, the first event";
        Ok(Detail {
            index: 0,
            before_first: true,
            state,
            visible,
            diff: vec![line(Tone::Heading, heading), line(Tone::Muted, next)],
            diff_head: 2,
            diff_input: None,
            diff_ready: true,
            event: vec![line(Tone::Heading, heading), line(Tone::Muted, next)],
        })
    }

    /// The worker's diff, under the heading.
    pub fn set_diff(&mut self, lines: Vec<TextLine>) {
        self.diff.truncate(self.diff_head);
        self.diff.extend(lines);
        self.diff_ready = true;
    }

    pub fn refold(&mut self, folds: &BTreeSet<JsonPath>) {
        self.visible = json_tree::visible(&self.state, folds);
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The structural list (`~ .path: old → new`) followed by the colored unified diff.
pub fn change_lines(
    found: &[Change],
    before: &Value,
    after: &Value,
    from_version: u64,
    to_version: u64,
) -> Vec<TextLine> {
    if found.is_empty() {
        return vec![line(Tone::Muted, "no change to the state")];
    }
    let mut lines = Vec::with_capacity(found.len() + 16);
    // A state made from nothing is listed key by key, as the CLI's summary says it, when
    // its keys fit a screen or so (the unified diff below shows a big one whole).
    let listed = |change: &Change| match by_key(change) {
        keys if keys.len() <= 64 => keys,
        _ => vec![change.clone()],
    };
    for change in found.iter().flat_map(listed) {
        let tone = match change.kind {
            ChangeKind::Added => Tone::Added,
            ChangeKind::Removed => Tone::Removed,
            ChangeKind::Changed => Tone::Changed,
        };
        lines.push(line(tone, change_line(&change, VALUE_WIDTH)));
    }
    lines.push(line(Tone::Plain, ""));
    let text = unified(
        before,
        after,
        &format!("v{from_version}"),
        &format!("v{to_version}"),
    );
    for diff_line in text.lines() {
        let tone = if diff_line.starts_with("+++") || diff_line.starts_with("---") {
            Tone::Heading
        } else if diff_line.starts_with('+') {
            Tone::Added
        } else if diff_line.starts_with('-') {
            Tone::Removed
        } else if diff_line.starts_with("@@") {
            Tone::Hunk
        } else {
            Tone::Plain
        };
        lines.push(line(tone, diff_line));
    }
    lines
}

/// A JSON value on one line, cut to a readable length.
/// How wide a value in a change line may be before it is cut.
const VALUE_WIDTH: usize = 80;

fn event_lines(
    replay: &Replay,
    event: &Event,
    index: usize,
    snapshots: &[SnapshotMark],
    zone: Zone,
) -> Vec<TextLine> {
    let mut lines = vec![line(
        Tone::Heading,
        format!(
            "v{} {} at {}",
            event.version,
            event.event_type,
            event
                .timestamp
                .as_ref()
                .map_or("(no time)".into(), |t| format_time_in(
                    t,
                    event.time_offset,
                    zone
                ))
        ),
    )];
    let id = event
        .event_id
        .as_ref()
        .map_or(String::new(), |id| format!(" · event id {id}"));
    lines.push(line(
        Tone::Muted,
        format!(
            "aggregate {} ({}){id}",
            event.aggregate_id,
            event.aggregate_type.as_deref().unwrap_or("no type")
        ),
    ));
    lines.push(line(Tone::Plain, ""));
    lines.push(line(Tone::Heading, "data"));
    match &event.data {
        Payload::Json(text) => push_pretty(&mut lines, &text.value()),
        Payload::Undecodable { raw, error } => {
            lines.push(line(Tone::Error, format!("decode error: {error}")));
            lines.push(line(Tone::Muted, "raw text as stored:"));
            lines.extend(raw.lines().map(|l| line(Tone::Plain, l)));
        }
    }
    lines.push(line(Tone::Plain, ""));
    lines.push(line(Tone::Heading, "metadata"));
    push_pretty(&mut lines, &event.metadata.value());
    lines.push(line(Tone::Plain, ""));
    // Warnings are kept in event order, so the ones for this event are one contiguous run.
    let warnings = replay.warnings();
    let start = warnings.partition_point(|w| w.index < index);
    let end = warnings.partition_point(|w| w.index <= index);
    let problem = replay.problem(index);
    if start == end && problem.is_none() {
        lines.push(line(Tone::Muted, "no warnings"));
    } else {
        lines.push(line(Tone::Heading, "warnings"));
        for warning in &warnings[start..end] {
            lines.push(line(Tone::Warning, format!("! {warning}")));
        }
        if let Some(problem) = problem {
            lines.push(line(Tone::Error, format!("! {problem}")));
        }
    }
    for mark in snapshots.iter().filter(|m| m.index == index) {
        lines.push(line(Tone::Plain, ""));
        lines.extend(mark.describe());
    }
    lines
}

fn push_pretty(lines: &mut Vec<TextLine>, value: &Value) {
    lines.extend(pretty(value).lines().map(|l| line(Tone::Plain, l)));
}

/// The Compare tab: what changed from mark A's state to mark B's.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub marks: (usize, usize),
    /// B is the cursor (mark B is not set), and the lines say so.
    pub to_cursor: bool,
    pub lines: Vec<TextLine>,
    pub head: usize,
    /// The events that lead from A to B, listed after the net change.
    pub between: Vec<TextLine>,
    /// Not sent to the diff worker yet.
    pub input: Option<DiffInput>,
    pub ready: bool,
}

impl Comparison {
    /// A against B, or against the cursor at `b` when `to_cursor`.
    pub fn compute(
        replay: &mut Replay,
        a: usize,
        b: usize,
        to_cursor: bool,
    ) -> Result<Comparison, ReplayError> {
        let a_state = replay.state_after(a + 1)?.clone();
        let b_state = replay.state_after(b + 1)?.clone();
        let found = changes(&a_state, &b_state);
        let version = |i: usize| replay.entry(i).map_or(0, |e| e.version);
        let (va, vb) = (version(a), version(b));
        let to = if to_cursor { "cursor" } else { "B" };
        let mut lines = vec![line(
            Tone::Heading,
            format!("A v{va} → {to} v{vb}: {}", count(found.len(), "change")),
        )];
        let between = events_between(replay, a, b, if to_cursor { "the cursor" } else { "B" });
        lines.push(computing());
        lines.extend(between.iter().cloned());
        Ok(Comparison {
            marks: (a, b),
            to_cursor,
            lines,
            head: 1,
            between,
            input: Some(DiffInput {
                before: a_state,
                after: b_state,
                found,
                from_version: va,
                to_version: vb,
            }),
            ready: false,
        })
    }

    pub fn set_diff(&mut self, lines: Vec<TextLine>) {
        self.lines.truncate(self.head);
        // The events go right under the list of changes, before the text diff.
        let cut = lines
            .iter()
            .position(|l| l.text.is_empty())
            .unwrap_or(lines.len());
        let mut lines = lines.into_iter();
        self.lines.extend(lines.by_ref().take(cut));
        self.lines.extend(self.between.iter().cloned());
        self.lines.extend(lines);
        self.ready = true;
    }
}

/// Events listed between two compared points, at most; the rest are counted.
const EVENTS_LISTED: usize = 12;

/// The events that lead from `a` to `b` (after `a`, up to and including `b`), beside the
/// net change; `b_name` names B (the cursor while mark B is unset).
fn events_between(replay: &Replay, a: usize, b: usize, b_name: &str) -> Vec<TextLine> {
    let (from, to) = (a.min(b) + 1, a.max(b) + 1);
    let total = to - from;
    if total == 0 {
        return Vec::new();
    }
    let mut lines = vec![
        line(Tone::Plain, ""),
        line(
            Tone::Heading,
            format!("{} from A to {b_name}:", count(total, "event")),
        ),
    ];
    for entry in replay.entries(from..to.min(from + EVENTS_LISTED)) {
        let text = format!("  v{} {}", entry.version, replay.type_name(&entry));
        lines.push(line(Tone::Plain, text));
    }
    if total > EVENTS_LISTED {
        let more = format!("  … and {} more", total - EVENTS_LISTED);
        lines.push(line(Tone::Muted, more));
    }
    lines
}

impl SnapshotMark {
    pub fn describe(&self) -> Vec<TextLine> {
        use super::SnapshotVerdict as V;
        let head = format!("snapshot v{}", self.version);
        match &self.verdict {
            V::Agrees => vec![line(Tone::Muted, format!("{head} agrees with replay"))],
            V::Undecodable(err) => vec![line(Tone::Error, format!("{head} is unreadable: {err}"))],
            V::Differs(found) => {
                let mut lines = vec![line(
                    Tone::Error,
                    format!("{head} disagrees with replay (snapshot → replay):"),
                )];
                lines.extend(
                    found
                        .iter()
                        .map(|c| line(Tone::Changed, change_line(c, VALUE_WIDTH))),
                );
                lines
            }
        }
    }
}
