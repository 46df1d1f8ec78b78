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

/// Makes a cell inert for spreadsheets: a cell starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return would be read as a formula (OWASP "CSV
/// injection"); it gets a leading apostrophe, which spreadsheets display as
/// text and never evaluate.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
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
                FileFormat::Csv => Inner::Csv(Box::new(csv::Writer::from_writer(out))),
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

    /// Appends one row; every cell goes through [`defuse`].
    pub fn write_row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), WriteError> {
        match &mut self.inner {
            Inner::Csv(w) => {
                for cell in cells {
                    w.write_field(defuse(cell).as_bytes())
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
        for bad in ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(defuse(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(defuse("Dupont"), "Dupont");
        assert_eq!(defuse(""), "");
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
