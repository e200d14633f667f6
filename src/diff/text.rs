//! Line diffs of pretty-printed JSON, for people who read diffs like code review.
//!
//! Myers' algorithm costs O((N+M)·D), quadratic when the two texts share little (a state
//! diffed against `null`, an object replaced). Lines found on one side only can never be
//! part of the longest common subsequence, so they are set aside before Myers runs (as GNU
//! diff does): the diff is as short as before, and texts that share nothing cost a pass.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;
use similar::{Algorithm, DiffOp, DiffTag};

/// Past this much work on the lines both sides share (a pathological reordering), Myers
/// settles for a longer diff: still correct, never minimal-or-frozen.
const MYERS_DEADLINE: Duration = Duration::from_secs(1);

/// Lines of unchanged context around each change.
const CONTEXT: usize = 3;

/// Pretty JSON with keys sorted (serde_json's map is ordered), ending in a newline; characters
/// that could drive a terminal are `\uXXXX` escapes (the same value, see `crate::display`).
pub fn pretty(value: &Value) -> String {
    let mut text =
        crate::display::json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.push('\n');
    text
}

/// A unified diff of the two values' pretty JSON; empty when they are equal.
pub fn unified(old: &Value, new: &Value, old_label: &str, new_label: &str) -> String {
    let (a, b) = (pretty(old), pretty(new));
    if a == b {
        return String::new();
    }
    let old_lines: Vec<&str> = a.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = b.split_inclusive('\n').collect();
    let ops = line_ops(&old_lines, &new_lines);
    let mut text = format!("--- {old_label}\n+++ {new_label}\n");
    for hunk in similar::group_diff_ops(ops, CONTEXT) {
        if hunk.is_empty() {
            continue;
        }
        let _ = writeln!(text, "{}", similar::udiff::UnifiedHunkHeader::new(&hunk));
        for op in &hunk {
            for (tag, line) in op_lines(op, &old_lines, &new_lines) {
                text.push(tag);
                text.push_str(line);
            }
        }
    }
    text
}

/// The lines one op covers, each with its unified-diff sign: context, or removed then added.
fn op_lines<'a>(op: &DiffOp, old: &[&'a str], new: &[&'a str]) -> Vec<(char, &'a str)> {
    let (tag, old_range, new_range) = op.as_tag_tuple();
    if tag == DiffTag::Equal {
        return old[old_range].iter().map(|line| (' ', *line)).collect();
    }
    let removed = old[old_range].iter().map(|line| ('-', *line));
    let added = new[new_range].iter().map(|line| ('+', *line));
    removed.chain(added).collect()
}

/// The edit script from `old` to `new`, over line indices.
fn line_ops(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    // Each distinct line gets a number; a line counts only if the other side has it too.
    let mut ids: HashMap<&str, (u32, bool, bool)> = HashMap::with_capacity(old.len());
    for line in old {
        let next = ids.len() as u32;
        ids.entry(*line).or_insert((next, false, false)).1 = true;
    }
    for line in new {
        let next = ids.len() as u32;
        ids.entry(*line).or_insert((next, false, false)).2 = true;
    }
    let shared = |lines: &[&str]| -> (Vec<usize>, Vec<u32>) {
        lines
            .iter()
            .enumerate()
            .filter_map(|(i, line)| {
                let (id, in_old, in_new) = ids[*line];
                (in_old && in_new).then_some((i, id))
            })
            .unzip()
    };
    let (old_index, old_ids) = shared(old);
    let (new_index, new_ids) = shared(new);
    let deadline = std::time::Instant::now() + MYERS_DEADLINE;
    let matched =
        similar::capture_diff_slices_deadline(Algorithm::Myers, &old_ids, &new_ids, Some(deadline));
    // Matched lines, back in the full texts' numbering; every other line was removed or added.
    let mut pairs = Vec::new();
    for op in matched {
        if let DiffOp::Equal {
            old_index: o,
            new_index: n,
            len,
        } = op
        {
            pairs.extend((0..len).map(|k| (old_index[o + k], new_index[n + k])));
        }
    }
    ops_from_pairs(&pairs, old.len(), new.len())
}

/// Equal runs where matched lines are adjacent on both sides, deletes and inserts between.
fn ops_from_pairs(pairs: &[(usize, usize)], old_len: usize, new_len: usize) -> Vec<DiffOp> {
    let mut ops = Vec::new();
    let (mut o, mut n) = (0, 0);
    let push_gap = |ops: &mut Vec<DiffOp>, o: usize, n: usize, to_o: usize, to_n: usize| {
        if to_o > o {
            ops.push(DiffOp::Delete {
                old_index: o,
                old_len: to_o - o,
                new_index: n,
            });
        }
        if to_n > n {
            ops.push(DiffOp::Insert {
                old_index: to_o,
                new_index: n,
                new_len: to_n - n,
            });
        }
    };
    let mut i = 0;
    while i < pairs.len() {
        let (start_o, start_n) = pairs[i];
        push_gap(&mut ops, o, n, start_o, start_n);
        let mut len = 1;
        while i + len < pairs.len() && pairs[i + len] == (start_o + len, start_n + len) {
            len += 1;
        }
        ops.push(DiffOp::Equal {
            old_index: start_o,
            new_index: start_n,
            len,
        });
        (o, n) = (start_o + len, start_n + len);
        i += len;
    }
    push_gap(&mut ops, o, n, old_len, new_len);
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unified_diff_marks_changed_lines() {
        let text = unified(
            &json!({"a": 1, "b": 2}),
            &json!({"a": 1, "b": 3}),
            "v1",
            "v2",
        );
        assert_eq!(
            text,
            "--- v1\n+++ v2\n@@ -1,4 +1,4 @@\n {\n   \"a\": 1,\n-  \"b\": 2\n+  \"b\": 3\n }\n"
        );
    }

    #[test]
    fn equal_values_give_an_empty_diff() {
        assert_eq!(unified(&json!([1]), &json!([1]), "a", "b"), "");
    }

    #[test]
    fn far_apart_changes_get_their_own_hunks_with_three_lines_of_context() {
        let old: Value = (0..20).map(|i| (format!("k{i:02}"), json!(i))).collect();
        let mut new = old.clone();
        new["k01"] = json!("one");
        new["k18"] = json!("eighteen");
        let text = unified(&old, &new, "a", "b");
        let headers: Vec<&str> = text.lines().filter(|l| l.starts_with("@@")).collect();
        assert_eq!(headers, ["@@ -1,6 +1,6 @@", "@@ -17,6 +17,6 @@"], "{text}");
        assert!(text.contains("-  \"k18\": 18,\n+  \"k18\": \"eighteen\",\n"));
    }

    /// A whole state against nothing: every line added, in one hunk, at the cost of a pass
    /// (this took seconds at 20,000 keys when Myers saw every line).
    #[test]
    fn a_large_state_against_null_is_every_line_added() {
        let state: Value = (0..20_000)
            .map(|i| (format!("key-{i:05}"), json!({"n": i})))
            .collect();
        let text = unified(&Value::Null, &state, "v0", "v1");
        let lines: Vec<&str> = text.lines().collect();
        let body = pretty(&state);
        assert_eq!(lines[..3], ["--- v0", "+++ v1", "@@ -1 +1,60002 @@"]);
        assert_eq!(lines[3], "-null");
        assert_eq!(lines.len(), 4 + body.lines().count());
        assert!(lines[4..]
            .iter()
            .zip(body.lines())
            .all(|(got, want)| got.strip_prefix('+') == Some(want)));
        let back = unified(&state, &Value::Null, "v1", "v2");
        let removed = back
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"));
        assert_eq!(removed.count(), 60_002);
    }

    /// Applying the diff to the old text gives the new one, and unchanged lines are kept
    /// as context, for edits mixed with shared and one-sided lines.
    #[test]
    fn the_diff_rebuilds_the_new_text() {
        let old = json!({"a": [1, 2, 3, 4, 5], "b": {"x": 1}, "c": "same", "d": [0, 0]});
        let new = json!({"a": [1, 3, 4, 6], "b": {"x": 1, "y": 2}, "c": "same", "e": 1});
        let (a, b) = (pretty(&old), pretty(&new));
        let old_lines: Vec<&str> = a.split_inclusive('\n').collect();
        let new_lines: Vec<&str> = b.split_inclusive('\n').collect();
        let ops = line_ops(&old_lines, &new_lines);
        let mut rebuilt = String::new();
        let mut kept = 0;
        for op in &ops {
            for (tag, line) in op_lines(op, &old_lines, &new_lines) {
                match tag {
                    ' ' => {
                        kept += 1;
                        rebuilt.push_str(line)
                    }
                    '+' => rebuilt.push_str(line),
                    _ => {}
                }
            }
        }
        assert_eq!(rebuilt, b);
        let lcs = similar::capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines)
            .iter()
            .filter(|op| op.tag() == DiffTag::Equal)
            .map(|op| op.old_range().len())
            .sum::<usize>();
        assert_eq!(kept, lcs, "as many lines kept as plain Myers keeps");
    }
}
