//! Aligned tables for people.

use unicode_width::UnicodeWidthStr;

use crate::display::terminal_safe;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table whose columns line up in any terminal; each cell is one terminal-safe line.
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
        self.rows.push(
            cells
                .iter()
                .map(|c| terminal_safe(c).into_owned())
                .collect(),
        );
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
    fn cells_with_newlines_tabs_and_escapes_stay_on_their_row() {
        let mut table = Table::new(&[("ID", Align::Left), ("TYPE", Align::Left)]);
        table.row(vec!["a\nb\tc".into(), "\u{1b}[2J\u{202e}x".into()]);
        assert_eq!(
            table.render(),
            "ID       TYPE\na\\nb\\tc  \\u{1b}[2J\\u{202e}x\n"
        );
    }
}
