//! Which JSON paths changed between two values, and the RFC 6902 patch between them.

use serde::Serialize;
use serde_json::{json, Value};

use super::path::{JsonPath, Segment};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One leaf-most difference: a path whose value appeared, vanished or was replaced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    #[serde(serialize_with = "serialize_path")]
    pub path: JsonPath,
    #[serde(rename = "op")]
    pub kind: ChangeKind,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

fn serialize_path<S: serde::Serializer>(path: &JsonPath, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(path)
}

/// Every difference from `old` to `new`, deepest paths first reported where objects and
/// arrays line up, in key order. Each value is visited once, so the cost is the two values'
/// size (plus the changes it reports), however deep they nest.
pub fn changes(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(&mut Vec::new(), old, new, &mut out);
    out
}

/// `path` is the location of `old` and `new`, a stack turned into a `JsonPath` only for a
/// change: equal subtrees cost no allocation.
fn walk(path: &mut Vec<Segment>, old: &Value, new: &Value, out: &mut Vec<Change>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            // Both maps iterate in sorted key order, so a merge walk visits each key once.
            let mut left = a.iter().peekable();
            let mut right = b.iter().peekable();
            loop {
                match (left.peek(), right.peek()) {
                    (None, None) => break,
                    (Some((ka, va)), Some((kb, vb))) if ka == kb => {
                        path.push(Segment::Key((*ka).clone()));
                        walk(path, va, vb, out);
                        path.pop();
                        left.next();
                        right.next();
                    }
                    (Some((ka, va)), Some((kb, _))) if ka < kb => {
                        out.push(removed(at(path, Segment::Key((*ka).clone())), va));
                        left.next();
                    }
                    (Some((ka, va)), None) => {
                        out.push(removed(at(path, Segment::Key((*ka).clone())), va));
                        left.next();
                    }
                    (_, Some((kb, vb))) => {
                        out.push(added(at(path, Segment::Key((*kb).clone())), vb));
                        right.next();
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let common = a.len().min(b.len());
            for i in 0..common {
                path.push(Segment::Index(i));
                walk(path, &a[i], &b[i], out);
                path.pop();
            }
            for (i, value) in b.iter().enumerate().skip(common) {
                out.push(added(at(path, Segment::Index(i)), value));
            }
            // Removals from the end backwards, so applying them in order keeps indices valid.
            for i in (common..a.len()).rev() {
                out.push(removed(at(path, Segment::Index(i)), &a[i]));
            }
        }
        _ if old == new => {}
        _ => out.push(Change {
            path: JsonPath(path.clone()),
            kind: ChangeKind::Changed,
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
    }
}

fn at(path: &[Segment], last: Segment) -> JsonPath {
    let mut segments = Vec::with_capacity(path.len() + 1);
    segments.extend_from_slice(path);
    segments.push(last);
    JsonPath(segments)
}

fn added(path: JsonPath, value: &Value) -> Change {
    Change {
        path,
        kind: ChangeKind::Added,
        old: None,
        new: Some(value.clone()),
    }
}

fn removed(path: JsonPath, value: &Value) -> Change {
    Change {
        path,
        kind: ChangeKind::Removed,
        old: Some(value.clone()),
        new: None,
    }
}

/// The RFC 6902 JSON Patch that turns `old` into `new`.
pub fn json_patch(old: &Value, new: &Value) -> Value {
    let ops = changes(old, new)
        .into_iter()
        .map(|change| {
            let path = change.path.to_pointer();
            match change.kind {
                ChangeKind::Added => json!({"op": "add", "path": path, "value": change.new}),
                ChangeKind::Removed => json!({"op": "remove", "path": path}),
                ChangeKind::Changed => json!({"op": "replace", "path": path, "value": change.new}),
            }
        })
        .collect();
    Value::Array(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_leaf_changes_with_jq_paths() {
        let old = json!({"balance": 10, "owner": {"name": "ada"}, "tags": ["a", "b", "c"]});
        let new = json!({"balance": 15, "owner": {"name": "ada", "vip": true}, "tags": ["a"]});
        let found: Vec<(String, ChangeKind)> = changes(&old, &new)
            .into_iter()
            .map(|c| (c.path.to_string(), c.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                (".balance".into(), ChangeKind::Changed),
                (".owner.vip".into(), ChangeKind::Added),
                (".tags[2]".into(), ChangeKind::Removed),
                (".tags[1]".into(), ChangeKind::Removed),
            ]
        );
    }

    #[test]
    fn identical_values_have_no_changes_and_an_empty_patch() {
        let v = json!({"a": [1, {"b": null}]});
        assert!(changes(&v, &v).is_empty());
        assert_eq!(json_patch(&v, &v), json!([]));
    }

    /// A whole state against nothing is one replace, and two large states that differ in
    /// every leaf list each leaf once.
    #[test]
    fn large_states_give_one_change_per_leaf() {
        let state = |offset: u64| -> Value {
            (0..20_000u64)
                .map(|i| (format!("key-{i:05}"), json!({"n": i + offset, "same": [i]})))
                .collect()
        };
        let (old, new) = (state(0), state(1));
        let found = changes(&Value::Null, &new);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].new.as_ref(), Some(&new));
        let found = changes(&old, &new);
        assert_eq!(found.len(), 20_000);
        assert_eq!(found[7].path.to_string(), ".[\"key-00007\"].n");
        assert_eq!(
            (found[7].old.clone(), found[7].new.clone()),
            (Some(json!(7)), Some(json!(8)))
        );
    }

    #[test]
    fn type_change_at_root_is_one_replace() {
        assert_eq!(
            json_patch(&Value::Null, &json!({"a": 1})),
            json!([{"op": "replace", "path": "", "value": {"a": 1}}])
        );
    }
}
