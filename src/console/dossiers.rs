//! `/dossiers` (a referent): the households attributed to the person's
//! institution with the fields of the `dossier` view, the days left
//! before the legal delay, what was reported so far, and a form for each
//! follow-up event, applied as a `followup` return. The households not
//! reached yet come first, under the referent's own alerts.

use super::alertes::state_fr;
use super::page::{self, Refusal, layout};
use super::session::audited;
use super::{ConsoleState, Signed};
use crate::circuit::desk::{self, Dossier};
use crate::circuit::returns::ReturnOutcome;
use crate::domain::Token;
use crate::domain::followup::{ClosingMotif, FollowupEvent};
use crate::ingest::returns::FollowUp;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use std::sync::Arc;

/// `?fait=<token>`: the dossier whose event was just recorded.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Done {
    fait: Option<String>,
    deja: Option<String>,
}

fn who(d: &Dossier) -> String {
    d.shown.who()
}

/// A closing motif's label, from its code.
fn motif_label(code: &str) -> &str {
    match ClosingMotif::parse(code) {
        Ok(m) => m.label_fr(),
        Err(_) => code,
    }
}

/// One dossier: its fields, its history, the event form.
fn dossier(signed: &Signed, d: &Dossier, today: time::Date) -> Markup {
    let t = d.shown.token.as_str();
    let over = d.shown.state.is_over();
    html! {
        section.dossier id={ "d-" (t) } aria-labelledby={ "h-" (t) } {
            h3 id={ "h-" (t) } { (who(d)) " — " (state_fr(d.shown.state)) }
            @if d.unreached {
                p { strong.urgent { "Pas encore joint ; délai restant : " (page::days_left(d.shown.jours_restants)) "." } }
            }
            dl.fields {
                @for (f, v) in &d.shown.cells {
                    @if f != "token" && f != "nom" && f != "prenom" {
                        dt { (page::field_label(f)) }
                        dd { (page::field_value(f, v)) }
                    }
                }
                dt { "Jeton" } dd { code { (t) } }
            }
            @if d.events.is_empty() {
                p { "Aucun événement signalé pour l'instant." }
            } @else {
                table {
                    caption { "Suivi de " (who(d)) }
                    thead { tr { th scope="col" { "Date" } th scope="col" { "Événement" } th scope="col" { "Motif" } } }
                    tbody {
                        @for (date, ev, motif) in &d.events {
                            tr {
                                td { (page::date_fr(date)) }
                                td { (ev.label_fr()) }
                                td { (motif.as_deref().map(motif_label).unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
            @if over {
                p { "Ce suivi est terminé : aucun événement ne peut plus y être ajouté." }
            } @else {
                form method="post" action="/dossiers/evenement" {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    input type="hidden" name="token" value=(t);
                    fieldset {
                        legend { "Signaler un événement pour " (who(d)) }
                        p {
                            label for={ "e-" (t) } { "Événement" } " "
                            select id={ "e-" (t) } name="evenement" required {
                                option value="" selected { "— choisir" }
                                @for e in FollowupEvent::ALL {
                                    option value=(e.as_str()) { (e.label_fr()) }
                                }
                            }
                            " "
                            label for={ "j-" (t) } { "Date" } " "
                            input type="date" id={ "j-" (t) } name="date" required value=(today.to_string());
                        }
                        p {
                            label for={ "m-" (t) } { "Motif (pour une clôture)" } " "
                            select id={ "m-" (t) } name="motif" {
                                option value="" selected { "—" }
                                @for m in ClosingMotif::ALL {
                                    option value=(m.as_str()) { (m.label_fr()) }
                                }
                            }
                            " "
                            label for={ "x-" (t) } { "Précision (facultative)" } " "
                            input type="text" id={ "x-" (t) } name="detail" maxlength="500" autocomplete="off";
                        }
                        p { button type="submit" { "Enregistrer l'événement" } }
                    }
                }
            }
        }
    }
}

/// `GET /dossiers`.
pub(super) async fn page(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<Response, Refusal> {
    let today = time::OffsetDateTime::now_utc().date();
    let list = desk::dossiers(st.app(), &signed.actor, today).await?;
    let unreached: Vec<&Dossier> = list.iter().filter(|d| d.unreached).collect();
    let closed = list.iter().filter(|d| d.shown.state.is_over()).count();
    let body = html! {
        @if let Some(t) = &done.fait {
            div.notice role="status" { p { strong { "Événement enregistré" } " pour le dossier " a href={ "#d-" (t) } { code { (t) } } "." } }
        }
        @if done.deja.is_some() {
            div.notice role="status" { p { "Cet événement était déjà enregistré : rien n'a changé." } }
        }
        p {
            (list.len()) " ménage(s) confié(s) à votre structure : "
            (unreached.len()) " pas encore joint(s), " (closed) " terminé(s)."
        }
        h2 { "Vos alertes" }
        @if unreached.is_empty() {
            p { "Tous les ménages confiés ont été joints." }
        } @else {
            table {
                caption { "Ménages pas encore joints, les plus urgents d'abord" }
                thead { tr { th scope="col" { "Ménage" } th scope="col" { "Commune" } th scope="col" { "Date du CDP" } th scope="col" { "Délai restant" } } }
                tbody {
                    @for d in &unreached {
                        tr {
                            th scope="row" { a href={ "#d-" (d.shown.token.as_str()) } { (who(d)) } }
                            td { (d.shown.get("commune").unwrap_or("—")) }
                            td { (page::field_value("date_cdp", d.shown.get("date_cdp").unwrap_or(""))) }
                            td.num.urgent[d.shown.jours_restants < 15] { (page::days_left(d.shown.jours_restants)) }
                        }
                    }
                }
            }
        }
        h2 { "Les dossiers" }
        @if list.is_empty() {
            p { "Aucun ménage n'a encore été confié à votre structure." }
        }
        @for d in &list { (dossier(&signed, d, today)) }
    };
    Ok(audited(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/dossiers", "Dossiers", body),
    )))
}

/// The event form.
#[derive(Debug, serde::Deserialize)]
pub(super) struct EventForm {
    csrf: Option<String>,
    token: Option<String>,
    date: Option<String>,
    evenement: Option<String>,
    motif: Option<String>,
    detail: Option<String>,
}

/// `POST /dossiers/evenement`: one follow-up event, applied as a
/// `followup` return.
pub(super) async fn record(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Form(form): Form<EventForm>,
) -> Result<Response, Refusal> {
    signed.check_csrf(form.csrf.as_deref())?;
    let token = page::given(&form.token)
        .ok_or_else(|| Refusal::bad_form("Le dossier n'est pas indiqué."))?;
    let evenement = page::given(&form.evenement).ok_or_else(|| {
        Refusal::bad_form("Choisissez l'événement à signaler. Rien n'a été enregistré.")
    })?;
    let evenement = FollowupEvent::parse(evenement).map_err(|_| {
        Refusal::bad_form(format!(
            "L'événement « {evenement} » n'existe pas. Rien n'a été enregistré."
        ))
    })?;
    let date = page::given(&form.date).ok_or_else(|| {
        Refusal::bad_form("Indiquez la date de l'événement. Rien n'a été enregistré.")
    })?;
    let date = crate::domain::parse_date(date).map_err(|_| {
        Refusal::bad_form(format!(
            "La date « {date} » n'est pas une date (JJ/MM/AAAA). Rien n'a été enregistré."
        ))
    })?;
    let motif = match page::given(&form.motif) {
        None => None,
        Some(m) => Some(ClosingMotif::parse(m).map_err(|_| {
            Refusal::bad_form(format!(
                "Le motif « {m} » n'existe pas. Rien n'a été enregistré."
            ))
        })?),
    };
    let event = FollowUp {
        date,
        evenement,
        motif,
        detail: page::given(&form.detail).map(str::to_owned),
    };
    let token = Token::new(token);
    let to = match desk::record_event(st.app(), &signed.actor, &token, &event).await? {
        ReturnOutcome::Created(_) => {
            format!("/dossiers?fait={}#d-{}", token.as_str(), token.as_str())
        }
        ReturnOutcome::Duplicate(_) => "/dossiers?deja=oui".to_owned(),
    };
    Ok(audited(Redirect::to(&to).into_response()))
}
