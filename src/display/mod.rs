//! Text from a store, a transcript or a jq program, made safe to show: the one definition of
//! which characters may not reach a terminal as they are, and the notations that replace them.
//!
//! Everything rewind prints or draws goes through here: the CLI's output layer (tables,
//! lines, JSON, streamed transcripts, error lines), the Markdown and HTML writers, and the UI.
//!
//! # The unsafe set ([`is_unsafe`])
//!
//! | Characters | Why |
//! |---|---|
//! | C0 controls U+0000–U+001F, DEL U+007F | ESC starts escape sequences (retitle the window, write the clipboard, clear the screen); CR, BS and the rest move the cursor over what was printed |
//! | C1 controls U+0080–U+009F | CSI (U+009B) and OSC (U+009D) start the same sequences on terminals that honour 8-bit controls |
//! | bidi controls U+202A–U+202E, U+2066–U+2069, U+061C, U+200E, U+200F | reorder the text around them, so what is shown is not what is stored ("Trojan Source") |
//! | invisible zero-widths U+200B, U+2060, U+FEFF | hide text, and make two different ids look the same |
//!
//! ZWNJ and ZWJ (U+200C, U+200D) are kept: they join emoji sequences and Persian and Indic
//! script, and move or hide nothing. Every other character passes unchanged.
//!
//! # Notations
//!
//! - [`terminal_safe`] (CLI text, error lines, transcripts): Rust-style escapes, `\u{1b}`,
//!   `\n`, `\t`, `\r`; [`terminal_safe_lines`] keeps `\n` as the line separator. The output
//!   is printable ASCII where the input was unsafe, and sanitizing it again changes nothing.
//! - [`json`] (JSON output): the same characters as JSON `\uXXXX` escapes, so the document is
//!   still valid JSON with the same value.
//! - [`pictures`] (the UI): one column-wide stand-in per character (`␛` for ESC, `␊` for a
//!   newline, `�` for the rest), so the screen layout does not shift.

mod bound;
pub mod json;

use std::borrow::Cow;
use std::fmt::Write as _;

pub use bound::{
    bounded_message, message_line, shorten_quoted, truncate_width, LINE_BYTES, QUOTED_CHARS,
};

/// Whether `c` is in the unsafe set documented at the top of this module.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `1 aggregate`, `2 aggregates`: a count and its noun (one that takes `s`), as people write.
pub fn counted(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// One line of terminal text: every unsafe character, newlines included, as a visible escape.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    escape_with(text, is_unsafe, push_rust_escape)
}

/// Several lines of terminal text: as [`terminal_safe`], but `\n` separates lines.
pub fn terminal_safe_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, |c| c != '\n' && is_unsafe(c), push_rust_escape)
}

/// Text for a cell grid: each unsafe character becomes one column-wide stand-in (a tab, a space).
pub fn pictures(text: &str) -> Cow<'_, str> {
    escape_with(text, is_unsafe, |out, c| out.push(picture(c)))
}

fn picture(c: char) -> char {
    match c {
        '\t' => ' ',
        // Unicode "control pictures": ESC shows as ␛, newline as ␊.
        '\u{0}'..='\u{1F}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
        '\u{7F}' => '\u{2421}',
        _ => '\u{FFFD}',
    }
}

fn push_rust_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Borrows `text` when nothing in it needs replacing, the common case.
fn escape_with(
    text: &str,
    replace: impl Fn(char) -> bool,
    stand_in: impl Fn(&mut String, char),
) -> Cow<'_, str> {
    let Some(first) = text.find(&replace) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if replace(c) {
            stand_in(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// An error and its causes joined by `: `, each cause only if the text so far does not
/// already quote it: many errors include their source in their own message
/// ("cannot write x: {source}"), and printing the chain would repeat it.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(next) = cause {
        let part = next.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One example of every class in the unsafe set, with its terminal notation.
    const UNSAFE: &[(char, &str)] = &[
        ('\u{0}', "\\u{0}"),
        ('\u{7}', "\\u{7}"),
        ('\t', "\\t"),
        ('\n', "\\n"),
        ('\r', "\\r"),
        ('\u{1b}', "\\u{1b}"),
        ('\u{1f}', "\\u{1f}"),
        ('\u{7f}', "\\u{7f}"),
        ('\u{80}', "\\u{80}"),
        ('\u{9b}', "\\u{9b}"),
        ('\u{9d}', "\\u{9d}"),
        ('\u{9f}', "\\u{9f}"),
        ('\u{61c}', "\\u{61c}"),
        ('\u{200b}', "\\u{200b}"),
        ('\u{200e}', "\\u{200e}"),
        ('\u{200f}', "\\u{200f}"),
        ('\u{202a}', "\\u{202a}"),
        ('\u{202e}', "\\u{202e}"),
        ('\u{2060}', "\\u{2060}"),
        ('\u{2066}', "\\u{2066}"),
        ('\u{2069}', "\\u{2069}"),
        ('\u{feff}', "\\u{feff}"),
    ];

    #[test]
    fn every_class_of_unsafe_character_is_escaped_visibly() {
        for &(c, shown) in UNSAFE {
            assert!(is_unsafe(c), "{c:?}");
            assert_eq!(
                terminal_safe(&format!("a{c}b")),
                format!("a{shown}b"),
                "{c:?}"
            );
        }
    }

    #[test]
    fn joiners_and_ordinary_text_pass_unchanged() {
        // A family emoji (ZWJ sequence) and a Persian word with a ZWNJ.
        for text in [
            "👨\u{200d}👩\u{200d}👧",
            "می\u{200c}خواهم",
            "acc-0001 ünïcödé 日本",
            "back\\slash \"quotes\" ' ` ~",
            "\u{a0}\u{a0}nbsp and \u{2028} line separator",
        ] {
            assert!(matches!(terminal_safe(text), Cow::Borrowed(_)), "{text:?}");
            assert!(matches!(pictures(text), Cow::Borrowed(_)), "{text:?}");
        }
        assert!(!is_unsafe('\u{200c}') && !is_unsafe('\u{200d}'));
        assert!(!is_unsafe('\u{2061}') && !is_unsafe('\u{a0}'));
    }

    #[test]
    fn the_forged_verdict_of_the_hostile_transcript_is_inert() {
        let reducer = "merge\u{1b}]0;PWNED\u{7}\u{1b}]52;c;ZWNobyBwd25lZAo=\u{7}\u{1b}[2J\u{1b}[1;1HAll snapshots agree.";
        assert_eq!(
            terminal_safe(reducer),
            "merge\\u{1b}]0;PWNED\\u{7}\\u{1b}]52;c;ZWNobyBwd25lZAo=\\u{7}\\u{1b}[2J\\u{1b}[1;1HAll snapshots agree."
        );
    }

    #[test]
    fn lines_keep_newlines_and_nothing_else() {
        assert_eq!(
            terminal_safe_lines("a\nb\r\n\tc\u{1b}[2J\n"),
            "a\nb\\r\n\\tc\\u{1b}[2J\n"
        );
    }

    #[test]
    fn sanitizing_twice_changes_nothing_more() {
        let text: String = UNSAFE.iter().map(|(c, _)| *c).collect();
        let once = terminal_safe(&text).into_owned();
        assert!(!once.chars().any(is_unsafe), "{once:?}");
        assert!(matches!(terminal_safe(&once), Cow::Borrowed(_)));
        let pictured = pictures(&text).into_owned();
        assert!(matches!(pictures(&pictured), Cow::Borrowed(_)));
    }

    #[test]
    fn pictures_take_one_column_each() {
        use unicode_width::UnicodeWidthStr;
        assert_eq!(pictures("a\u{1b}[31m\u{7}\r\n\t"), "a␛[31m␇␍␊ ");
        assert_eq!(pictures("\u{7f}\u{9b}\u{202e}\u{feff}"), "␡���");
        for &(c, _) in UNSAFE {
            assert_eq!(pictures(&c.to_string()).width(), 1, "{c:?}");
        }
    }
}
