//! Writing results: aligned tables for people, JSON for scripts.

use std::io::Write;

use unicode_width::UnicodeWidthStr;

/// Where a command writes its results; stdout in the binary, a buffer in tests.
pub struct Output {
    writer: Box<dyn Write>,
}

impl Output {
    pub fn new(writer: Box<dyn Write>) -> Output {
        Output { writer }
    }

    pub fn stdout() -> Output {
        Output::new(Box::new(std::io::BufWriter::new(std::io::stdout())))
    }

    pub fn line(&mut self, text: &str) -> anyhow::Result<()> {
        self.writer.write_all(text.as_bytes())?;
        self.writer.write_all(b"\n")?;
        Ok(())
    }

    pub fn json(&mut self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut self.writer, value)?;
        self.writer.write_all(b"\n")?;
        Ok(())
    }

    pub fn text(&mut self, text: &str) -> anyhow::Result<()> {
        self.writer.write_all(text.as_bytes())?;
        Ok(())
    }

    /// The underlying writer, for output streamed by the core (transcripts).
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.writer
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.writer.flush()?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table whose columns line up in any terminal; cells are sanitised for terminal output.
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.iter().map(|c| terminal_safe(c)).collect());
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|(h, _)| h.width()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.width());
            }
        }
        let mut text = String::new();
        let header: Vec<String> = self.columns.iter().map(|(h, _)| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            text.push_str(&render_row(&self.columns, &widths, row));
            text.push('\n');
        }
        text
    }
}

/// One line of a table: cells padded to `widths`, two spaces apart, no trailing spaces.
pub fn render_row(columns: &[(&'static str, Align)], widths: &[usize], row: &[String]) -> String {
    let last = columns.len() - 1;
    let mut line = String::new();
    for (i, cell) in row.iter().enumerate() {
        let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
        match columns[i].1 {
            Align::Right => {
                line.push_str(&pad);
                line.push_str(cell);
            }
            // No trailing spaces after the last column.
            Align::Left if i == last => line.push_str(cell),
            Align::Left => {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        if i != last {
            line.push_str("  ");
        }
    }
    line.trim_end().to_string()
}

/// Control characters (escape sequences in ids, say) are shown escaped, never sent raw to
/// the terminal where they could rewrite the screen.
pub fn terminal_safe(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Shortens to at most `max` columns of display width, marking the cut with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        out.push(c);
        width += w;
    }
    out.push('…');
    out
}

/// Error chains can carry newlines (from a library); the user gets one line.
pub fn one_line(text: &str) -> String {
    terminal_safe(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    err.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().map(|io| io.kind()) == broken
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|json| json.io_error_kind())
                == broken
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_numbers_go_right() {
        let mut table = Table::new(&[("ID", Align::Left), ("EVENTS", Align::Right)]);
        table.row(vec!["acc-1".into(), "7".into()]);
        table.row(vec!["a".into(), "1200".into()]);
        assert_eq!(
            table.render(),
            "ID     EVENTS\nacc-1       7\na        1200\n"
        );
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(terminal_safe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(terminal_safe("plain"), "plain");
    }

    #[test]
    fn truncation_respects_display_width() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("日本語テキスト", 5), "日本…");
        assert_eq!(truncate("short", 10), "short");
    }
}
