//! Every string drawn on screen passes through here: store content is untrusted.

use std::borrow::Cow;

/// Replaces characters that could move the cursor, recolor the terminal or reorder text
/// (C0/C1 controls, DEL, bidi overrides, zero-width marks) with visible stand-ins.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(stand_in).collect())
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

fn stand_in(c: char) -> char {
    match c {
        '\t' => ' ',
        // Unicode "control pictures": ESC shows as ␛, newline as ␊.
        '\u{0}'..='\u{1F}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7F}' => '\u{2421}',
        c if is_unsafe(c) => '\u{FFFD}',
        c => c,
    }
}

/// Cuts `text` to at most `max` characters, ending with … when it was longer.
pub fn ellipsize(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().count() <= max {
        return Cow::Borrowed(text);
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    Cow::Owned(cut)
}

/// Keeps the end of `text` (the file name of a path, say) within `max` characters.
pub fn ellipsize_start(text: &str, max: usize) -> Cow<'_, str> {
    let count = text.chars().count();
    if count <= max {
        return Cow::Borrowed(text);
    }
    let kept: String = text.chars().skip(count + 1 - max.max(1)).collect();
    Cow::Owned(format!("…{kept}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_and_harmless() {
        let shown = sanitize("acc\u{1b}[31mred\u{7}\r\n");
        assert_eq!(shown, "acc␛[31mred␇␍␊");
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn bidi_overrides_and_c1_controls_are_replaced() {
        assert_eq!(sanitize("a\u{202E}b\u{9B}c"), "a\u{FFFD}b\u{FFFD}c");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        assert!(matches!(sanitize("acc-0001 ünïcödé"), Cow::Borrowed(_)));
    }

    #[test]
    fn ellipsize_keeps_short_text_and_marks_cuts() {
        assert_eq!(ellipsize("short", 10), "short");
        assert_eq!(ellipsize("a long line", 6), "a lon…");
        assert_eq!(ellipsize_start("sqlite:/a/b/demo.db", 10), "…b/demo.db");
        assert_eq!(ellipsize_start("short", 10), "short");
    }
}
