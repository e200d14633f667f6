//! Pretty JSON as a list of lines that know their path, so the State tab can fold objects
//! and highlight what the current event changed.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use crate::diff::{Change, ChangeKind, JsonPath, Segment};

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `{` or `[`; `close` is the index of the matching closing line.
    Open {
        bracket: char,
        close: usize,
        children: usize,
    },
    Close {
        bracket: char,
    },
    /// A scalar or an empty container, already as JSON text.
    Leaf(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonLine {
    pub depth: usize,
    /// The object key as JSON text (`"balance"`), for members of objects.
    pub key: Option<String>,
    pub node: Node,
    /// Whether a comma follows (the value is not its container's last).
    pub comma: bool,
    pub path: JsonPath,
    /// This value was added or replaced by the event.
    pub changed: bool,
    /// Something inside this container changed (shown on folded lines).
    pub touched: bool,
}

/// The lines `serde_json::to_string_pretty` would print, one entry each.
pub fn flatten(value: &Value) -> Vec<JsonLine> {
    let mut lines = Vec::new();
    push_value(&mut lines, value, JsonPath::root(), None, 0, false);
    lines
}

fn push_value(
    lines: &mut Vec<JsonLine>,
    value: &Value,
    path: JsonPath,
    key: Option<String>,
    depth: usize,
    comma: bool,
) {
    let line = |node, path| JsonLine {
        depth,
        key: key.clone(),
        node,
        comma,
        path,
        changed: false,
        touched: false,
    };
    let (bracket, closing, children) = match value {
        Value::Object(map) if !map.is_empty() => ('{', '}', map.len()),
        Value::Array(items) if !items.is_empty() => ('[', ']', items.len()),
        leaf => {
            let text = serde_json::to_string(leaf).unwrap_or_default();
            lines.push(line(Node::Leaf(text), path));
            return;
        }
    };
    let open = lines.len();
    lines.push(line(
        Node::Open {
            bracket,
            close: 0,
            children,
        },
        path.clone(),
    ));
    match value {
        Value::Object(map) => {
            for (i, (k, v)) in map.iter().enumerate() {
                let key_text = serde_json::to_string(k).unwrap_or_default();
                let child = path.child(Segment::Key(k.clone()));
                push_value(lines, v, child, Some(key_text), depth + 1, i + 1 < children);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let child = path.child(Segment::Index(i));
                push_value(lines, v, child, None, depth + 1, i + 1 < children);
            }
        }
        _ => unreachable!("only non-empty containers reach here"),
    }
    let close = lines.len();
    lines.push(JsonLine {
        key: None,
        ..line(Node::Close { bracket: closing }, path)
    });
    if let Node::Open { close: c, .. } = &mut lines[open].node {
        *c = close;
    }
}

/// Flags the lines an event added or replaced, and the containers holding any change: one
/// pass over the lines with sets of paths, so a state of 20,000 keys costs no more than its
/// lines (not lines × changes).
pub fn mark_changes(lines: &mut [JsonLine], changes: &[Change]) {
    let written: HashSet<&[Segment]> = changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Removed)
        .map(|c| c.path.0.as_slice())
        .collect();
    // Every strict prefix of a changed path: the containers that hold a change.
    let mut holders: HashSet<&[Segment]> = HashSet::new();
    for change in changes {
        for end in 0..change.path.0.len() {
            holders.insert(&change.path.0[..end]);
        }
    }
    for line in lines.iter_mut() {
        let path = &line.path.0;
        line.changed = (0..=path.len()).any(|end| written.contains(&path[..end]));
        line.touched = holders.contains(path.as_slice());
    }
}

/// Indices of the lines left once the folded containers are collapsed to one line.
pub fn visible(lines: &[JsonLine], folds: &BTreeSet<JsonPath>) -> Vec<usize> {
    let mut shown = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        shown.push(i);
        i = match &lines[i].node {
            Node::Open { close, .. } if folds.contains(&lines[i].path) => close + 1,
            _ => i + 1,
        };
    }
    shown
}

/// The line as text (indented), collapsed to `{…}` when folded.
pub fn line_text(lines: &[JsonLine], index: usize, folded: bool) -> String {
    let line = &lines[index];
    let mut text = "  ".repeat(line.depth);
    if let Some(key) = &line.key {
        text.push_str(key);
        text.push_str(": ");
    }
    let mut comma = line.comma;
    match &line.node {
        Node::Open {
            bracket,
            close,
            children,
        } if folded => {
            let (closing, noun) = if *bracket == '{' {
                ('}', "key")
            } else {
                (']', "item")
            };
            let plural = if *children == 1 { "" } else { "s" };
            text.push_str(&format!("{bracket}…{closing}"));
            comma = lines[*close].comma;
            if comma {
                text.push(',');
            }
            text.push_str(&format!("  {children} {noun}{plural}"));
            return text;
        }
        Node::Open { bracket, .. } => {
            text.push(*bracket);
            return text;
        }
        Node::Close { bracket } => text.push(*bracket),
        Node::Leaf(json) => text.push_str(json),
    }
    if comma {
        text.push(',');
    }
    text
}

/// Drops the folds that hide line `index` (a closing bracket belongs to its opening line's
/// fold); whether any was dropped.
pub fn unfold_to(lines: &[JsonLine], folds: &mut BTreeSet<JsonPath>, index: usize) -> bool {
    let path = &lines[index].path;
    let before = folds.len();
    folds.retain(|fold| !path.0.starts_with(&fold.0) || fold == path);
    if matches!(lines[index].node, Node::Close { .. }) {
        folds.remove(path);
    }
    folds.len() != before
}

/// The line of the container `index` belongs to: itself when it opens one, else its parent.
pub fn fold_target(lines: &[JsonLine], index: usize) -> Option<usize> {
    let line = lines.get(index)?;
    match line.node {
        Node::Open { .. } => Some(index),
        Node::Close { .. } => (0..index)
            .rev()
            .find(|&i| matches!(lines[i].node, Node::Open { close, .. } if close == index)),
        Node::Leaf(_) => (0..index).rev().find(|&i| {
            lines[i].depth + 1 == line.depth && matches!(lines[i].node, Node::Open { .. })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::changes;
    use serde_json::json;

    fn text(value: &Value, folds: &BTreeSet<JsonPath>) -> String {
        let lines = flatten(value);
        visible(&lines, folds)
            .into_iter()
            .map(|i| {
                let folded =
                    folds.contains(&lines[i].path) && matches!(lines[i].node, Node::Open { .. });
                line_text(&lines, i, folded)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn unfolded_lines_match_serde_pretty_printing() {
        let value = json!({"a": 1, "b": {"c": [1, 2, {}], "d": "x"}, "e": [], "f": null});
        assert_eq!(
            text(&value, &BTreeSet::new()),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }

    #[test]
    fn folding_collapses_a_container_to_one_line() {
        let value = json!({"a": {"x": 1, "y": 2}, "b": [1]});
        let folds = BTreeSet::from([JsonPath::parse(".a").unwrap()]);
        assert_eq!(
            text(&value, &folds),
            "{\n  \"a\": {…},  2 keys\n  \"b\": [\n    1\n  ]\n}"
        );
    }

    #[test]
    fn changed_values_and_their_containers_are_flagged() {
        let old = json!({"a": {"x": 1}, "b": 2});
        let new = json!({"a": {"x": 5}, "b": 2, "c": {"d": true}});
        let mut lines = flatten(&new);
        mark_changes(&mut lines, &changes(&old, &new));
        let flagged: Vec<(String, bool, bool)> = lines
            .iter()
            .map(|l| (l.path.to_string(), l.changed, l.touched))
            .collect();
        assert!(flagged.contains(&(".a.x".into(), true, false)));
        assert!(flagged.contains(&(".a".into(), false, true)));
        assert!(flagged.contains(&(".b".into(), false, false)));
        assert!(flagged.contains(&(".c.d".into(), true, false)));
    }

    #[test]
    fn fold_target_finds_the_enclosing_container() {
        let lines = flatten(&json!({"a": {"x": 1}}));
        // 0 {, 1 "a": {, 2 "x": 1, 3 }, 4 }
        assert_eq!(fold_target(&lines, 2), Some(1));
        assert_eq!(fold_target(&lines, 3), Some(1));
        assert_eq!(fold_target(&lines, 1), Some(1));
        assert_eq!(fold_target(&lines, 4), Some(0));
    }
}
