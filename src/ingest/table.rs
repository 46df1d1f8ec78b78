//! Generic table reader (CSV or XLSX), reused for the monthly list and the
//! partners' returns. Depends on [`super::decode`] (CSV text) and
//! [`super::xlsx`] (workbooks), never the other way round: the types they
//! share live in the leaf [`super::types`].

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Read};

use csv::StringRecord;

use super::decode::decode_spool;
use super::spool::{Spool, SpoolReader};
use super::types::{Cell, Limits, RowError, TableError};
use super::xlsx;
use crate::domain::header_key;

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
    /// UTF-8 text in `spool` from byte `start` on.
    Csv {
        spool: Spool,
        start: u64,
        delimiter: u8,
    },
    Xlsx {
        rows: Vec<(u64, Vec<(u32, Cell)>)>,
    },
}

/// A table read from a file: the header and a way to iterate the rows.
///
/// For CSV only the header is held in memory: the UTF-8 text stays in its
/// [`Spool`] (the input itself, or its transcoding) and rows are parsed
/// again at each iteration, one at a time, from a new reader. For XLSX the
/// non-blank cells of the first sheet are held in memory.
#[derive(Debug)]
pub struct Table {
    headers: Vec<String>,
    index: HashMap<String, usize>,
    body: Body,
    max_cell_chars: usize,
    row_count: usize,
}

/// Reads a CSV or XLSX file (detected from its first bytes): bytes
/// (`&[u8]`, `&Vec<u8>`, `Vec<u8>`) or a [`Spool`].
///
/// File-level checks happen here: encoding, header, duplicate columns,
/// row count (one streaming pass). Row-level problems (wrong number of
/// fields, over-long cells) are reported while iterating [`Table::rows`].
pub fn read_table(input: impl Into<Spool>, limits: &Limits) -> Result<Table, TableError> {
    let input = input.into();
    if xlsx::is_xlsx(input.head()) {
        return read_xlsx(&input, limits);
    }
    let text = decode_spool(&input)?;
    let delimiter = detect_delimiter_in(text.spool.reader_at(text.start))
        .map_err(|e| TableError::Storage(e.to_string()))?;
    let mut reader = csv_reader(text.spool.reader_at(text.start), delimiter);
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
        body: Body::Csv {
            spool: text.spool,
            start: text.start,
            delimiter,
        },
        max_cell_chars: limits.max_cell_chars,
        row_count,
    })
}

fn read_xlsx(input: &Spool, limits: &Limits) -> Result<Table, TableError> {
    let mut sheet = xlsx::read_sheet(input, limits)?;
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

fn csv_reader<R: Read>(text: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text)
}

fn csv_error(e: csv::Error) -> TableError {
    let line = e.position().map_or(0, csv::Position::line);
    let reason = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "invalid text encoding".to_owned(),
        csv::ErrorKind::Io(e) => return TableError::Storage(e.to_string()),
        _ => "unreadable CSV".to_owned(),
    };
    TableError::Csv { line, reason }
}

/// `;`, `,` or tab: whichever occurs most in the first line (outside
/// quotes); `,` when none occurs.
#[cfg(test)]
fn detect_delimiter(text: &str) -> u8 {
    detect_delimiter_in(text.as_bytes()).unwrap_or(b',')
}

/// [`detect_delimiter`] reading only up to the end of the first line (a
/// line break inside quotes does not end it). The delimiters, quotes and
/// line breaks are ASCII, so UTF-8 text is scanned as bytes.
fn detect_delimiter_in(mut text: impl BufRead) -> std::io::Result<u8> {
    let (mut semi, mut comma, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    'scan: loop {
        let buf = text.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        for &b in buf {
            match b {
                b'"' => quoted = !quoted,
                b'\n' | b'\r' if !quoted => break 'scan,
                b';' if !quoted => semi += 1,
                b',' if !quoted => comma += 1,
                b'\t' if !quoted => tab += 1,
                _ => {}
            }
        }
        text.consume(n);
    }
    Ok(if tab > semi && tab > comma {
        b'\t'
    } else if semi >= comma && semi > 0 {
        b';'
    } else {
        b','
    })
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
            Body::Csv {
                spool,
                start,
                delimiter,
            } => {
                let mut reader = csv_reader(LineCounter::new(spool.reader_at(*start)), *delimiter);
                let mut record = StringRecord::new();
                // The header was read successfully in `read_table`: failing
                // now is an I/O error, reported as a row error (never a
                // silently empty table).
                let reread = match reader.read_record(&mut record) {
                    Ok(true) => None,
                    _ => Some(RowError {
                        line: 1,
                        column: None,
                        message: "the file could not be read again".to_owned(),
                    }),
                };
                RowsInner::Csv {
                    reader: Box::new(reader),
                    record,
                    failed: reread,
                    done: false,
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
        reader: Box<csv::Reader<LineCounter<SpoolReader>>>,
        record: StringRecord,
        failed: Option<RowError>,
        done: bool,
    },
    Xlsx {
        iter: std::slice::Iter<'t, (u64, Vec<(u32, Cell)>)>,
    },
}

/// Maps byte offsets of CSV records to 1-based line numbers, counting
/// incrementally (offsets only grow), on the stream the csv reader reads.
/// The csv crate's own line numbers are wrong after CRLF and blank lines
/// (its record positions point at the end of the previous record, before
/// its line terminator and any blank lines), so the terminators after a
/// record's position are skipped first.
///
/// Only the bytes read but not yet passed by a record start are kept: at
/// most the csv reader's buffer plus one record.
struct LineCounter<R> {
    inner: R,
    /// Bytes from offset `pos` to what was read.
    window: VecDeque<u8>,
    pos: u64,
    line: u64,
}

impl<R> std::fmt::Debug for LineCounter<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the bytes: they are personal data.
        f.debug_struct("LineCounter")
            .field("pos", &self.pos)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl<R> LineCounter<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            window: VecDeque::new(),
            pos: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, byte: u64) -> u64 {
        let skip = usize::try_from(byte.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let mut i = skip.min(self.window.len());
        while i < self.window.len() && matches!(self.window[i], b'\r' | b'\n') {
            i += 1;
        }
        let newlines = self.window.range(..i).filter(|&&b| b == b'\n').count();
        self.line += newlines as u64;
        self.window.drain(..i);
        self.pos += i as u64;
        self.line
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.extend(&buf[..n]);
        Ok(n)
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
                failed,
                done,
            } => loop {
                if *done {
                    return None;
                }
                if let Some(e) = failed.take() {
                    *done = true;
                    return Some(Err(e));
                }
                match reader.read_record(record) {
                    Ok(true) => {}
                    Ok(false) => {
                        *done = true;
                        return None;
                    }
                    Err(e) => {
                        *done = true;
                        let line = e.position().map_or(0, csv::Position::line);
                        let message = match csv_error(e) {
                            TableError::Csv { reason, .. } => reason,
                            _ => "the file could not be read again".to_owned(),
                        };
                        return Some(Err(RowError {
                            line,
                            column: None,
                            message,
                        }));
                    }
                }
                let start = record.position().map_or(0, |p| p.byte());
                let line = reader.get_mut().line_at(start);
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
    fn line_numbers_from_a_file_across_buffer_edges() {
        // Multi-line quoted records, CRLF, blank lines, over many csv
        // buffers: the lines come from the stream, not from held text.
        let mut text = String::from("ref;adresse;cp\r\n");
        let mut line = 2u64;
        let mut expected = Vec::new();
        for i in 0..3_000u64 {
            expected.push((line, format!("R{i}")));
            match i % 4 {
                0 => {
                    text.push_str(&format!("R{i};\"Bât. {i}\r\nétage\r\n\r\nrue\";85100\r\n"));
                    line += 4;
                }
                1 => {
                    text.push_str(&format!("R{i};x;85000\n\n\n"));
                    line += 3;
                }
                2 => {
                    text.push_str(&format!("R{i};\"a\"\"b\nc\";85200\r\n\r\n"));
                    line += 3;
                }
                _ => {
                    text.push_str(&format!("R{i};{};85300\n", "é".repeat(i as usize % 700)));
                    line += 1;
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let file = Spool::from_reader(text.as_bytes(), dir.path(), usize::MAX).unwrap();
        for input in [file, Spool::from(text.as_bytes())] {
            let t = read_table(&input, &Limits::default()).unwrap();
            assert_eq!(t.row_count(), 3_000);
            let got: Vec<(u64, String)> = t
                .rows()
                .map(|r| {
                    let r = r.unwrap();
                    (r.line(), r.get("ref").unwrap().to_owned())
                })
                .collect();
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn windows_1252_and_utf16_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let cp1252 = b"R\xE9f;Montant\r\nC\x9Cur;12,5\x80\r\n";
        let file = Spool::from_reader(&cp1252[..], dir.path(), usize::MAX).unwrap();
        let t = read_table(&file, &Limits::default()).unwrap();
        assert_eq!(t.headers(), ["Réf", "Montant"]);
        let row = t.rows().next().unwrap().unwrap();
        assert_eq!((row.line(), row.get("ref")), (2, Some("Cœur")));
        assert_eq!(row.get("montant"), Some("12,5€"));

        let mut utf16 = vec![0xFF, 0xFE];
        for u in "Réf\tNom\r\nA\tÉlise\r\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let file = Spool::from_reader(&utf16[..], dir.path(), usize::MAX).unwrap();
        let t = read_table(file, &Limits::default()).unwrap();
        assert_eq!(t.format(), Format::Csv { delimiter: b'\t' });
        let row = t.rows().next().unwrap().unwrap();
        assert_eq!(row.get("nom"), Some("Élise"));
        // No named file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn rows_can_be_iterated_twice() {
        let t = read_table(b"a\n1\n2\n", &Limits::default()).unwrap();
        assert_eq!(t.rows().count(), 2);
        assert_eq!(t.rows().count(), 2);
    }
}
