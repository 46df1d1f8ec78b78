//! PLACEHOLDER, being replaced by the report renderer (helper at work).

/// One access.
#[derive(Debug, Clone)]
pub struct ReportEntry {
    /// Seq.
    pub seq: i64,
    /// Time.
    pub at_ms: i64,
    /// Partner.
    pub partner: Option<String>,
    /// Action.
    pub action: String,
    /// Outcome.
    pub outcome: String,
    /// Reason.
    pub reason: Option<String>,
    /// Route.
    pub route: Option<String>,
    /// Rows.
    pub rows: Option<u64>,
}

/// Verification summary.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Ok.
    pub ok: bool,
    /// Message.
    pub message: String,
    /// Entries.
    pub entries: u64,
    /// Checkpoint size.
    pub checkpoint_size: Option<u64>,
    /// Checkpoint root.
    pub checkpoint_root: Option<String>,
    /// Checkpoint note.
    pub checkpoint_note: Option<String>,
}

/// Renders the report.
pub fn render(
    _title: &str,
    _from: time::Date,
    _to: time::Date,
    _entries: &[ReportEntry],
    _verification: &Verification,
) -> String {
    String::new()
}
