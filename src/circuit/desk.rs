//! What a person of a member or a referent works on in the console: the
//! households of the member's scope awaiting the concertation (and its
//! answer "do we already follow them?"), the dossiers attributed to the
//! referent (with their follow-up so far). Rows are projected through the
//! policy's views exactly as the files are (`concertation`, `dossier`),
//! under the partner's own tokens, recorded and audited as disclosed.
//! Answers and events are applied as the matching return would be: a CSV
//! `referent` or `followup` return is built and handed to
//! [`super::returns::accept_return`] (same checks, same audit, same effect).

use super::cases::{self, Case};
use super::returns::{self, ReturnOutcome};
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::{Role, View, ViewRows};
use crate::domain::followup::{ClosingMotif, FollowupEvent};
use crate::domain::{CaseState, FileKind, Token};
use crate::ingest::Spool;
use crate::ingest::returns::{FollowUp, ReturnKind};
use crate::store::{Tx, events, member_answers, tokens};
use crate::util::now_ms;

/// One household as a view shows it: the view's fields and their values.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The partner's token for the case.
    pub token: Token,
    /// `(field, value)` in the view's order (the token included).
    pub cells: Vec<(String, String)>,
    /// The case's state.
    pub state: CaseState,
    /// Days left before the legal delay runs out (negative: passed).
    pub jours_restants: i64,
}

impl Shown {
    /// The value of `field`, if the view shows it.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.cells
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }

    /// The household as people name it, "Nom Prénom" (its token when the
    /// view shows neither).
    pub fn who(&self) -> String {
        let name = [self.get("nom"), self.get("prenom")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if name.trim().is_empty() {
            self.token.as_str().to_owned()
        } else {
            name
        }
    }
}

/// A household of the member's scope awaiting the concertation.
#[derive(Debug, Clone)]
pub struct InScope {
    /// As the `concertation` view shows it.
    pub shown: Shown,
    /// The member's answer so far: `(referent_connu, organisme, name)`.
    pub answer: Option<(bool, Option<String>, Option<String>)>,
}

/// A dossier attributed to the referent.
#[derive(Debug, Clone)]
pub struct Dossier {
    /// As the `dossier` view shows it.
    pub shown: Shown,
    /// The events reported so far, in date order: `(date, event, motif)`.
    pub events: Vec<(String, FollowupEvent, Option<String>)>,
    /// Not reached yet (no contact event) and not over.
    pub unreached: bool,
}

/// The view `kind` of the policy, or a clear refusal when it is missing.
pub(super) fn view(app: &App, kind: FileKind) -> Result<&View, CircuitError> {
    app.config
        .policy
        .view(kind)
        .ok_or_else(|| CircuitError::BadRequest(format!("the policy has no {kind} view")))
}

/// Projects `cases` through `view` under the actor's tokens, records the
/// tokens and audits the disclosure (`action`, the view's fields, the
/// households).
async fn disclose(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    view: &View,
    cases: &[Case],
    today: time::Date,
) -> Result<Vec<Shown>, CircuitError> {
    let mut out = Vec::with_capacity(cases.len());
    let mut given = Vec::with_capacity(cases.len());
    for c in cases {
        let token = app
            .pseudo
            .case_token(c.key_version, actor.partner_id(), c.case_id.as_str());
        let cells = view
            .fields
            .iter()
            .map(|f| {
                (
                    f.name.clone(),
                    crate::policy::cell(&c.row, c.enrichment.as_ref(), &token, f),
                )
            })
            .collect();
        given.push((Token::new(&token), c.case_id.clone()));
        out.push(Shown {
            token: Token::new(token),
            cells,
            state: c.state,
            jours_restants: super::concertation::days_left(app, c.row.date_cdp, today),
        });
    }
    tokens::insert(tx, actor.partner_id(), given, now_ms()).await?;
    let mut rec = actor.record(action, Outcome::Ok);
    rec.fields = view.columns().iter().map(|c| (*c).to_owned()).collect();
    rec.rows = Some(out.len() as u64);
    rec.subjects = cases.iter().map(|c| c.subject.clone()).collect();
    audit::append(tx, &rec).await?;
    Ok(out)
}

/// The households of the member's scope awaiting the concertation, with
/// its answers so far (`member`).
pub async fn scope(
    app: &App,
    actor: &Actor,
    today: time::Date,
) -> Result<Vec<InScope>, CircuitError> {
    actor.require(Role::Member)?;
    let view = view(app, FileKind::Concertation)?;
    let mut tx = app.store.begin().await?;
    let mine = scope_cases(app, &mut tx, actor, view).await?;
    let shown = disclose(app, &mut tx, actor, "scope.read", view, &mine, today).await?;
    let mut out = Vec::with_capacity(shown.len());
    for (c, shown) in mine.iter().zip(shown) {
        let answer =
            match member_answers::of_partner(&mut tx, &c.case_id, actor.partner_id()).await? {
                Some(a) => {
                    let name = match &a.sealed {
                        Some(s) => Some(open_text(
                            app,
                            &format!("{}/referent/{}", c.case_id, actor.partner_id()),
                            s,
                        )?),
                        None => None,
                    };
                    Some((a.referent_connu, a.organisme, name))
                }
                None => None,
            };
        out.push(InScope { shown, answer });
    }
    tx.commit().await?;
    Ok(out)
}

/// The cases awaiting the concertation that `view` shows the member
/// (its scope, or all of them for a view of every row).
pub(super) async fn scope_cases(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    view: &View,
) -> Result<Vec<Case>, CircuitError> {
    let waiting = cases::open_all(
        app,
        crate::store::cases::in_state(tx, CaseState::InConcertation).await?,
    )?;
    Ok(waiting
        .into_iter()
        .filter(|c| {
            view.rows != ViewRows::Scope
                || crate::policy::in_scope(&app.config.policy, &actor.partner, &c.row)
        })
        .collect())
}

fn open_text(app: &App, context: &str, sealed: &[u8]) -> Result<String, CircuitError> {
    let plain = app
        .pseudo
        .open(context, sealed)
        .map_err(|e| CircuitError::Sealed(e.to_string()))?;
    String::from_utf8(plain).map_err(|e| CircuitError::Sealed(e.to_string()))
}

/// The dossiers attributed to the referent's partner (`referent`), the
/// ones not reached yet first (most urgent first), then the others by CDP
/// date.
pub async fn dossiers(
    app: &App,
    actor: &Actor,
    today: time::Date,
) -> Result<Vec<Dossier>, CircuitError> {
    actor.require(Role::Referent)?;
    let view = view(app, FileKind::Dossier)?;
    let mut tx = app.store.begin().await?;
    let mine = cases::open_all(
        app,
        crate::store::cases::attributed_to(&mut tx, actor.partner_id()).await?,
    )?;
    let shown = disclose(app, &mut tx, actor, "dossiers.read", view, &mine, today).await?;
    let mut out = Vec::with_capacity(shown.len());
    for (c, shown) in mine.iter().zip(shown) {
        let mut evs = Vec::new();
        for e in events::of_case(&mut tx, &c.case_id).await? {
            let ev = FollowupEvent::parse(&e.evenement).map_err(CircuitError::BadRequest)?;
            evs.push((e.date, ev, e.motif));
        }
        let unreached = !c.state.is_over() && !evs.iter().any(|(_, e, _)| e.is_contact());
        out.push(Dossier {
            shown,
            events: evs,
            unreached,
        });
    }
    tx.commit().await?;
    out.sort_by_key(|d| (!d.unreached, d.unreached.then_some(d.shown.jours_restants)));
    Ok(out)
}

/// Writes a return of `kind` as CSV (`,`, UTF-8, the kind's columns).
fn return_csv(kind: ReturnKind, rows: &[Vec<String>]) -> Result<Vec<u8>, CircuitError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let bad = |e: &dyn std::fmt::Display| CircuitError::BadRequest(e.to_string());
    w.write_record(kind.columns()).map_err(|e| bad(&e))?;
    for r in rows {
        w.write_record(r).map_err(|e| bad(&e))?;
    }
    w.into_inner().map_err(|e| bad(&e))
}

/// A member's answer about one household: "we already follow it" (with
/// its referent's name, if given), or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    /// The member itself follows the household.
    Yes(Option<String>),
    /// It does not.
    No,
}

/// Applies the member's answers as one `referent` return, the member
/// itself named as the organisme that follows a household.
pub async fn answer(
    app: &App,
    actor: &Actor,
    answers: &[(Token, Followed)],
) -> Result<ReturnOutcome, CircuitError> {
    let rows: Vec<Vec<String>> = answers
        .iter()
        .map(|(t, a)| {
            let (connu, organisme, nom) = match a {
                Followed::Yes(nom) => ("oui", actor.partner_id(), nom.as_deref().unwrap_or("")),
                Followed::No => ("non", "", ""),
            };
            [t.as_str(), connu, organisme, nom]
                .map(str::to_owned)
                .to_vec()
        })
        .collect();
    let csv = return_csv(ReturnKind::Referent, &rows)?;
    returns::accept_return(app, actor, ReturnKind::Referent, Spool::from(csv)).await
}

/// Applies one follow-up event on the referent's `token` as a `followup`
/// return.
pub async fn record_event(
    app: &App,
    actor: &Actor,
    token: &Token,
    event: &FollowUp,
) -> Result<ReturnOutcome, CircuitError> {
    let row = vec![
        token.as_str().to_owned(),
        event.date.to_string(),
        event.evenement.as_str().to_owned(),
        event
            .motif
            .map(ClosingMotif::as_str)
            .unwrap_or_default()
            .to_owned(),
        event.detail.clone().unwrap_or_default(),
    ];
    let csv = return_csv(ReturnKind::Followup, &[row])?;
    returns::accept_return(app, actor, ReturnKind::Followup, Spool::from(csv)).await
}
