//! The one row checker of the readers (monthly list, returns): a row's
//! cells are typed one by one, every problem of the row kept with its line
//! and canonical column, and a file's columns checked against what a
//! reader requires.

use super::error::FileError;
use super::table::{Row, Table};
use super::types::{Cell, RowError};
use crate::domain::header_key;

/// The required columns the table lacks (canonical names, in the given
/// order), as [`FileError::MissingColumns`].
pub(crate) fn require_columns(table: &Table, required: &[&str]) -> Result<(), FileError> {
    let missing: Vec<String> = required
        .iter()
        .filter(|c| !table.has_column(c))
        .map(|c| (*c).to_owned())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(FileError::MissingColumns(missing))
    }
}

/// Renames a table-level column label (the header as written) to its
/// canonical name when it is one of `known`, in the column and in the
/// message.
pub(crate) fn canonical(mut e: RowError, known: &[&str]) -> RowError {
    if let Some(label) = e.column.take() {
        let key = header_key(&label);
        match known.iter().find(|c| header_key(c) == key) {
            Some(name) => {
                e.message = e.message.replacen(&label, name, 1);
                e.column = Some((*name).to_owned());
            }
            None => e.column = Some(label),
        }
    }
    e
}

/// Collects the errors of one row while its cells are typed. Columns are
/// given by canonical name (for messages) and index in the table (`None`
/// when the file lacks an optional column).
pub(crate) struct RowCheck<'r> {
    row: &'r Row<'r>,
    errors: Vec<RowError>,
}

impl<'r> RowCheck<'r> {
    pub(crate) fn new(row: &'r Row<'r>) -> Self {
        RowCheck {
            row,
            errors: Vec::new(),
        }
    }

    /// No problem so far.
    pub(crate) fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The problems found.
    pub(crate) fn into_errors(self) -> Vec<RowError> {
        self.errors
    }

    /// The cell, when the column exists and the cell is not empty.
    fn cell(&self, idx: Option<usize>) -> Option<&'r Cell> {
        idx.and_then(|i| self.row.cell_at(i))
            .filter(|c| !c.text.is_empty())
    }

    /// Records a problem. Parsers' messages ("must …", "is …") get the
    /// column name in front; messages starting with a value or a column
    /// name are kept as they are.
    pub(crate) fn fail(&mut self, column: &str, message: impl Into<String>) {
        let message = message.into();
        let message = if message.starts_with("must ") || message.starts_with("is ") {
            format!("{column} {message}")
        } else {
            message
        };
        self.errors.push(RowError {
            line: self.row.line(),
            column: Some(column.to_owned()),
            message,
        });
    }

    /// The text of an optional cell (`None` when absent or empty).
    pub(crate) fn text(&self, idx: Option<usize>) -> Option<String> {
        self.cell(idx).map(|c| c.text.clone())
    }

    /// The text of a required cell; absent or empty is a problem.
    pub(crate) fn required_text(&mut self, column: &str, idx: Option<usize>) -> Option<String> {
        self.required(column, idx, |c| Ok(c.text.clone()))
    }

    /// A required cell, typed; absent, empty or invalid is a problem.
    pub(crate) fn required<T>(
        &mut self,
        column: &str,
        idx: Option<usize>,
        parse: impl FnOnce(&Cell) -> Result<T, String>,
    ) -> Option<T> {
        let Some(cell) = self.cell(idx) else {
            self.fail(column, format!("{column} is required"));
            return None;
        };
        match parse(cell) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(column, e);
                None
            }
        }
    }

    /// An optional cell, typed: `Ok(None)` when absent or empty, `Err(())`
    /// when present and invalid (the problem recorded).
    pub(crate) fn optional<T>(
        &mut self,
        column: &str,
        idx: Option<usize>,
        parse: impl FnOnce(&Cell) -> Result<T, String>,
    ) -> Result<Option<T>, ()> {
        let Some(cell) = self.cell(idx) else {
            return Ok(None);
        };
        match parse(cell) {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                self.fail(column, e);
                Err(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Limits;
    use super::super::table::read_table;
    use super::*;

    #[test]
    fn required_optional_and_message_prefixes() {
        let t = read_table(b"a;b;c\n1;;x\n", &Limits::default()).unwrap();
        let row = t.rows().next().unwrap().unwrap();
        let mut ck = RowCheck::new(&row);
        assert_eq!(ck.required_text("a", t.column_index("a")), Some("1".into()));
        assert!(ck.is_clean());
        assert_eq!(ck.required_text("b", t.column_index("b")), None);
        assert_eq!(ck.optional("b", t.column_index("b"), |_| Ok(1)), Ok(None));
        assert_eq!(ck.optional("d", None, |_| Ok(1)), Ok(None));
        assert_eq!(
            ck.optional::<u8>("c", t.column_index("c"), |_| Err("must be a digit".into())),
            Err(())
        );
        assert_eq!(
            ck.required::<u8>("c", t.column_index("c"), |c| Err(format!(
                "{} is not a number",
                c.text
            ))),
            None
        );
        ck.fail("a", "is in the future");
        let got: Vec<(Option<String>, String)> = ck
            .into_errors()
            .into_iter()
            .map(|e| (e.column, e.message))
            .collect();
        assert_eq!(
            got,
            [
                (Some("b".into()), "b is required".into()),
                (Some("c".into()), "c must be a digit".into()),
                (Some("c".into()), "x is not a number".into()),
                (Some("a".into()), "a is in the future".into()),
            ]
        );
    }

    #[test]
    fn labels_become_canonical_names() {
        let e = RowError {
            line: 3,
            column: Some("Code postal".into()),
            message: "Code postal is longer than 5 characters".into(),
        };
        let c = canonical(e.clone(), &["ref_cdp", "code_postal"]);
        assert_eq!(c.column.as_deref(), Some("code_postal"));
        assert_eq!(c.message, "code_postal is longer than 5 characters");
        assert_eq!(canonical(e.clone(), &["ref_cdp"]), e);
    }
}
