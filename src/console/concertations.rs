//! `/concertations` (the secretariat): open the month's concertation, the
//! agenda as the meeting needs it, accept the proposals or decide case by
//! case, the dossiers routed to each referent.

use super::page::{self, Refusal, layout};
use super::session::audited;
use super::{ConsoleState, Signed};
use crate::circuit::concertation::{self, Agenda, AgendaEntry, Decision, DecisionRequest};
use crate::domain::{NonTraiteMotif, Role};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A not-processed motif in French.
pub(super) fn motif_fr(m: &str) -> &str {
    match NonTraiteMotif::parse(m) {
        Some(NonTraiteMotif::Demenagement) => "déménagement",
        Some(NonTraiteMotif::DetteSoldee) => "dette soldée",
        Some(NonTraiteMotif::Reorientation) => "réorientation vers un autre dispositif",
        Some(NonTraiteMotif::HorsSecteur) => "hors secteur",
        Some(NonTraiteMotif::Deces) => "décès",
        None => m,
    }
}

/// `GET /concertations`.
pub(super) async fn index(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
) -> Result<Response, Refusal> {
    let held = concertation::all(st.app(), &signed.actor).await?;
    let today = time::OffsetDateTime::now_utc().date();
    let body = html! {
        h2 { "Ouvrir la concertation du mois" }
        p { "L'ordre du jour réunit les ménages qui attendent un référent, avec la proposition des règles d'attribution." }
        form method="post" action="/concertations" {
            input type="hidden" name="csrf" value=(signed.csrf);
            p {
                label for="date" { "Date de la réunion" }
                input id="date" name="date" type="date" required value=(today.to_string());
            }
            p { button type="submit" { "Ouvrir la concertation" } }
        }
        h2 { "Concertations tenues" }
        @if held.is_empty() {
            p { "Aucune concertation n'a encore été ouverte." }
        } @else {
            table {
                caption { "Les concertations, les plus récentes d'abord" }
                thead { tr { th scope="col" { "Date" } th scope="col" { "Ménages à l'ordre du jour" } th scope="col" { "Ordre du jour" } } }
                tbody {
                    @for h in &held {
                        tr {
                            td { (page::date_fr(&h.date)) }
                            td.num { (h.cases) }
                            td { a href={ "/concertations/" (h.concertation_id) } { "Voir l'ordre du jour du " (page::date_fr(&h.date)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/concertations", "Concertations", body),
    ))
}

/// The opening form.
#[derive(Debug, serde::Deserialize)]
pub(super) struct OpenForm {
    csrf: Option<String>,
    date: Option<String>,
}

/// `POST /concertations`: opens it and shows its agenda.
pub(super) async fn open(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Form(form): Form<OpenForm>,
) -> Result<Response, Refusal> {
    signed.check_csrf(form.csrf.as_deref())?;
    let date = form
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| Refusal::bad_form("Indiquez la date de la réunion."))?;
    let date = crate::domain::parse_date(date).map_err(|_| {
        Refusal::bad_form(format!(
            "La date « {date} » n'est pas une date (JJ/MM/AAAA)."
        ))
    })?;
    let agenda = concertation::open(st.app(), &signed.actor, date).await?;
    Ok(audited(
        Redirect::to(&format!("/concertations/{}", agenda.concertation_id)).into_response(),
    ))
}

/// `GET /concertations/{id}`: the agenda, its decision form, the dossiers
/// routed.
pub(super) async fn show(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let agenda = concertation::get(st.app(), &signed.actor, &id).await?;
    let body = agenda_page(&st, &signed, &agenda, None);
    Ok(audited(page::answer(StatusCode::OK, body)))
}

/// The reasons the circuit itself writes, in French; the policy's own
/// reasons (`policy.toml`, written by the département) as they are.
fn reason_fr(r: &str) -> String {
    if let Some(o) =
        r.strip_prefix("household already followed: its referent for an earlier CDP was ")
    {
        return format!("ménage déjà suivi : son référent pour un CDP antérieur était {o}");
    }
    if let Some(o) = r
        .strip_prefix("referent already known: ")
        .and_then(|r| r.strip_suffix(" follows the household"))
    {
        return format!("référent déjà connu : {o} suit le ménage");
    }
    match r.strip_prefix("no proposal: ") {
        Some("CAF's enrichment has not been received") => {
            "pas de proposition : l'enrichissement de la CAF n'est pas encore reçu".to_owned()
        }
        Some("no attribution rule applies") => {
            "pas de proposition : aucune règle d'attribution ne s'applique".to_owned()
        }
        Some(other) => format!("pas de proposition : {other}"),
        None => r.to_owned(),
    }
}

/// A proposal or a decision: the referent, or "non traité" and its
/// motif.
fn verdict_text(organisme: Option<&str>, non_traite: Option<&str>) -> String {
    match (organisme, non_traite) {
        (Some(o), _) => o.to_owned(),
        (None, Some(m)) => format!("non traité : {}", motif_fr(m)),
        (None, None) => "—".to_owned(),
    }
}

fn proposal_text(e: &AgendaEntry) -> String {
    match &e.proposal {
        Some(p) => verdict_text(p.organisme.as_deref(), p.non_traite.as_deref()),
        None => "aucune".to_owned(),
    }
}

fn agenda_page(
    st: &ConsoleState,
    signed: &Signed,
    agenda: &Agenda,
    notice: Option<Markup>,
) -> Markup {
    let partners = st.app().partners();
    let referents: Vec<_> = partners.with_role(Role::Referent).cloned().collect();
    let undecided = agenda
        .agenda
        .iter()
        .filter(|e| e.decision.is_none())
        .count();
    let mut routed: BTreeMap<String, Vec<&AgendaEntry>> = BTreeMap::new();
    for e in &agenda.agenda {
        if let Some(o) = e.decision.as_ref().and_then(|d| d.organisme.clone()) {
            routed.entry(o).or_default().push(e);
        }
    }
    let title = format!("Concertation du {}", page::date_fr(&agenda.date));
    let body = html! {
        @if let Some(n) = notice { (n) }
        p {
            (agenda.agenda.len()) " ménage(s) à l'ordre du jour, " (undecided) " sans décision. "
            "Les plus proches de la fin du délai légal sont en tête."
        }
        @if agenda.agenda.is_empty() {
            p { "Aucun ménage n'attend de référent." }
        } @else {
            form method="post" action={ "/concertations/" (agenda.concertation_id) "/decisions" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                table.agenda {
                    caption { "Ordre du jour" }
                    thead { tr {
                        th scope="col" { "Ménage" }
                        th scope="col" { "Commune" }
                        th scope="col" { "Date du CDP" }
                        th scope="col" { "Délai restant" }
                        th scope="col" { "Proposition et motif" }
                        th scope="col" { "Déjà suivi par" }
                        th scope="col" { "Référent précédent" }
                        th scope="col" { "Décision" }
                    } }
                    tbody {
                        @for e in sorted(&agenda.agenda) {
                            tr {
                                th scope="row" { (e.nom) " " (e.prenom) }
                                td { (e.commune) }
                                td { (page::date_fr(&e.date_cdp)) }
                                td.num.urgent[e.jours_restants < 15] { (page::days_left(e.jours_restants)) }
                                td {
                                    strong { (proposal_text(e)) }
                                    @if let Some(p) = &e.proposal { br; span.small { (reason_fr(&p.reason)) } }
                                    @else if let Some(why) = &e.no_proposal_reason { br; span.small { (reason_fr(why)) } }
                                }
                                td { (e.referent_connu.as_deref().unwrap_or("—")) }
                                td { (e.referent_precedent.as_deref().unwrap_or("—")) }
                                td {
                                    @if let Some(d) = &e.decision {
                                        strong { (verdict_text(d.organisme.as_deref(), d.non_traite.as_deref())) }
                                    } @else {
                                        label.visually-hidden for={ "d-" (e.token) } { "Décision pour " (e.nom) " " (e.prenom) }
                                        select id={ "d-" (e.token) } name={ "decision." (e.token) } {
                                            option value="" selected { "— la proposition, ou plus tard" }
                                            optgroup label="Référent" {
                                                @for r in &referents {
                                                    option value={ "org:" (r.id) } { (r.name) " (" (r.id) ")" }
                                                }
                                            }
                                            optgroup label="Non traité" {
                                                @for m in NonTraiteMotif::ALL {
                                                    option value={ "nt:" (m.as_str()) } { "non traité : " (motif_fr(m.as_str())) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if undecided > 0 {
                    p.actions {
                        button type="submit" name="accepter" value="oui" { "Enregistrer les choix et accepter les autres propositions" }
                        " "
                        button type="submit" name="accepter" value="non" { "Enregistrer seulement les choix faits" }
                    }
                }
            }
        }
        h2 { "Dossiers transmis à chaque référent" }
        @if routed.is_empty() {
            p { "Aucun dossier transmis pour l'instant." }
        } @else {
            @for (org, entries) in &routed {
                h3 { (partners.get(org).map(|p| p.name.as_str()).unwrap_or(org)) " (" (org) ") : " (entries.len()) " dossier(s)" }
                ul { @for e in entries { li { (e.nom) " " (e.prenom) ", " (e.commune) } } }
            }
        }
        p { a href="/concertations" { "Toutes les concertations" } }
    };
    layout(Some(signed), "/concertations", &title, body)
}

/// The most urgent first (fewest days left), then by name.
fn sorted(entries: &[AgendaEntry]) -> Vec<&AgendaEntry> {
    let mut v: Vec<_> = entries.iter().collect();
    v.sort_by(|a, b| {
        (a.jours_restants, &a.nom, &a.prenom).cmp(&(b.jours_restants, &b.nom, &b.prenom))
    });
    v
}

/// Reads the decision form: `csrf`, `accepter` (`oui`: accept the other
/// proposals), `decision.<token>` = `org:<partner>` or `nt:<motif>`.
fn decision_request(fields: &[(String, String)]) -> Result<DecisionRequest, Refusal> {
    let mut decisions = Vec::new();
    for (k, v) in fields {
        let Some(token) = k.strip_prefix("decision.") else {
            continue;
        };
        let (organisme, non_traite) = match v.split_once(':') {
            _ if v.is_empty() => continue,
            Some(("org", o)) => (Some(o.to_owned()), None),
            Some(("nt", m)) => (None, Some(m.to_owned())),
            _ => {
                return Err(Refusal::bad_form(format!(
                    "Décision illisible pour le dossier {token} : choisissez un référent ou un motif."
                )));
            }
        };
        decisions.push(Decision {
            token: token.to_owned(),
            organisme,
            non_traite,
        });
    }
    let accept_proposals = fields.iter().any(|(k, v)| k == "accepter" && v == "oui");
    Ok(DecisionRequest {
        accept_proposals,
        decisions,
    })
}

/// `POST /concertations/{id}/decisions`.
pub(super) async fn decide(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, Refusal> {
    signed.check_csrf_in(&fields)?;
    let req = decision_request(&fields)?;
    if req.decisions.is_empty() && !req.accept_proposals {
        return Err(Refusal::bad_form(
            "Aucune décision choisie : choisissez un référent ou un motif pour au moins un ménage, \
             ou acceptez les propositions.",
        ));
    }
    let decided = concertation::decide(st.app(), &signed.actor, &id, &req).await?;
    let agenda = concertation::get(st.app(), &signed.actor, &id).await?;
    let notice = html! {
        div.notice role="status" {
            p { strong { (decided.decided.len()) " décision(s) enregistrée(s)" } " ; " (decided.files.len()) " dossier(s) transmis aux référents." }
        }
    };
    let body = agenda_page(&st, &signed, &agenda, Some(notice));
    Ok(audited(page::answer(StatusCode::OK, body)))
}

#[cfg(test)]
mod tests {
    use super::reason_fr;

    #[test]
    fn the_circuits_reasons_in_french() {
        assert_eq!(
            reason_fr("no proposal: CAF's enrichment has not been received"),
            "pas de proposition : l'enrichissement de la CAF n'est pas encore reçu"
        );
        assert_eq!(
            reason_fr("referent already known: mdsf follows the household"),
            "référent déjà connu : mdsf suit le ménage"
        );
        assert_eq!(reason_fr("person under 50"), "person under 50");
    }
}
