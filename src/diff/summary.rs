//! Changes as a person reads them: `~ .balance: 10 → 25`, `+ .limits.daily: 500`,
//! `- .frozen_reason: "review"`, one line each.

use serde_json::Value;

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

/// Every change, one per line; "no change" when there is none.
pub fn summary(changes: &[Change], width: usize) -> String {
    if changes.is_empty() {
        return "no change\n".to_string();
    }
    let mut text = String::new();
    for change in changes {
        text.push_str(&change_line(change, width));
        text.push('\n');
    }
    text
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
}
