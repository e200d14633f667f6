//! Line diffs of pretty-printed JSON, for people who read diffs like code review.

use serde_json::Value;
use similar::TextDiff;

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
    TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
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
        assert!(text.starts_with("--- v1\n+++ v2\n"), "{text}");
        assert!(
            text.contains("-  \"b\": 2\n") && text.contains("+  \"b\": 3\n"),
            "{text}"
        );
    }

    #[test]
    fn equal_values_give_an_empty_diff() {
        assert_eq!(unified(&json!([1]), &json!([1]), "a", "b"), "");
    }
}
