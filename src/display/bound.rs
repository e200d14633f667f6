//! Bounded text: a message may quote a 200 MB state, but what is shown of it stays short.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::terminal_safe;

/// Characters of one quoted value (a JSON string, object or array) a message keeps.
pub const QUOTED_CHARS: usize = 300;

/// Bytes of one message line, after which it is cut.
pub const LINE_BYTES: usize = 4096;

/// Shortens to at most `max` columns of display width, marking the cut with `…`.
pub fn truncate_width(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        out.push(c);
        width += w;
    }
    out.push('…');
    out
}

/// A message as one terminal-safe line of at most about [`LINE_BYTES`]: every quoted value
/// cut to [`QUOTED_CHARS`], whitespace runs (newlines too) made one space, unsafe characters
/// escaped, and a cut marked `… (N more bytes)`.
pub fn message_line(text: &str) -> String {
    let shortened = shorten_quoted(text, QUOTED_CHARS);
    let (head, mut dropped) = cut(&shortened, LINE_BYTES);
    let flat = head.split_whitespace().collect::<Vec<_>>().join(" ");
    let safe = terminal_safe(&flat);
    let (head, more) = cut(&safe, LINE_BYTES);
    dropped += more;
    if dropped == 0 {
        head.to_string()
    } else {
        format!("{head}… ({dropped} more bytes)")
    }
}

/// A message as it may be kept: every quoted value cut to [`QUOTED_CHARS`] and the whole
/// to about [`LINE_BYTES`], lines and characters as they are (they are made safe where
/// shown). A jq error quoting a 1 MB string, kept for each of a million events, would
/// otherwise hold a terabyte.
pub fn bounded_message(text: &str) -> String {
    let shortened = shorten_quoted(text, QUOTED_CHARS);
    match cut(&shortened, LINE_BYTES) {
        (head, 0) => head.to_string(),
        (head, dropped) => format!("{head}… ({dropped} more bytes)"),
    }
}

/// The longest prefix of `text` within `max` bytes, on a character boundary, and how many
/// bytes were left off.
fn cut(text: &str, max: usize) -> (&str, usize) {
    if text.len() <= max {
        return (text, 0);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], text.len() - end)
}

/// Every JSON-looking value in `text` (from `"`, `{` or `[` to its matching close, to the
/// marker of an earlier cut, or to the end when it has none) longer than `max` characters is cut there and marked
/// `… (N more bytes)`; the words around it are kept, so a message says what it is about.
pub fn shorten_quoted(text: &str, max: usize) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    while let Some(offset) = text[at..].find(['"', '{', '[']) {
        let start = at + offset;
        let end = value_end(text, start);
        let value = &text[start..end];
        // Cut before: its marker says how much was left off, and it stays as it is.
        let cut_before = value
            .rfind("… (")
            .is_some_and(|at| cut_marker_len(&value[at..]) == Some(value.len() - at));
        if cut_before {
            at = end;
            continue;
        }
        if let Some((keep, _)) = value.char_indices().nth(max) {
            out.push_str(&text[copied..start + keep]);
            out.push_str(&format!("… ({} more bytes)", value.len() - keep));
            copied = end;
        }
        at = end;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

const CUT_MARK: &[u8] = "… (".as_bytes();

/// The length of a `… (N more bytes)` marker at the start of `text`, if one is there.
fn cut_marker_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("… (")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let tail = rest[digits..].strip_prefix(" more bytes)")?;
    (digits > 0).then(|| text.len() - tail.len())
}

/// Where the value opening at `start` closes (just after its last byte), or the end of `text`.
fn value_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        // A value cut before (a message bounded where it was made, then shown) ends at its
        // marker, so the words after it are not taken for more of the value.
        if b == CUT_MARK[0] {
            if let Some(len) = cut_marker_len(&text[i..]) {
                return i + len;
            }
        }
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_bounded_twice_keeps_the_words_after_its_value() {
        let text = format!("failed ({{\"blob\":\"{}\"}}) at v1", "b".repeat(5000));
        let once = bounded_message(&text);
        assert!(once.ends_with(" more bytes)) at v1"), "{once}");
        assert_eq!(shorten_quoted(&once, QUOTED_CHARS), once);
        assert!(message_line(&once).ends_with(" more bytes)) at v1"));
    }

    #[test]
    fn truncation_respects_display_width() {
        assert_eq!(truncate_width("abcdef", 4), "abc…");
        assert_eq!(truncate_width("日本語テキスト", 5), "日本…");
        assert_eq!(truncate_width("short", 10), "short");
    }

    #[test]
    fn long_quoted_values_are_cut_and_the_words_around_them_kept() {
        let state = format!("{{\"owner\":\"{}\"}}", "x".repeat(1000));
        let message = format!("cannot index {state} with \"b\"");
        let shown = shorten_quoted(&message, 20);
        assert_eq!(
            shown,
            format!(
                "cannot index {}… ({} more bytes) with \"b\"",
                &state[..20],
                state.len() - 20
            )
        );
        assert!(matches!(
            shorten_quoted("short \"value\" and {\"a\":[1]}", 20),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn brackets_and_quotes_inside_strings_do_not_end_a_value() {
        let value = format!("[\"]}}\\\"{}\", 1]", "y".repeat(50));
        let message = format!("{value} tail");
        assert_eq!(value_end(&message, 0), value.len());
        assert!(shorten_quoted(&message, 10).ends_with(" more bytes) tail"));
    }

    #[test]
    fn an_unclosed_value_runs_to_the_end() {
        let message = format!("bad {{\"a\": \"{}", "z".repeat(500));
        let shown = shorten_quoted(&message, 10);
        assert!(shown.starts_with("bad {\"a\": \"zzz"), "{shown}");
        assert!(shown.ends_with(" more bytes)"), "{shown}");
    }

    #[test]
    fn message_lines_are_one_safe_bounded_line() {
        let huge = format!(
            "jq: {}\nsecond\tline \u{1b}[2J",
            "w".repeat(10 * LINE_BYTES)
        );
        let line = message_line(&huge);
        assert!(line.len() <= LINE_BYTES + 40, "{}", line.len());
        assert!(line.ends_with(" more bytes)"), "{line}");
        assert!(!line.contains('\n') && !line.contains('\u{1b}'));
        assert_eq!(
            message_line("a\n  b\u{1b}[2J\u{202e}"),
            "a b\\u{1b}[2J\\u{202e}"
        );
    }

    #[test]
    fn a_20_mb_quote_costs_one_pass() {
        let message = format!("cannot index \"{}\" with .x", "q".repeat(20 << 20));
        let started = std::time::Instant::now();
        let line = message_line(&message);
        assert!(
            line.len() < 400 && line.ends_with("more bytes) with .x"),
            "{line}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
