//! Hiding values before a transcript leaves the machine: every value at a redacted path is
//! replaced with a marker, in data, metadata, states, snapshots and diffs.

use serde_json::Value;

use crate::diff::{Change, ChangeKind, JsonPath, Segment};
use crate::model::transcript::{Closing, Header, SnapshotMark, Step};
use crate::model::{Event, EventIssue, JsonText, Payload, SnapshotOutcome, StepProblem};

/// What a redacted value becomes.
pub use crate::model::transcript::REDACTED;

/// Strings shorter than this are not scrubbed from messages: "5" or "a" would hit
/// unrelated text and protect nothing.
const SHORTEST_SCRUBBED: usize = 3;

pub struct Redactor {
    paths: Vec<JsonPath>,
    /// Per path, whether `learn` found a value there.
    matched: Vec<bool>,
    /// Scalar values found at redacted paths, longest first, to scrub from free text such
    /// as reducer error messages, which may quote them.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(paths: &[JsonPath]) -> Redactor {
        Redactor {
            paths: paths.to_vec(),
            matched: vec![false; paths.len()],
            secrets: Vec::new(),
        }
    }

    pub fn is_active(&self) -> bool {
        !self.paths.is_empty()
    }

    /// Remembers the scalars at redacted paths in `value`, so messages can be scrubbed.
    pub fn learn(&mut self, value: &Value) {
        if !self.is_active() {
            return;
        }
        let mut found = Vec::new();
        for (path, matched) in self.paths.iter().zip(&mut self.matched) {
            if let Some(hidden) = path.lookup(value) {
                *matched = true;
                scalars(hidden, &mut found);
            }
        }
        // A message may quote a value as JSON or as Rust's Debug writes it (`\\` for `\`,
        // `\"` for `"`, escapes for controls): each spelling is a secret of its own.
        let spellings = found.into_iter().flat_map(|secret| {
            let json = serde_json::to_string(&secret).unwrap_or_default();
            let debug = format!("{secret:?}");
            let unquote = |s: &str| s[1..s.len().saturating_sub(1).max(1)].to_string();
            [unquote(&json), unquote(&debug), secret]
        });
        for secret in spellings {
            if secret.chars().count() >= SHORTEST_SCRUBBED && !self.secrets.contains(&secret) {
                self.secrets.push(secret);
            }
        }
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// The paths no learned value had, in the order given.
    pub fn unmatched(&self) -> Vec<String> {
        self.paths
            .iter()
            .zip(&self.matched)
            .filter(|(_, matched)| !**matched)
            .map(|(path, _)| path.to_string())
            .collect()
    }

    pub fn header(&self, header: &mut Header) {
        if !self.is_active() {
            return;
        }
        header.redacted = self.paths.iter().map(|p| p.to_string()).collect();
        header.redacted_unmatched = self.unmatched();
        self.value(&mut header.start_state);
    }

    pub fn step(&self, step: &mut Step) {
        if !self.is_active() {
            return;
        }
        self.payload(&mut step.event.data);
        self.text_json(&mut step.event.metadata);
        if let Some(state) = &mut step.state {
            self.value(state);
        }
        step.changes = self.changes(std::mem::take(&mut step.changes));
        for warning in &mut step.warnings {
            *warning = self.text(warning);
        }
        for issue in &mut step.event.issues {
            *issue = self.issue(issue);
        }
        step.problem = step.problem.take().map(|problem| match problem {
            StepProblem::Undecodable(err) => StepProblem::Undecodable(self.text(&err)),
            StepProblem::ReducerFailed(err) => StepProblem::ReducerFailed(self.text(&err)),
        });
        for mark in &mut step.snapshots {
            self.snapshot(mark);
        }
    }

    /// An event on its own (a trace transcript's): data, metadata and stored issues.
    pub fn event(&self, event: &mut Event) {
        if !self.is_active() {
            return;
        }
        self.payload(&mut event.data);
        self.text_json(&mut event.metadata);
        for issue in &mut event.issues {
            *issue = self.issue(issue);
        }
    }

    /// Free text with every learned secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        match self.is_active() {
            true => self.text(text),
            false => text.to_string(),
        }
    }

    pub fn closing(&self, closing: &mut Closing) {
        if !self.is_active() {
            return;
        }
        closing.net = self.changes(std::mem::take(&mut closing.net));
        self.value(&mut closing.state);
        for mark in &mut closing.snapshots_beyond {
            self.snapshot(mark);
        }
    }

    fn snapshot(&self, mark: &mut SnapshotMark) {
        self.payload(&mut mark.snapshot.state);
        mark.outcome = match std::mem::replace(&mut mark.outcome, SnapshotOutcome::Agrees) {
            SnapshotOutcome::Differs(changes) => SnapshotOutcome::Differs(self.changes(changes)),
            SnapshotOutcome::Undecodable(err) => SnapshotOutcome::Undecodable(self.text(&err)),
            other => other,
        };
    }

    /// Undecodable payloads are not JSON, so no path can be found in them: their raw text
    /// is withheld entirely.
    fn payload(&self, payload: &mut Payload) {
        match payload {
            Payload::Json(text) => self.text_json(text),
            Payload::Undecodable { raw, error } => {
                *raw = REDACTED.to_string();
                *error = self.text(error);
            }
        }
    }

    /// Payload text is parsed, redacted and written back.
    fn text_json(&self, text: &mut JsonText) {
        let mut value = text.value();
        self.value(&mut value);
        *text = JsonText::from_value(&value);
    }

    fn value(&self, value: &mut Value) {
        for path in &self.paths {
            replace_at(value, &path.0);
        }
    }

    /// A change at or inside a redacted value shows that the value changed, not how: it is
    /// reported at the redacted path itself (whose keys below could be data too), once.
    /// A change above a redacted path has the redacted parts of its values replaced.
    fn changes(&self, changes: Vec<Change>) -> Vec<Change> {
        let mut out: Vec<Change> = Vec::new();
        for mut change in changes {
            let covering = self.paths.iter().find(|p| change.path.0.starts_with(&p.0));
            let Some(covering) = covering else {
                for path in &self.paths {
                    if let Some(inner) = path.0.strip_prefix(change.path.0.as_slice()) {
                        for value in [&mut change.old, &mut change.new].into_iter().flatten() {
                            replace_at(value, inner);
                        }
                    }
                }
                out.push(change);
                continue;
            };
            let marker = |v: Option<Value>| v.map(|_| Value::from(REDACTED));
            let (old, new) = (marker(change.old), marker(change.new));
            match out.iter_mut().find(|c| c.path == *covering) {
                Some(merged) => {
                    merged.old = merged.old.take().or(old);
                    merged.new = merged.new.take().or(new);
                    merged.kind = kind_of(&merged.old, &merged.new);
                }
                None => out.push(Change {
                    path: covering.clone(),
                    kind: kind_of(&old, &new),
                    old,
                    new,
                }),
            }
        }
        out
    }

    /// Free text with every known secret replaced by the marker.
    /// A stored issue quotes the column it is about (an unparseable timestamp, a bad
    /// version), which may hold a secret.
    fn issue(&self, issue: &EventIssue) -> EventIssue {
        match issue {
            EventIssue::UnparseableTimestamp(raw) => {
                EventIssue::UnparseableTimestamp(self.text(raw))
            }
            EventIssue::BadMetadata(err) => EventIssue::BadMetadata(self.text(err)),
            EventIssue::NullColumn(column) => EventIssue::NullColumn(column.clone()),
            EventIssue::BadVersion(raw) => EventIssue::BadVersion(self.text(raw)),
        }
    }

    fn text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            text = scrub_secret(&text, secret);
        }
        text
    }
}

/// Characters of a secret's start that mark where it is quoted, cut or whole.
const SECRET_HEAD: usize = 24;

/// `text` with each place that quotes `secret` replaced by the marker. A message quoting a
/// long value keeps only its start (`display::shorten_quoted`), so a long secret is found by
/// its first [`SECRET_HEAD`] characters and hidden as far as the text goes on matching it.
fn scrub_secret(text: &str, secret: &str) -> String {
    let head = match secret.char_indices().nth(SECRET_HEAD) {
        Some((at, _)) => &secret[..at],
        None => secret,
    };
    if !text.contains(head) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(head) {
        out.push_str(&rest[..at]);
        let from = &rest[at..];
        let matched: usize = from
            .chars()
            .zip(secret.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        // A whole short secret, or a long one's start: either way no character of it stays.
        out.push_str(REDACTED);
        rest = &from[matched.max(head.len())..];
    }
    out.push_str(rest);
    out
}

fn kind_of(old: &Option<Value>, new: &Option<Value>) -> ChangeKind {
    match (old, new) {
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        _ => ChangeKind::Changed,
    }
}

/// Replaces the value at `path` inside `value` with the marker, if there is one.
fn replace_at(value: &mut Value, path: &[Segment]) {
    let Some((last, parents)) = path.split_last() else {
        *value = Value::from(REDACTED);
        return;
    };
    let mut current = value;
    for segment in parents {
        current = match (segment, current) {
            (Segment::Key(key), Value::Object(map)) => match map.get_mut(key) {
                Some(next) => next,
                None => return,
            },
            (Segment::Index(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(next) => next,
                None => return,
            },
            _ => return,
        };
    }
    let slot = match (last, current) {
        (Segment::Key(key), Value::Object(map)) => map.get_mut(key),
        (Segment::Index(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    };
    if let Some(slot) = slot {
        *slot = Value::from(REDACTED);
    }
}

/// The scalars inside a value, as text: strings as they are, numbers as written.
fn scalars(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        Value::Object(map) => map.values().for_each(|v| scalars(v, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::changes;
    use serde_json::json;

    fn redactor(paths: &[&str]) -> Redactor {
        let paths: Vec<JsonPath> = paths.iter().map(|p| JsonPath::parse(p).unwrap()).collect();
        Redactor::new(&paths)
    }

    #[test]
    fn values_at_paths_are_replaced_and_missing_paths_ignored() {
        let r = redactor(&[".owner", ".cards[1].number", ".absent.deeper"]);
        let mut value =
            json!({"owner": {"name": "Zeb"}, "cards": [{"number": 1}, {"number": 2}], "n": 3});
        r.value(&mut value);
        assert_eq!(
            value,
            json!({"owner": REDACTED, "cards": [{"number": 1}, {"number": REDACTED}], "n": 3})
        );
    }

    #[test]
    fn changes_inside_a_redacted_value_collapse_to_its_path() {
        let r = redactor(&[".owner"]);
        let old = json!({"owner": {"first": "Zeb", "last": "Secret"}, "n": 1});
        let new = json!({"owner": {"first": "Ada", "middle": "X"}, "n": 2});
        let shown: Vec<(String, ChangeKind, Option<Value>, Option<Value>)> = r
            .changes(changes(&old, &new))
            .into_iter()
            .map(|c| (c.path.to_string(), c.kind, c.old, c.new))
            .collect();
        let marker = Some(json!(REDACTED));
        assert_eq!(
            shown,
            vec![
                (
                    ".n".into(),
                    ChangeKind::Changed,
                    Some(json!(1)),
                    Some(json!(2))
                ),
                (".owner".into(), ChangeKind::Changed, marker.clone(), marker),
            ]
        );
    }

    #[test]
    fn changes_above_a_redacted_path_have_it_replaced_in_their_values() {
        let r = redactor(&[".owner"]);
        let found = r.changes(changes(&Value::Null, &json!({"owner": "Zeb", "n": 1})));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].new, Some(json!({"owner": REDACTED, "n": 1})));
    }

    #[test]
    fn paths_no_value_had_are_reported() {
        let mut r = redactor(&[".owner", ".ownr", ".cards[3]"]);
        r.learn(&json!({"owner": "Zeb", "cards": [1]}));
        r.learn(&json!({"cards": [1, 2]}));
        assert_eq!(r.unmatched(), [".ownr", ".cards[3]"]);
        r.learn(&json!({"cards": [1, 2, 3, 4]}));
        assert_eq!(r.unmatched(), [".ownr"]);
    }

    #[test]
    fn learned_secrets_are_scrubbed_from_messages() {
        let mut r = redactor(&[".owner"]);
        r.learn(&json!({"owner": {"name": "Zebediah", "pin": 4711, "x": "ab"}}));
        assert_eq!(
            r.text("cannot add \"Zebediah\" and 4711 (ab)"),
            "cannot add \"[redacted]\" and [redacted] (ab)"
        );
    }

    #[test]
    fn secrets_are_scrubbed_however_a_message_spells_or_cuts_them() {
        let mut r = redactor(&[".owner", ".note"]);
        let long = format!("{}-tail", "s".repeat(400));
        r.learn(&json!({"owner": "CORP\\jdoe \"x\"\u{1b}", "note": long}));
        for spelled in [
            "CORP\\jdoe \"x\"\u{1b}".to_string(),
            "CORP\\\\jdoe \\\"x\\\"\\u001b".to_string(),
            "CORP\\\\jdoe \\\"x\\\"\\u{1b}".to_string(),
        ] {
            let scrubbed = r.text(&format!("bad {spelled} here"));
            assert_eq!(scrubbed, "bad [redacted] here", "{spelled:?}");
        }
        // Cut as a long quoted value is cut in a message: no part of it is left.
        let cut = format!("bad \"{}… (105 more bytes)", &long[..300]);
        assert_eq!(r.text(&cut), "bad \"[redacted]… (105 more bytes)");
    }
}
