//! Changes as a person reads them: `~ .balance: 10 → 25`, `+ .limits.daily: 500`,
//! `- .frozen_reason: "review"`, one line each.

use serde_json::Value;

use super::path::Segment;
use super::{Change, ChangeKind};
use crate::display::truncate_width;

/// One change on one line, each value cut to `width` columns (with an ellipsis).
pub fn change_line(change: &Change, width: usize) -> String {
    let value = |v: &Option<Value>| {
        let text = v.as_ref().map_or_else(|| "∅".to_string(), Value::to_string);
        truncate_width(&text, width)
    };
    match change.kind {
        ChangeKind::Added => format!("+ {}: {}", change.path, value(&change.new)),
        ChangeKind::Removed => format!("- {}: {}", change.path, value(&change.old)),
        ChangeKind::Changed => format!(
            "~ {}: {} → {}",
            change.path,
            value(&change.old),
            value(&change.new)
        ),
    }
}

/// Every change, one per line; "no change" when there is none. An object that appeared
/// where there was nothing (an aggregate's first event) is said key by key:
/// `+ .owner: "ada"`, `+ .balance: 0`, not one `~ .: null → {…}` cut at the width.
pub fn summary(changes: &[Change], width: usize) -> String {
    if changes.is_empty() {
        return "no change\n".to_string();
    }
    let mut text = String::new();
    for change in changes {
        for line in by_key(change) {
            text.push_str(&change_line(&line, width));
            text.push('\n');
        }
    }
    text
}

/// A change from nothing to an object, one change per key; others as they are (an object
/// replaced by null stays one line: "removed" would hide that the key holds null now).
pub fn by_key(change: &Change) -> Vec<Change> {
    let nothing = |v: &Option<Value>| v.as_ref().is_none_or(Value::is_null);
    let keyed = |object: &serde_json::Map<String, Value>| -> Vec<Change> {
        object
            .iter()
            .map(|(key, value)| Change {
                path: change.path.child(Segment::Key(key.clone())),
                kind: ChangeKind::Added,
                old: None,
                new: Some(value.clone()),
            })
            .collect()
    };
    match (&change.old, &change.new) {
        (old, Some(Value::Object(new))) if nothing(old) && !new.is_empty() => keyed(new),
        _ => vec![change.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::changes;
    use serde_json::json;

    #[test]
    fn one_line_per_change_with_its_sign() {
        let found = changes(
            &json!({"balance": 10, "gone": "x", "long": "a".repeat(50)}),
            &json!({"balance": 25, "new": [1], "long": "b".repeat(50)}),
        );
        assert_eq!(
            summary(&found, 12),
            "~ .balance: 10 → 25\n- .gone: \"x\"\n~ .long: \"aaaaaaaaaa… → \"bbbbbbbbbb…\n+ .new: [1]\n"
        );
        assert_eq!(summary(&[], 12), "no change\n");
    }

    #[test]
    fn an_object_from_nothing_is_said_key_by_key() {
        let state = json!({"owner": "ada", "limits": {"daily": 5}});
        assert_eq!(
            summary(&changes(&Value::Null, &state), 40),
            "+ .limits: {\"daily\":5}\n+ .owner: \"ada\"\n"
        );
        assert_eq!(
            summary(&changes(&json!({"a": {"x": 1}}), &json!({"a": null})), 40),
            "~ .a: {\"x\":1} → null\n"
        );
        assert_eq!(
            summary(&changes(&json!(1), &json!({})), 40),
            "~ .: 1 → {}\n"
        );
    }
}
