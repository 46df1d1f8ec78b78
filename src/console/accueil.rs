//! `/`: the person, their institution, and the pages their roles open.

use super::Signed;
use super::page::{self, layout};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

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

/// `GET /`.
pub(super) async fn page(signed: Signed) -> Response {
    let links: Vec<_> = page::menu(&signed).collect();
    let body = html! {
        p {
            "Connecté(e) : " strong { (signed.person.name) } ", pour " (signed.actor.partner.name) "."
        }
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
    page::answer(StatusCode::OK, layout(Some(&signed), "/", "Accueil", body))
}
