//! `/`: the person, their institution, what the circuit expects of them
//! this month (with counts and links), and the pages their roles open.

use super::page::{self, Refusal, layout};
use super::{ConsoleState, Signed};
use crate::circuit::todo::{self, Waiting};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use std::sync::Arc;

/// What each page is for, as the menu's links say it on the home page.
fn purpose(href: &str) -> &'static str {
    match href {
        "/listes" => {
            "envoyer la liste mensuelle des commandements de payer et suivre les listes envoyées"
        }
        "/concertations" => {
            "ouvrir la concertation du mois, voir l'ordre du jour et décider des référents"
        }
        "/perimetre" => {
            "les ménages de votre périmètre avant la concertation : dites si vous les suivez déjà"
        }
        "/dossiers" => {
            "les ménages confiés à votre structure : coordonnées, délai, suivi et événements à signaler"
        }
        "/alertes" => "les ménages pas encore joints, les plus urgents d'abord",
        "/journal" => {
            "l'état du journal des accès, ses anomalies, qui a consulté les données d'une personne, le rapport et l'export"
        }
        "/registre" => "le registre des traitements (article 30 du RGPD) en vigueur",
        "/chiffres" => "le tableau de la CCAPEX pour une période, en tableaux, graphiques et CSV",
        _ => "",
    }
}

/// A month `AAAA-MM` in words (`décembre 2026`).
fn month_fr(m: &str) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    match m.split_once('-').map(|(y, n)| (y, n.parse::<usize>())) {
        Some((y, Ok(n @ 1..=12))) => format!("{} {y}", MONTHS[n - 1]),
        _ => m.to_owned(),
    }
}

/// The work waiting, one line each with its link; "nothing" said plainly.
fn waiting(w: &Waiting) -> Markup {
    let mut items: Vec<Markup> = Vec::new();
    if let Some(m) = &w.list_missing {
        items.push(html! { a href="/listes" { "Envoyer la liste des commandements de payer" } " : aucune liste reçue en " (month_fr(m)) "." });
    }
    if let Some(n) = w.to_decide.filter(|n| *n > 0) {
        items.push(html! { a href="/concertations" { strong { (n) } " ménage(s) sans décision" } " : à inscrire à la prochaine concertation." });
    }
    if let Some(n) = w.to_answer.filter(|n| *n > 0) {
        items.push(html! { a href="/perimetre" { strong { (n) } " ménage(s) de votre périmètre" } " attendent votre réponse : les suivez-vous déjà ?" });
    }
    if let Some((n, urgent)) = w.to_reach.filter(|(n, _)| *n > 0) {
        items.push(html! {
            a href=(if w.to_decide.is_some() { "/alertes" } else { "/dossiers" }) { strong { (n) } " ménage(s) à joindre" }
            @if urgent > 0 { ", dont " strong.urgent { (urgent) " à moins de " (todo::URGENT_DAYS) " jours du délai légal" } }
            "."
        });
    }
    if let Some(n) = w.files.filter(|n| *n > 0) {
        items.push(html! { strong { (n) } " fichier(s) attendent d'être retirés par votre structure (client passerelle)." });
    }
    if let Some((n, intact)) = w.anomalies {
        if !intact {
            items.push(html! { a href="/journal" { strong.urgent { "Le journal des accès a été modifié" } } " : à examiner d'abord." });
        }
        if n > 0 {
            items.push(html! { a href="/journal" { strong { (n) } " anomalie(s) d'accès" } " sur les 30 derniers jours, à examiner." });
        }
    }
    html! {
        h2 { "Ce qui vous attend" }
        @if items.is_empty() {
            p { "Rien ne vous attend pour l'instant." }
        } @else {
            ul.cards { @for i in items { li { (i) } } }
        }
    }
}

/// `GET /`.
pub(super) async fn page(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
) -> Result<Response, Refusal> {
    let today = time::OffsetDateTime::now_utc().date();
    let work = todo::waiting(st.app(), &signed.actor, today).await?;
    let links: Vec<_> = page::menu(&signed).collect();
    let body = html! {
        p {
            "Connecté(e) : " strong { (signed.person.name) } ", pour " (signed.actor.partner.name) "."
        }
        (waiting(&work))
        @if links.is_empty() {
            p { "Votre accès ne comporte encore aucune page de la console." }
        } @else {
            h2 { "Vos pages" }
            ul.cards {
                @for (href, label) in links {
                    li { a href=(href) { (label) } " : " (purpose(href)) }
                }
            }
        }
    };
    Ok(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/", "Accueil", body),
    ))
}
