//! The record as data: what the register says, built from the
//! configuration and the policy in force, as a small document of headings,
//! paragraphs, lists and tables of plain text and code spans.
//!
//! Nothing here knows Markdown or HTML: the renderers ([`super::markdown`],
//! [`super::html`]) escape every value for the output it lands in, so both
//! outputs say the same thing.

use crate::config::{Config, Partner, Retention, Role, Rule, Transform, View, ViewRows};
use std::sync::Arc;

/// A run of text inside a block.
#[derive(Debug, Clone)]
pub enum Span {
    /// Plain text.
    Text(String),
    /// An identifier (field, role, id, kind): code in both outputs.
    Code(String),
    /// Emphasised text.
    Strong(String),
}

pub type Inline = Vec<Span>;

/// A block of the record.
#[derive(Debug, Clone)]
pub enum Block {
    /// A heading, level 1 to 3.
    Heading(u8, String),
    /// A paragraph.
    Para(Inline),
    /// A bulleted list.
    List(Vec<Inline>),
    /// A table: its column heads, its rows of cells.
    Table {
        /// Column heads.
        head: Vec<String>,
        /// Rows.
        rows: Vec<Vec<Inline>>,
    },
}

pub(super) fn t(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

pub(super) fn c(s: impl Into<String>) -> Span {
    Span::Code(s.into())
}

fn b(s: impl Into<String>) -> Span {
    Span::Strong(s.into())
}

/// Joins inlines with a separator.
fn join(parts: Vec<Inline>, sep: &str) -> Inline {
    let mut out = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(t(sep));
        }
        out.extend(p);
    }
    out
}

/// The whole record, block after block.
#[derive(Debug, Default)]
pub struct Doc(pub Vec<Block>);

impl Doc {
    fn h(&mut self, level: u8, text: impl Into<String>) {
        self.0.push(Block::Heading(level, text.into()));
    }
    fn p(&mut self, spans: Inline) {
        self.0.push(Block::Para(spans));
    }
    fn list(&mut self, items: Vec<Inline>) {
        if !items.is_empty() {
            self.0.push(Block::List(items));
        }
    }
    fn table(&mut self, head: &[&str], rows: Vec<Vec<Inline>>) {
        self.0.push(Block::Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows,
        });
    }
}

// ---------------------------------------------------------------------------
// What the record says.

/// The kinds of file in circuit order; other kinds (none today) follow.
const CIRCUIT_ORDER: &[&str] = &["enrichment", "concertation", "dossier"];

/// The views in circuit order.
fn views_in_order(cfg: &Config) -> Vec<(&str, &View)> {
    let mut views: Vec<(&str, &View)> = cfg
        .policy
        .views
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    views.sort_by_key(|(k, _)| {
        CIRCUIT_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(CIRCUIT_ORDER.len())
    });
    views
}

/// What the secretariat reads through the API besides the views' files:
/// the concertation agenda (listed once, with each field's purpose, where
/// the agenda is built).
const AGENDA: &[(&str, &str)] = &crate::circuit::concertation::AGENDA_FIELDS;

/// One channel of case data to a role: a view's files, or the agenda.
#[derive(Debug)]
struct Disclosure<'a> {
    kind: &'a str,
    role: Role,
    fields: Vec<(&'a str, Transform)>,
}

/// Every channel of case data, views in circuit order then the agenda.
fn disclosures(cfg: &Config) -> Vec<Disclosure<'_>> {
    let mut out: Vec<Disclosure<'_>> = views_in_order(cfg)
        .into_iter()
        .map(|(kind, v)| Disclosure {
            kind,
            role: cfg.policy.view_role(v),
            fields: v
                .fields
                .iter()
                .map(|f| (f.name.as_str(), f.transform))
                .collect(),
        })
        .collect();
    out.push(Disclosure {
        kind: "agenda",
        role: Role::Secretariat,
        fields: AGENDA.iter().map(|(f, _)| (*f, Transform::Clear)).collect(),
    });
    out
}

/// The partners a view's files go to.
fn view_recipients<'a>(cfg: &'a Config, view: &View) -> Vec<&'a Arc<Partner>> {
    cfg.partners.with_role(cfg.policy.view_role(view)).collect()
}

fn partner_ref(p: &Partner) -> Inline {
    vec![t(format!("{} (", p.name)), c(&p.id), t(")")]
}

fn transform_text(tr: Transform) -> &'static str {
    match tr {
        Transform::Clear => "none (as stored)",
        Transform::AmountBand => "amount band (< 1000, 1000-2999, 3000-4999, >= 5000)",
        Transform::Month => "month only (AAAA-MM)",
    }
}

fn rows_text(kind: &str, rows: ViewRows) -> String {
    match (rows, kind) {
        (ViewRows::All, "enrichment") => "every case of the accepted list".into(),
        (ViewRows::All, "dossier") => {
            "every case routed to the recipient: the cases attributed to that referent".into()
        }
        (ViewRows::All, _) => "every case routed to the recipient (no scope filter)".into(),
        (ViewRows::Scope, _) => "only the cases in the recipient's scope: its territory's communes, or, for a social landlord, its own tenants".into(),
    }
}

fn roles_text(p: &Partner) -> Inline {
    join(p.roles.iter().map(|r| vec![c(r.as_str())]).collect(), ", ")
}

fn scope_text(cfg: &Config, p: &Partner) -> Inline {
    if !disclosures(cfg).iter().any(|d| p.has(d.role)) {
        return vec![t("none (receives no case data)")];
    }
    if !p.landlord.is_empty() {
        return vec![t(format!("own tenants of {}", p.landlord.join(", ")))];
    }
    match &p.territory {
        Some(name) => {
            let (communes, codes) = cfg
                .policy
                .territories
                .get(name)
                .map(|t| (t.communes.len(), t.postal_codes.len()))
                .unwrap_or((0, 0));
            vec![
                t("territory "),
                c(name),
                t(format!(" ({})", territory_size(communes, codes))),
            ]
        }
        None => vec![t("no row restriction")],
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn territory_size(communes: usize, postal_codes: usize) -> String {
    let mut s = plural(communes, "commune", "communes");
    if postal_codes > 0 {
        s.push_str(", ");
        s.push_str(&plural(postal_codes, "postal code", "postal codes"));
    }
    s
}

fn certificate_text(p: &Partner) -> String {
    match &p.certificate {
        crate::config::CertificateIdentity::Cn(cn) => format!("subject CN = {cn}"),
        crate::config::CertificateIdentity::Sha256(h) => {
            format!("pinned SHA-256 {}…", &h[..h.len().min(16)])
        }
    }
}

/// Categories of personal data, with the case fields they hold.
const CATEGORIES: &[(&str, &[&str])] = &[
    ("Reference (pseudonymous)", &["token", "ref_cdp"]),
    ("Identity", &["nom", "prenom"]),
    (
        "Contact",
        &["adresse", "code_postal", "commune", "telephone", "courriel"],
    ),
    ("Financial", &["montant_dette", "loyer_mensuel"]),
    ("Housing (landlord)", &["bailleur_type", "bailleur_nom"]),
    (
        "Social situation (CAF's enrichment)",
        &[
            "allocataire",
            "beneficiaire_alf",
            "beneficiaire_apl",
            "nb_adultes",
            "nb_enfants",
            "ages_enfants",
            "date_naissance",
            "age",
            "tranche_age",
        ],
    ),
    (
        "Judicial-adjacent (procedure)",
        &[
            "date_cdp",
            "commissaire_justice",
            "etape",
            "date_etape",
            "date_audience",
        ],
    ),
];

/// Which views (and the agenda) disclose `field`, with the transform when
/// not clear.
fn disclosed_by(cfg: &Config, field: &str) -> Inline {
    let mut parts = Vec::new();
    for d in disclosures(cfg) {
        if let Some((_, tr)) = d.fields.iter().find(|(f, _)| *f == field) {
            let mut s = vec![c(d.kind)];
            if *tr != Transform::Clear {
                s.push(t(format!(" ({})", transform_text(*tr))));
            }
            parts.push(s);
        }
    }
    if parts.is_empty() {
        vec![t("none (held by the gateway only)")]
    } else {
        join(parts, ", ")
    }
}

fn rule_conditions(cfg: &Config, r: &Rule) -> Inline {
    let mut parts: Vec<Inline> = Vec::new();
    if let Some(bt) = &r.bailleur_type {
        parts.push(vec![t(match bt.as_str() {
            "social" => "social landlord".to_string(),
            "prive" => "private landlord".to_string(),
            other => format!("landlord type {other}"),
        })]);
    }
    if let Some(n) = r.enfant_moins_de {
        parts.push(vec![t(format!("at least one child under {n}"))]);
    }
    if let Some(with) = r.avec_enfants {
        parts.push(vec![t(if with {
            "with children"
        } else {
            "without children"
        })]);
    }
    if let Some(alf) = r.beneficiaire_alf {
        parts.push(vec![t(if alf {
            "receives ALF"
        } else {
            "does not receive ALF"
        })]);
    }
    if let Some(n) = r.age_moins_de {
        parts.push(vec![t(format!("main tenant under {n} at the CDP date"))]);
    }
    if let Some(n) = r.age_au_moins {
        parts.push(vec![t(format!(
            "main tenant aged {n} or over at the CDP date"
        ))]);
    }
    let territory = |name: &str| -> Inline {
        let (n, codes) = cfg
            .policy
            .territories
            .get(name)
            .map_or((0, 0), |t| (t.communes.len(), t.postal_codes.len()));
        vec![c(name), t(format!(" ({})", territory_size(n, codes)))]
    };
    if let Some(name) = &r.territoire {
        let mut s = vec![t("dwelling in territory ")];
        s.extend(territory(name));
        parts.push(s);
    }
    if let Some(name) = &r.hors_territoire {
        let mut s = vec![t("dwelling outside territory ")];
        s.extend(territory(name));
        parts.push(s);
    }
    if parts.is_empty() {
        vec![t("always (fallback)")]
    } else {
        join(parts, "; ")
    }
}

fn rule_proposal(cfg: &Config, r: &Rule) -> Inline {
    if let Some(o) = &r.organisme {
        return match cfg.partners.get(o) {
            Some(p) => partner_ref(p),
            None => vec![c(o)],
        };
    }
    match &r.non_traite {
        Some(m) => vec![t("not processed: "), c(m)],
        None => vec![t("—")],
    }
}

fn suites() -> Vec<String> {
    crate::tls::crypto_provider()
        .cipher_suites
        .iter()
        .map(|s| format!("{:?}", s.suite()))
        .collect()
}

fn versions() -> Vec<String> {
    crate::tls::PROTOCOL_VERSIONS
        .iter()
        .map(|v| match v.version {
            rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
            rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// A path as shown: `.` and `..` folded lexically
/// (`config/../certs-example/ca.crt` reads `certs-example/ca.crt`).
pub(super) fn shown(p: &std::path::Path) -> String {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for comp in p.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.display().to_string()
}

fn key_file(path: Option<&std::path::Path>, data: &std::path::Path, default: &str) -> String {
    match path {
        Some(p) => shown(p),
        None => format!("{} (generated on first start)", shown(&data.join(default))),
    }
}

fn mib(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// Builds the record: the preamble, then its eight sections in order.
pub(super) fn document(cfg: &Config, ret: &Retention, controller: &str, generated_at: &str) -> Doc {
    let mut d = Doc::default();
    preamble(&mut d, cfg, generated_at);
    controller_section(&mut d, cfg, controller);
    purposes_section(&mut d, cfg);
    categories_section(&mut d, cfg);
    recipients_section(&mut d, cfg);
    transfers_section(&mut d);
    retention_section(&mut d, ret);
    security_section(&mut d, cfg);
    attribution_section(&mut d, cfg);
    d
}

/// The title, what is processed, and which files the record was read from.
fn preamble(d: &mut Doc, cfg: &Config, generated_at: &str) {
    let g = &cfg.gateway;
    d.h(
        1,
        "Registre des activités de traitement — record of processing activities (GDPR art. 30(1))",
    );
    d.p(vec![
        b("Processing: "),
        t("the monthly exchange of commandements de payer (CDP circuit) between the institutions of the CCAPEX, through the passerelle gateway."),
    ]);
    d.p(vec![t(format!(
        "Generated at {generated_at} by passerelle {} from {}, {} and {}.",
        env!("CARGO_PKG_VERSION"),
        shown(&g.path),
        shown(&g.partners_file),
        shown(&g.policy_file)
    ))]);
    d.p(vec![t(
        "Everything below about disclosures, recipients, rules and security measures is read from those files: it changes when they change. The controller and the legal basis come from passerelle.toml's [register]; the data protection impact assessment and the information notices are not part of the configuration and are for the controller to add.",
    )]);
}

/// Section 1: the controller, the partners as joint actors, the DPO.
fn controller_section(d: &mut Doc, cfg: &Config, controller: &str) {
    d.h(
        2,
        "1. Responsable du traitement — Controller and joint actors",
    );
    d.p(vec![b("Controller: "), t(controller)]);
    match &cfg.gateway.register.legal_basis {
        Some(basis) => d.p(vec![b("Legal basis: "), t(basis)]),
        None => d.p(vec![
            b("Legal basis: "),
            t("not stated in the configuration ([register] legal_basis in passerelle.toml): for the controller to add."),
        ]),
    }
    d.p(vec![t(
        "The institutions taking part in the circuit, as joint actors and recipients (partners.toml):",
    )]);
    d.table(
        &["id", "name", "roles", "rows it may see", "certificate"],
        cfg.partners
            .iter()
            .map(|p| {
                vec![
                    vec![c(&p.id)],
                    vec![t(&p.name)],
                    roles_text(p),
                    scope_text(cfg, p),
                    vec![t(certificate_text(p))],
                ]
            })
            .collect(),
    );
    let dpos: Vec<&Arc<Partner>> = cfg.partners.with_role(Role::Dpo).collect();
    if dpos.is_empty() {
        d.p(vec![
            b("Data protection officer: "),
            t("no partner holds the "),
            c("dpo"),
            t(" role; designate one (art. 37) and declare it in partners.toml."),
        ]);
    } else {
        let dpo_views: Vec<Inline> = views_in_order(cfg)
            .iter()
            .filter(|(_, v)| cfg.policy.view_role(v) == Role::Dpo)
            .map(|(k, _)| vec![c(*k)])
            .collect();
        let mut s = vec![b("Data protection officer: ")];
        s.extend(join(dpos.iter().map(|p| partner_ref(p)).collect(), ", "));
        if dpo_views.is_empty() {
            s.push(t(
                ". Reviews who accessed what in the audit log; no view gives it case content.",
            ));
        } else {
            s.push(t(". Reviews the audit log; receives the views "));
            s.extend(join(dpo_views, ", "));
            s.push(t("."));
        }
        d.p(s);
    }
}

/// Section 2: the purposes, then one subsection per view and one for the agenda.
fn purposes_section(d: &mut Doc, cfg: &Config) {
    d.h(2, "2. Finalités — Purposes");
    d.p(vec![t(format!(
        "Early prevention of rental evictions: every commandement de payer served to a tenant of the territory leads to a contact from one identified social referent before the case reaches court (the legal delay between the CDP and a possible summons is {} days), under the departmental commission for the coordination of eviction-prevention actions (CCAPEX).",
        cfg.policy.legal_delay_days
    ))]);
    d.list(vec![
        vec![t("receiving the month's list of CDPs from the CCAPEX secretariat (role "), c("source"), t(");")],
        vec![t("completing each case with the household's CAF situation (role "), c("enricher"), t(");")],
        vec![t("the monthly concertation: each member checks whether it already follows the household, and a referent is designated (roles "), c("member"), t(", "), c("secretariat"), t(");")],
        vec![t("contact and accompaniment of the household by the designated referent (role "), c("referent"), t(");")],
        vec![t("aggregate figures for the CCAPEX (role "), c("secretariat"), t(");")],
        vec![t("la réception de l'export mensuel d'EXPLOC (les étapes des procédures d'expulsion enregistrées par la préfecture) par le secrétariat de la CCAPEX (rôle "), c("source"), t("), leur rattachement pseudonyme aux CDP du circuit, l'information du référent avant l'audience et la mesure de la judiciarisation des ménages selon leur parcours (rôles "), c("referent"), t(", "), c("secretariat"), t(");")],
        vec![t("review of accesses by the data protection officer (role "), c("dpo"), t(").")],
    ]);
    d.p(vec![t(
        "Each file the gateway produces follows a view of policy.toml; each field a view discloses is there for the purpose stated below (art. 5(1)(b) and (c)).",
    )]);
    for (kind, view) in views_in_order(cfg) {
        view_subsection(d, cfg, kind, view);
    }
    agenda_subsection(d, cfg);
    procedures_subsection(d, cfg);
}

/// What the gateway receives from EXPLOC, how it is kept and linked, and
/// where it goes.
fn procedures_subsection(d: &mut Doc, cfg: &Config) {
    d.h(3, "Étapes des procédures d'expulsion reçues d'EXPLOC");
    let mut from = vec![
        b("Source : "),
        t(
            "l'export mensuel d'EXPLOC, l'application de l'État pour les procédures d'expulsion, envoyé par ",
        ),
    ];
    from.extend(join(
        cfg.partners
            .with_role(Role::Source)
            .map(|p| partner_ref(p))
            .collect(),
        ", ",
    ));
    from.push(t(" (rôle "));
    from.push(c("source"));
    from.push(t(", "));
    from.push(c("POST /v1/procedures"));
    from.push(t(")."));
    d.p(from);
    let fields: Vec<Inline> = crate::ingest::procedures::ALL_COLUMNS
        .iter()
        .map(|f| vec![c(*f)])
        .collect();
    let mut got = vec![b("Données reçues : ")];
    got.extend(join(fields, ", "));
    got.push(t(". L'identité et l'adresse servent seulement à rattacher l'étape au ménage ; elles sont scellées au repos comme les CDP et ne sont transmises à personne."));
    d.p(got);
    d.p(vec![
        b("Rattachement : "),
        t("par la référence du CDP quand EXPLOC la donne, sinon par le jeton du ménage (nom, prénom, code postal normalisés, sous une clé) au CDP le plus récent daté au plus tard du jour de l'étape ; une étape qui ne correspond à aucun CDP est gardée « hors circuit », comptée, jamais transmise. La référence du CDP et celle de l'étape ne sont conservées que sous forme d'empreintes à clé."),
    ]);
    let mut to = vec![
        b("Destinataires : "),
        t("le référent désigné du ménage, par le fichier "),
        c("procedure"),
        t(" (étape et dates, sans identité : voir la vue ci-dessus"),
    ];
    if cfg
        .policy
        .view(crate::domain::FileKind::Procedure)
        .is_none()
    {
        to = vec![
            b("Destinataires : "),
            t("aucun fichier (la politique ne déclare pas de vue "),
            c("procedure"),
        ];
    }
    to.push(t(
        ") ; le secrétariat et le DPO, en chiffres agrégés par parcours (",
    ));
    to.push(c("judiciarisation"));
    to.push(t(") et, pour le secrétariat et le référent, les audiences des six semaines à venir dans les alertes."));
    d.p(to);
}

/// One view: what it is for, who receives it, which rows, and each field
/// with its purpose.
fn view_subsection(d: &mut Doc, cfg: &Config, kind: &str, view: &View) {
    let role = cfg.policy.view_role(view);
    let recipients = view_recipients(cfg, view);
    d.h(3, format!("View {kind}"));
    d.p(vec![t(&view.description)]);
    let mut to = vec![b("Sent to: "), t("role "), c(role.as_str()), t(" — ")];
    to.extend(join(
        recipients.iter().map(|p| partner_ref(p)).collect(),
        ", ",
    ));
    to.push(t(". "));
    to.push(b("Rows: "));
    to.push(t(format!("{}.", rows_text(kind, view.rows))));
    d.p(to);
    let who = join(recipients.iter().map(|p| partner_ref(p)).collect(), ", ");
    d.table(
        &["field", "purpose", "transform", "recipients"],
        view.fields
            .iter()
            .map(|f| {
                vec![
                    vec![c(&f.name)],
                    vec![t(&f.purpose)],
                    vec![t(transform_text(f.transform))],
                    who.clone(),
                ]
            })
            .collect(),
    );
}

/// The concertation agenda and the deadline alerts, when a partner holds
/// the secretariat role.
fn agenda_subsection(d: &mut Doc, cfg: &Config) {
    let secretariat: Vec<&Arc<Partner>> = cfg.partners.with_role(Role::Secretariat).collect();
    if secretariat.is_empty() {
        return;
    }
    d.h(
        3,
        "Concertation agenda and deadline alerts (read through the API)",
    );
    let mut to = vec![
        t("Not a file: the secretariat reads them to run the monthly concertation. "),
        b("Read by: "),
        t("role "),
        c("secretariat"),
        t(" — "),
    ];
    to.extend(join(
        secretariat.iter().map(|p| partner_ref(p)).collect(),
        ", ",
    ));
    to.push(t(". "));
    to.push(b("Rows: "));
    to.push(t("the cases awaiting a referent or a first contact."));
    d.p(to);
    let who = join(secretariat.iter().map(|p| partner_ref(p)).collect(), ", ");
    let mut rows: Vec<Vec<Inline>> = AGENDA
        .iter()
        .map(|(f, purpose)| {
            vec![
                vec![c(*f)],
                vec![t(*purpose)],
                vec![t(transform_text(Transform::Clear))],
                who.clone(),
            ]
        })
        .collect();
    rows.push(vec![
        vec![t("proposed referent and its reason")],
        vec![t("designate a referent at the concertation (section 8)")],
        vec![t(transform_text(Transform::Clear))],
        who,
    ]);
    d.table(&["field", "purpose", "transform", "recipients"], rows);
}

/// Section 3: who the data is about, and each category's fields with the channels
/// that disclose them.
fn categories_section(d: &mut Doc, cfg: &Config) {
    d.h(
        2,
        "3. Personnes concernées et catégories de données — Data subjects and categories of personal data",
    );
    d.list(vec![
        vec![t("tenants served a commandement de payer, as listed by the CCAPEX secretariat (main tenant: identity, contact, debt);")],
        vec![t("the other members of their household, only as counts (adults, children) and the ages of the children;")],
        vec![t("landlords, by name (a private landlord may be a natural person), and the commissaire de justice who served the CDP;")],
        vec![t("the partners' staff, only through their institution's certificate identity in the audit log.")],
    ]);
    let mut rows = Vec::new();
    for (cat, fields) in CATEGORIES {
        for f in *fields {
            rows.push(vec![vec![t(*cat)], vec![c(*f)], disclosed_by(cfg, f)]);
        }
    }
    // Fields a view discloses that no category above names (future fields).
    let known: Vec<&str> = CATEGORIES
        .iter()
        .flat_map(|(_, f)| f.iter().copied())
        .collect();
    for f in disclosed_fields(cfg) {
        if !known.contains(&f) {
            rows.push(vec![vec![t("Other")], vec![c(f)], disclosed_by(cfg, f)]);
        }
    }
    rows.push(vec![
        vec![t("Judicial-adjacent (procedure)")],
        vec![t("court events in the referents' follow-up returns (assignation, audience, résiliation du bail, commandement de quitter les lieux, expulsion)")],
        vec![t("none (aggregate figures only)")],
    ]);
    d.table(&["category", "field", "disclosed by"], rows);
    d.p(vec![t(
        "No special category of data (art. 9) and no data on criminal convictions (art. 10) is collected; debts, benefits and family situation of households at risk of eviction are nevertheless highly personal data concerning vulnerable persons.",
    )]);
}

/// Section 4: the matrix of fields by partner, naming the channels.
fn recipients_section(d: &mut Doc, cfg: &Config) {
    let partners: Vec<&Arc<Partner>> = cfg.partners.iter().collect();
    d.h(2, "4. Destinataires — Recipients per field");
    d.p(vec![
        t("A mark means that at least one view's files, or the concertation agenda ("),
        c("agenda"),
        t(", read through the API by the secretariat), give the field to that partner; the channels are named. Row scopes (section 2) further limit which households each partner sees."),
    ]);
    let channels = disclosures(cfg);
    let mut head: Vec<String> = vec!["field".into()];
    head.extend(partners.iter().map(|p| p.id.to_string()));
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut matrix = Vec::new();
    for f in disclosed_fields(cfg) {
        let mut row = vec![vec![c(f)]];
        for p in &partners {
            let kinds: Vec<Inline> = channels
                .iter()
                .filter(|d| p.has(d.role) && d.fields.iter().any(|(x, _)| *x == f))
                .map(|d| vec![c(d.kind)])
                .collect();
            if kinds.is_empty() {
                row.push(vec![]);
            } else {
                let mut cell = vec![t("✓ ")];
                cell.extend(join(kinds, ", "));
                row.push(cell);
            }
        }
        matrix.push(row);
    }
    d.table(&head_refs, matrix);
    let none: Vec<Inline> = partners
        .iter()
        .filter(|p| !channels.iter().any(|d| p.has(d.role)))
        .map(|p| partner_ref(p))
        .collect();
    if !none.is_empty() {
        let mut s = vec![t("Receive no case data from the gateway: ")];
        s.extend(join(none, ", "));
        s.push(t("."));
        d.p(s);
    }
    d.p(vec![
        t("Besides these fields: the agenda also shows the secretariat the proposed referent with the reason of the rule that gave it (section 8), which reveals the criteria that held (children, ALF, age, landlord type), the referent already known and the decisions; partners with the "),
        c("secretariat"),
        t(" or "),
        c("dpo"),
        t(" role read aggregate figures; the "),
        c("dpo"),
        t(" role reads the audit log, where households appear only by keyed references. The "),
        c("source"),
        t(" sends the lists and reads back their receipts."),
    ]);
}

/// Section 5: no transfer outside the EU.
fn transfers_section(d: &mut Doc) {
    d.h(
        2,
        "5. Transferts hors de l'Union européenne — Transfers outside the EU",
    );
    d.p(vec![t(
        "None. Files go only to the partners listed in section 1; no recipient is a third country or an international organisation.",
    )]);
}

/// Section 6: the retention periods given.
fn retention_section(d: &mut Doc, ret: &Retention) {
    d.h(2, "6. Durées de conservation — Retention periods");
    d.table(
        &["data", "kept for"],
        vec![
            vec![
                vec![t("cases (sealed personal fields, enrichment, decisions)")],
                vec![t(format!("{} months after the case is closed", ret.cases_months_after_closure))],
            ],
            vec![
                vec![t("outbox files (age ciphertext to their recipient)")],
                vec![t(format!(
                    "{} days after the recipient's acknowledgement, {} days at most after production",
                    ret.outbox_days_after_ack, ret.outbox_max_days
                ))],
            ],
            vec![
                vec![t("partners' returns (enrichment, referent, follow-up)")],
                vec![t(format!("{} days", ret.returns_days))],
            ],
            vec![
                vec![t("étapes de procédure reçues d'EXPLOC")],
                vec![t(format!(
                    "rattachées à un CDP : avec ce CDP ; hors circuit : {} mois après leur réception ; le compte rendu de chaque envoi : {} jours",
                    ret.undecided_cases_months, ret.returns_days
                ))],
            ],
            vec![
                vec![t("audit log entries")],
                vec![t(format!(
                    "{} days (the leaf hashes of removed entries are kept, so signed checkpoints stay verifiable)",
                    ret.audit_days
                ))],
            ],
        ],
    );
}

/// Section 7: the security measures, each read from the configuration in force.
fn security_section(d: &mut Doc, cfg: &Config) {
    let g = &cfg.gateway;
    d.h(2, "7. Mesures de sécurité — Security measures (art. 32)");
    let crls: Vec<String> = g.tls.crl.iter().map(|p| shown(p)).collect();
    let s = &g.server;
    let l = &g.limits;
    let database = match &g.storage.database_url {
        Some(u) if u.starts_with("postgres") => {
            "PostgreSQL (connection string not shown)".to_string()
        }
        Some(_) => "the configured database (connection string not shown)".to_string(),
        None => format!("SQLite in {}", shown(&g.storage.data)),
    };
    d.list(vec![
        vec![
            b("Mutual TLS: "),
            t(format!(
                "every connection must present a client certificate issued by the partner CA {}, checked against {}; partners are matched by subject CN or pinned SHA-256 fingerprint. Server certificate: {}.",
                shown(&g.tls.ca),
                if crls.is_empty() {
                    "no certificate revocation list (none configured)".to_string()
                } else {
                    format!("the revocation lists {}", crls.join(", "))
                },
                shown(&g.tls.cert)
            )),
        ],
        {
            let mut v = vec![
                b("Protocols and suites: "),
                t(format!(
                    "{} only, forward-secret AEAD cipher suites: ",
                    versions().join(" and ")
                )),
            ];
            v.extend(join(suites().into_iter().map(|s| vec![c(s)]).collect(), ", "));
            v.push(t("."));
            v
        },
        vec![
            b("Connection bounds: "),
            t(format!(
                "handshake within {} s, headers within {} s, whole request within {} s; at most {} connections at once; {} new connections per second per source address (burst {}) before authentication.",
                s.handshake_timeout_secs,
                s.header_timeout_secs,
                s.request_timeout_secs,
                s.max_connections,
                s.connections_per_ip_per_second,
                s.connection_burst_per_ip
            )),
        ],
        scopes_measure(cfg),
        vec![
            b("Minimisation: "),
            t("each file holds only the fields of its view (section 2); amounts and dates may be banded or reduced to the month."),
        ],
        vec![
            b("Pseudonymisation: "),
            t("partners quote cases by keyed tokens (HMAC-SHA-256, one key per partner derived by HKDF from the root key), so two partners' tokens for one case cannot be linked without the root key; the same household is recognised across months by an internal household token (keyed hash of normalised surname, first name and postal code) never shown to partners; the audit log names households only by keyed references. Root key: "),
            t(key_file(g.pseudonymisation_key.as_deref(), &g.storage.data, "pseudonymisation.key")),
            t("."),
        ],
        vec![
            b("Sealing at rest: "),
            t(format!(
                "personal fields are sealed with XChaCha20-Poly1305 under a key derived from the root key and bound to the record; only ids, tokens, the CDP date, the postal code and the landlord type are stored in clear. Database: {database}."
            )),
        ],
        outbox_measure(cfg),
        vec![
            b("Audit log: "),
            t(format!(
                "every request, file produced, download and acknowledgement is logged; the log is append-only (database triggers refuse updates and deletions), numbered without gaps, hashed into a Merkle tree (RFC 6962) with checkpoints signed every {} s under the origin \"{}\". Signing key: {}.",
                g.audit.checkpoint_interval_secs,
                g.audit.origin,
                key_file(g.audit_signing_key.as_deref(), &g.storage.data, "audit-signing.key")
            )),
        ],
        vec![
            b("Rate limits and input bounds: "),
            t(format!(
                "{} requests per minute per partner (burst {}); request bodies up to {}, at most {} rows, {} characters per cell, XLSX decompressed up to {}.",
                l.requests_per_minute,
                l.burst,
                mib(l.max_body_bytes as u64),
                l.max_rows,
                l.max_cell_chars,
                mib(l.max_xlsx_uncompressed_bytes)
            )),
        ],
        vec![
            b("Key files: "),
            t(format!(
                "the root key, the gateway's age identity ({}), the audit signing key and the TLS key ({}) are files of mode 0600, never in the database; a secret file readable by others is tightened or refused.",
                key_file(g.age_identity.as_deref(), &g.storage.data, "gateway.agekey"),
                shown(&g.tls.key)
            )),
        ],
    ]);
}

/// The measure on roles and row scopes: the territories and the social
/// landlords' own tenants.
fn scopes_measure(cfg: &Config) -> Inline {
    let territories: Vec<Inline> = cfg
        .policy
        .territories
        .iter()
        .map(|(name, t_)| {
            vec![
                c(name),
                t(format!(
                    " ({})",
                    territory_size(t_.communes.len(), t_.postal_codes.len())
                )),
            ]
        })
        .collect();
    let landlords: Vec<Inline> = cfg
        .partners
        .iter()
        .filter(|p| !p.landlord.is_empty())
        .map(|p| vec![c(&p.id), t(format!(": {}", p.landlord.join(", ")))])
        .collect();
    let mut scopes = vec![
        b("Roles and scopes: "),
        t(
            "each route checks the partner's roles (section 1); concertation rows are limited to the partner's territory — ",
        ),
    ];
    scopes.extend(if territories.is_empty() {
        vec![t("none declared")]
    } else {
        join(territories, ", ")
    });
    scopes.push(t(" — or to a social landlord's own tenants — "));
    scopes.extend(if landlords.is_empty() {
        vec![t("none declared")]
    } else {
        join(landlords, "; ")
    });
    scopes.push(t("."));
    scopes
}

/// The measure on files encrypted to their recipients, with how many
/// recipients each partner has.
fn outbox_measure(cfg: &Config) -> Inline {
    let recipients: Vec<Inline> = cfg
        .partners
        .iter()
        .filter(|p| !p.recipients.is_empty())
        .map(|p| vec![c(&p.id), t(format!(" ({})", p.recipients.len()))])
        .collect();
    let mut outbox = vec![
        b("Files encrypted to their recipient: "),
        t(
            "every file produced is stored and served only as age ciphertext (X25519) to the partner's own recipients — ",
        ),
    ];
    outbox.extend(join(recipients, ", "));
    outbox.push(t(
        "; CSV and XLSX cells are written so that no spreadsheet evaluates them as formulas.",
    ));
    outbox
}

/// Section 8: how the referent proposal is made: the rules in order.
fn attribution_section(d: &mut Doc, cfg: &Config) {
    d.h(
        2,
        "8. Logique de l'attribution — Logic involved in the referent proposal (art. 13(2)(f), 14(2)(g))",
    );
    d.p(vec![t(
        "For each household, the gateway proposes a referent to the monthly concertation, which decides: the proposal is no decision based solely on automated processing (art. 22). A household already followed (a member reports knowing a referent, or a referent was designated for an earlier CDP of the same household) is proposed to that referent. Otherwise the rules below are tried in order and the first whose conditions all hold gives the proposal; a rule needing a missing fact (no birth date, no enrichment yet) stops the search, with no proposal and the missing fact named.",
    )]);
    d.table(
        &["#", "conditions", "proposal", "reason"],
        cfg.policy
            .attribution
            .iter()
            .enumerate()
            .map(|(i, r)| {
                vec![
                    vec![t((i + 1).to_string())],
                    rule_conditions(cfg, r),
                    rule_proposal(cfg, r),
                    vec![t(&r.reason)],
                ]
            })
            .collect(),
    );
    if cfg.policy.attribution.is_empty() {
        d.p(vec![t(
            "No attribution rule is configured: the concertation designates every referent.",
        )]);
    }
}

/// The fields some view or the agenda discloses, in circuit order of first
/// appearance.
fn disclosed_fields(cfg: &Config) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for d in disclosures(cfg) {
        for (f, _) in d.fields {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn paths_are_shown_with_dot_segments_folded() {
        assert_eq!(
            shown(Path::new("/a/config/../certs/./ca.crt")),
            "/a/certs/ca.crt"
        );
        assert_eq!(shown(Path::new("../data/x")), "../data/x");
        assert_eq!(shown(Path::new("/../x")), "/x");
    }
}
