//! Generic table reader (CSV or XLSX), reused for the monthly list and the
//! partners' returns.

use std::collections::HashMap;

use csv::StringRecord;

use super::decode::decode_text;
use super::xlsx;
use super::{Limits, RowError};
use crate::domain::header_key;

/// A file that cannot be read as a table at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The file holds no data.
    #[error("the file is empty")]
    Empty,
    /// The file is binary and neither CSV text nor an XLSX workbook (an old
    /// `.xls`, a PDF…).
    #[error("the file is neither a CSV text file nor an XLSX workbook")]
    Binary,
    /// The first line (first row of the sheet) names no column.
    #[error("the file has no header: the first line must name the columns")]
    NoHeader,
    /// Two header cells name the same column once normalised.
    #[error("the column {column} appears more than once in the header")]
    DuplicateColumn {
        /// The header cell as written in the file.
        column: String,
    },
    /// More data rows than allowed.
    #[error("the file has more than {max} rows")]
    TooManyRows {
        /// The limit.
        max: usize,
    },
    /// The XLSX archive decompresses to more than the limit (zip bomb).
    #[error("the XLSX file is too large once decompressed (more than {limit} bytes)")]
    XlsxTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The XLSX workbook is corrupt or unsupported.
    #[error("the XLSX file cannot be read: {0}")]
    Xlsx(String),
    /// The CSV text cannot be parsed.
    #[error("CSV error on line {line}: {reason}")]
    Csv {
        /// Line in the file.
        line: u64,
        /// What went wrong.
        reason: String,
    },
}

/// One cell, as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// The text, trimmed. Spreadsheet numbers are written as integers
    /// (`8510`) or with a `.` decimal point; date cells as `AAAA-MM-JJ`.
    pub text: String,
    /// True when the spreadsheet stored a number (so leading zeros of a
    /// postal code or phone number may have been dropped). Always false
    /// for CSV.
    pub numeric: bool,
}

/// Where a table came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV text with this delimiter.
    Csv {
        /// `b','`, `b';'` or `b'\t'`.
        delimiter: u8,
    },
    /// First sheet of an XLSX workbook.
    Xlsx,
}

#[derive(Debug)]
enum Body {
    Csv { text: String, delimiter: u8 },
    Xlsx { rows: Vec<(u64, Vec<(u32, Cell)>)> },
}

/// A table read from a file: the header and a way to iterate the rows.
///
/// For CSV only the decoded text is kept and rows are parsed again at each
/// iteration, one at a time.
#[derive(Debug)]
pub struct Table {
    headers: Vec<String>,
    index: HashMap<String, usize>,
    body: Body,
    max_cell_chars: usize,
    row_count: usize,
}

/// Reads a CSV or XLSX file (detected from the bytes).
///
/// File-level checks happen here: encoding, header, duplicate columns,
/// row count. Row-level problems (wrong number of fields, over-long cells)
/// are reported while iterating [`Table::rows`].
pub fn read_table(bytes: &[u8], limits: &Limits) -> Result<Table, TableError> {
    if xlsx::is_xlsx(bytes) {
        return read_xlsx(bytes, limits);
    }
    let text = decode_text(bytes)?;
    if text.trim().is_empty() {
        return Err(TableError::Empty);
    }
    let delimiter = detect_delimiter(&text);
    let mut reader = csv_reader(&text, delimiter);
    let mut record = StringRecord::new();
    let header_read = reader.read_record(&mut record).map_err(csv_error)?;
    if !header_read {
        return Err(TableError::Empty);
    }
    let headers: Vec<String> = record.iter().map(|h| h.trim().to_owned()).collect();
    let index = build_index(&headers)?;
    let mut row_count = 0usize;
    while reader.read_record(&mut record).map_err(csv_error)? {
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        row_count += 1;
        if row_count > limits.max_rows {
            return Err(TableError::TooManyRows {
                max: limits.max_rows,
            });
        }
    }
    Ok(Table {
        headers,
        index,
        body: Body::Csv { text, delimiter },
        max_cell_chars: limits.max_cell_chars,
        row_count,
    })
}

fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Table, TableError> {
    let mut sheet = xlsx::read_sheet(bytes, limits)?;
    let header_cells = sheet.rows.remove(&0).unwrap_or_default();
    let width = header_cells
        .iter()
        .map(|(c, _)| *c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut headers = vec![String::new(); width];
    for (col, cell) in header_cells {
        headers[col as usize] = cell.text.trim().to_owned();
    }
    let index = build_index(&headers)?;
    let rows: Vec<(u64, Vec<(u32, Cell)>)> = sheet
        .rows
        .into_iter()
        .map(|(r, cells)| (u64::from(r) + 1, cells))
        .collect();
    Ok(Table {
        headers,
        index,
        row_count: rows.len(),
        body: Body::Xlsx { rows },
        max_cell_chars: limits.max_cell_chars,
    })
}

fn build_index(headers: &[String]) -> Result<HashMap<String, usize>, TableError> {
    let mut index = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let key = header_key(h);
        if key.is_empty() {
            continue;
        }
        if index.insert(key, i).is_some() {
            return Err(TableError::DuplicateColumn { column: h.clone() });
        }
    }
    if index.is_empty() {
        return Err(TableError::NoHeader);
    }
    Ok(index)
}

fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

fn csv_error(e: csv::Error) -> TableError {
    let line = e.position().map_or(0, csv::Position::line);
    let reason = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "invalid text encoding".to_owned(),
        _ => "unreadable CSV".to_owned(),
    };
    TableError::Csv { line, reason }
}

/// `;`, `,` or tab: whichever occurs most in the first line (outside
/// quotes); `,` when none occurs.
fn detect_delimiter(text: &str) -> u8 {
    let (mut semi, mut comma, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ';' if !quoted => semi += 1,
            ',' if !quoted => comma += 1,
            '\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if tab > semi && tab > comma {
        b'\t'
    } else if semi >= comma && semi > 0 {
        b';'
    } else {
        b','
    }
}

impl Table {
    /// The header cells as written in the file (trimmed).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Index of a column given any writing of its name (`"code_postal"`,
    /// `"Code postal"`), matched with [`header_key`].
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.index.get(&header_key(name)).copied()
    }

    /// Whether the column exists (see [`Table::column_index`]).
    pub fn has_column(&self, name: &str) -> bool {
        self.column_index(name).is_some()
    }

    /// Number of non-empty data rows.
    pub fn row_count(&self) -> usize {
        self.row_count
    }

    /// CSV (with its delimiter) or XLSX.
    pub fn format(&self) -> Format {
        match &self.body {
            Body::Csv { delimiter, .. } => Format::Csv {
                delimiter: *delimiter,
            },
            Body::Xlsx { .. } => Format::Xlsx,
        }
    }

    /// Label of a column for error messages: its header, or `column N`.
    pub fn column_label(&self, index: usize) -> String {
        match self.headers.get(index) {
            Some(h) if !h.is_empty() => h.clone(),
            _ => format!("column {}", index + 1),
        }
    }

    /// The data rows, in file order, one at a time; rows whose cells are
    /// all empty are skipped. A row with more non-empty fields, or fewer
    /// fields, than the header, or with an over-long cell, is an error
    /// naming its line.
    pub fn rows(&self) -> Rows<'_> {
        let inner = match &self.body {
            Body::Csv { text, delimiter } => {
                let mut reader = csv_reader(text, *delimiter);
                let mut record = StringRecord::new();
                // The header was read successfully in `read_table`.
                let ok = matches!(reader.read_record(&mut record), Ok(true));
                RowsInner::Csv {
                    reader,
                    record,
                    lines: LineCounter::new(text),
                    done: !ok,
                }
            }
            Body::Xlsx { rows } => RowsInner::Xlsx { iter: rows.iter() },
        };
        Rows { table: self, inner }
    }

    fn check_lengths(&self, line: u64, cells: &[Cell]) -> Result<(), RowError> {
        for (i, c) in cells.iter().enumerate() {
            if c.text.chars().count() > self.max_cell_chars {
                let label = self.column_label(i);
                return Err(RowError {
                    line,
                    column: Some(label.clone()),
                    message: format!("{label} is longer than {} characters", self.max_cell_chars),
                });
            }
        }
        Ok(())
    }
}

/// One data row.
#[derive(Debug, Clone)]
pub struct Row<'t> {
    table: &'t Table,
    line: u64,
    cells: Vec<Cell>,
}

impl Row<'_> {
    /// Line in the file: the header is line 1; a CSV record spanning
    /// several lines has the line it starts on; for XLSX the sheet row.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The cell of a column named in any writing (`None` if the table has
    /// no such column).
    pub fn cell(&self, column: &str) -> Option<&Cell> {
        self.table
            .column_index(column)
            .and_then(|i| self.cells.get(i))
    }

    /// The trimmed text of a column (`None` if the table has no such
    /// column, `Some("")` for an empty cell).
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cell(column).map(|c| c.text.as_str())
    }

    /// The cell at a column index (see [`Table::column_index`]).
    pub fn cell_at(&self, index: usize) -> Option<&Cell> {
        self.cells.get(index)
    }

    /// All the cells, aligned with [`Table::headers`].
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }
}

#[derive(Debug)]
enum RowsInner<'t> {
    Csv {
        reader: csv::Reader<&'t [u8]>,
        record: StringRecord,
        lines: LineCounter<'t>,
        done: bool,
    },
    Xlsx {
        iter: std::slice::Iter<'t, (u64, Vec<(u32, Cell)>)>,
    },
}

/// Maps byte offsets of CSV records to 1-based line numbers, counting
/// incrementally (offsets only grow). The csv crate's own line numbers are
/// wrong after CRLF and blank lines, and its record offsets may point at
/// the previous line terminator, so those are skipped first.
#[derive(Debug)]
struct LineCounter<'t> {
    text: &'t [u8],
    pos: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.pos {
            let newlines = self.text[self.pos..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line += newlines as u64;
            self.pos = start;
        }
        self.line
    }
}

/// Iterator over the data rows of a [`Table`].
#[derive(Debug)]
pub struct Rows<'t> {
    table: &'t Table,
    inner: RowsInner<'t>,
}

impl<'t> Iterator for Rows<'t> {
    type Item = Result<Row<'t>, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let table = self.table;
        let width = table.headers.len();
        match &mut self.inner {
            RowsInner::Csv {
                reader,
                record,
                lines,
                done,
            } => loop {
                if *done {
                    return None;
                }
                match reader.read_record(record) {
                    Ok(true) => {}
                    Ok(false) => {
                        *done = true;
                        return None;
                    }
                    Err(e) => {
                        *done = true;
                        let TableError::Csv { line, reason } = csv_error(e) else {
                            return None;
                        };
                        return Some(Err(RowError {
                            line,
                            column: None,
                            message: reason,
                        }));
                    }
                }
                let start = record.position().map_or(0, |p| p.byte());
                let line = lines.line_at(start);
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let n = record.len();
                if n < width || record.iter().skip(width).any(|c| !c.trim().is_empty()) {
                    return Some(Err(RowError {
                        line,
                        column: None,
                        message: format!("the line has {n} fields, the header has {width}"),
                    }));
                }
                let cells: Vec<Cell> = record
                    .iter()
                    .take(width)
                    .map(|c| Cell {
                        text: c.trim().to_owned(),
                        numeric: false,
                    })
                    .collect();
                return Some(table.check_lengths(line, &cells).map(|()| Row {
                    table,
                    line,
                    cells,
                }));
            },
            RowsInner::Xlsx { iter } => loop {
                let (line, sparse) = iter.next()?;
                let mut cells = vec![Cell::default(); width];
                let mut any = false;
                for (col, cell) in sparse {
                    if let Some(slot) = cells.get_mut(*col as usize) {
                        *slot = Cell {
                            text: cell.text.trim().to_owned(),
                            numeric: cell.numeric,
                        };
                        any = true;
                    }
                }
                if !any {
                    // Only cells outside the header's columns.
                    continue;
                }
                return Some(table.check_lengths(*line, &cells).map(|()| Row {
                    table,
                    line: *line,
                    cells,
                }));
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &Table) -> Vec<Result<u64, RowError>> {
        t.rows().map(|r| r.map(|r| r.line())).collect()
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter("a;b;c\n1,2;3;4"), b';');
        assert_eq!(detect_delimiter("a,b,c\n"), b',');
        assert_eq!(detect_delimiter("\"a;b\",c,d\n"), b',');
        assert_eq!(detect_delimiter("\"x,y,z\";b\n"), b';');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        assert_eq!(detect_delimiter("single"), b',');
    }

    #[test]
    fn headers_normalised_and_cells_trimmed() {
        let t = read_table(
            "Réf CDP;Code postal\n  A-1 ; 85100 \n".as_bytes(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(t.headers(), ["Réf CDP", "Code postal"]);
        assert_eq!(t.format(), Format::Csv { delimiter: b';' });
        assert!(t.has_column("ref_cdp"));
        let row = t.rows().next().unwrap().unwrap();
        assert_eq!(row.line(), 2);
        assert_eq!(row.get("ref_cdp"), Some("A-1"));
        assert_eq!(row.get("CODE_POSTAL"), Some("85100"));
        assert_eq!(row.get("nom"), None);
        assert!(!row.cell("code_postal").unwrap().numeric);
    }

    #[test]
    fn duplicate_header_refused() {
        let err = read_table(b"nom,Nom ,x\n", &Limits::default()).unwrap_err();
        assert_eq!(
            err,
            TableError::DuplicateColumn {
                column: "Nom".to_owned()
            }
        );
        assert!(err.to_string().contains("Nom"));
    }

    #[test]
    fn empty_and_headerless() {
        assert_eq!(
            read_table(b"", &Limits::default()).unwrap_err(),
            TableError::Empty
        );
        assert_eq!(
            read_table(b" \r\n\n", &Limits::default()).unwrap_err(),
            TableError::Empty
        );
        assert_eq!(
            read_table(b";;\n1;2;3\n", &Limits::default()).unwrap_err(),
            TableError::NoHeader
        );
        assert_eq!(
            read_table(b"a\0b", &Limits::default()).unwrap_err(),
            TableError::Binary
        );
        // Header only: zero rows.
        let t = read_table(b"a,b\n", &Limits::default()).unwrap();
        assert_eq!(t.row_count(), 0);
        assert_eq!(t.rows().count(), 0);
    }

    #[test]
    fn too_many_rows() {
        let limits = Limits {
            max_rows: 3,
            ..Limits::default()
        };
        let ok = read_table(b"a\n1\n2\n\n,\n3\n", &limits).unwrap();
        assert_eq!(ok.row_count(), 3);
        let err = read_table(b"a\n1\n2\n3\n4\n", &limits).unwrap_err();
        assert_eq!(err, TableError::TooManyRows { max: 3 });
        assert_eq!(err.to_string(), "the file has more than 3 rows");
    }

    #[test]
    fn too_long_cell_names_line_and_column() {
        let limits = Limits {
            max_cell_chars: 5,
            ..Limits::default()
        };
        let t = read_table("a;Adresse\n1;court\n2;très long\n".as_bytes(), &limits).unwrap();
        let got = lines(&t);
        assert_eq!(got[0], Ok(2));
        let err = got[1].clone().unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.column.as_deref(), Some("Adresse"));
        assert_eq!(err.message, "Adresse is longer than 5 characters");
    }

    #[test]
    fn wrong_field_count_is_a_row_error() {
        let t = read_table(b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n1,2,3,,\n", &Limits::default()).unwrap();
        let got = lines(&t);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], Ok(2));
        let e = got[1].clone().unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "the line has 2 fields, the header has 3")
        );
        assert_eq!(got[2].clone().unwrap_err().line, 4);
        // Trailing empty fields are tolerated.
        assert_eq!(got[3], Ok(5));
    }

    #[test]
    fn multiline_quoted_cell_keeps_line_numbers() {
        let text = "ref;adresse;cp\r\nA;\"Bât. C\r\n3e étage\r\n12 rue X\";85100\r\nB;\"2; rue \"\"Y\"\"\";85000\r\n\r\nC;z;85200\r\n";
        let t = read_table(text.as_bytes(), &Limits::default()).unwrap();
        let rows: Vec<_> = t.rows().map(Result::unwrap).collect();
        let got: Vec<(u64, &str)> = rows
            .iter()
            .map(|r| (r.line(), r.get("ref").unwrap()))
            .collect();
        assert_eq!(got, [(2, "A"), (5, "B"), (7, "C")]);
        assert_eq!(
            rows[0].get("adresse"),
            Some("Bât. C\r\n3e étage\r\n12 rue X")
        );
        assert_eq!(rows[1].get("adresse"), Some("2; rue \"Y\""));
    }

    #[test]
    fn rows_can_be_iterated_twice() {
        let t = read_table(b"a\n1\n2\n", &Limits::default()).unwrap();
        assert_eq!(t.rows().count(), 2);
        assert_eq!(t.rows().count(), 2);
    }
}
