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
        Transform::Clear => "aucune (valeur telle qu'enregistrée)",
        Transform::AmountBand => "tranche de montant (< 1000, 1000-2999, 3000-4999, >= 5000)",
        Transform::Month => "mois seulement (AAAA-MM)",
    }
}

fn rows_text(kind: &str, rows: ViewRows) -> String {
    match (rows, kind) {
        (ViewRows::All, "enrichment") => "tous les dossiers de la liste acceptée".into(),
        (ViewRows::All, "dossier") => {
            "tous les dossiers orientés vers le destinataire : ceux qui sont attribués à ce référent".into()
        }
        (ViewRows::All, _) => "tous les dossiers orientés vers le destinataire (sans filtre de périmètre)".into(),
        (ViewRows::Scope, _) => "seulement les dossiers du périmètre du destinataire : les communes de son territoire ou, pour un bailleur social, ses propres locataires".into(),
    }
}

fn roles_text(p: &Partner) -> Inline {
    join(p.roles.iter().map(|r| vec![c(r.as_str())]).collect(), ", ")
}

fn scope_text(cfg: &Config, p: &Partner) -> Inline {
    if !disclosures(cfg).iter().any(|d| p.has(d.role)) {
        return vec![t("aucun (ne reçoit aucune donnée de dossier)")];
    }
    if !p.landlord.is_empty() {
        return vec![t(format!(
            "ses propres locataires ({})",
            p.landlord.join(", ")
        ))];
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
                t("territoire "),
                c(name),
                t(format!(" ({})", territory_size(communes, codes))),
            ]
        }
        None => vec![t("tous (aucune restriction)")],
    }
}

/// A count and its noun, French rule: 0 and 1 take the singular.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n <= 1 { one } else { many })
}

fn territory_size(communes: usize, postal_codes: usize) -> String {
    let mut s = plural(communes, "commune", "communes");
    if postal_codes > 0 {
        s.push_str(", ");
        s.push_str(&plural(postal_codes, "code postal", "codes postaux"));
    }
    s
}

fn certificate_text(p: &Partner) -> String {
    match &p.certificate {
        crate::config::CertificateIdentity::Cn(cn) => format!("CN du sujet = {cn}"),
        crate::config::CertificateIdentity::Sha256(h) => {
            format!("empreinte SHA-256 épinglée {}…", &h[..h.len().min(16)])
        }
    }
}

/// The category of the procedure's data (the CDP, the court events).
const PROCEDURE: &str = "Procédure d'expulsion";

/// Categories of personal data, with the case fields they hold.
const CATEGORIES: &[(&str, &[&str])] = &[
    ("Référence (pseudonyme)", &["token", "ref_cdp"]),
    ("Identité", &["nom", "prenom"]),
    (
        "Coordonnées",
        &["adresse", "code_postal", "commune", "telephone", "courriel"],
    ),
    ("Situation financière", &["montant_dette", "loyer_mensuel"]),
    ("Logement (bailleur)", &["bailleur_type", "bailleur_nom"]),
    (
        "Situation sociale (enrichissement de la CAF)",
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
        PROCEDURE,
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
        vec![t("aucun (conservé par la seule passerelle)")]
    } else {
        join(parts, ", ")
    }
}

fn rule_conditions(cfg: &Config, r: &Rule) -> Inline {
    let mut parts: Vec<Inline> = Vec::new();
    if let Some(bt) = &r.bailleur_type {
        parts.push(vec![t(match bt.as_str() {
            "social" => "bailleur social".to_string(),
            "prive" => "bailleur privé".to_string(),
            other => format!("type de bailleur {other}"),
        })]);
    }
    if let Some(n) = r.enfant_moins_de {
        parts.push(vec![t(format!("au moins un enfant de moins de {n} ans"))]);
    }
    if let Some(with) = r.avec_enfants {
        parts.push(vec![t(if with { "avec enfants" } else { "sans enfant" })]);
    }
    if let Some(alf) = r.beneficiaire_alf {
        parts.push(vec![t(if alf {
            "bénéficiaire de l'ALF"
        } else {
            "non bénéficiaire de l'ALF"
        })]);
    }
    if let Some(n) = r.age_moins_de {
        parts.push(vec![t(format!(
            "locataire en titre de moins de {n} ans à la date du CDP"
        ))]);
    }
    if let Some(n) = r.age_au_moins {
        parts.push(vec![t(format!(
            "locataire en titre de {n} ans ou plus à la date du CDP"
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
        let mut s = vec![t("logement dans le territoire ")];
        s.extend(territory(name));
        parts.push(s);
    }
    if let Some(name) = &r.hors_territoire {
        let mut s = vec![t("logement hors du territoire ")];
        s.extend(territory(name));
        parts.push(s);
    }
    if parts.is_empty() {
        vec![t("toujours (règle par défaut)")]
    } else {
        join(parts, " ; ")
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
        Some(m) => vec![t("non traité : "), c(m)],
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
        None => format!(
            "{} (générée au premier démarrage)",
            shown(&data.join(default))
        ),
    }
}

fn mib(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} Mio", bytes / (1024 * 1024))
    } else {
        format!("{bytes} octets")
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
        "Registre des activités de traitement (article 30.1 du RGPD)",
    );
    d.p(vec![
        b("Traitement : "),
        t("l'échange mensuel des commandements de payer (circuit CDP) entre les institutions de la CCAPEX, au moyen de la passerelle d'échange sécurisée (logiciel passerelle)."),
    ]);
    d.p(vec![t(format!(
        "Établi le {generated_at} par passerelle {} à partir des fichiers {}, {} et {}.",
        env!("CARGO_PKG_VERSION"),
        shown(&g.path),
        shown(&g.partners_file),
        shown(&g.policy_file)
    ))]);
    d.p(vec![t(
        "Tout ce qui suit sur les données transmises, les destinataires, les règles et les mesures de sécurité est lu dans ces fichiers : le registre change quand ils changent. Le responsable du traitement et la base légale proviennent de la section [register] de passerelle.toml ; l'analyse d'impact relative à la protection des données (AIPD) et les mentions d'information des personnes concernées ne relèvent pas de la configuration et sont à ajouter par le responsable du traitement.",
    )]);
}

/// Section 1: the controller, the partners as joint actors, the DPO.
fn controller_section(d: &mut Doc, cfg: &Config, controller: &str) {
    d.h(
        2,
        "1. Responsable du traitement et institutions partenaires",
    );
    d.p(vec![b("Responsable du traitement : "), t(controller)]);
    match &cfg.gateway.register.legal_basis {
        Some(basis) => d.p(vec![b("Base légale : "), t(basis)]),
        None => d.p(vec![
            b("Base légale : "),
            t("non indiquée dans la configuration (legal_basis de la section [register] de passerelle.toml) : à compléter par le responsable du traitement."),
        ]),
    }
    d.p(vec![t(
        "Les institutions qui participent au circuit, en tant qu'acteurs associés et destinataires (partners.toml) :",
    )]);
    d.table(
        &[
            "identifiant",
            "nom",
            "rôles",
            "dossiers visibles",
            "certificat",
        ],
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
            b("Délégué à la protection des données : "),
            t("aucun partenaire n'a le rôle "),
            c("dpo"),
            t(" ; en désigner un (article 37) et le déclarer dans partners.toml."),
        ]);
    } else {
        let dpo_views: Vec<Inline> = views_in_order(cfg)
            .iter()
            .filter(|(_, v)| cfg.policy.view_role(v) == Role::Dpo)
            .map(|(k, _)| vec![c(*k)])
            .collect();
        let mut s = vec![b("Délégué à la protection des données : ")];
        s.extend(join(dpos.iter().map(|p| partner_ref(p)).collect(), ", "));
        if dpo_views.is_empty() {
            s.push(t(
                ". Contrôle dans le journal des accès qui a consulté quelles données ; aucune vue ne lui transmet le contenu des dossiers.",
            ));
        } else {
            s.push(t(". Contrôle le journal des accès ; reçoit les vues "));
            s.extend(join(dpo_views, ", "));
            s.push(t("."));
        }
        d.p(s);
    }
}

/// Section 2: the purposes, then one subsection per view and one for the agenda.
fn purposes_section(d: &mut Doc, cfg: &Config) {
    d.h(2, "2. Finalités");
    d.p(vec![t(format!(
        "Prévention précoce des expulsions locatives : chaque commandement de payer délivré à un locataire du territoire donne lieu à une prise de contact par un référent social identifié avant que l'affaire n'arrive devant le juge (le délai légal entre le CDP et une éventuelle assignation est de {}), sous l'égide de la commission de coordination des actions de prévention des expulsions locatives (CCAPEX).",
        plural(cfg.policy.legal_delay_days as usize, "jour", "jours")
    ))]);
    d.list(vec![
        vec![t("la réception de la liste mensuelle des CDP transmise par le secrétariat de la CCAPEX (rôle "), c("source"), t(") ;")],
        vec![t("l'enrichissement de chaque dossier par la situation du ménage connue de la CAF (rôle "), c("enricher"), t(") ;")],
        vec![t("la concertation mensuelle : chaque membre indique s'il suit déjà le ménage, et un référent est désigné (rôles "), c("member"), t(", "), c("secretariat"), t(") ;")],
        vec![t("la prise de contact avec le ménage et son accompagnement par le référent désigné (rôle "), c("referent"), t(") ;")],
        vec![t("les statistiques agrégées destinées à la CCAPEX (rôle "), c("secretariat"), t(") ;")],
        vec![t("la réception de l'export mensuel d'EXPLOC (les étapes des procédures d'expulsion enregistrées par la préfecture) par le secrétariat de la CCAPEX (rôle "), c("source"), t("), leur rattachement pseudonyme aux CDP du circuit, l'information du référent avant l'audience et la mesure de la judiciarisation des ménages selon leur parcours (rôles "), c("referent"), t(", "), c("secretariat"), t(") ;")],
        vec![t("le contrôle des accès par le délégué à la protection des données (rôle "), c("dpo"), t(").")],
    ]);
    d.p(vec![t(
        "Chaque fichier produit par la passerelle suit une vue de policy.toml ; chaque champ qu'une vue transmet l'est pour la finalité indiquée ci-dessous (article 5.1, points b et c, du RGPD).",
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

/// The heads of a view's (or the agenda's) table of fields.
const FIELD_HEAD: [&str; 4] = ["champ", "finalité", "transformation", "destinataires"];

/// One view: what it is for, who receives it, which rows, and each field
/// with its purpose.
fn view_subsection(d: &mut Doc, cfg: &Config, kind: &str, view: &View) {
    let role = cfg.policy.view_role(view);
    let recipients = view_recipients(cfg, view);
    d.h(3, format!("Vue {kind}"));
    d.p(vec![t(&view.description)]);
    let mut to = vec![b("Transmise à : "), t("rôle "), c(role.as_str()), t(" — ")];
    to.extend(join(
        recipients.iter().map(|p| partner_ref(p)).collect(),
        ", ",
    ));
    to.push(t(". "));
    to.push(b("Dossiers : "));
    to.push(t(format!("{}.", rows_text(kind, view.rows))));
    d.p(to);
    let who = join(recipients.iter().map(|p| partner_ref(p)).collect(), ", ");
    d.table(
        &FIELD_HEAD,
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
        "Ordre du jour de la concertation et alertes d'échéance (consultés au moyen de l'API)",
    );
    let mut to = vec![
        t(
            "Il ne s'agit pas d'un fichier : le secrétariat les consulte pour conduire la concertation mensuelle. ",
        ),
        b("Consultés par : "),
        t("rôle "),
        c("secretariat"),
        t(" — "),
    ];
    to.extend(join(
        secretariat.iter().map(|p| partner_ref(p)).collect(),
        ", ",
    ));
    to.push(t(". "));
    to.push(b("Dossiers : "));
    to.push(t(
        "les dossiers en attente d'un référent ou d'un premier contact.",
    ));
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
        vec![t("référent proposé et motif de la proposition")],
        vec![t("désigner un référent en concertation (section 8)")],
        vec![t(transform_text(Transform::Clear))],
        who,
    ]);
    d.table(&FIELD_HEAD, rows);
}

/// Section 3: who the data is about, and each category's fields with the channels
/// that disclose them.
fn categories_section(d: &mut Doc, cfg: &Config) {
    d.h(
        2,
        "3. Catégories de personnes concernées et catégories de données",
    );
    d.list(vec![
        vec![t("les locataires ayant reçu un commandement de payer, tels qu'ils figurent sur la liste du secrétariat de la CCAPEX (locataire en titre : identité, coordonnées, dette) ;")],
        vec![t("les autres membres de leur ménage, seulement par leur nombre (adultes, enfants) et l'âge des enfants ;")],
        vec![t("les bailleurs, par leur nom (un bailleur privé peut être une personne physique), et le commissaire de justice qui a délivré le CDP ;")],
        vec![t("les agents des partenaires, seulement par l'identité du certificat de leur institution dans le journal des accès.")],
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
            rows.push(vec![vec![t("Autre")], vec![c(f)], disclosed_by(cfg, f)]);
        }
    }
    rows.push(vec![
        vec![t(PROCEDURE)],
        vec![t("événements judiciaires des retours de suivi des référents (assignation, audience, résiliation du bail, commandement de quitter les lieux, expulsion)")],
        vec![t("aucun (statistiques agrégées seulement)")],
    ]);
    d.table(&["catégorie", "champ", "transmis par"], rows);
    d.p(vec![t(
        "Aucune catégorie particulière de données (article 9) ni aucune donnée relative aux condamnations pénales et aux infractions (article 10) n'est collectée ; les dettes, les prestations et la situation familiale de ménages menacés d'expulsion sont néanmoins des données à caractère hautement personnel concernant des personnes vulnérables.",
    )]);
}

/// Section 4: the matrix of fields by partner, naming the channels.
fn recipients_section(d: &mut Doc, cfg: &Config) {
    let partners: Vec<&Arc<Partner>> = cfg.partners.iter().collect();
    d.h(2, "4. Destinataires par champ");
    d.p(vec![
        t("Une coche signifie que les fichiers d'au moins une vue, ou l'ordre du jour de la concertation ("),
        c("agenda"),
        t(", consulté par le secrétariat au moyen de l'API), transmettent le champ à ce partenaire ; les canaux sont nommés. Les périmètres (section 2) limitent en outre les ménages que voit chaque partenaire."),
    ]);
    let channels = disclosures(cfg);
    let mut head: Vec<String> = vec!["champ".into()];
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
        let mut s = vec![t(
            "Aucune donnée de dossier n'est transmise par la passerelle à : ",
        )];
        s.extend(join(none, ", "));
        s.push(t("."));
        d.p(s);
    }
    d.p(vec![
        t("En dehors de ces champs : l'ordre du jour montre aussi au secrétariat le référent proposé avec le motif de la règle qui l'a donné (section 8), ce qui révèle les critères remplis (enfants, ALF, âge, type de bailleur), le référent déjà connu et les décisions ; les partenaires ayant le rôle "),
        c("secretariat"),
        t(" ou "),
        c("dpo"),
        t(" consultent des statistiques agrégées ; le rôle "),
        c("dpo"),
        t(" consulte le journal des accès, où les ménages n'apparaissent que par des références à clé. Le rôle "),
        c("source"),
        t(" dépose les listes et en consulte les récépissés."),
    ]);
}

/// Section 5: no transfer outside the EU.
fn transfers_section(d: &mut Doc) {
    d.h(2, "5. Transferts hors de l'Union européenne");
    d.p(vec![t(
        "Aucun. Les fichiers ne sont transmis qu'aux partenaires énumérés à la section 1 ; aucun destinataire n'est un pays tiers ni une organisation internationale.",
    )]);
}

/// A number of days, in words.
fn days(n: impl Into<u64>) -> String {
    let n: u64 = n.into();
    plural(usize::try_from(n).unwrap_or(usize::MAX), "jour", "jours")
}

/// Section 6: the retention periods given.
fn retention_section(d: &mut Doc, ret: &Retention) {
    d.h(2, "6. Durées de conservation");
    d.table(
        &["données", "durée de conservation"],
        vec![
            vec![
                vec![t("dossiers (champs personnels scellés, enrichissement, décisions)")],
                vec![t(format!("{} mois après la clôture du dossier", ret.cases_months_after_closure))],
            ],
            vec![
                vec![t("fichiers mis à disposition (chiffrés avec age pour leur destinataire)")],
                vec![t(format!(
                    "{} après l'accusé de réception du destinataire, {} au plus après leur production",
                    days(ret.outbox_days_after_ack), days(ret.outbox_max_days)
                ))],
            ],
            vec![
                vec![t("retours des partenaires (enrichissement, référent, suivi)")],
                vec![t(days(ret.returns_days))],
            ],
            vec![
                vec![t("étapes de procédure reçues d'EXPLOC")],
                vec![t(format!(
                    "rattachées à un CDP : avec ce CDP ; hors circuit : {} mois après leur réception ; le compte rendu de chaque envoi : {} jours",
                    ret.undecided_cases_months, ret.returns_days
                ))],
            ],
            vec![
                vec![t("entrées du journal des accès")],
                vec![t(format!(
                    "{} (les empreintes des entrées supprimées sont conservées, de sorte que les points de contrôle signés restent vérifiables)",
                    days(ret.audit_days)
                ))],
            ],
        ],
    );
}

/// Section 7: the security measures, each read from the configuration in force.
fn security_section(d: &mut Doc, cfg: &Config) {
    let g = &cfg.gateway;
    d.h(2, "7. Mesures de sécurité (article 32)");
    let crls: Vec<String> = g.tls.crl.iter().map(|p| shown(p)).collect();
    let s = &g.server;
    let l = &g.limits;
    let database = match &g.storage.database_url {
        Some(u) if u.starts_with("postgres") => {
            "PostgreSQL (chaîne de connexion non affichée)".to_string()
        }
        Some(_) => "la base de données configurée (chaîne de connexion non affichée)".to_string(),
        None => format!("SQLite, dans le dossier {}", shown(&g.storage.data)),
    };
    d.list(vec![
        vec![
            b("TLS mutuel : "),
            t(format!(
                "toute connexion doit présenter un certificat client délivré par l'autorité de certification des partenaires {} ; {} ; les partenaires sont reconnus par le CN du sujet ou par une empreinte SHA-256 épinglée. Certificat du serveur : {}.",
                shown(&g.tls.ca),
                match crls.len() {
                    0 => "aucune liste de révocation de certificats n'est configurée".to_string(),
                    1 => format!("révocation vérifiée avec la liste {}", crls[0]),
                    _ => format!("révocation vérifiée avec les listes {}", crls.join(", ")),
                },
                shown(&g.tls.cert)
            )),
        ],
        {
            let mut v = vec![
                b("Protocoles et suites : "),
                t(format!(
                    "{} seulement, suites cryptographiques AEAD à confidentialité persistante : ",
                    versions().join(" et ")
                )),
            ];
            v.extend(join(suites().into_iter().map(|s| vec![c(s)]).collect(), ", "));
            v.push(t("."));
            v
        },
        vec![
            b("Limites de connexion : "),
            t(format!(
                "négociation TLS en {} s au plus, en-têtes en {} s, requête complète en {} s ; au plus {} connexions simultanées ; {} nouvelles connexions par seconde et par adresse source (rafale de {}) avant authentification.",
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
            b("Minimisation : "),
            t("chaque fichier ne contient que les champs de sa vue (section 2) ; les montants et les dates peuvent être ramenés à une tranche ou au mois."),
        ],
        vec![
            b("Pseudonymisation : "),
            t("les partenaires désignent les dossiers par des jetons à clé (HMAC-SHA-256, une clé par partenaire dérivée de la clé racine par HKDF), de sorte que les jetons de deux partenaires pour un même dossier ne peuvent être rapprochés sans la clé racine ; un même ménage est reconnu d'un mois à l'autre par un jeton de ménage interne (empreinte à clé du nom, du prénom et du code postal normalisés), jamais montré aux partenaires ; le journal des accès ne désigne les ménages que par des références à clé. Clé racine : "),
            t(key_file(g.pseudonymisation_key.as_deref(), &g.storage.data, "pseudonymisation.key")),
            t("."),
        ],
        vec![
            b("Chiffrement au repos : "),
            t(format!(
                "les champs personnels sont scellés avec XChaCha20-Poly1305 sous une clé dérivée de la clé racine et liée à l'enregistrement ; seuls les identifiants, les jetons, la date du CDP, le code postal et le type de bailleur sont conservés en clair. Base de données : {database}."
            )),
        ],
        outbox_measure(cfg),
        vec![
            b("Journal des accès : "),
            t(format!(
                "chaque requête, fichier produit, téléchargement et accusé de réception est journalisé ; le journal n'admet que des ajouts (des déclencheurs de la base de données refusent les modifications et les suppressions), est numéroté sans lacune et haché en arbre de Merkle (RFC 6962), avec des points de contrôle signés toutes les {} s sous l'origine « {} ». Clé de signature : {}.",
                g.audit.checkpoint_interval_secs,
                g.audit.origin,
                key_file(g.audit_signing_key.as_deref(), &g.storage.data, "audit-signing.key")
            )),
        ],
        vec![
            b("Limites de débit et de volume : "),
            t(format!(
                "{} requêtes par minute et par partenaire (rafale de {}) ; corps de requête jusqu'à {}, au plus {} lignes, {} caractères par cellule, XLSX décompressé jusqu'à {}.",
                l.requests_per_minute,
                l.burst,
                mib(l.max_body_bytes as u64),
                l.max_rows,
                l.max_cell_chars,
                mib(l.max_xlsx_uncompressed_bytes)
            )),
        ],
        vec![
            b("Fichiers de clés : "),
            t(format!(
                "la clé racine, l'identité age de la passerelle ({}), la clé de signature du journal et la clé TLS ({}) sont des fichiers en mode 0600, jamais en base de données ; un fichier secret lisible par d'autres utilisateurs voit ses droits restreints, ou est refusé.",
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
        .map(|p| vec![c(&p.id), t(format!(" : {}", p.landlord.join(", ")))])
        .collect();
    let mut scopes = vec![
        b("Rôles et périmètres : "),
        t(
            "chaque route vérifie les rôles du partenaire (section 1) ; les dossiers de concertation sont limités au territoire du partenaire — ",
        ),
    ];
    scopes.extend(if territories.is_empty() {
        vec![t("aucun n'est déclaré")]
    } else {
        join(territories, ", ")
    });
    scopes.push(t(" — ou aux propres locataires d'un bailleur social — "));
    scopes.extend(if landlords.is_empty() {
        vec![t("aucun n'est déclaré")]
    } else {
        join(landlords, " ; ")
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
        .map(|p| {
            vec![
                c(&p.id),
                t(format!(" ({})", plural(p.recipients.len(), "clé", "clés"))),
            ]
        })
        .collect();
    let mut outbox = vec![
        b("Fichiers chiffrés pour leur destinataire : "),
        t(
            "chaque fichier produit n'est conservé et servi que chiffré avec age (X25519) pour les clés du partenaire destinataire — ",
        ),
    ];
    outbox.extend(join(recipients, ", "));
    outbox.push(t(
        " ; les cellules CSV et XLSX sont écrites de sorte qu'aucun tableur ne les évalue comme des formules.",
    ));
    outbox
}

/// Section 8: how the referent proposal is made: the rules in order.
fn attribution_section(d: &mut Doc, cfg: &Config) {
    d.h(
        2,
        "8. Logique de la proposition de référent (articles 13.2.f et 14.2.g)",
    );
    d.p(vec![t(
        "Pour chaque ménage, la passerelle propose un référent à la concertation mensuelle, qui décide : la proposition n'est pas une décision fondée exclusivement sur un traitement automatisé (article 22). Un ménage déjà suivi (un membre indique lui connaître un référent, ou un référent a été désigné pour un CDP antérieur du même ménage) est proposé à ce référent. Sinon, les règles ci-dessous sont examinées dans l'ordre et la première dont toutes les conditions sont remplies donne la proposition ; une règle qui a besoin d'une donnée manquante (pas de date de naissance, pas encore d'enrichissement) arrête la recherche, sans proposition, et la donnée manquante est indiquée.",
    )]);
    d.table(
        &["n°", "conditions", "proposition", "motif"],
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
            "Aucune règle d'attribution n'est configurée : la concertation désigne chaque référent.",
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
