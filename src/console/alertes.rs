//! `/alertes` (the secretariat, a referent for its own): the hearings
//! coming in the next six weeks, then the households not yet reached,
//! most urgent first.

use super::page::{self, Refusal, layout};
use super::session::audited;
use super::{ConsoleState, Signed};
use crate::circuit::alerts;
use crate::domain::CaseState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use std::sync::Arc;

/// A case's state in French.
pub(super) fn state_fr(s: CaseState) -> &'static str {
    match s {
        CaseState::Received => "reçu, en attente de la CAF",
        CaseState::Enriched => "enrichi par la CAF",
        CaseState::InConcertation => "en concertation, sans référent",
        CaseState::Attributed => "référent désigné, pas encore joint",
        CaseState::Contacted => "joint",
        CaseState::Closed => "clos",
        CaseState::NonTraite => "non traité",
    }
}

/// `GET /alertes`.
pub(super) async fn page(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
) -> Result<Response, Refusal> {
    let today = time::OffsetDateTime::now_utc().date();
    let all = alerts::alerts(st.app(), &signed.actor, today).await?;
    let mut hearings: Vec<&alerts::Alert> = all.iter().filter(|a| a.audience.is_some()).collect();
    hearings.sort_by_key(|a| a.jours_avant_audience);
    let mut list: Vec<&alerts::Alert> = all.iter().filter(|a| a.unreached).collect();
    list.sort_by_key(|a| a.jours_restants);
    let passed = list.iter().filter(|a| a.jours_restants < 0).count();
    let body = html! {
        @if !hearings.is_empty() {
            h2 { "Audiences à venir" }
            p {
                (hearings.len()) " ménage(s) assigné(s) devant le juge dans les six semaines : "
                "faites parvenir le diagnostic social et financier avant l'audience."
            }
            table {
                caption { "Audiences des six prochaines semaines, les plus proches d'abord" }
                thead { tr {
                    th scope="col" { "Dossier" }
                    th scope="col" { "Audience" }
                    th scope="col" { "Dans" }
                    th scope="col" { "Date du CDP" }
                    th scope="col" { "État" }
                    th scope="col" { "Référent" }
                } }
                tbody {
                    @for a in &hearings {
                        @let days = a.jours_avant_audience.unwrap_or_default();
                        tr {
                            td { code { (a.token.as_str()) } }
                            td { (page::date_fr(a.audience.as_deref().unwrap_or_default())) }
                            td.num.urgent[days < 15] { (page::days_left(days)) }
                            td { (page::date_fr(&a.date_cdp)) }
                            td { (state_fr(a.state)) }
                            td { (a.referent.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
            h2 { "Ménages pas encore joints" }
        }
        p {
            (list.len()) " ménage(s) pas encore joint(s) au " (page::day_fr(today))
            @if passed > 0 { ", dont " strong { (passed) " au délai légal dépassé" } }
            "."
        }
        @if !list.is_empty() {
            table {
                caption { "Ménages pas encore joints, les plus urgents d'abord" }
                thead { tr {
                    th scope="col" { "Dossier" }
                    th scope="col" { "Date du CDP" }
                    th scope="col" { "Délai restant" }
                    th scope="col" { "État" }
                    th scope="col" { "Référent" }
                } }
                tbody {
                    @for a in &list {
                        tr {
                            td { code { (a.token.as_str()) } }
                            td { (page::date_fr(&a.date_cdp)) }
                            td.num.urgent[a.jours_restants < 15] { (page::days_left(a.jours_restants)) }
                            td { (state_fr(a.state)) }
                            td { (a.referent.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
    };
    Ok(audited(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/alertes", "Alertes", body),
    )))
}
