//! A table printed as its rows arrive, for output too long to hold (the store log) or that
//! never ends (follow mode): column widths come from the first rows and only ever grow.

use unicode_width::UnicodeWidthStr;

use super::output::{render_row, terminal_safe, Align, Output};

/// Rows held back to size the columns before the first line is printed.
const SIZING_ROWS: usize = 200;

pub struct StreamTable {
    columns: Vec<(&'static str, Align)>,
    widths: Vec<usize>,
    held: Vec<Vec<String>>,
    started: bool,
}

impl StreamTable {
    pub fn new(columns: &[(&'static str, Align)]) -> StreamTable {
        StreamTable {
            columns: columns.to_vec(),
            widths: columns.iter().map(|(h, _)| h.width()).collect(),
            held: Vec::new(),
            started: false,
        }
    }

    pub fn row(&mut self, out: &mut Output, cells: Vec<String>) -> anyhow::Result<()> {
        let cells: Vec<String> = cells
            .iter()
            .map(|c| terminal_safe(c).into_owned())
            .collect();
        for (width, cell) in self.widths.iter_mut().zip(&cells) {
            *width = (*width).max(cell.width());
        }
        if self.started {
            return out.line(&render_row(&self.columns, &self.widths, &cells));
        }
        self.held.push(cells);
        if self.held.len() >= SIZING_ROWS {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Prints the header and the rows held back; call when a batch ends (a follow poll)
    /// and at the end.
    pub fn flush(&mut self, out: &mut Output) -> anyhow::Result<()> {
        if !self.started {
            let header: Vec<String> = self.columns.iter().map(|(h, _)| h.to_string()).collect();
            out.line(&render_row(&self.columns, &self.widths, &header))?;
            self.started = true;
        }
        for row in std::mem::take(&mut self.held) {
            out.line(&render_row(&self.columns, &self.widths, &row))?;
        }
        Ok(())
    }
}
