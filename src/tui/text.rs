//! Every string drawn on screen passes through here: store content is untrusted.

use std::borrow::Cow;

use unicode_width::UnicodeWidthStr;

/// Replaces characters that could move the cursor, recolor the terminal, reorder or hide text
/// with one column-wide stand-ins (`␛`); the set is `crate::display`'s, shared with the CLI.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    crate::display::pictures(text)
}

/// Cuts `text` to at most `max` columns of display width (wide characters count two), ending
/// with … when it was longer.
pub fn ellipsize_width(text: &str, max: usize) -> Cow<'_, str> {
    if text.width() <= max {
        return Cow::Borrowed(text);
    }
    Cow::Owned(crate::display::truncate_width(text, max))
}

/// Store text made safe, cut to `width` terminal cells with … and padded to exactly that
/// width: a table cell whose columns line up whatever scripts or emoji the text holds.
pub fn fit(text: &str, width: usize) -> String {
    let safe = sanitize(text);
    let cut = ellipsize_width(&safe, width);
    let pad = width.saturating_sub(cut.width());
    let mut cell = String::with_capacity(cut.len() + pad);
    cell.push_str(&cut);
    cell.extend(std::iter::repeat_n(' ', pad));
    cell
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
        assert_eq!(
            sanitize("\u{61C}\u{2060}\u{200B}"),
            "\u{FFFD}\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn joiners_in_emoji_and_persian_text_are_kept() {
        for text in ["👩\u{200D}💻", "نمی\u{200C}خواهم"] {
            assert!(matches!(sanitize(text), Cow::Borrowed(_)), "{text:?}");
        }
    }

    #[test]
    fn width_ellipsis_counts_columns_not_characters() {
        assert_eq!(ellipsize_width("日本語テキスト", 7), "日本語…");
        assert_eq!(ellipsize_width("acc-0001", 8), "acc-0001");
    }

    #[test]
    fn fit_pads_and_cuts_in_cells() {
        assert_eq!(fit("wallet-🦀-ü", 12), "wallet-🦀-ü ");
        assert_eq!(fit("日本語テキスト", 8), "日本語… ");
        assert_eq!(fit("a\u{1b}b", 4), "a␛b ");
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
