//! Building a view's file for one partner and putting it in its outbox:
//! rows projected per the policy, the partner's own tokens, age-encrypted
//! to its recipients, tokens and production audited in the caller's
//! transaction.

use super::cases::Case;
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome, Subjects, SubjectsDigest};
use crate::config::{Partner, Role, View, ViewRows};
use crate::domain::{CaseId, CaseState, FileKind, Period, Token};
use crate::export::TableWriter;
use crate::export::envelope::Sealer;
use crate::ingest::CdpRow;
use crate::ingest::returns::Enrichment;
use crate::store::{Tx, outbox, tokens};
use crate::util::{new_id, now_ms};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A file being built for one partner.
///
/// Rows are written through the age encryptor as they come; what the file
/// produced so far (ciphertext, tokens disclosed, households' subject
/// references) can be taken away as a [`Piece`] and stored while the rest
/// is built, so that a list's file never sits in memory whole.
#[derive(Debug)]
pub struct Route {
    /// The recipient.
    pub partner: Arc<Partner>,
    file_id: String,
    seq: Option<i64>,
    keys: std::collections::BTreeMap<u32, crate::pseudo::CaseTokens>,
    writer: Option<TableWriter<Sealer<Pending>>>,
    pending: Pending,
    fields: Vec<String>,
    rows: usize,
    tokens: Vec<(Token, CaseId)>,
    /// Households' references not yet taken (when the file has its own
    /// set), how many were taken, and their digest.
    subjects: Option<Vec<String>>,
    subjects_taken: i64,
    digest: SubjectsDigest,
    pieces: i64,
    size: i64,
    sha256: Sha256,
}

/// Ciphertext written by the encryptor and not yet taken.
#[derive(Debug, Clone, Default)]
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Pending {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a file produced since the last piece: to store with
/// [`store_piece`].
#[derive(Debug)]
pub struct Piece {
    file_id: String,
    partner: String,
    seq: Option<i64>,
    n: i64,
    bytes: Vec<u8>,
    tokens: Vec<(Token, CaseId)>,
    subjects: Vec<String>,
    first_subject: i64,
}

impl Route {
    /// Starts a file with the view's columns, in the partner's format; its
    /// production entry is numbered when it is emitted.
    pub fn new(partner: Arc<Partner>, columns: &[&str]) -> Result<Route, CircuitError> {
        let pending = Pending::default();
        let sealer = Sealer::to_writer(&partner.recipients, pending.clone())?;
        Ok(Route {
            file_id: new_id("fil"),
            seq: None,
            writer: Some(TableWriter::to_writer(partner.format, columns, sealer)?),
            pending,
            fields: columns.iter().map(|c| (*c).to_owned()).collect(),
            partner,
            keys: Default::default(),
            rows: 0,
            tokens: Vec::new(),
            subjects: Some(Vec::new()),
            subjects_taken: 0,
            digest: SubjectsDigest::new(),
            pieces: 0,
            size: 0,
            sha256: Sha256::new(),
        })
    }

    /// Like [`Route::new`], for a file whose production entry is the
    /// reserved number `seq`, so that its pieces can be stored while it is
    /// built (see [`audit::reserve`]). A file that will hold every case of
    /// a list (`whole_list`) names the list's set of households instead of
    /// writing its own.
    pub fn reserved(
        partner: Arc<Partner>,
        columns: &[&str],
        seq: i64,
        whole_list: bool,
    ) -> Result<Route, CircuitError> {
        let mut r = Route::new(partner, columns)?;
        r.seq = Some(seq);
        if whole_list {
            r.subjects = None;
        }
        Ok(r)
    }

    /// Adds a case (of pseudonymisation key `version`) under the
    /// partner's token.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        app: &App,
        view: &View,
        row: &CdpRow,
        enrichment: Option<&Enrichment>,
        case_id: &CaseId,
        version: u32,
        subject: &str,
    ) -> Result<(), CircuitError> {
        self.add_with(app, case_id, version, subject, |token| {
            view.fields
                .iter()
                .map(|f| crate::policy::cell(row, enrichment, token, f))
                .collect()
        })
    }

    /// Adds a row about a case (of pseudonymisation key `version`) whose
    /// cells `cells` writes from the partner's token for it: the token is
    /// disclosed and the household counted as for [`Route::add`].
    pub fn add_with(
        &mut self,
        app: &App,
        case_id: &CaseId,
        version: u32,
        subject: &str,
        cells: impl FnOnce(&str) -> Vec<String>,
    ) -> Result<(), CircuitError> {
        let partner = &self.partner.id;
        let token = self
            .keys
            .entry(version)
            .or_insert_with(|| app.pseudo.case_tokens_for(version, partner))
            .token(case_id.as_str());
        let cells = cells(&token);
        self.writer
            .as_mut()
            .expect("rows are added before the file is finished")
            .write_row(cells.iter().map(String::as_str))?;
        self.rows += 1;
        self.tokens.push((Token::new(token), case_id.clone()));
        if let Some(subjects) = &mut self.subjects {
            self.digest.add(subject);
            subjects.push(subject.to_owned());
        }
        Ok(())
    }

    /// Adds a row of bare cells, disclosing no new token (a `retrait`
    /// file names tokens the partner already holds).
    pub fn add_cells(&mut self, cells: &[&str]) -> Result<(), CircuitError> {
        self.writer
            .as_mut()
            .expect("rows are added before the file is finished")
            .write_row(cells.iter().copied())?;
        self.rows += 1;
        Ok(())
    }

    /// Rows added.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Ends the file: the last rows and the encryption's final chunk
    /// (CPU work: call it off the async threads for a large file).
    pub fn finish(&mut self) -> Result<(), CircuitError> {
        if let Some(writer) = self.writer.take() {
            writer.finish()?.finish()?;
        }
        Ok(())
    }

    /// Takes what the file produced since the last piece.
    pub fn take(&mut self) -> Piece {
        let bytes = self.pending.take();
        self.sha256.update(&bytes);
        self.size += bytes.len() as i64;
        let n = self.pieces;
        if !bytes.is_empty() {
            self.pieces += 1;
        }
        let subjects = self
            .subjects
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let first_subject = self.subjects_taken;
        self.subjects_taken += subjects.len() as i64;
        Piece {
            file_id: self.file_id.clone(),
            partner: self.partner.id.to_string(),
            seq: self.seq,
            n,
            bytes,
            tokens: std::mem::take(&mut self.tokens),
            subjects,
            first_subject,
        }
    }

    /// Stores the rest of the file and its metadata, and audits its
    /// production (the reserved entry, or the next one) with its own set
    /// of households or, for a file of a whole list, the list's
    /// (`list_subjects`); returns the file id.
    #[allow(clippy::too_many_arguments)]
    pub async fn emit(
        mut self,
        tx: &mut Tx,
        kind: FileKind,
        period: Period,
        list_id: Option<&str>,
        list_subjects: Option<&Subjects>,
        actor: &Actor,
        at: i64,
    ) -> Result<String, CircuitError> {
        self.finish()?;
        let seq = match self.seq {
            Some(seq) => seq,
            None => {
                let seq = audit::reserve(tx, 1).await?;
                self.seq = Some(seq);
                seq
            }
        };
        let last = self.take();
        store_piece(tx, last).await?;
        let rows = self.rows;
        let file_id = self.file_id.clone();
        outbox::insert(
            tx,
            &outbox::NewFile {
                file_id: file_id.clone(),
                partner: self.partner.id.to_string(),
                kind: kind.as_str().to_owned(),
                period: period.to_string(),
                list_id: list_id.map(str::to_owned),
                rows: rows as i64,
                format: self.partner.format.as_str().to_owned(),
                fields: self.fields.clone(),
                size: self.size,
                sha256: hex::encode(self.sha256.finalize()),
                produce_seq: seq,
            },
            at,
        )
        .await?;
        let mut rec = actor.record("file.produce", Outcome::Ok);
        rec.objects = vec![
            format!("file:{file_id}"),
            format!("to:{}", self.partner.id),
            format!("kind:{kind}"),
        ];
        if let Some(l) = list_id {
            rec.objects.push(format!("list:{l}"));
        }
        rec.fields = self.fields;
        rec.rows = Some(rows as u64);
        let own;
        let subjects = match &self.subjects {
            Some(_) if self.digest.count() > 0 => {
                own = self.digest.finish(seq);
                Some(&own)
            }
            Some(_) => None,
            None => list_subjects,
        };
        audit::write_reserved(tx, seq, &rec, subjects).await?;
        Ok(file_id)
    }
}

/// Stores a piece of a file: its ciphertext, the tokens it disclosed and,
/// under its production entry, its households' subject references.
pub async fn store_piece(tx: &mut Tx, piece: Piece) -> Result<(), CircuitError> {
    if !piece.bytes.is_empty() {
        outbox::insert_chunk(tx, &piece.file_id, piece.n, piece.bytes).await?;
    }
    tokens::insert(tx, &piece.partner, piece.tokens, now_ms()).await?;
    if !piece.subjects.is_empty() {
        let seq = piece
            .seq
            .expect("a piece with households belongs to a reserved entry");
        audit::stage_subjects(tx, seq, piece.first_subject, &piece.subjects).await?;
    }
    Ok(())
}

/// Routes `cases` through the view `kind` to `recipients` (each gets the
/// cases in its scope when the view says so; nobody gets an empty file).
#[allow(clippy::too_many_arguments)]
pub async fn route_cases(
    app: &App,
    tx: &mut Tx,
    kind: FileKind,
    cases: &[Case],
    recipients: &[Arc<Partner>],
    actor: &Actor,
    at: i64,
) -> Result<Vec<String>, CircuitError> {
    let Some(view) = app.config.policy.view(kind) else {
        return Ok(Vec::new());
    };
    let columns = view.columns();
    let mut files = Vec::new();
    for partner in recipients {
        let mut route = Route::new(partner.clone(), &columns)?;
        let mut period: Option<Period> = None;
        let mut list: Option<&str> = None;
        for c in cases {
            if view.rows == ViewRows::Scope
                && !crate::policy::in_scope(&app.config.policy, partner, &c.row)
            {
                continue;
            }
            route.add(
                app,
                view,
                &c.row,
                c.enrichment.as_ref(),
                &c.case_id,
                c.key_version,
                &c.subject,
            )?;
            let p = Period::parse(&c.row.date_cdp.to_string()[..7])
                .expect("a date's month is a period");
            period = Some(period.map_or(p, |q| q.max(p)));
            list = Some(list.map_or(c.list_id.as_str(), |l| if l == c.list_id { l } else { "" }));
        }
        if route.rows() == 0 {
            continue;
        }
        let period = period.expect("rows imply a period");
        let list = list.filter(|l| !l.is_empty());
        files.push(route.emit(tx, kind, period, list, None, actor, at).await?);
    }
    Ok(files)
}

/// Moves `cases` to the concertation and sends each member the ones of its
/// scope (the `concertation` view); returns the files produced.
pub async fn to_concertation(
    app: &App,
    tx: &mut Tx,
    cases: &[Case],
    actor: &Actor,
    at: i64,
) -> Result<Vec<String>, CircuitError> {
    for c in cases {
        crate::store::cases::set_state(tx, &c.case_id, CaseState::InConcertation).await?;
    }
    let members: Vec<_> = app.partners().with_role(Role::Member).cloned().collect();
    route_cases(app, tx, FileKind::Concertation, cases, &members, actor, at).await
}
