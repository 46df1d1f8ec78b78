//! `/perimetre` (a concertation member): the households of its scope
//! awaiting the concertation, with exactly the fields of its
//! `concertation` view, and the question the circuit asks of it, "do we
//! already follow this household?", answered case by case or for a
//! selection; the answers are applied as a `referent` return.

use super::page::{self, Refusal, layout};
use super::session::audited;
use super::{ConsoleState, Signed};
use crate::circuit::desk::{self, Followed, InScope};
use crate::circuit::returns::ReturnOutcome;
use crate::domain::Token;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use std::sync::Arc;

/// `?fait=N`: how many answers the last form recorded.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Done {
    fait: Option<u64>,
    deja: Option<String>,
}

/// The fields shown together in the first two columns (the household,
/// its address) rather than one column each.
const MERGED: [&str; 6] = [
    "token",
    "nom",
    "prenom",
    "adresse",
    "code_postal",
    "commune",
];

/// The member's answer so far, in words.
fn answer_text(a: &InScope) -> Markup {
    match &a.answer {
        None => html! { span.small { "pas encore répondu" } },
        Some((false, _, _)) => html! { "non suivi" },
        Some((true, org, name)) => html! {
            strong { "suivi" }
            @if let Some(o) = org { " par " (o) }
            @if let Some(n) = name { " (" (n) ")" }
        },
    }
}

/// `GET /perimetre`.
pub(super) async fn page(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Result<Response, Refusal> {
    let today = time::OffsetDateTime::now_utc().date();
    let scope = desk::scope(st.app(), &signed.actor, today).await?;
    let columns: Vec<String> = scope
        .first()
        .map(|s| {
            s.shown
                .cells
                .iter()
                .map(|(f, _)| f.clone())
                .filter(|f| !MERGED.contains(&f.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let unanswered = scope.iter().filter(|s| s.answer.is_none()).count();
    let body = html! {
        @if let Some(n) = done.fait {
            div.notice role="status" {
                p { strong { (n) " réponse(s) enregistrée(s)" } ". L'ordre du jour de la concertation en tient compte." }
            }
        }
        @if done.deja.is_some() {
            div.notice role="status" { p { "Ces réponses étaient déjà enregistrées : rien n'a changé." } }
        }
        p {
            (scope.len()) " ménage(s) de votre périmètre attendent la concertation, "
            (unanswered) " sans réponse de votre part. "
            "Pour chacun, dites si votre structure suit déjà le ménage et, si oui, le nom de son référent."
        }
        @if !scope.is_empty() {
            form method="post" action="/perimetre" {
                input type="hidden" name="csrf" value=(signed.csrf);
                table.agenda {
                    caption { "Ménages de votre périmètre, les plus urgents d'abord" }
                    thead { tr {
                        th scope="col" { "Choisir" }
                        th scope="col" { "Ménage" }
                        th scope="col" { "Adresse" }
                        @for c in &columns { th scope="col" { (page::field_label(c)) } }
                        th scope="col" { "Délai restant" }
                        th scope="col" { "Votre réponse" }
                        th scope="col" { "Déjà suivi ?" }
                        th scope="col" { "Nom du référent" }
                    } }
                    tbody {
                        @for s in &scope {
                            @let t = s.shown.token.as_str();
                            @let who = s.shown.who();
                            tr {
                                td {
                                    label.visually-hidden for={ "s-" (t) } { "Choisir " (who) }
                                    input type="checkbox" id={ "s-" (t) } name={ "sel." (t) } value="oui";
                                }
                                th scope="row" { (who) }
                                td {
                                    (s.shown.get("adresse").unwrap_or(""))
                                    br;
                                    (s.shown.get("code_postal").unwrap_or("")) " " (s.shown.get("commune").unwrap_or(""))
                                }
                                @for c in &columns {
                                    td { (page::field_value(c, s.shown.get(c).unwrap_or(""))) }
                                }
                                td.num.urgent[s.shown.jours_restants < 15] { (page::days_left(s.shown.jours_restants)) }
                                td { (answer_text(s)) }
                                td {
                                    label.visually-hidden for={ "r-" (t) } { "Déjà suivi : " (who) }
                                    select id={ "r-" (t) } name={ "rep." (t) } {
                                        option value="" selected { "—" }
                                        option value="oui" { "oui" }
                                        option value="non" { "non" }
                                    }
                                }
                                td {
                                    label.visually-hidden for={ "n-" (t) } { "Nom du référent de " (who) }
                                    input type="text" id={ "n-" (t) } name={ "nom." (t) } maxlength="120" autocomplete="off";
                                }
                            }
                        }
                    }
                }
                fieldset {
                    legend { "Pour les ménages cochés sans réponse sur leur ligne" }
                    p {
                        label for="lot" { "Déjà suivis ?" } " "
                        select id="lot" name="lot" {
                            option value="" selected { "—" }
                            option value="oui" { "oui" }
                            option value="non" { "non" }
                        }
                        " "
                        label for="lot_nom" { "Nom du référent" } " "
                        input type="text" id="lot_nom" name="lot_nom" maxlength="120" autocomplete="off";
                    }
                }
                p.actions { button type="submit" { "Enregistrer les réponses" } }
            }
        }
    };
    Ok(audited(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/perimetre", "Périmètre", body),
    )))
}

/// One answer from the form: `oui` (with the referent's name, if given)
/// or `non` (without a name).
fn one(token: &str, rep: &str, nom: &str) -> Result<Followed, Refusal> {
    let nom = nom.trim();
    match rep {
        "oui" => Ok(Followed::Yes((!nom.is_empty()).then(|| nom.to_owned()))),
        "non" if nom.is_empty() => Ok(Followed::No),
        "non" => Err(Refusal::bad_form(format!(
            "Dossier {token} : un nom de référent est donné avec la réponse « non » ; \
             choisissez « oui » ou effacez le nom. Rien n'a été enregistré."
        ))),
        other => Err(Refusal::bad_form(format!(
            "Dossier {token} : réponse « {other} » illisible (oui ou non). Rien n'a été enregistré."
        ))),
    }
}

/// Reads the form: `rep.<token>` and `nom.<token>` per row; `sel.<token>`
/// with `lot` and `lot_nom` for the rows chosen without an answer of
/// their own.
fn answers(fields: &[(String, String)]) -> Result<Vec<(Token, Followed)>, Refusal> {
    let value = |k: &str| {
        fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut out: Vec<(Token, Followed)> = Vec::new();
    for (k, rep) in fields {
        let Some(t) = k.strip_prefix("rep.") else {
            continue;
        };
        if rep.is_empty() {
            continue;
        }
        out.push((Token::new(t), one(t, rep, value(&format!("nom.{t}")))?));
    }
    let lot = value("lot");
    for (k, _) in fields {
        let Some(t) = k.strip_prefix("sel.") else {
            continue;
        };
        if out.iter().any(|(o, _)| o.as_str() == t) {
            continue;
        }
        if lot.is_empty() {
            return Err(Refusal::bad_form(
                "Des ménages sont cochés mais aucune réponse n'est choisie pour eux \
                 (« Déjà suivis ? » sous le tableau). Rien n'a été enregistré.",
            ));
        }
        out.push((Token::new(t), one(t, lot, value("lot_nom"))?));
    }
    Ok(out)
}

/// `POST /perimetre`: applies the answers as one `referent` return.
pub(super) async fn answer(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    signed.check_csrf_in(&fields)?;
    let given = answers(&fields)?;
    if given.is_empty() {
        return Err(Refusal::bad_form(
            "Aucune réponse choisie : indiquez « oui » ou « non » pour au moins un ménage. \
             Rien n'a été enregistré.",
        ));
    }
    let to = match desk::answer(st.app(), &signed.actor, &given).await? {
        ReturnOutcome::Created(r) => format!("/perimetre?fait={}", r.applied),
        ReturnOutcome::Duplicate(_) => "/perimetre?deja=oui".to_owned(),
    };
    Ok(audited(Redirect::to(&to).into_response()))
}
