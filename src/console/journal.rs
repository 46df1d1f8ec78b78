//! `/journal` and `/registre` (the DPO): whether the access log is intact
//! and what it rests on, in plain French first; the period's anomalies;
//! "who accessed this person's data?"; the log with filters and pages;
//! the report, the export and the art. 30 record to download. The DPO
//! sees the log (ids, actions, field names), never a case's content.

use super::page::{self, Refusal, layout};
use super::session::audited;
use super::{ConsoleState, Signed};
use crate::audit::StoredEntry;
use crate::audit::query::Filter;
use crate::circuit::dpo::{self, Access, Review, SubjectQuery};
use crate::register::model::{Block, Doc, Span};
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::sync::Arc;

/// Entries per page of the log.
const PER_PAGE: u32 = 50;

/// The log's filters, as the form sends them.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Filters {
    du: Option<String>,
    au: Option<String>,
    partenaire: Option<String>,
    personne: Option<String>,
    action: Option<String>,
    resultat: Option<String>,
    page: Option<u32>,
}

fn given(v: &Option<String>) -> Option<String> {
    page::given(v).map(str::to_owned)
}

/// An action of the log in words (its code beside it on the page).
fn action_fr(a: &str) -> &str {
    match a {
        "list.upload" => "envoi d'une liste",
        "list.read" | "lists.read" => "lecture des listes",
        "list.withdraw" => "retrait d'une liste",
        "outbox.list" => "liste des fichiers à retirer",
        "outbox.download" => "téléchargement d'un fichier",
        "outbox.ack" => "accusé de réception d'un fichier",
        "return.apply" => "retour appliqué",
        "return.read" => "lecture d'un retour",
        "concertation.open" => "ouverture d'une concertation",
        "concertation.read" => "lecture d'un ordre du jour",
        "concertation.decide" => "décisions de concertation",
        "scope.read" => "lecture du périmètre (console)",
        "dossiers.read" => "lecture des dossiers (console)",
        "alerts.read" => "lecture des alertes",
        "stats.read" => "lecture des chiffres",
        "audit.read" => "lecture du journal",
        "audit.subject" => "question « qui a consulté ? »",
        "audit.report" => "téléchargement du rapport",
        "audit.export" => "export du journal",
        "console.request" => "page de la console",
        "console.sign_in" => "connexion à la console",
        "console.sign_out" => "déconnexion de la console",
        "tls.refused" | "auth.refused" => "connexion refusée",
        _ => "",
    }
}

fn outcome_fr(o: Option<crate::audit::Outcome>) -> &'static str {
    match o.map(|o| o.as_str()) {
        Some("ok") => "accepté",
        Some("refused") => "refusé",
        Some("error") => "erreur",
        _ => "—",
    }
}

fn anomaly_fr(kind: &str) -> &str {
    match kind {
        "off_hours" => "accès hors des heures ouvrées",
        "volume_spike" => "pic de volume",
        "refusal_burst" => "rafale de refus",
        other => other,
    }
}

/// A person's name from `people.toml`, with their id.
fn person_label(st: &ConsoleState, id: &str) -> String {
    match st.app().config.people.get(id) {
        Some(p) => format!("{} ({id})", p.name),
        None => id.to_owned(),
    }
}

/// How long ago `ms` was, in words.
fn ago(ms: i64) -> String {
    let minutes = (crate::util::now_ms() - ms).max(0) / 60_000;
    match minutes {
        0 => "à l'instant".to_owned(),
        1..=59 => format!("il y a {minutes} minute(s)"),
        60..=2879 => format!("il y a {} heure(s)", minutes / 60),
        _ => format!("il y a {} jours", minutes / 1440),
    }
}

/// The log's state, plain French first, the technical details after.
fn verification(r: &Review) -> Markup {
    let v = &r.verification;
    let signed = r.checkpoint_signed_at_ms.and_then(|ms| {
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
        Some((page::instant_fr(at), ago(ms)))
    });
    html! {
        h2 { "État du journal" }
        @if !v.ok() {
            div.refusal role="alert" {
                p { strong { "Le journal a été modifié." } " " (v.faults.len()) " anomalie(s) d'intégrité : des entrées ne correspondent plus à ce qui a été signé. Conservez ce constat et prévenez le responsable de traitement." }
                ul { @for f in &v.faults { li { "entrée " (f.position) " : " (f.label_fr()) " — " (f.message) } } }
            }
        } @else if !v.anchored() {
            p { strong { "Le journal est cohérent, mais aucun point de contrôle signé ne le garantit encore." } " " (v.entries) " entrée(s) recalculée(s). Un journal coupé ou réécrit en entier passerait ce contrôle : demandez aux partenaires le dernier point de contrôle qu'ils ont conservé." }
        } @else {
            p {
                strong { "Le journal est intact." } " " (v.entries) " entrée(s) recalculée(s) ; elles concordent avec "
                (v.checkpoints_checked) " point(s) de contrôle signé(s)"
                @if let Some((size, _)) = &v.latest_checkpoint { ", dont le dernier couvre " (size) " entrée(s)" }
                @if let Some((when, ago)) = &signed { " et a été signé le " (when) " (" (ago) ")" }
                "."
            }
        }
        details {
            summary { "Détails techniques" }
            dl.fields {
                dt { "Entrées recalculées" } dd { (v.entries) }
                dt { "Points de contrôle vérifiés" } dd { (v.checkpoints_checked) }
                dt { "Ensembles de ménages vérifiés" } dd { (v.subject_sets_checked) }
                @if let Some((size, root)) = &v.latest_checkpoint {
                    dt { "Dernier point de contrôle" } dd { (size) " entrées, racine " code { (root) } }
                }
                @if let Some(note) = &v.latest_note {
                    dt { "Note signée" } dd { pre { (note) } }
                }
            }
        }
    }
}

fn anomalies(r: &Review) -> Markup {
    html! {
        h2 { "Anomalies de la période" }
        @if r.anomalies.is_empty() {
            p { "Aucune anomalie sur les " (r.entries) " entrée(s) de la période (accès hors des heures ouvrées, pic de volume, rafale de refus)." }
        } @else {
            table {
                caption { (r.anomalies.len()) " anomalie(s) à examiner" }
                thead { tr { th scope="col" { "Nature" } th scope="col" { "Partenaire" } th scope="col" { "Quand (heure de Paris)" } th scope="col" { "Détail" } } }
                tbody {
                    @for a in &r.anomalies {
                        tr { td { (anomaly_fr(a.kind)) } td { (a.partner) } td { (a.when) } td { (a.detail) } }
                    }
                }
            }
        }
    }
}

fn entries_table(st: &ConsoleState, entries: &[StoredEntry]) -> Markup {
    html! {
        table {
            caption { "Entrées du journal, les plus récentes d'abord" }
            thead { tr {
                th scope="col" { "N°" }
                th scope="col" { "Quand" }
                th scope="col" { "Partenaire" }
                th scope="col" { "Personne" }
                th scope="col" { "Action" }
                th scope="col" { "Résultat" }
                th scope="col" { "Lignes" }
                th scope="col" { "Champs" }
            } }
            tbody {
                @for e in entries {
                    tr {
                        td.num { (e.seq) }
                        td { (page::when_fr(&e.at)) }
                        td { (e.partner.as_deref().unwrap_or("—")) }
                        td { (e.person.as_deref().map(|p| person_label(st, p)).unwrap_or_else(|| "—".to_owned())) }
                        td { (action_fr(&e.action)) " " code { (e.action) } @if let Some(r) = &e.reason { " " span.small { "(" (r) ")" } } }
                        td { (outcome_fr(e.outcome)) }
                        td.num { (e.rows.map(|r| r.to_string()).unwrap_or_default()) }
                        td.small { (e.fields.join(", ")) }
                    }
                }
            }
        }
    }
}

fn subject_form(signed: &Signed) -> Markup {
    html! {
        h2 id="personne" { "Qui a consulté les données d'une personne ?" }
        p { "La question elle-même est inscrite au journal." }
        form method="post" action="/journal/personne" {
            input type="hidden" name="csrf" value=(signed.csrf);
            fieldset {
                legend { "La personne, comme la liste la nomme" }
                p {
                    label for="nom" { "Nom" }
                    input id="nom" name="nom" type="text" required autocomplete="off";
                    label for="prenom" { "Prénom" }
                    input id="prenom" name="prenom" type="text" required autocomplete="off";
                    label for="code_postal" { "Code postal" }
                    input id="code_postal" name="code_postal" type="text" required inputmode="numeric" maxlength="5" autocomplete="off";
                }
                p { button type="submit" { "Chercher ses accès" } }
            }
        }
    }
}

/// `GET /journal`.
pub(super) async fn page(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Query(f): Query<Filters>,
) -> Result<Response, Refusal> {
    let (from, to) = page::window(f.du.as_deref(), f.au.as_deref(), 30)?;
    let review = dpo::review(st.app(), &signed.actor, from, to).await?;
    let filter = Filter {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        partner: given(&f.partenaire),
        person: given(&f.personne),
        action: given(&f.action),
        outcome: given(&f.resultat),
        page: Some(f.page.unwrap_or(1).max(1)),
        per_page: Some(PER_PAGE),
        ..Default::default()
    };
    let log = dpo::audit_log(st.app(), &signed.actor, &filter).await?;
    let pages = (log.total.max(0) as u64)
        .div_ceil(u64::from(PER_PAGE))
        .max(1) as u32;
    let partners = st.app().partners();
    let chosen = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let body = html! {
        (verification(&review))
        (anomalies(&review))
        (subject_form(&signed))
        h2 { "Le journal des accès" }
        form method="get" action="/journal" {
            fieldset {
                legend { "Filtrer" }
                p {
                    label for="du" { "Du" }
                    input id="du" name="du" type="date" value=(from.to_string());
                    label for="au" { "au" }
                    input id="au" name="au" type="date" value=(to.to_string());
                    label for="partenaire" { "Partenaire" }
                    select id="partenaire" name="partenaire" {
                        option value="" { "tous" }
                        @for p in partners.iter() {
                            option value=(p.id) selected[chosen(&f.partenaire, &p.id)] { (p.id) }
                        }
                    }
                    label for="personne" { "Personne" }
                    select id="personne" name="personne" {
                        option value="" { "toutes" }
                        @for p in st.app().config.people.iter() {
                            option value=(p.id) selected[chosen(&f.personne, &p.id)] { (p.name) " (" (p.id) ")" }
                        }
                    }
                }
                p {
                    label for="action" { "Action (code)" }
                    input id="action" name="action" type="text" value=(f.action.as_deref().unwrap_or("")) placeholder="outbox.download";
                    label for="resultat" { "Résultat" }
                    select id="resultat" name="resultat" {
                        option value="" { "tous" }
                        @for (code, label) in [("ok", "accepté"), ("refused", "refusé"), ("error", "erreur")] {
                            option value=(code) selected[chosen(&f.resultat, code)] { (label) }
                        }
                    }
                    button type="submit" { "Afficher" }
                }
            }
            p {
                (log.total) " entrée(s) ; page " (log.page) " sur " (pages) ". "
                @if log.page > 1 { button type="submit" name="page" value=(log.page - 1) { "Page précédente" } " " }
                @if log.page < pages { button type="submit" name="page" value=(log.page + 1) { "Page suivante" } }
            }
        }
        (entries_table(&st, &log.entries))
        h2 { "Téléchargements" }
        ul {
            li { a href={ "/journal/rapport?du=" (from) "&au=" (to) } { "Le rapport de la période (HTML)" } }
            li { a href={ "/journal/export?du=" (from) "&au=" (to) } { "L'export des entrées de la période (JSON, une entrée par ligne)" } }
            li { a href="/registre" { "Le registre des traitements (article 30)" } }
        }
    };
    Ok(audited(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/journal", "Journal des accès", body),
    )))
}

/// The subject-access form.
#[derive(Debug, serde::Deserialize)]
pub(super) struct SubjectForm {
    csrf: Option<String>,
    nom: Option<String>,
    prenom: Option<String>,
    code_postal: Option<String>,
}

fn accesses_table(st: &ConsoleState, q: &SubjectQuery, list: &[Access]) -> Markup {
    html! {
        h2 id="reponse" { "Accès aux données de " (q.prenom) " " (q.nom) " (" (q.code_postal) ")" }
        @if list.is_empty() {
            p { "Aucun accès : le journal ne connaît aucun ménage de ce nom à ce code postal." }
        } @else {
            p { (list.len()) " accès, du plus ancien au plus récent." }
            table {
                caption { "Qui a consulté ou reçu ces données" }
                thead { tr {
                    th scope="col" { "Quand" }
                    th scope="col" { "Partenaire" }
                    th scope="col" { "Personne" }
                    th scope="col" { "Action" }
                    th scope="col" { "Résultat" }
                    th scope="col" { "Champs" }
                } }
                tbody {
                    @for a in list {
                        tr {
                            td { (page::when_fr(&a.at)) }
                            td { (a.partner.as_deref().map(|p| st.app().partners().get(p).map(|x| format!("{} ({p})", x.name)).unwrap_or_else(|| p.to_owned())).unwrap_or_else(|| "—".to_owned())) }
                            td { @match &a.person { Some(p) => { (p.name) " (" (p.id) ")" }, None => { span.small { "machine (API)" } } } }
                            td { (action_fr(&a.action)) " " code { (a.action) } }
                            td { (outcome_fr(a.outcome)) }
                            td.small { (a.fields.join(", ")) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /journal/personne`: every access to one household's data.
pub(super) async fn subject(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Form(form): Form<SubjectForm>,
) -> Result<Response, Refusal> {
    signed.check_csrf(form.csrf.as_deref())?;
    let (Some(nom), Some(prenom), Some(code_postal)) = (
        given(&form.nom),
        given(&form.prenom),
        given(&form.code_postal),
    ) else {
        return Err(Refusal::bad_form(
            "Indiquez le nom, le prénom et le code postal de la personne.",
        ));
    };
    let q = SubjectQuery {
        nom,
        prenom,
        code_postal,
    };
    let found = dpo::subject_access(st.app(), &signed.actor, &q).await?;
    let body = html! {
        (accesses_table(&st, &q, &found.accesses))
        (subject_form(&signed))
        p { a href="/journal" { "Retour au journal" } }
    };
    Ok(audited(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/journal", "Qui a consulté ?", body),
    )))
}

/// The period of a download.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Period {
    du: Option<String>,
    au: Option<String>,
}

fn attachment(content_type: &str, name: String, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /journal/rapport?du=&au=`: the HTML report, as a download.
pub(super) async fn report(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Query(p): Query<Period>,
) -> Result<Response, Refusal> {
    let (from, to) = page::window(p.du.as_deref(), p.au.as_deref(), 30)?;
    let html = dpo::report(st.app(), &signed.actor, from, to).await?;
    Ok(audited(attachment(
        "text/html; charset=utf-8",
        format!("rapport-acces-{from}-{to}.html"),
        html,
    )))
}

/// `GET /journal/export?du=&au=`: the entries as JSON lines.
pub(super) async fn export(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    Query(p): Query<Period>,
) -> Result<Response, Refusal> {
    let (from, to) = page::window(p.du.as_deref(), p.au.as_deref(), 30)?;
    let lines = dpo::export(st.app(), &signed.actor, from, to).await?;
    Ok(audited(attachment(
        "application/x-ndjson; charset=utf-8",
        format!("journal-{from}-{to}.jsonl"),
        lines,
    )))
}

fn spans(s: &[Span]) -> Markup {
    html! {
        @for x in s {
            @match x {
                Span::Text(t) => { (t) },
                Span::Code(c) => { code { (c) } },
                Span::Strong(t) => { strong { (t) } },
            }
        }
    }
}

fn doc(d: &Doc) -> Markup {
    html! {
        @for b in &d.0 {
            @match b {
                Block::Heading(1, _) => {},
                Block::Heading(2, t) => { h2 { (t) } },
                Block::Heading(_, t) => { h3 { (t) } },
                Block::Para(s) => { p { (spans(s)) } },
                Block::List(items) => { ul { @for i in items { li { (spans(i)) } } } },
                Block::Table { head, rows } => {
                    table {
                        thead { tr { @for h in head { th scope="col" { (h) } } } }
                        tbody { @for r in rows { tr { @for c in r { td { (spans(c)) } } } } }
                    }
                },
            }
        }
    }
}

/// `GET /registre`: the art. 30 record in force, and its downloads.
pub(super) async fn register(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
) -> Result<Response, Refusal> {
    dpo::may_query(&signed.actor)?;
    let cfg = &st.app().config;
    let record =
        crate::register::document(cfg, &cfg.policy.retention, crate::register::controller(cfg));
    let body = html! {
        p {
            "Le registre est produit à partir de la configuration et de la politique en vigueur. "
            a href="/registre.html" { "Télécharger (HTML)" } " · " a href="/registre.md" { "Télécharger (Markdown)" }
        }
        (doc(&record))
    };
    Ok(audited(page::answer(
        StatusCode::OK,
        layout(Some(&signed), "/registre", "Registre des traitements", body),
    )))
}

/// `GET /registre.html` and `/registre.md`: the record as a file.
pub(super) async fn register_file(
    State(st): State<Arc<ConsoleState>>,
    signed: Signed,
    uri: axum::http::Uri,
) -> Result<Response, Refusal> {
    let markdown = uri.path().ends_with(".md");
    dpo::may_query(&signed.actor)?;
    let text = crate::register::file(&st.app().config, markdown);
    Ok(audited(if markdown {
        attachment(
            "text/markdown; charset=utf-8",
            "registre.md".to_owned(),
            text,
        )
    } else {
        attachment("text/html; charset=utf-8", "registre.html".to_owned(), text)
    }))
}
