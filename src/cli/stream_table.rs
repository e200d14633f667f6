//! A table printed as its rows arrive, for output too long to hold (the store log) or that
//! never ends (follow mode): column widths come from the first rows and only ever grow,
//! the header said again when they do.

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
        let last = self.widths.len().saturating_sub(1);
        let mut moved = false;
        for (i, (width, cell)) in self.widths.iter_mut().zip(&cells).enumerate() {
            moved |= i < last && cell.width() > *width;
            *width = (*width).max(cell.width());
        }
        if self.started {
            // Wider cells move the columns on; the header is said again above the row that
            // moved them, so every row still sits under a header it lines up with.
            if moved {
                self.header(out)?;
            }
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
            self.header(out)?;
            self.started = true;
        }
        for row in std::mem::take(&mut self.held) {
            out.line(&render_row(&self.columns, &self.widths, &row))?;
        }
        Ok(())
    }

    fn header(&self, out: &mut Output) -> anyhow::Result<()> {
        let header: Vec<String> = self.columns.iter().map(|(h, _)| h.to_string()).collect();
        out.line(&render_row(&self.columns, &self.widths, &header))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COLUMNS: [(&str, Align); 3] = [
        ("VERSION", Align::Right),
        ("TYPE", Align::Left),
        ("DATA", Align::Left),
    ];

    /// Where each column after the first starts on each printed line (in cells).
    fn starts(printed: &str) -> Vec<Vec<usize>> {
        printed
            .lines()
            .map(|line| {
                let cells: Vec<&str> = line.split("  ").filter(|c| !c.trim().is_empty()).collect();
                let mut at = Vec::new();
                let mut from = 0;
                for cell in cells.iter().skip(1) {
                    let found = line[from..].find(cell.trim()).unwrap() + from;
                    at.push(line[..found].width());
                    from = found + cell.trim().len();
                }
                at
            })
            .collect()
    }

    fn printed(batches: &[Vec<Vec<String>>]) -> String {
        let (mut out, captured) = Output::captured();
        let mut table = StreamTable::new(&COLUMNS);
        for batch in batches {
            for row in batch {
                table.row(&mut out, row.clone()).unwrap();
            }
            table.flush(&mut out).unwrap();
        }
        String::from_utf8(captured.bytes()).unwrap()
    }

    #[test]
    fn a_follow_batch_of_narrow_rows_keeps_the_widths_of_the_wide_ones() {
        let row = |v: &str, t: &str| vec![v.to_string(), t.to_string(), "{}".to_string()];
        let text = printed(&[
            vec![row("12345", "AccountOpened")],
            vec![row("7", "X")],
            vec![row("123456789", "Y")],
            vec![row("8", "Z")],
        ]);
        let starts = starts(&text);
        assert_eq!(
            starts[1], starts[2],
            "a narrow row lines up with the one before:\n{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[3].trim_start().starts_with("VERSION"), "{text}");
        assert!(
            starts[3] > starts[2],
            "a wider version moves the columns on, under a header:\n{text}"
        );
        assert_eq!(starts[3], starts[4], "the row lines up with it:\n{text}");
        assert_eq!(starts[4], starts[5], "and they stay there:\n{text}");
        assert_eq!(lines.len(), 6, "{text}");
    }

    proptest! {
        #[test]
        fn columns_never_move_back(
            batches in prop::collection::vec(
                prop::collection::vec(("[0-9]{1,12}", "[A-Za-z]{1,20}"), 1..5), 1..8)
        ) {
            let batches: Vec<Vec<Vec<String>>> = batches
                .into_iter()
                .map(|rows| rows.into_iter().map(|(v, t)| vec![v, t, "{}".into()]).collect())
                .collect();
            let text = printed(&batches);
            let starts = starts(&text);
            for pair in starts.windows(2) {
                for (before, after) in pair[0].iter().zip(&pair[1]) {
                    prop_assert!(after >= before, "{text}");
                }
            }
        }
    }
}
