//! The console's layout, its refusals (every one a French page with its
//! status) and the French forms of dates, amounts and the readers' row
//! errors.

use super::Signed;
use crate::circuit::CircuitError;
use crate::domain::Role;
use crate::ingest::FileError;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// Why a page was refused, for the audit entry (a stable code).
#[derive(Debug, Clone, Copy)]
pub struct Reason(pub &'static str);

/// The menu: each page with the roles that open it.
const MENU: [(&str, &str, &[Role]); 8] = [
    ("/listes", "Listes", &[Role::Source]),
    ("/concertations", "Concertations", &[Role::Secretariat]),
    ("/perimetre", "Périmètre", &[Role::Member]),
    ("/dossiers", "Dossiers", &[Role::Referent]),
    ("/alertes", "Alertes", &[Role::Secretariat, Role::Referent]),
    ("/chiffres", "Chiffres", &[Role::Secretariat, Role::Dpo]),
    ("/journal", "Journal", &[Role::Dpo]),
    ("/registre", "Registre", &[Role::Dpo]),
];

/// The pages of the menu `signed` may open.
pub fn menu(signed: &Signed) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    MENU.iter()
        .filter(|(_, _, roles)| roles.iter().any(|r| signed.actor.has(*r)))
        .map(|(href, label, _)| (*href, *label))
}

/// A whole page: header with the person and the sign-out form, the menu
/// (the current page marked), the content.
pub fn layout(signed: Option<&Signed>, current: &str, title: &str, content: Markup) -> Markup {
    layout_with(signed, current, title, html! {}, content)
}

/// [`layout`], with more in the page's `head`.
fn layout_with(
    signed: Option<&Signed>,
    current: &str,
    title: &str,
    head: Markup,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — passerelle" }
                link rel="stylesheet" href="/console.css";
                (head)
            }
            body {
                a.skip href="#contenu" { "Aller au contenu" }
                header {
                    p.brand { a href="/" { "passerelle" } " · prévention des expulsions" }
                    @if let Some(s) = signed {
                        nav aria-label="Menu principal" {
                            ul {
                                li { a href="/" aria-current=[(current == "/").then_some("page")] { "Accueil" } }
                                @for (href, label) in menu(s) {
                                    li { a href=(href) aria-current=[(current == href).then_some("page")] { (label) } }
                                }
                            }
                        }
                        form.signout method="post" action="/deconnexion" {
                            span { (s.person.name) " · " (s.actor.partner.name) }
                            input type="hidden" name="csrf" value=(s.csrf);
                            button type="submit" { "Se déconnecter" }
                        }
                    }
                }
                main id="contenu" tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// A page as an answer.
pub fn answer(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A refused request: a French page with its status, and the code the
/// audit entry records.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Lines of a refused file or of refused decisions: `(line, column,
    /// message)`.
    lines: Vec<(Option<u64>, Option<String>, String)>,
    /// Lines counted but not shown.
    more: usize,
}

impl Refusal {
    /// A refusal without details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            message: message.into(),
            lines: Vec::new(),
            more: 0,
        }
    }

    /// 403: the form's `csrf` is missing or not this session's.
    pub fn csrf() -> Refusal {
        Refusal::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "Ce formulaire a expiré ou ne vient pas de cette page : rien n'a été enregistré. \
             Rechargez la page et recommencez.",
        )
    }

    /// 500, the cause to the log only.
    pub fn internal(e: &dyn std::fmt::Display) -> Refusal {
        tracing::error!(error = %e, "console: internal error");
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Une erreur interne est survenue ; rien n'a été enregistré. \
             Réessayez, puis signalez-la à l'exploitant de la passerelle.",
        )
    }

    /// 429.
    pub fn rate_limited() -> Refusal {
        Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Trop de demandes en peu de temps : attendez une minute avant de recommencer.",
        )
    }

    /// 403: a certificate of the CA that names nobody of `people.toml`.
    pub fn unknown_person() -> Refusal {
        Refusal::new(
            StatusCode::FORBIDDEN,
            "unknown_person",
            "Votre certificat est valide mais ne correspond à aucune personne autorisée \
             sur la passerelle. Demandez à votre correspondant d'ajouter votre accès.",
        )
    }

    /// 403: a form sent without a session.
    pub fn not_signed_in() -> Refusal {
        Refusal::new(
            StatusCode::FORBIDDEN,
            "not_signed_in",
            "Vous n'êtes pas connecté (ou votre session a expiré) : rien n'a été enregistré.",
        )
    }

    /// 400 for a form field, named.
    pub fn bad_form(message: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<CircuitError> for Refusal {
    fn from(e: CircuitError) -> Refusal {
        match e {
            CircuitError::Forbidden(role) => Refusal::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "Cette page est réservée au rôle {} : votre accès ne le comporte pas.",
                    role_names(&role)
                ),
            ),
            CircuitError::NotFound => Refusal::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "Cet élément n'existe pas, ou ne vous est pas accessible.",
            ),
            CircuitError::BadRequest(m) => Refusal::bad_form(m),
            CircuitError::OtherPeriod { list_id, period } => Refusal::new(
                StatusCode::CONFLICT,
                "other_period",
                format!(
                    "Ce fichier a déjà été reçu pour la période {period} (liste {list_id}) : \
                     rien n'a été enregistré."
                ),
            ),
            CircuitError::File(f) => file_refusal(f),
            CircuitError::NotYourCase { message, lines } => Refusal {
                lines: lines
                    .into_iter()
                    .map(|(l, t, why)| ((l > 0).then_some(l), Some(t), why))
                    .collect(),
                ..Refusal::new(StatusCode::FORBIDDEN, "not_your_case", message)
            },
            CircuitError::Conflict { message, lines } => Refusal {
                lines: lines
                    .into_iter()
                    .map(|(l, t, why)| ((l > 0).then_some(l), Some(t), why))
                    .collect(),
                ..Refusal::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("Rien n'a été enregistré : {message}"),
                )
            },
            other => Refusal::internal(&other),
        }
    }
}

impl From<super::oidc::OidcError> for Refusal {
    fn from(e: super::oidc::OidcError) -> Refusal {
        use super::oidc::OidcError;
        tracing::warn!(error = %e, "console: OpenID sign-in refused");
        match e {
            OidcError::Provider(_) => Refusal::new(
                StatusCode::BAD_GATEWAY,
                "oidc_provider",
                "Le fournisseur d'identité ne répond pas comme prévu. Réessayez dans quelques \
                 minutes, ou connectez-vous avec votre certificat personnel.",
            ),
            OidcError::Nonce => Refusal::new(
                StatusCode::FORBIDDEN,
                "oidc_nonce",
                "Le jeton d'identité reçu n'appartient pas à cette connexion (paramètre « nonce ») : \
                 il est refusé. Recommencez depuis la page de connexion.",
            ),
            OidcError::Token(_) => Refusal::new(
                StatusCode::FORBIDDEN,
                "oidc_token",
                "Le jeton d'identité reçu ne se vérifie pas : il est refusé. \
                 Recommencez depuis la page de connexion.",
            ),
            OidcError::NoEmail => Refusal::new(
                StatusCode::FORBIDDEN,
                "oidc_no_email",
                "Le fournisseur d'identité n'a pas donné votre adresse électronique : \
                 la passerelle ne peut pas vous reconnaître.",
            ),
        }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Refusal {
        Refusal::internal(&e)
    }
}

impl From<crate::audit::AuditError> for Refusal {
    fn from(e: crate::audit::AuditError) -> Refusal {
        Refusal::internal(&e)
    }
}

fn role_names(roles: &str) -> String {
    roles
        .split(" or ")
        .map(|r| match r.parse::<Role>() {
            Ok(Role::Source) => "« source » (envoi des listes)",
            Ok(Role::Enricher) => "« enricher » (enrichissement)",
            Ok(Role::Member) => "« member » (membre de la concertation)",
            Ok(Role::Referent) => "« referent » (référent social)",
            Ok(Role::Secretariat) => "« secretariat » (secrétariat de la CCAPEX)",
            Ok(Role::Dpo) => "« dpo » (délégué à la protection des données)",
            Err(()) => r,
        })
        .collect::<Vec<_>>()
        .join(" ou ")
}

/// A refused file: every bad line kept, in French.
fn file_refusal(f: FileError) -> Refusal {
    match f {
        FileError::InvalidRows(errors) => {
            let rows = errors.rows();
            let total = errors.total();
            let lines: Vec<_> = errors
                .into_iter()
                .map(|e| (Some(e.line), e.column, french_row_message(&e.message)))
                .collect();
            let more = total.saturating_sub(lines.len());
            Refusal {
                lines,
                more,
                ..Refusal::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_rows",
                    format!(
                        "Le fichier est refusé : {rows} ligne{} à corriger ({total} erreur{}). \
                         Rien n'a été enregistré ; corrigez le fichier et envoyez-le à nouveau.",
                        plural(rows),
                        plural(total)
                    ),
                )
            }
        }
        FileError::MissingColumns(cols) => Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_columns",
            format!(
                "Le fichier est refusé : il y manque les colonnes obligatoires {}. \
                 Vérifiez la ligne d'en-tête (docs/formats.md).",
                cols.join(", ")
            ),
        ),
        other => Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable",
            format!(
                "Le fichier ne peut pas être lu comme un tableau CSV ou XLSX ; \
                 rien n'a été enregistré. Détail : {other}"
            ),
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// A reader's message in French: `<column> <predicate>` with the known
/// predicates translated; anything else kept as written.
pub fn french_row_message(m: &str) -> String {
    const PREDICATES: [(&str, &str); 16] = [
        (" is required", " est obligatoire"),
        (" is not an amount", " n'est pas un montant (ex. 2311,00)"),
        (" must not be negative", " ne doit pas être négatif"),
        (" is too large", " est trop grand"),
        (" must have at most 2 decimals", " a plus de 2 décimales"),
        (" must be 5 digits", " doit compter 5 chiffres"),
        (" must be social or prive", " doit valoir social ou prive"),
        (" must be oui or non", " doit valoir oui ou non"),
        (" is not a date", " n'est pas une date (JJ/MM/AAAA)"),
        (" must be a French number", " doit être un numéro français"),
        (
            " must be a phone number",
            " doit être un numéro de téléphone",
        ),
        (" must have 10 digits", " doit compter 10 chiffres"),
        (" is longer than", " dépasse"),
        (" already appears on line", " figure déjà ligne"),
        (" is not a number", " n'est pas un nombre"),
        (" must be a whole number", " doit être un nombre entier"),
    ];
    for (en, fr) in PREDICATES {
        if let Some(at) = m.find(en) {
            let rest = &m[at + en.len()..];
            let rest = rest
                .replace(" characters", " caractères")
                .replace("(got ", "(reçu ")
                .replace("(expected JJ/MM/AAAA or AAAA-MM-JJ)", "")
                .replace(" from 0 to 30", " de 0 à 30");
            return format!("{}{fr}{}", &m[..at], rest.trim_end());
        }
    }
    if let Some(rest) = m.strip_prefix("the line has ") {
        return format!(
            "la ligne a {}",
            rest.replace(" fields, the header has ", " champs, l'en-tête en a ")
        );
    }
    m.to_owned()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::FORBIDDEN => "Accès refusé",
            StatusCode::NOT_FOUND => "Page introuvable",
            StatusCode::UNPROCESSABLE_ENTITY => "Fichier refusé",
            StatusCode::CONFLICT => "Demande refusée",
            StatusCode::TOO_MANY_REQUESTS => "Trop de demandes",
            s if s.is_server_error() => "Erreur",
            _ => "Demande incorrecte",
        };
        let body = html! {
            p.refusal role="alert" { (self.message) }
            @if !self.lines.is_empty() {
                table {
                    caption { "Lignes à corriger" }
                    thead { tr { th scope="col" { "Ligne" } th scope="col" { "Colonne ou dossier" } th scope="col" { "Problème" } } }
                    tbody {
                        @for (line, column, message) in &self.lines {
                            tr {
                                td { @if let Some(l) = line { "ligne " (l) } @else { "—" } }
                                td { (column.as_deref().unwrap_or("—")) }
                                td { (message) }
                            }
                        }
                    }
                }
                @if self.more > 0 {
                    p { "… et " (self.more) " autre(s) erreur(s), non affichées." }
                }
            }
            p { a href="/" { "Retour à l'accueil" } }
        };
        let mut r = answer(self.status, layout(None, "", title, body));
        r.extensions_mut().insert(Reason(self.code));
        r
    }
}

/// The fallback: 404 as a French page.
pub async fn not_found() -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Cette page n'existe pas.",
    )
}

/// `/connexion`.
pub fn sign_in(provider: Option<&str>) -> Response {
    answer(
        StatusCode::OK,
        layout(
            None,
            "/connexion",
            "Connexion",
            html! {
                p { "La console de la passerelle est réservée aux personnes déclarées par leur institution." }
                h2 { "Avec votre certificat personnel" }
                p {
                    "Importez dans votre navigateur le certificat personnel (fichier "
                    code { ".p12" } ") que votre institution vous a remis, puis rechargez cette page : "
                    "le navigateur le présente et la session s'ouvre."
                }
                p { a href="/" { "Recharger" } }
                @if let Some(name) = provider {
                    h2 { "Avec " (name) }
                    p { "Votre compte professionnel, auprès de " (name) " : la passerelle vous reconnaît à l'adresse électronique que votre institution a déclarée." }
                    p { a.button href="/connexion/oidc" { "Se connecter avec " (name) } }
                }
            },
        ),
    )
}

/// The provider's return, relayed once from this site so that the
/// browser sends the sign-in's `SameSite=Strict` cookie.
pub fn relay(to: &str) -> Response {
    let refresh = format!("0; url={to}");
    answer(
        StatusCode::OK,
        layout_with(
            None,
            "",
            "Connexion en cours",
            html! { meta http-equiv="refresh" content=(refresh); },
            html! {
                p { "Le fournisseur d'identité a répondu ; la connexion se poursuit." }
                p { a href=(to) { "Continuer" } }
            },
        ),
    )
}

/// After an OpenID Connect sign-in. The browser comes back from the
/// provider, another site, so the session cookie (`SameSite=Strict`) is
/// not sent until a navigation from this site: the page moves on to the
/// home page by itself (and offers the link).
pub fn signed_in(name: &str) -> Response {
    answer(
        StatusCode::OK,
        layout_with(
            None,
            "",
            "Connexion réussie",
            html! { meta http-equiv="refresh" content="0; url=/"; },
            html! {
                p { "Bonjour " (name) ", votre session est ouverte." }
                p { a href="/" { "Continuer vers l'accueil" } }
            },
        ),
    )
}

/// After sign-out.
pub fn signed_out() -> Response {
    answer(
        StatusCode::OK,
        layout(
            None,
            "",
            "Vous êtes déconnecté",
            html! {
                p { "Votre session est close. Fermez le navigateur si vous quittez le poste." }
                p { a href="/connexion" { "Se reconnecter" } }
            },
        ),
    )
}

/// `2026-03-09` → `09/03/2026`; anything else kept.
pub fn date_fr(iso: &str) -> String {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) if iso.len() >= 10 => format!("{d}/{m}/{y}"),
        _ => iso.to_owned(),
    }
}

/// A [`time::Date`] as `JJ/MM/AAAA`.
pub fn day_fr(d: time::Date) -> String {
    date_fr(&d.to_string())
}

/// A form field, trimmed; `None` when absent or empty.
pub fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// An instant (RFC 3339) in Europe/Paris time, `JJ/MM/AAAA à HH:MM`.
pub fn when_fr(at: &str) -> String {
    match time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339) {
        Ok(t) => instant_fr(t),
        Err(_) => at.to_owned(),
    }
}

/// An instant in Europe/Paris time, `JJ/MM/AAAA à HH:MM`.
pub fn instant_fr(t: time::OffsetDateTime) -> String {
    let t = crate::util::paris(t);
    format!("{} à {:02}:{:02}", day_fr(t.date()), t.hour(), t.minute())
}

/// A period of days from a form's `du` and `au` (`AAAA-MM-JJ` or
/// `JJ/MM/AAAA`): by default the `default_days` up to today; a French 400
/// for a date that is not one or a period upside down.
pub fn window(
    du: Option<&str>,
    au: Option<&str>,
    default_days: i64,
) -> Result<(time::Date, time::Date), Refusal> {
    let parse = |v: Option<&str>, what: &str| -> Result<Option<time::Date>, Refusal> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => crate::domain::parse_date(s).map(Some).map_err(|_| {
                Refusal::bad_form(format!(
                    "La date {what} « {s} » n'est pas une date (JJ/MM/AAAA)."
                ))
            }),
        }
    };
    let today = time::OffsetDateTime::now_utc().date();
    let to = parse(au, "de fin")?.unwrap_or(today);
    let from = parse(du, "de début")?.unwrap_or(to - time::Duration::days(default_days));
    if from > to {
        return Err(Refusal::bad_form(
            "La date de début est après la date de fin.",
        ));
    }
    Ok((from, to))
}

/// A count of days before a delay, in words.
pub fn days_left(n: i64) -> String {
    match n {
        n if n < -1 => format!("dépassé de {} jours", -n),
        -1 => "dépassé d'un jour".to_owned(),
        0 => "aujourd'hui".to_owned(),
        1 => "1 jour".to_owned(),
        n => format!("{n} jours"),
    }
}

/// An amount in euros as the file writes it (`2311.00`) in the French
/// form, `2 311,00 €` (non-breaking spaces); anything else as it is.
pub fn amount_fr(s: &str) -> String {
    let (units, cents) = s.split_once('.').unwrap_or((s, "00"));
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || cents.len() != 2
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return s.to_owned();
    }
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    format!("{grouped},{cents}\u{a0}€")
}

/// The French label of a policy field (a view's column).
pub fn field_label(name: &str) -> &str {
    match name {
        "token" => "Jeton",
        "ref_cdp" => "Référence du CDP",
        "date_cdp" => "Date du CDP",
        "nom" => "Nom",
        "prenom" => "Prénom",
        "adresse" => "Adresse",
        "code_postal" => "Code postal",
        "commune" => "Commune",
        "telephone" => "Téléphone",
        "courriel" => "Courriel",
        "bailleur_type" => "Bailleur",
        "bailleur_nom" => "Nom du bailleur",
        "montant_dette" => "Dette locative",
        "loyer_mensuel" => "Loyer mensuel",
        "commissaire_justice" => "Commissaire de justice",
        "allocataire" => "Allocataire CAF",
        "date_naissance" => "Date de naissance",
        "age" => "Âge",
        "tranche_age" => "Âge",
        "nb_adultes" => "Adultes",
        "nb_enfants" => "Enfants",
        "ages_enfants" => "Âges des enfants",
        "beneficiaire_alf" => "ALF",
        "beneficiaire_apl" => "APL",
        other => other,
    }
}

/// A policy field's value for people: dates `JJ/MM/AAAA`, amounts in
/// euros, landlord types and yes/no in French, an empty value as "—".
pub fn field_value(name: &str, value: &str) -> String {
    if value.is_empty() {
        return "—".to_owned();
    }
    match name {
        "date_cdp" | "date_naissance" => date_fr(value),
        "montant_dette" | "loyer_mensuel" => amount_fr(value),
        "bailleur_type" => match value {
            "social" => "social".to_owned(),
            "prive" => "privé".to_owned(),
            other => other.to_owned(),
        },
        "tranche_age" => match value {
            "< 25" => "moins de 25 ans".to_owned(),
            "25-49" => "25 à 49 ans".to_owned(),
            "50-64" => "50 à 64 ans".to_owned(),
            ">= 65" => "65 ans ou plus".to_owned(),
            other => other.to_owned(),
        },
        "beneficiaire_alf" | "beneficiaire_apl" | "allocataire" => match value {
            "true" | "oui" | "1" => "oui".to_owned(),
            "false" | "non" | "0" => "non".to_owned(),
            other => other.to_owned(),
        },
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_forms() {
        assert_eq!(date_fr("2026-03-09"), "09/03/2026");
        assert_eq!(days_left(-3), "dépassé de 3 jours");
        assert_eq!(amount_fr("2311.00"), "2\u{a0}311,00\u{a0}€");
        assert_eq!(amount_fr("1234567.05"), "1\u{a0}234\u{a0}567,05\u{a0}€");
        assert_eq!(amount_fr("311.50"), "311,50\u{a0}€");
        assert_eq!(amount_fr("n/a"), "n/a");
        assert_eq!(
            field_value("montant_dette", "2311.00"),
            "2\u{a0}311,00\u{a0}€"
        );
        assert_eq!(field_value("courriel", ""), "—");
    }

    #[test]
    fn row_messages_in_french() {
        assert_eq!(
            french_row_message("Code postal must be 5 digits (got 7500)"),
            "Code postal doit compter 5 chiffres (reçu 7500)"
        );
        assert_eq!(
            french_row_message("montant_dette is not an amount"),
            "montant_dette n'est pas un montant (ex. 2311,00)"
        );
        assert_eq!(french_row_message("nom is required"), "nom est obligatoire");
        assert_eq!(french_row_message("something else"), "something else");
    }
}
