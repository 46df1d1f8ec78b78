//! `/chiffres` (the secretariat, the DPO): the CCAPEX's table for any
//! period of CDP dates, as tables and as server-rendered SVG charts, and
//! the same figures as CSV; then what happened in court to those
//! households, per parcours, from EXPLOC's procedure events.

use super::page::{self, Refusal, layout};
use super::{ConsoleState, Signed};
use crate::circuit::figures::{self, Judiciarisation, ParcoursLine, Stats};
use crate::domain::Etape;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::sync::Arc;

/// The period asked for (`du`, `au`: `AAAA-MM-JJ` or `JJ/MM/AAAA`).
#[derive(Debug, serde::Deserialize)]
pub(super) struct Window {
    du: Option<String>,
    au: Option<String>,
    /// For the CSV: `judiciarisation`, else the referents' table.
    tableau: Option<String>,
}

/// The window: by default the twelve months up to today.
fn window(w: &Window) -> Result<(time::Date, time::Date), Refusal> {
    page::window(w.du.as_deref(), w.au.as_deref(), 365)
}

/// Horizontal bars, one per `(label, value)`, drawn on the server with
/// presentation attributes only (the CSP forbids inline styles).
fn bars(id: &str, title: &str, items: &[(String, u64)]) -> Markup {
    const LABEL: u32 = 210;
    const BAR: u32 = 300;
    const ROW: u32 = 26;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let height = ROW * items.len() as u32 + 8;
    let width = LABEL + BAR + 60;
    html! {
        figure {
            svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby=(id)
                width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } {
                title id=(id) { (title) }
                @for (i, (label, v)) in items.iter().enumerate() {
                    @let y = 4 + ROW * i as u32;
                    @let w = (u64::from(BAR) * v / max) as u32;
                    text x=(LABEL - 8) y=(y + 17) text-anchor="end" font-size="14" fill="#1e1e1e" { (label) }
                    rect x=(LABEL) y=(y + 3) width=(w.max(1)) height=(ROW - 8) fill="#000091" {}
                    text x=(LABEL + w.max(1) + 6) y=(y + 17) font-size="14" fill="#1e1e1e" { (v) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// Below this many households, a parcours's shares are said to be
/// fragile (a few households more or less move them by several points).
const FEW: u64 = 30;

/// One bar per parcours: the share summoned, drawn to 100 %, with its
/// counts beside it (`67 % (2 sur 3)`), so that small numbers do not pass
/// for trends.
fn share_bars(id: &str, title: &str, lines: &[ParcoursLine]) -> Markup {
    const LABEL: u32 = 250;
    const BAR: u32 = 300;
    const ROW: u32 = 26;
    let height = ROW * lines.len() as u32 + 8;
    let width = LABEL + BAR + 150;
    html! {
        figure {
            svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby=(id)
                width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } {
                title id=(id) { (title) }
                @for (i, l) in lines.iter().enumerate() {
                    @let y = 4 + ROW * i as u32;
                    @let pct = l.pct_assignation.unwrap_or(0);
                    @let w = (u64::from(BAR) * pct / 100) as u32;
                    text x=(LABEL - 8) y=(y + 17) text-anchor="end" font-size="14" fill="#1e1e1e" { (l.parcours.label_fr()) }
                    rect x=(LABEL) y=(y + 3) width=(BAR) height=(ROW - 8) fill="#e5e5e5" {}
                    rect x=(LABEL) y=(y + 3) width=(w.max(1)) height=(ROW - 8) fill="#000091" {}
                    text x=(LABEL + BAR + 6) y=(y + 17) font-size="14" fill="#1e1e1e" { (share(l)) }
                }
            }
            figcaption { (title) }
        }
    }
}

/// `67 % (2 sur 3)`, or `— (aucun ménage)`.
fn share(l: &ParcoursLine) -> String {
    match l.pct_assignation {
        Some(p) => format!("{p} % ({} sur {})", l.count(Etape::Assignation), l.cdp),
        None => "— (aucun ménage)".to_owned(),
    }
}

/// `n (p %)` of a parcours's households, `n` alone without any.
fn of(n: u64, whole: u64) -> String {
    if whole == 0 {
        n.to_string()
    } else {
        format!("{n} ({} %)", (200 * n + whole) / (2 * whole))
    }
}

/// The judicialisation of the window's households, per parcours.
fn judiciarisation(j: &Judiciarisation) -> Markup {
    let linked: u64 = j
        .parcours
        .iter()
        .map(|l| Etape::ALL.iter().map(|e| l.count(*e)).sum::<u64>())
        .sum();
    let fragile = j.parcours.iter().any(|l| l.cdp > 0 && l.cdp < FEW);
    html! {
        h2 { "Judiciarisation (procédures enregistrées dans EXPLOC)" }
        p {
            "Les ménages joints par leur référent vont-ils moins au tribunal ? Chaque ménage suit un parcours : "
            "joint à temps (un premier contact avant sa première assignation, ou sans assignation), "
            "attribué mais non joint à temps, non traité, ou encore sans décision. "
            "Seules les étapes reçues d'EXPLOC comptent ici."
        }
        @if linked == 0 {
            p { "Aucune étape de procédure reçue d'EXPLOC pour les ménages de la période." }
        }
        @if fragile {
            p.urgent { "Prudence : un parcours compte moins de " (FEW) " ménages ; quelques ménages de plus ou de moins y déplacent les parts de plusieurs points." }
        }
        table {
            caption { "Ménages par parcours et par étape de la procédure (nombre et part du parcours)" }
            thead { tr {
                th scope="col" { "Parcours" }
                th scope="col" { "Ménages" }
                @for e in Etape::ALL { th scope="col" { (e.label_fr()) } }
                th scope="col" { "Délai médian du CDP à l'assignation" }
            } }
            tbody {
                @for l in &j.parcours {
                    tr {
                        th scope="row" { (l.parcours.label_fr()) }
                        td.num { (l.cdp) }
                        @for e in Etape::ALL { td.num { (of(l.count(*e), l.cdp)) } }
                        td.num { @match l.delai_assignation_median_jours { Some(d) => { (d) " j" }, None => "—" } }
                    }
                }
            }
        }
        (share_bars("g-judiciarisation", "Part des ménages assignés, par parcours", &j.parcours))
        @if j.hors_circuit.is_empty() {
            p { "Aucune étape hors circuit datée de la période." }
        } @else {
            p {
                "Hors circuit (étapes datées de la période qui ne correspondent à aucun CDP reçu) : "
                @for (i, (e, n)) in j.hors_circuit.iter().enumerate() {
                    @if i > 0 { ", " }
                    (Etape::parse(e).map_or(e.as_str(), |e| e.label_fr())) " : " (n)
                }
                "."
            }
        }
    }
}

fn median(d: Option<f64>) -> String {
    match d {
        Some(v) => format!("{} j", format!("{v:.1}").replace('.', ",")),
        None => "—".to_owned(),
    }
}

fn tables(s: &Stats) -> Markup {
    let attributions: Vec<(String, u64)> = s
        .attributions
        .iter()
        .map(|a| (a.organisme.clone(), a.total))
        .chain([
            ("non traités".to_owned(), s.non_traites.total),
            ("en attente".to_owned(), s.en_attente.total),
        ])
        .collect();
    let axes: Vec<(String, u64)> = s
        .axes
        .iter()
        .map(|(k, v)| (k.replace('_', " "), *v))
        .collect();
    let court: Vec<(String, u64)> = s
        .judiciaire
        .iter()
        .map(|(k, v)| (k.replace('_', " "), *v))
        .collect();
    html! {
        p { strong { (s.total_cdp) } " commandement(s) de payer datés du " (page::date_fr(&s.from)) " au " (page::date_fr(&s.to)) "." }
        h2 { "Attributions" }
        table {
            caption { "Tableau de la CCAPEX : attributions par référent" }
            thead { tr {
                th scope="col" { "Référent" }
                th scope="col" { "Dossiers" }
                th scope="col" { "Part" }
                th scope="col" { "Nouveaux ménages" }
                th scope="col" { "Sans suite" }
                th scope="col" { "Délai médian au premier contact" }
            } }
            tbody {
                @for a in &s.attributions {
                    tr {
                        th scope="row" { (a.organisme) }
                        td.num { (a.total) }
                        td.num { (a.pct) " %" }
                        td.num { (a.nouvelles) }
                        td.num { (a.sans_suite) }
                        td.num { (median(a.delai_premier_contact_median_jours)) }
                    }
                }
                @for (label, total, pct) in [
                    ("Non traités", s.non_traites.total, s.non_traites.pct),
                    ("En attente de décision", s.en_attente.total, s.en_attente.pct),
                ] {
                    tr {
                        th scope="row" { (label) }
                        td.num { (total) }
                        td.num { (pct) " %" }
                        td { } td { } td { }
                    }
                }
            }
            tfoot { tr {
                th scope="row" { "Tous référents" }
                td.num { (s.total_cdp) }
                td.num { "100 %" }
                td { } td { }
                td.num { (median(s.delai_premier_contact_median_jours)) }
            } }
        }
        (bars("g-attributions", "Dossiers par référent", &attributions))
        @if !s.non_traites.motifs.is_empty() {
            h2 { "Non traités, par motif" }
            ul { @for (m, n) in &s.non_traites.motifs { li { (super::concertations::motif_fr(m)) " : " (n) } } }
        }
        (households_by(&Counts {
            id: "g-axes",
            heading: "Axes d'accompagnement",
            none: "Aucun axe d'accompagnement déclaré sur la période.",
            title: "Ménages par axe d'accompagnement",
            column: "Axe",
            items: &axes,
        }))
        (households_by(&Counts {
            id: "g-judiciaire",
            heading: "Procédure judiciaire",
            none: "Aucun événement judiciaire déclaré sur la période.",
            title: "Ménages par événement de la procédure",
            column: "Événement",
            items: &court,
        }))
    }
}

/// Households counted by one key (an accompaniment axis, a court event).
struct Counts<'a> {
    /// The chart's id.
    id: &'a str,
    heading: &'a str,
    /// Said when there is nothing to count.
    none: &'a str,
    /// The table's caption and the chart's title.
    title: &'a str,
    /// The key's column header.
    column: &'a str,
    items: &'a [(String, u64)],
}

/// A section: its heading, then the counts as a table and as bars.
fn households_by(c: &Counts<'_>) -> Markup {
    html! {
        h2 { (c.heading) }
        @if c.items.is_empty() { p { (c.none) } }
        @else {
            table {
                caption { (c.title) }
                thead { tr { th scope="col" { (c.column) } th scope="col" { "Ménages" } } }
                tbody { @for (k, v) in c.items { tr { th scope="row" { (k) } td.num { (v) } } } }
            }
            (bars(c.id, c.title, c.items))
        }
    }
}

/// `GET /chiffres?du=&au=`.
pub(super) async fn page(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Query(w): Query<Window>,
) -> Result<Response, Refusal> {
    let (from, to) = window(&w)?;
    let s = figures::stats(st.app(), &signed.actor, Some(from), Some(to)).await?;
    let body = html! {
        form method="get" action="/chiffres" .inline {
            p {
                label for="du" { "Du" }
                input id="du" name="du" type="date" value=(from.to_string());
                " "
                label for="au" { "au" }
                input id="au" name="au" type="date" value=(to.to_string());
                " "
                button type="submit" { "Afficher" }
            }
        }
        p {
            a href={ "/chiffres.csv?du=" (from) "&au=" (to) } download { "Télécharger ces chiffres (CSV)" }
            " · "
            a href={ "/chiffres.csv?du=" (from) "&au=" (to) "&tableau=judiciarisation" } download { "Télécharger la judiciarisation (CSV)" }
        }
        (tables(&s))
        (judiciarisation(&s.judiciarisation))
    };
    Ok(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/chiffres", "Chiffres", body),
    ))
}

/// `GET /chiffres.csv?du=&au=`.
pub(super) async fn csv(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Query(w): Query<Window>,
) -> Result<Response, Refusal> {
    let (from, to) = window(&w)?;
    let s = figures::stats(st.app(), &signed.actor, Some(from), Some(to)).await?;
    let (name, body) = if w.tableau.as_deref() == Some("judiciarisation") {
        (
            "judiciarisation",
            figures::judiciarisation_csv(&s.judiciarisation),
        )
    } else {
        ("chiffres", figures::to_csv(&s))
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-{from}-{to}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}
