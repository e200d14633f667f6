//! Locations inside a JSON value, written jq-style (`.limits.daily`, `.items[2]`).

use std::fmt;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath(pub Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a path: {reason} (write it like .balance, .limits.daily or .items[0])")]
pub struct PathError {
    pub input: String,
    pub reason: String,
}

impl JsonPath {
    pub fn root() -> JsonPath {
        JsonPath(Vec::new())
    }

    pub fn child(&self, segment: Segment) -> JsonPath {
        let mut segments = self.0.clone();
        segments.push(segment);
        JsonPath(segments)
    }

    /// RFC 6901 JSON Pointer, as RFC 6902 patches need.
    pub fn to_pointer(&self) -> String {
        self.0
            .iter()
            .map(|segment| match segment {
                Segment::Key(key) => format!("/{}", key.replace('~', "~0").replace('/', "~1")),
                Segment::Index(i) => format!("/{i}"),
            })
            .collect()
    }

    /// The value at this path, if there is one.
    pub fn lookup<'a>(&self, mut value: &'a Value) -> Option<&'a Value> {
        for segment in &self.0 {
            value = match (segment, value) {
                (Segment::Key(key), Value::Object(map)) => map.get(key)?,
                (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// Parses `.a.b`, `.a[0]`, `.["key with spaces"]`, `."quoted"`; `.` is the root.
    pub fn parse(input: &str) -> Result<JsonPath, PathError> {
        let fail = |reason: &str| PathError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let text = input.trim();
        let mut chars = text.chars().peekable();
        if chars.next() != Some('.') {
            return Err(fail("it must start with ."));
        }
        let mut segments = Vec::new();
        let mut expect_key = true;
        loop {
            match chars.peek().copied() {
                None => break,
                Some('[') => {
                    chars.next();
                    segments.push(bracket_segment(&mut chars).map_err(|r| fail(&r))?);
                    expect_key = false;
                }
                Some('.') if !expect_key => {
                    chars.next();
                    expect_key = true;
                }
                Some('"') if expect_key => {
                    chars.next();
                    segments.push(Segment::Key(quoted(&mut chars).map_err(|r| fail(&r))?));
                    expect_key = false;
                }
                Some(c) if expect_key && (c.is_alphanumeric() || c == '_' || c == '$') => {
                    let mut key = String::new();
                    while let Some(&c) = chars.peek() {
                        if c.is_alphanumeric() || c == '_' || c == '$' || c == '-' {
                            key.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    segments.push(Segment::Key(key));
                    expect_key = false;
                }
                Some(c) => return Err(fail(&format!("unexpected {c:?}"))),
            }
        }
        if expect_key && !segments.is_empty() {
            return Err(fail("it ends with ."));
        }
        Ok(JsonPath(segments))
    }
}

fn bracket_segment(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<Segment, String> {
    let segment = if chars.peek() == Some(&'"') {
        chars.next();
        Segment::Key(quoted(chars)?)
    } else {
        let mut digits = String::new();
        while let Some(&c) = chars.peek() {
            if !c.is_ascii_digit() {
                break;
            }
            digits.push(c);
            chars.next();
        }
        Segment::Index(
            digits
                .parse()
                .map_err(|_| "an index must be a whole number".to_string())?,
        )
    };
    match chars.next() {
        Some(']') => Ok(segment),
        _ => Err("missing ]".into()),
    }
}

fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
    let mut key = String::new();
    loop {
        match chars.next() {
            None => return Err("unclosed quote".into()),
            Some('"') => return Ok(key),
            // JSON string escapes, as paths are printed with them; any other escaped
            // character stands for itself.
            Some('\\') => match chars.next() {
                Some('n') => key.push('\n'),
                Some('t') => key.push('\t'),
                Some('r') => key.push('\r'),
                Some('b') => key.push('\u{8}'),
                Some('f') => key.push('\u{c}'),
                Some('u') => key.push(unicode_escape(chars)?),
                Some(c) => key.push(c),
                None => return Err("unclosed quote".into()),
            },
            Some(c) => key.push(c),
        }
    }
}

/// The character of a `\uXXXX` escape (the `\u` already read), or of a surrogate pair.
fn unicode_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    let hex = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let digits: String = chars.by_ref().take(4).collect();
        Some(&digits)
            .filter(|d| d.len() == 4 && d.chars().all(|c| c.is_ascii_hexdigit()))
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| format!("\\u{digits} is not a \\u escape of four hex digits"))
    };
    let first = hex(chars)?;
    let code = if (0xD800..0xDC00).contains(&first) {
        if chars.next() != Some('\\') || chars.next() != Some('u') {
            return Err("a \\u surrogate must be followed by its pair".into());
        }
        let second = hex(chars)?;
        if !(0xDC00..0xE000).contains(&second) {
            return Err("a \\u surrogate must be followed by its pair".into());
        }
        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
    } else {
        first
    };
    char::from_u32(code).ok_or_else(|| format!("\\u{code:04x} is not a character"))
}

fn is_plain_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for (i, segment) in self.0.iter().enumerate() {
            if i == 0 && !matches!(segment, Segment::Key(key) if is_plain_key(key)) {
                f.write_str(".")?;
            }
            match segment {
                Segment::Key(key) if is_plain_key(key) => write!(f, ".{key}")?,
                Segment::Key(key) => write!(f, "[{}]", serde_json::Value::from(key.as_str()))?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Segment {
        Segment::Key(k.into())
    }

    #[test]
    fn parses_the_shapes_people_write() {
        assert_eq!(JsonPath::parse(".").unwrap(), JsonPath::root());
        assert_eq!(
            JsonPath::parse(".limits.daily").unwrap().0,
            vec![key("limits"), key("daily")]
        );
        assert_eq!(
            JsonPath::parse(".items[2].sku").unwrap().0,
            vec![key("items"), Segment::Index(2), key("sku")]
        );
        assert_eq!(
            JsonPath::parse(r#".["a b"]."c.d""#).unwrap().0,
            vec![key("a b"), key("c.d")]
        );
    }

    #[test]
    fn rejects_malformed_paths_with_a_reason() {
        for bad in [
            "", "balance", ".a.", ".a[", ".a[x]", ".\"open", ".a..b", ".a b",
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn display_round_trips_through_parse() {
        for text in [".", ".a", ".a[0].b", r#".["with space"]"#, r#".a["x.y"]"#] {
            let path = JsonPath::parse(text).unwrap();
            assert_eq!(path.to_string(), text);
            assert_eq!(JsonPath::parse(&path.to_string()).unwrap(), path);
        }
    }

    #[test]
    fn every_json_escape_a_printed_path_uses_parses_back() {
        for key in [
            "x\u{c}y",
            "\u{8}",
            "a\rb",
            "\u{1}\u{1f}",
            "tab\there",
            "q\"\\",
            "😀é",
        ] {
            let path = JsonPath(vec![Segment::Key(key.into()), Segment::Index(0)]);
            let printed = path.to_string();
            assert_eq!(JsonPath::parse(&printed), Ok(path), "{printed}");
        }
        let parsed = JsonPath::parse(r#".["\ud83d\ude00\u00e9"]"#).unwrap();
        assert_eq!(parsed, JsonPath(vec![key("😀é")]));
        for bad in [
            r#".["\u12"]"#,
            r#".["\ud83d"]"#,
            r#".["\ude00"]"#,
            r#".["\u+123"]"#,
        ] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pointer_escapes_tilde_and_slash() {
        let path = JsonPath(vec![key("a/b"), key("m~n"), Segment::Index(3)]);
        assert_eq!(path.to_pointer(), "/a~1b/m~0n/3");
    }

    #[test]
    fn lookup_follows_keys_and_indices() {
        let value = json!({"items": [{"sku": "x"}]});
        let path = JsonPath::parse(".items[0].sku").unwrap();
        assert_eq!(path.lookup(&value), Some(&json!("x")));
        assert_eq!(JsonPath::parse(".nope").unwrap().lookup(&value), None);
    }
}
