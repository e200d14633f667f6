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
/// arrays line up, in key order.
pub fn changes(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(&JsonPath::root(), old, new, &mut out);
    out
}

fn walk(path: &JsonPath, old: &Value, new: &Value, out: &mut Vec<Change>) {
    match (old, new) {
        _ if old == new => {}
        (Value::Object(a), Value::Object(b)) => {
            // Both maps iterate in sorted key order, so a merge walk visits each key once.
            let mut left = a.iter().peekable();
            let mut right = b.iter().peekable();
            loop {
                match (left.peek(), right.peek()) {
                    (None, None) => break,
                    (Some((ka, va)), Some((kb, vb))) if ka == kb => {
                        walk(&path.child(Segment::Key((*ka).clone())), va, vb, out);
                        left.next();
                        right.next();
                    }
                    (Some((ka, va)), Some((kb, _))) if ka < kb => {
                        out.push(removed(path.child(Segment::Key((*ka).clone())), va));
                        left.next();
                    }
                    (Some((ka, va)), None) => {
                        out.push(removed(path.child(Segment::Key((*ka).clone())), va));
                        left.next();
                    }
                    (_, Some((kb, vb))) => {
                        out.push(added(path.child(Segment::Key((*kb).clone())), vb));
                        right.next();
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let common = a.len().min(b.len());
            for i in 0..common {
                walk(&path.child(Segment::Index(i)), &a[i], &b[i], out);
            }
            for (i, value) in b.iter().enumerate().skip(common) {
                out.push(added(path.child(Segment::Index(i)), value));
            }
            // Removals from the end backwards, so applying them in order keeps indices valid.
            for i in (common..a.len()).rev() {
                out.push(removed(path.child(Segment::Index(i)), &a[i]));
            }
        }
        _ => out.push(Change {
            path: path.clone(),
            kind: ChangeKind::Changed,
            old: Some(old.clone()),
            new: Some(new.clone()),
        }),
    }
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

    #[test]
    fn type_change_at_root_is_one_replace() {
        assert_eq!(
            json_patch(&Value::Null, &json!({"a": 1})),
            json!([{"op": "replace", "path": "", "value": {"a": 1}}])
        );
    }
}
