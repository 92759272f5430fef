//! The aligned text tables the commands print (`status`, the consumer
//! check, `renovate`): each column as wide as its widest cell (at least its
//! minimum), one space between columns, the last one unpadded; a note line
//! under a row starts under the second column.

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its header.
    pub header: &'static str,
    /// Its narrowest width (a column keeps its place when its cells are short).
    pub min: usize,
    /// Whether its cells are right-aligned (numbers).
    pub right: bool,
}

impl Column {
    /// A left-aligned column at least `min` wide.
    pub const fn left(header: &'static str, min: usize) -> Column {
        Column {
            header,
            min,
            right: false,
        }
    }

    /// A right-aligned column at least `min` wide.
    pub const fn right(header: &'static str, min: usize) -> Column {
        Column {
            header,
            min,
            right: true,
        }
    }
}

/// What follows the header: a row of cells, or a note printed as it is.
#[derive(Debug, Clone)]
enum Line {
    Cells(Vec<String>),
    Note(String),
}

/// A table being filled.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<Column>,
    lines: Vec<Line>,
}

impl Table {
    /// An empty table of `columns`.
    pub fn new(columns: &[Column]) -> Table {
        Table {
            columns: columns.to_vec(),
            lines: Vec::new(),
        }
    }

    /// Adds a row, one cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.lines.push(Line::Cells(cells));
    }

    /// Adds a line under the last row, starting under the second column.
    pub fn note(&mut self, text: String) {
        self.lines.push(Line::Note(text));
    }

    /// The table as text, each line ending in a newline.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.lines
                    .iter()
                    .filter_map(|l| match l {
                        Line::Cells(cells) => cells.get(i).map(|c| c.chars().count()),
                        Line::Note(_) => None,
                    })
                    .chain([c.min, c.header.len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[&str]| {
            let last = cells.len().saturating_sub(1);
            let mut out = String::new();
            for (i, (cell, column)) in cells.iter().zip(&self.columns).enumerate() {
                let w = widths[i];
                match (i == last, column.right) {
                    (true, false) => out.push_str(cell),
                    (_, true) => out.push_str(&format!("{cell:>w$}")),
                    (false, false) => out.push_str(&format!("{cell:<w$}")),
                }
                if i != last {
                    out.push(' ');
                }
            }
            out.push('\n');
            out
        };
        let headers: Vec<&str> = self.columns.iter().map(|c| c.header).collect();
        let mut out = line(&headers);
        for l in &self.lines {
            match l {
                Line::Cells(cells) => {
                    let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                    out.push_str(&line(&cells));
                }
                Line::Note(text) => {
                    out.push_str(&" ".repeat(widths.first().map_or(0, |w| w + 1)));
                    out.push_str(text);
                    out.push('\n');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_grow_to_their_widest_cell_and_notes_stay_as_they_are() {
        let mut t = Table::new(&[
            Column::left("name", 6),
            Column::right("n", 3),
            Column::left("what", 0),
        ]);
        t.row(vec!["a".into(), "7".into(), "x".into()]);
        t.note("under a".into());
        t.row(vec!["longer-name".into(), "1234".into(), "y".into()]);
        assert_eq!(
            t.render(),
            "name           n what\n\
             a              7 x\n            under a\n\
             longer-name 1234 y\n"
        );
    }
}
