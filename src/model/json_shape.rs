//! How deep and how many: what a JSON text would cost parsed, found in one pass over its
//! bytes before anything is built from it.
//!
//! The length of untrusted text is bounded where it is read (64 MiB a value, 256 MiB a
//! transcript line), but its parsed size is not bounded by its length alone: every value
//! costs 32 bytes or more as a `serde_json::Value` (an object entry three times that), so
//! 40 MB of `[0,0,0,…]` parses into well over a gigabyte. Counting the values first keeps
//! every parse of untrusted JSON inside a known multiple of this cap.

/// JSON nested deeper than this is refused as a payload, as serde_json's parser would.
pub const MAX_JSON_DEPTH: usize = 128;

/// The most values (scalars, arrays, objects and object entries) one payload or state read
/// from outside may hold: about 2 million, some 60 MB as an array parsed and 250 MB as
/// an object, far beyond any event's payload yet below what would strain a machine.
pub const MAX_JSON_VALUES: usize = 1 << 21;

/// Depth and value count of JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonShape {
    /// The deepest nesting of arrays and objects.
    pub depth: usize,
    /// Values counted as separators and containers: `[1,2]` and `{"a":1}` count 3 and 2.
    /// Each element, entry and container is counted at least once, so it bounds the values
    /// a parse builds.
    pub values: usize,
}

impl JsonShape {
    /// Why text of this shape is refused, if it is: the limits are the caller's, since a
    /// transcript line holds several values inside an envelope.
    pub fn check(self, max_depth: usize, max_values: usize) -> Result<(), String> {
        if self.depth > max_depth {
            return Err(format!("nested deeper than {max_depth} levels"));
        }
        if self.values > max_values {
            return Err(format!(
                "holds more than {max_values} values, more than rewind parses in one piece"
            ));
        }
        Ok(())
    }
}

/// Refuses JSON text deeper or larger than the limits, without parsing it. Text too short
/// to break them is not scanned: valid JSON `depth` deep takes `2 × depth` bytes, and `n`
/// values take `2n - 1`, so most payloads cost nothing here (text that is not valid JSON is
/// refused by the parser that runs next).
pub fn check_json(text: &[u8], max_depth: usize, max_values: usize) -> Result<(), String> {
    if text.len() <= 2 * max_depth && text.len() / 2 < max_values {
        return Ok(());
    }
    json_shape(text).check(max_depth, max_values)
}

/// The shape of JSON text, without parsing it (text that is not JSON gets a shape too; the
/// parser that runs next refuses it).
pub fn json_shape(text: &[u8]) -> JsonShape {
    let (mut depth, mut deepest, mut separators) = (0usize, 0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                separators += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => separators += 1,
            _ => {}
        }
    }
    JsonShape {
        depth: deepest,
        values: separators + 1,
    }
}

/// Parses JSON read from outside into a value, refusing text whose parse would be deeper
/// or larger than a payload may be.
pub fn parse_bounded(text: &[u8]) -> Result<serde_json::Value, String> {
    check_json(text, MAX_JSON_DEPTH, MAX_JSON_VALUES)?;
    serde_json::from_slice(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> JsonShape {
        json_shape(text.as_bytes())
    }

    #[test]
    fn counts_every_value_at_least_once() {
        assert_eq!(shape("1").values, 1);
        assert_eq!(shape("[1,2]").values, 3);
        assert_eq!(shape(r#"{"a":1,"b":[true,null]}"#).values, 5);
        assert_eq!(shape(r#"{"a":1,"b":[true,null]}"#).depth, 2);
        // Separators and brackets inside strings are text.
        assert_eq!(
            shape(r#"["a,b,[c", "\"],{"]"#),
            JsonShape {
                depth: 1,
                values: 3
            }
        );
    }

    #[test]
    fn the_count_bounds_what_a_parse_builds() {
        fn built(value: &serde_json::Value) -> usize {
            1 + match value {
                serde_json::Value::Array(items) => items.iter().map(built).sum(),
                serde_json::Value::Object(entries) => entries.values().map(built).sum(),
                _ => 0,
            }
        }
        for text in [
            "[]",
            "{}",
            "[[],[[]],{}]",
            r#"{"a":{"b":{"c":[1,2,3]}},"d":"x"}"#,
            "[0,0,0,0,0,0]",
            r#"[{"a":[]},{"b":{}}]"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert!(shape(text).values >= built(&value), "{text}");
        }
    }

    #[test]
    fn short_text_is_not_scanned_yet_never_passes_a_limit() {
        // Invalid JSON may skip the scan (the parser refuses it); valid JSON never does
        // where it would fail the scan.
        for depth in 1..=140 {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert_eq!(
                check_json(text.as_bytes(), 128, MAX_JSON_VALUES).is_ok(),
                depth <= 128,
                "{depth}"
            );
        }
        for n in 1..=40 {
            let text = format!("[{}]", vec!["0"; n].join(","));
            assert_eq!(check_json(text.as_bytes(), 128, 20).is_ok(), n < 20, "{n}");
        }
    }

    #[test]
    fn refuses_too_deep_or_too_many() {
        let many = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES));
        let err = parse_bounded(many.as_bytes()).unwrap_err();
        assert!(err.contains("more than 2097152 values"), "{err}");
        let enough = format!("[{}0]", "0,".repeat(MAX_JSON_VALUES - 3));
        assert!(parse_bounded(enough.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(parse_bounded(deep.as_bytes())
            .unwrap_err()
            .contains("deeper than 128"));
    }
}
