//! Formula-safe CSV (UTF-8, comma, header row) and XLSX writers.

use std::borrow::Cow;
use std::io::Write;

/// A file's inner format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// CSV, UTF-8, comma, header row.
    Csv,
    /// XLSX, one sheet, header row, every cell a string.
    Xlsx,
}

impl FileFormat {
    /// The name used in the API and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

/// Makes a cell inert for spreadsheets (OWASP "CSV injection").
///
/// A spreadsheet may split a cell where it holds a `,`, a `;`, a tab, a
/// carriage return or a line feed (French Excel reads a comma-separated file
/// with `;`, a naive import splits lines), and evaluates any resulting piece
/// that starts with `=`, `+`, `-` or `@`. So the cell is cut at each of those
/// five separators into pieces (the first piece runs from the start of the
/// cell); in every piece, the leading run of white space (as `str::trim`
/// sees it) and double quotes is skipped, and when the next character is
/// `=`, `+`, `-` or `@`, an apostrophe is inserted right before it
/// (`Dupont;=cmd` becomes `Dupont;'=cmd`, ` -2` becomes ` '-2`). Double
/// quotes are skipped too because a reader that splits at `;` may take a
/// doubled quote as the end of an empty quoted field. Besides, a cell whose
/// first character is a tab or a carriage return gets a leading apostrophe.
/// Spreadsheets display the apostrophe as text and never evaluate such a
/// cell. Nothing else changes: a cell needing none of this is borrowed.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    let mut out = String::new();
    // Bytes of `cell` already copied into `out`.
    let mut copied = 0;
    if cell.starts_with(['\t', '\r']) {
        out.push('\'');
    }
    let mut piece_start = true;
    for (i, c) in cell.char_indices() {
        if piece_start && matches!(c, '=' | '+' | '-' | '@') {
            out.push_str(&cell[copied..i]);
            out.push('\'');
            copied = i;
            piece_start = false;
        } else if is_separator(c) {
            piece_start = true;
        } else if !(c.is_whitespace() || c == '"') {
            piece_start = false;
        }
    }
    if out.is_empty() {
        Cow::Borrowed(cell)
    } else {
        out.push_str(&cell[copied..]);
        Cow::Owned(out)
    }
}

/// Where a spreadsheet may cut a cell (see [`defuse`]).
fn is_separator(c: char) -> bool {
    matches!(c, ',' | ';' | '\t' | '\r' | '\n')
}

/// The cell as a CSV field: within double quotes (inner ones doubled) when
/// it holds a separator a reader may cut at (`,`, `;`, tab, CR, LF) or a
/// double quote (RFC 4180), so that a reader honouring quotes keeps it
/// whole whatever its delimiter; as is otherwise, so plain files stay
/// plain.
fn csv_field(cell: &str) -> Cow<'_, str> {
    if cell.contains(|c| is_separator(c) || c == '"') {
        Cow::Owned(format!("\"{}\"", cell.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes rows one at a time as CSV or XLSX into `W` (bytes in memory by
/// default). CSV goes out row by row; an XLSX workbook is assembled in
/// memory and written out by [`TableWriter::finish`].
#[derive(Debug)]
pub struct TableWriter<W: Write = Vec<u8>> {
    inner: Inner<W>,
    rows: usize,
    sheet_row: u32,
}

enum Inner<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Xlsx(Box<rust_xlsxwriter::Workbook>, W),
}

impl<W: Write> std::fmt::Debug for Inner<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Inner::Csv(_) => "Csv",
            Inner::Xlsx(..) => "Xlsx",
        })
    }
}

/// A writer failure (internal: inputs are already typed).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the table: {0}")]
pub struct WriteError(String);

impl TableWriter<Vec<u8>> {
    /// Starts a table in memory with its header row.
    pub fn new(format: FileFormat, headers: &[&str]) -> Result<Self, WriteError> {
        TableWriter::to_writer(format, headers, Vec::new())
    }
}

impl<W: Write> TableWriter<W> {
    /// Starts a table written into `out`, with its header row.
    pub fn to_writer(format: FileFormat, headers: &[&str], out: W) -> Result<Self, WriteError> {
        let mut w = TableWriter {
            inner: match format {
                // Quoting is done by `csv_field`, which quotes at `;`
                // and tab too (the csv crate quotes only at its own
                // delimiter).
                FileFormat::Csv => Inner::Csv(Box::new(
                    csv::WriterBuilder::new()
                        .quote_style(csv::QuoteStyle::Never)
                        .from_writer(out),
                )),
                FileFormat::Xlsx => {
                    let mut wb = rust_xlsxwriter::Workbook::new();
                    wb.add_worksheet();
                    Inner::Xlsx(Box::new(wb), out)
                }
            },
            rows: 0,
            sheet_row: 0,
        };
        w.write_row(headers.iter().copied())?;
        w.rows = 0;
        Ok(w)
    }

    /// Appends one row; every cell goes through [`defuse`] (and, in CSV,
    /// is quoted as `csv_field` says).
    pub fn write_row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), WriteError> {
        match &mut self.inner {
            Inner::Csv(w) => {
                for cell in cells {
                    w.write_field(csv_field(&defuse(cell)).as_bytes())
                        .map_err(|e| WriteError(e.to_string()))?;
                }
                w.write_record(None::<&[u8]>)
                    .map_err(|e| WriteError(e.to_string()))?;
            }
            Inner::Xlsx(wb, _) => {
                let ws = wb
                    .worksheet_from_index(0)
                    .map_err(|e| WriteError(e.to_string()))?;
                for (col, cell) in cells.into_iter().enumerate() {
                    let col = u16::try_from(col).map_err(|e| WriteError(e.to_string()))?;
                    // write_string always stores a string cell (never a
                    // formula); the apostrophe keeps the CSV and XLSX
                    // contents identical.
                    ws.write_string(self.sheet_row, col, defuse(cell).as_ref())
                        .map_err(|e| WriteError(e.to_string()))?;
                }
                self.sheet_row += 1;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Data rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Writes what remains and gives the output back.
    pub fn finish(self) -> Result<W, WriteError> {
        match self.inner {
            Inner::Csv(w) => w.into_inner().map_err(|e| WriteError(e.to_string())),
            Inner::Xlsx(mut wb, mut out) => {
                let bytes = wb.save_to_buffer().map_err(|e| WriteError(e.to_string()))?;
                out.write_all(&bytes)
                    .map_err(|e| WriteError(e.to_string()))?;
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        for bad in ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx", " =1"] {
            assert!(defuse(bad).trim_start().starts_with('\''), "{bad:?}");
        }
        // Behind a double quote, the apostrophe goes just before the formula.
        assert_eq!(defuse("\"=1"), "\"'=1");
        assert_eq!(defuse("Dupont"), "Dupont");
        assert_eq!(
            defuse("Jean-Pierre, 12 rue X; bât. A"),
            "Jean-Pierre, 12 rue X; bât. A"
        );
        assert_eq!(defuse("a'=b"), "a'=b");
        assert_eq!(defuse(""), "");
        assert!(matches!(defuse("Dupont"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_piece_a_spreadsheet_may_split_off_is_defused() {
        assert_eq!(
            defuse("Dupont;=cmd|' /C calc'!A0;"),
            "Dupont;'=cmd|' /C calc'!A0;"
        );
        assert_eq!(defuse("a,+1"), "a,'+1");
        assert_eq!(defuse("a\t-1"), "a\t'-1");
        assert_eq!(defuse("a\r\n@x"), "a\r\n'@x");
        assert_eq!(defuse("a\n  =x"), "a\n  '=x");
        assert_eq!(defuse("a;\"=x"), "a;\"'=x");
        assert_eq!(defuse("=a;=b"), "'=a;'=b");
        assert_eq!(defuse("\t=x"), "'\t'=x");
        // A formula character inside a piece starts nothing.
        assert_eq!(defuse("a; b=c-d"), "a; b=c-d");
    }

    #[test]
    fn csv_has_header_and_defused_cells() {
        let mut w = TableWriter::new(FileFormat::Csv, &["token", "nom"]).unwrap();
        w.write_row(["t1", "=HYPERLINK(\"x\")"]).unwrap();
        assert_eq!(w.rows(), 1);
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(out, "token,nom\nt1,\"'=HYPERLINK(\"\"x\"\")\"\n");
    }

    #[test]
    fn csv_quotes_every_cell_holding_a_separator_or_a_quote() {
        let mut w = TableWriter::new(FileFormat::Csv, &["a", "b", "c", "d", "e", "f"]).unwrap();
        w.write_row(["x;y", "x\ty", "x,y", "x\ny", "x\"y", "x y"])
            .unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            "a,b,c,d,e,f\n\"x;y\",\"x\ty\",\"x,y\",\"x\ny\",\"x\"\"y\",x y\n"
        );
    }

    #[test]
    fn xlsx_round_trips_as_strings() {
        let mut w = TableWriter::new(FileFormat::Xlsx, &["token", "nom"]).unwrap();
        w.write_row(["t1", "=1+1"]).unwrap();
        let bytes = w.finish().unwrap();
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = calamine::Reader::worksheet_range_at(&mut wb, 0)
            .unwrap()
            .unwrap();
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(rows, vec![vec!["token", "nom"], vec!["t1", "'=1+1"]]);
    }
}
