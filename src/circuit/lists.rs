//! Lists: a monthly list arrives (validate it whole, pseudonymise and
//! seal each case, route the views the policy sends on acceptance — the
//! `enrichment` file for the enricher — all in one transaction with its
//! audit entries); the lists received; a list routed to the concertation
//! members without waiting for CAF.

use super::cases::{self, Case};
use super::routing::{self, Piece, Route};
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome, SubjectsDigest};
use crate::config::{Partner, Role, View, ViewRows};
use crate::domain::{CaseId, FileKind, Period};
use crate::ingest::{self, ListFile};
use crate::pseudo::household_identity;
use crate::store::lists::ListMeta;
use crate::store::{Tx, lists};
use crate::util::{new_id, now_ms};
use std::sync::Arc;

/// Rows per insert statement and per unit of work between awaits.
const CHUNK: usize = 1_000;

/// The answer to an upload (docs/convention.md `POST /v1/lists`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListReceipt {
    /// The list.
    pub list_id: String,
    /// Its period.
    pub period: String,
    /// Cases stored.
    pub rows: i64,
    /// SHA-256 of the content.
    pub sha256: String,
}

/// Whether the upload created the list or found it already there.
#[derive(Debug, Clone)]
pub enum ListOutcome {
    /// New list stored and routed.
    Created(ListReceipt),
    /// The same content was already stored: nothing done.
    Duplicate(ListReceipt),
}

/// Refuses unless the actor may send lists (`source`). [`accept_list`]
/// checks it; an adapter may check it first so as not to take in the body
/// of a caller who may not send one.
pub fn may_upload(actor: &Actor) -> Result<(), CircuitError> {
    actor.require(Role::Source)
}

/// Accepts a list's plaintext (CSV or XLSX), spooled (a temporary file
/// for uploads; `Spool::from(bytes)` otherwise), from a `source`. Applied
/// whole or not at all.
pub async fn accept_list(
    app: &Arc<App>,
    actor: &Actor,
    period: Period,
    input: ingest::Spool,
) -> Result<ListOutcome, CircuitError> {
    may_upload(actor)?;
    let sha256 = input.sha256_hex().to_owned();
    let limits = super::reading_limits(app);
    // Reading the header and counting the rows is CPU work: off the async
    // threads. The rows are checked while they are stored (a bad row
    // rolls everything back, with every error reported).
    let file = tokio::task::spawn_blocking(move || ingest::read_list(input, &limits))
        .await
        .expect("the reading task does not panic")?;
    let rows = file.row_count();

    let mut tx = app.store.begin().await?;
    if let Some(existing) = lists::by_sha256(&mut tx, &sha256).await? {
        if existing.period != period.to_string() {
            return Err(CircuitError::OtherPeriod {
                list_id: existing.list_id,
                period: existing.period,
            });
        }
        let mut rec = actor.record("list.upload", Outcome::Ok);
        rec.objects = vec![format!("list:{}", existing.list_id)];
        rec.reason = Some("duplicate".into());
        rec.rows = Some(0);
        audit::append(&mut tx, &rec).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        return Ok(ListOutcome::Duplicate(ListReceipt {
            list_id: existing.list_id,
            period: existing.period,
            rows: existing.rows,
            sha256,
        }));
    }
    let list_id = new_id("lst");
    let at = now_ms();
    // The entries this upload writes, numbered now so that each file's
    // households can be logged while it is built: the upload, then one
    // production per recipient of the enrichment view.
    let recipients = enrichment_recipients(app);
    let upload_seq = audit::reserve(&mut tx, 1 + recipients.len() as i64).await?;
    let meta = lists::ListMeta {
        list_id: list_id.clone(),
        period: period.to_string(),
        source: actor.partner_id().to_owned(),
        rows: rows as i64,
        sha256: sha256.clone(),
        format: file.format_name().to_owned(),
        created_at: String::new(),
    };
    lists::insert(&mut tx, &meta, at).await?;
    let columns = file.columns();
    let (routes, households) =
        store_and_route(app, &mut tx, file, &list_id, recipients, upload_seq, at).await?;

    let mut rec = actor.record("list.upload", Outcome::Ok);
    rec.objects = vec![format!("list:{list_id}")];
    rec.fields = columns;
    rec.rows = Some(rows as u64);
    let households = households.finish(upload_seq);
    audit::stage_list_subjects(&mut tx, households.set, &list_id).await?;
    audit::write_reserved(&mut tx, upload_seq, &rec, Some(&households)).await?;
    for route in routes {
        route
            .emit(
                &mut tx,
                FileKind::Enrichment,
                period,
                Some(&list_id),
                Some(&households),
                actor,
                at,
            )
            .await?;
    }
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    tracing::info!(list = %list_id, rows, period = %period, "list accepted");
    Ok(ListOutcome::Created(ListReceipt {
        list_id,
        period: period.to_string(),
        rows: rows as i64,
        sha256,
    }))
}

/// The partners that receive the enrichment view when a list arrives.
fn enrichment_recipients(app: &App) -> Vec<Arc<Partner>> {
    let policy = &app.config.policy;
    let view: &View = policy
        .view(FileKind::Enrichment)
        .expect("the policy loader requires an enrichment view");
    app.partners()
        .with_role(policy.view_role(view))
        .cloned()
        .collect()
}

/// What the CPU stage hands to the database stage.
enum Batch {
    /// Sealed cases to insert.
    Cases(Vec<crate::store::cases::NewCase>),
    /// A piece of a partner's file.
    Piece(Piece),
}

/// Second pass over the validated file: stores every case sealed and
/// builds the files of the views sent on acceptance, returned finished but
/// not yet emitted, with the digest of the list's households in line order
/// (the set [`audit::stage_list_subjects`] writes). The upload's entry is
/// `upload_seq`, the files' productions the next ones in `recipients`
/// order.
///
/// Two stages run side by side, joined by a bounded channel: a blocking
/// thread types, pseudonymises and seals the rows and writes and encrypts
/// the partners' files; this task stores each chunk of cases and each
/// piece of the files. Memory holds a few chunks, not the list; the CPU
/// work and the database's overlap.
async fn store_and_route(
    app: &Arc<App>,
    tx: &mut Tx,
    file: ListFile,
    list_id: &str,
    recipients: Vec<Arc<Partner>>,
    upload_seq: i64,
    at: i64,
) -> Result<(Vec<Route>, SubjectsDigest), CircuitError> {
    let (batches, mut received) = tokio::sync::mpsc::channel::<Batch>(4);
    let producer = {
        let app = app.clone();
        let list_id = list_id.to_owned();
        tokio::task::spawn_blocking(move || {
            prepare(&app, &file, &list_id, recipients, upload_seq + 1, batches)
        })
    };
    while let Some(batch) = received.recv().await {
        match batch {
            Batch::Cases(cases) => crate::store::cases::insert(tx, list_id, cases, at).await?,
            Batch::Piece(piece) => routing::store_piece(tx, piece).await?,
        }
    }
    producer.await.expect("the preparation task does not panic")
}

/// The CPU stage of [`store_and_route`]: sends the sealed cases and the
/// files' pieces chunk by chunk, returns the finished files and the
/// households' digest.
fn prepare(
    app: &App,
    file: &ListFile,
    list_id: &str,
    recipients: Vec<Arc<Partner>>,
    first_seq: i64,
    batches: tokio::sync::mpsc::Sender<Batch>,
) -> Result<(Vec<Route>, SubjectsDigest), CircuitError> {
    let policy = &app.config.policy;
    let view: &View = policy
        .view(FileKind::Enrichment)
        .expect("the policy loader requires an enrichment view");
    let columns = view.columns();
    let mut routes = Vec::new();
    for (partner, seq) in recipients.into_iter().zip(first_seq..) {
        routes.push(Route::reserved(
            partner,
            &columns,
            seq,
            view.rows != ViewRows::Scope,
        )?);
    }
    // Sends a batch; false when the database stage stopped on an error it
    // reports.
    let send = |batch: Batch| batches.blocking_send(batch).is_ok();
    let mut households = SubjectsDigest::new();
    let mut cases = Vec::with_capacity(CHUNK);
    let version = app.pseudo.current_version();
    let mut checked = file.checked();
    while let Some(row) = checked.next() {
        if !checked.is_clean() {
            // Nothing more is stored; the rest is read for its errors.
            continue;
        }
        let case_id = CaseId::for_line(list_id, row.line);
        let household = app.pseudo.household_token(&household_identity(
            &row.nom,
            &row.prenom,
            row.code_postal.as_ref(),
        ));
        let subject = app.pseudo.subject_ref(&household);
        households.add(&subject);
        let json = row.to_compact_json();
        for route in &mut routes {
            if view.rows == ViewRows::Scope
                && !crate::policy::in_scope(policy, &route.partner, &row)
            {
                continue;
            }
            route.add(app, view, &row, None, &case_id, version, &subject)?;
        }
        cases.push(crate::store::cases::NewCase {
            sealed: app.pseudo.seal(case_id.as_str(), &json),
            key_version: i64::from(version),
            case_id,
            line: row.line as i64,
            household,
            subject,
            date_cdp: row.date_cdp.to_string(),
            code_postal: row.code_postal.as_ref().to_owned(),
            bailleur_type: row.bailleur_type.as_str().to_owned(),
            ref_key: app
                .pseudo
                .lookup_key(super::procedures::REF_CDP, row.ref_cdp.trim()),
        });
        if cases.len() == CHUNK {
            let full = std::mem::replace(&mut cases, Vec::with_capacity(CHUNK));
            if !send(Batch::Cases(full)) {
                return Ok((Vec::new(), households));
            }
            for route in &mut routes {
                if !send(Batch::Piece(route.take())) {
                    return Ok((Vec::new(), households));
                }
            }
        }
    }
    checked.finish()?;
    if !cases.is_empty() && !send(Batch::Cases(cases)) {
        return Ok((Vec::new(), households));
    }
    for route in &mut routes {
        route.finish()?;
        if !send(Batch::Piece(route.take())) {
            return Ok((Vec::new(), households));
        }
    }
    Ok((routes, households))
}

/// Every list received, newest first (`source`, `secretariat`).
pub async fn all(app: &App, actor: &Actor) -> Result<Vec<ListMeta>, CircuitError> {
    actor.require_any(&[Role::Source, Role::Secretariat])?;
    Ok(lists::all(app.store.pool()).await?)
}

/// What became of a list: its cases by state, and how many have CAF's
/// enrichment.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ListProgress {
    /// Cases by state (`received`, `enriched`, `in_concertation`…).
    pub states: std::collections::BTreeMap<String, i64>,
    /// Cases whose enrichment CAF has returned.
    pub enriched: i64,
}

impl ListProgress {
    /// Cases in `state`.
    pub fn count(&self, state: crate::domain::CaseState) -> i64 {
        self.states.get(state.as_str()).copied().unwrap_or(0)
    }

    /// Cases routed to the members or decided.
    pub fn routed_or_further(&self) -> i64 {
        use crate::domain::CaseState;
        self.states.values().sum::<i64>()
            - self.count(CaseState::Received)
            - self.count(CaseState::Enriched)
    }

    /// Cases decided in a concertation (a referent, or not processed).
    pub fn decided(&self) -> i64 {
        self.routed_or_further() - self.count(crate::domain::CaseState::InConcertation)
    }
}

/// Every list received, newest first, each with what became of its cases
/// (`source`, `secretariat`).
pub async fn all_with_progress(
    app: &App,
    actor: &Actor,
) -> Result<Vec<(ListMeta, ListProgress)>, CircuitError> {
    let lists = all(app, actor).await?;
    let pool = app.store.pool();
    let mut by_list: std::collections::HashMap<String, ListProgress> = Default::default();
    for (list, state, n) in crate::store::cases::states_by_list(pool).await? {
        by_list
            .entry(list)
            .or_default()
            .states
            .insert(state.as_str().to_owned(), n);
    }
    for (list, n) in crate::store::cases::enriched_by_list(pool).await? {
        by_list.entry(list).or_default().enriched = n;
    }
    Ok(lists
        .into_iter()
        .map(|l| {
            let p = by_list.remove(&l.list_id).unwrap_or_default();
            (l, p)
        })
        .collect())
}

/// The answer to routing a list (docs/convention.md `POST /v1/lists/{id}/route`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RouteReceipt {
    /// Cases routed now.
    pub cases: usize,
    /// Files produced.
    pub files: Vec<String>,
    /// The list.
    pub list_id: String,
}

/// Routes a list's cases not yet routed to the concertation members,
/// without waiting for CAF (`secretariat`).
pub async fn route_list(
    app: &App,
    actor: &Actor,
    list_id: &str,
) -> Result<RouteReceipt, CircuitError> {
    actor.require(Role::Secretariat)?;
    let mut tx = app.store.begin().await?;
    if !lists::exists(&mut tx, list_id).await? {
        return Err(CircuitError::NotFound);
    }
    let pending: Vec<Case> =
        cases::open_all(app, crate::store::cases::of_list(&mut tx, list_id).await?)?
            .into_iter()
            .filter(|c| c.state.awaits_routing())
            .collect();
    let at = now_ms();
    let files = routing::to_concertation(app, &mut tx, &pending, actor, at).await?;
    let mut rec = actor.record("list.route", Outcome::Ok);
    rec.objects = vec![format!("list:{list_id}")];
    rec.objects
        .extend(files.iter().map(|f| format!("file:{f}")));
    rec.rows = Some(pending.len() as u64);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(RouteReceipt {
        cases: pending.len(),
        files,
        list_id: list_id.to_owned(),
    })
}

/// The answer to a withdrawal (docs/convention.md `DELETE /v1/lists/{list_id}`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct WithdrawReceipt {
    /// The list.
    pub list_id: String,
    /// Cases deleted.
    pub withdrawn_cases: u64,
}

/// The columns of a `retrait` file.
pub const RETRAIT_COLUMNS: [&str; 1] = ["token"];

/// Withdraws a list sent by mistake, by the source that uploaded it (any
/// other caller: 404, as for a list that does not exist): its cases and
/// their tokens, enrichments and answers are deleted, and its files not
/// yet acknowledged; each partner its cases may have reached (one of its
/// files acknowledged, or a file of several lists sent since it arrived)
/// receives a `retrait` file listing its tokens of those cases, to delete.
/// Refused with 409 `conflict` once any of its cases has been decided.
/// One transaction with its audit entries: applied whole or not at all.
pub async fn withdraw_list(
    app: &App,
    actor: &Actor,
    list_id: &str,
) -> Result<WithdrawReceipt, CircuitError> {
    actor.require(Role::Source)?;
    let mut tx = app.store.begin().await?;
    let Some(meta) = lists::get(&mut tx, list_id).await? else {
        return Err(CircuitError::NotFound);
    };
    if meta.source != actor.partner_id() {
        return Err(CircuitError::NotFound);
    }
    if crate::store::cases::any_decided_in_list(&mut tx, list_id).await? {
        return Err(CircuitError::Conflict {
            message: format!(
                "list {list_id} cannot be withdrawn: some of its cases have been decided \
                 in a concertation; nothing was changed"
            ),
            lines: Vec::new(),
        });
    }
    let period = Period::parse(&meta.period).map_err(|e| {
        CircuitError::Store(crate::store::StoreError::Invalid {
            column: "lists.period",
            value: e.to_string(),
        })
    })?;
    let since = lists::created_at(&mut tx, list_id).await?;
    let at = now_ms();
    let reached = crate::store::outbox::partners_reached(&mut tx, list_id, since).await?;
    let tokens = crate::store::tokens::of_list(&mut tx, list_id).await?;
    let deleted = crate::store::outbox::delete_waiting_of_list(&mut tx, list_id).await?;
    let mut files = Vec::new();
    let mut by_partner: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (partner, token) in &tokens {
        if reached.contains(partner) {
            by_partner.entry(partner).or_default().push(token);
        }
    }
    let partners = app.partners();
    for (partner_id, tokens) in by_partner {
        let Some(partner) = partners.get(partner_id) else {
            // A partner since removed from the configuration: nobody to
            // send the file to.
            continue;
        };
        let mut route = routing::Route::new(partner.clone(), &RETRAIT_COLUMNS)?;
        for token in tokens {
            route.add_cells(&[token])?;
        }
        files.push(
            route
                .emit(
                    &mut tx,
                    FileKind::Retrait,
                    period,
                    Some(list_id),
                    None,
                    actor,
                    at,
                )
                .await?,
        );
    }
    let withdrawn = crate::store::cases::delete_of_list(&mut tx, list_id).await?;
    lists::delete(&mut tx, list_id).await?;
    let mut rec = actor.record("list.withdraw", Outcome::Ok);
    rec.objects = vec![format!("list:{list_id}")];
    rec.objects
        .extend(deleted.iter().map(|f| format!("deleted:{f}")));
    rec.objects
        .extend(files.iter().map(|f| format!("file:{f}")));
    rec.rows = Some(withdrawn);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    tracing::info!(list = %list_id, cases = withdrawn, retrait_files = files.len(), "list withdrawn");
    Ok(WithdrawReceipt {
        list_id: list_id.to_owned(),
        withdrawn_cases: withdrawn,
    })
}
