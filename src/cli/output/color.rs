//! Colors for people at a terminal: only when stdout is one and `NO_COLOR` is unset or
//! empty (<https://no-color.org>), never in a pipe or a file. The text inside a color is
//! made terminal-safe first; only rewind's own SGR sequences reach the terminal raw.

use std::io::IsTerminal;

/// What a line is, for its color.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Added,
    Removed,
    Changed,
    Hunk,
    Heading,
}

impl Paint {
    /// The SGR parameters: green, red, yellow, cyan, bold.
    fn sgr(self) -> &'static str {
        match self {
            Paint::Added => "32",
            Paint::Removed => "31",
            Paint::Changed => "33",
            Paint::Hunk => "36",
            Paint::Heading => "1",
        }
    }

    /// `text` in this color, reset after it.
    pub fn wrap(self, text: &str) -> String {
        format!("\u{1b}[{}m{text}\u{1b}[0m", self.sgr())
    }
}

/// Whether stdout gets colors.
pub fn stdout_wants_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// A unified diff's line: headers bold, hunk headers cyan, removed red, added green.
pub fn unified_line(line: &str) -> Option<Paint> {
    if line.starts_with("--- ") || line.starts_with("+++ ") {
        Some(Paint::Heading)
    } else if line.starts_with("@@") {
        Some(Paint::Hunk)
    } else if line.starts_with('-') {
        Some(Paint::Removed)
    } else if line.starts_with('+') {
        Some(Paint::Added)
    } else {
        None
    }
}

/// A summary's line (`diff::change_line`): `+` added, `-` removed, `~` changed.
pub fn summary_line(line: &str) -> Option<Paint> {
    match line.chars().next() {
        Some('+') => Some(Paint::Added),
        Some('-') => Some(Paint::Removed),
        Some('~') => Some(Paint::Changed),
        Some('#') => Some(Paint::Heading),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lines_get_the_colors_people_expect() {
        let kinds: Vec<Option<Paint>> = ["--- a@v1", "+++ a@v2", "@@ -1 +1 @@", "-x", "+y", " z"]
            .iter()
            .map(|l| unified_line(l))
            .collect();
        use Paint::*;
        assert_eq!(
            kinds,
            [
                Some(Heading),
                Some(Heading),
                Some(Hunk),
                Some(Removed),
                Some(Added),
                None
            ]
        );
        assert_eq!(summary_line("~ .a: 1 → 2"), Some(Changed));
        assert_eq!(Added.wrap("+x"), "\u{1b}[32m+x\u{1b}[0m");
    }
}
