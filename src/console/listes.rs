//! `/listes` (the DDETS agent): send the month's list, see it accepted or
//! every bad line explained, the earlier lists and what became of them,
//! withdraw one sent by mistake.

use super::page::{self, Refusal, layout};
use super::session::audited;
use super::{ConsoleState, Signed};
use crate::circuit::lists::{self, ListOutcome, ListReceipt};
use crate::domain::{Period, Role};
use crate::ingest::{SpoolError, SpoolWriter};
use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use std::sync::Arc;

/// The current month, `AAAA-MM` (the form's default period).
fn this_month() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}", d.year(), d.month() as u8)
}

fn upload_form(signed: &Signed, period: &str) -> Markup {
    html! {
        form method="post" action="/listes" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(signed.csrf);
            p {
                label for="periode" { "Période de la liste (AAAA-MM)" }
                input id="periode" name="periode" type="text" required
                    pattern="[0-9]{4}-[0-9]{2}" value=(period) inputmode="numeric"
                    aria-describedby="periode-aide";
                span id="periode-aide" .hint { "Le mois des commandements de payer, par exemple " (this_month()) "." }
            }
            p {
                label for="fichier" { "Fichier de la liste (CSV ou XLSX, tel qu'exporté)" }
                input id="fichier" name="fichier" type="file" required
                    accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
            }
            p { button type="submit" { "Envoyer la liste" } }
        }
    }
}

/// `GET /listes`.
pub(super) async fn page(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
) -> Result<Response, Refusal> {
    let body = lists_page(&st, &signed, None).await?;
    Ok(page::answer(StatusCode::OK, body))
}

async fn lists_page(
    st: &ConsoleState,
    signed: &Signed,
    notice: Option<Markup>,
) -> Result<Markup, Refusal> {
    let all = lists::all_with_progress(st.app(), &signed.actor).await?;
    let may_send = signed.actor.has(Role::Source);
    let body = html! {
        @if let Some(n) = notice { (n) }
        @if may_send {
            h2 { "Envoyer la liste du mois" }
            (upload_form(signed, &this_month()))
        }
        h2 { "Listes reçues" }
        @if all.is_empty() {
            p { "Aucune liste n'a encore été reçue." }
        } @else {
            table {
                caption { "Les listes reçues, les plus récentes d'abord, et ce que sont devenus leurs ménages" }
                thead { tr {
                    th scope="col" { "Période" }
                    th scope="col" { "Reçue le" }
                    th scope="col" { "Lignes" }
                    th scope="col" { "Format" }
                    th scope="col" { "Enrichies par la CAF" }
                    th scope="col" { "Transmises aux membres ou décidées" }
                    th scope="col" { "Décidées" }
                    @if may_send { th scope="col" { "Retrait" } }
                } }
                tbody {
                    @for (l, p) in &all {
                        tr {
                            td { (l.period) }
                            td { (page::date_fr(&l.created_at)) }
                            td.num { (l.rows) }
                            td { (l.format) }
                            td.num { (p.enriched) " / " (l.rows) }
                            td.num { (p.routed_or_further()) " / " (l.rows) }
                            td.num { (p.decided()) }
                            @if may_send {
                                td {
                                    @if l.source == signed.actor.partner_id() {
                                        form method="post" action={ "/listes/" (l.list_id) "/retrait" } {
                                            input type="hidden" name="csrf" value=(signed.csrf);
                                            input type="checkbox" name="confirmer" value="oui" required
                                                id={ "confirmer-" (l.list_id) };
                                            label for={ "confirmer-" (l.list_id) } { "je confirme le retrait de la liste " (l.period) }
                                            " "
                                            button type="submit" { "Retirer" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(Some(signed), "/listes", "Listes", body))
}

/// The upload form, read: the period, the file spooled (bounded by the
/// API's `max_body_bytes`), the token.
struct Upload {
    csrf: Option<String>,
    period: Option<String>,
    file: Option<crate::ingest::Spool>,
}

async fn read_upload(st: &ConsoleState, mut form: Multipart) -> Result<Upload, Refusal> {
    let limit = st.app().config.gateway.limits.max_body_bytes;
    let mut up = Upload {
        csrf: None,
        period: None,
        file: None,
    };
    let bad = |e: axum::extract::multipart::MultipartError| {
        Refusal::bad_form(format!(
            "Le formulaire n'a pas pu être lu : {}",
            e.body_text()
        ))
    };
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => up.csrf = Some(field.text().await.map_err(bad)?),
            Some("periode") => up.period = Some(field.text().await.map_err(bad)?.trim().to_owned()),
            Some("fichier") => {
                let mut w = SpoolWriter::new(Some(&st.app().spool_dir()), limit)
                    .map_err(|e| Refusal::internal(&e))?;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    w.push(&chunk).map_err(|e| match e {
                        SpoolError::TooLarge { limit } => Refusal::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "too_large",
                            format!("Le fichier dépasse la taille admise ({limit} octets)."),
                        ),
                        other => Refusal::internal(&other),
                    })?;
                }
                up.file = Some(w.finish().map_err(|e| Refusal::internal(&e))?);
            }
            _ => {}
        }
    }
    Ok(up)
}

/// `POST /listes` (multipart: `csrf`, `periode`, `fichier`).
pub(super) async fn upload(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    form: Multipart,
) -> Result<Response, Refusal> {
    // Refused before the body is taken in.
    lists::may_upload(&signed.actor)?;
    let up = read_upload(&st, form).await?;
    signed.check_csrf(up.csrf.as_deref())?;
    let period = up
        .period
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Refusal::bad_form("Indiquez la période de la liste (AAAA-MM)."))
        .and_then(|p| {
            Period::parse(p).map_err(|_| {
                Refusal::bad_form(format!(
                    "La période « {p} » n'est pas un mois au format AAAA-MM (par exemple {}).",
                    this_month()
                ))
            })
        })?;
    let file = up
        .file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| Refusal::bad_form("Choisissez le fichier de la liste (CSV ou XLSX)."))?;
    let outcome = lists::accept_list(st.app(), &signed.actor, period, file).await?;
    let notice = match &outcome {
        ListOutcome::Created(r) => accepted(r, false),
        ListOutcome::Duplicate(r) => accepted(r, true),
    };
    let body = lists_page(&st, &signed, Some(notice)).await?;
    let status = match outcome {
        ListOutcome::Created(_) => StatusCode::CREATED,
        ListOutcome::Duplicate(_) => StatusCode::OK,
    };
    Ok(audited(page::answer(status, body)))
}

fn accepted(r: &ListReceipt, duplicate: bool) -> Markup {
    html! {
        div.notice role="status" {
            @if duplicate {
                p { "Cette liste avait déjà été reçue pour " (r.period) " (" (r.rows) " lignes) : rien n'a changé." }
            } @else {
                p { strong { "Liste acceptée" } " pour " (r.period) " : " (r.rows) " ligne" @if r.rows > 1 { "s" } " enregistrée" @if r.rows > 1 { "s" } "." }
                p { "La CAF reçoit maintenant les ménages à enrichir." }
            }
            p.small { "Référence : " code { (r.list_id) } }
        }
    }
}

/// The withdrawal form: the token and the confirmation box.
#[derive(Debug, serde::Deserialize)]
pub(super) struct WithdrawForm {
    csrf: Option<String>,
    confirmer: Option<String>,
}

/// `POST /listes/{list_id}/retrait`.
pub(super) async fn withdraw(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Path(list_id): Path<String>,
    Form(form): Form<WithdrawForm>,
) -> Result<Response, Refusal> {
    signed.check_csrf(form.csrf.as_deref())?;
    if form.confirmer.as_deref() != Some("oui") {
        return Err(Refusal::bad_form(
            "Cochez la case de confirmation pour retirer la liste.",
        ));
    }
    let r = lists::withdraw_list(st.app(), &signed.actor, &list_id).await?;
    let notice = html! {
        div.notice role="status" {
            p { "La liste " code { (r.list_id) } " est retirée : " (r.withdrawn_cases) " ménage(s) supprimé(s) ; les partenaires qui les avaient reçus sont prévenus." }
        }
    };
    let body = lists_page(&st, &signed, Some(notice)).await?;
    Ok(audited(page::answer(StatusCode::OK, body)))
}
