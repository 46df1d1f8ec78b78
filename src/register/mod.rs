//! `passerelle register`: the GDPR article 30 record of processing
//! ("registre des activités de traitement"), generated from the
//! configuration and the policy in force, as Markdown or as a
//! self-contained HTML page.
//!
//! The record is built once as data ([`model`]: headings, paragraphs,
//! lists, tables of plain text) and rendered twice ([`markdown`],
//! [`html`]), so both outputs say the same thing; every value taken from
//! the configuration is escaped for the output it lands in.

mod html;
mod markdown;
pub mod model;

use crate::config::Config;

/// The retention periods the register states: the policy's `[retention]`.
pub use crate::config::Retention;

/// The controller the record names when the configuration names none.
pub const DEFAULT_CONTROLLER: &str =
    "CCAPEX de la Vendée (DDETS), avec les partenaires de partners.toml";

/// The controller the configuration names (`[register] controller`), or
/// [`DEFAULT_CONTROLLER`].
pub fn controller(cfg: &Config) -> &str {
    cfg.gateway
        .register
        .controller
        .as_deref()
        .unwrap_or(DEFAULT_CONTROLLER)
}

/// The record as a file, naming the configuration's controller: Markdown,
/// or a self-contained HTML page.
pub fn file(cfg: &Config, markdown: bool) -> String {
    let retention = &cfg.policy.retention;
    if markdown {
        self::markdown(cfg, retention, controller(cfg))
    } else {
        html(cfg, retention, controller(cfg))
    }
}

/// The record as data, for a renderer of one's own (the console's page).
pub fn document(cfg: &Config, retention: &Retention, controller: &str) -> model::Doc {
    model::document(cfg, retention, controller, &now())
}

/// The record as Markdown (CommonMark with GFM tables).
pub fn markdown(cfg: &Config, retention: &Retention, controller: &str) -> String {
    markdown::render(&model::document(cfg, retention, controller, &now()))
}

/// The record as a self-contained HTML page (inline CSS, no external
/// resource, every value escaped).
pub fn html(cfg: &Config, retention: &Retention, controller: &str) -> String {
    html::render(&model::document(cfg, retention, controller, &now()))
}

fn now() -> String {
    crate::util::rfc3339_ms(time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::markdown::md_escape;
    use super::model::shown;
    use super::*;
    use crate::config::Role;
    use crate::html::escape as html_escape;
    use std::path::Path;

    fn example() -> Config {
        Config::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("config/passerelle.toml"),
            &Default::default(),
        )
        .expect("the example configuration loads")
    }

    /// The Markdown table whose first cell is `field`, in the section
    /// starting at `heading`.
    fn matrix_row<'a>(md: &'a str, field: &str) -> Vec<&'a str> {
        let section = md
            .split("\n## ")
            .find(|s| s.starts_with("4. "))
            .expect("section 4");
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("| `{field}` |")))
            .unwrap_or_else(|| panic!("no matrix row for {field}"));
        line.trim_matches('|').split(" | ").map(str::trim).collect()
    }

    fn matrix_head(md: &str) -> Vec<&str> {
        let section = md
            .split("\n## ")
            .find(|s| s.starts_with("4. "))
            .expect("section 4");
        let line = section
            .lines()
            .find(|l| l.starts_with("| champ |"))
            .expect("matrix head");
        line.trim_matches('|').split(" | ").map(str::trim).collect()
    }

    #[test]
    fn markdown_lists_every_view_and_field_with_its_purpose() {
        let cfg = example();
        let md = markdown(&cfg, &Retention::default(), "Préfecture de la Vendée");
        assert!(md.contains("Préfecture de la Vendée"));
        for f in [
            &cfg.gateway.path,
            &cfg.gateway.partners_file,
            &cfg.gateway.policy_file,
        ] {
            assert!(md.contains(&md_escape(&shown(f))));
        }
        assert!(md.contains("Établi le "));
        for (kind, view) in &cfg.policy.views {
            let start = md
                .find(&format!("### Vue {kind}\n"))
                .unwrap_or_else(|| panic!("no section for view {kind}"));
            let section = &md[start..];
            let section = &section[..section[4..].find("\n#").map_or(section.len(), |i| i + 4)];
            assert!(section.contains(&md_escape(&view.description)), "{kind}");
            for f in &view.fields {
                let row = format!("| `{}` | {} |", f.name, md_escape(&f.purpose));
                assert!(section.contains(&row), "{kind}: no row {row:?}");
            }
        }
        // Every partner is named, the DPO is identified.
        for p in cfg.partners.iter() {
            assert!(md.contains(&md_escape(&p.name)), "{}", p.id);
        }
        assert!(md.contains(
            "**Délégué à la protection des données :** Délégué à la protection des données (`dpo`)"
        ));
        // Attribution rules, with their reasons, in order.
        let mut at = 0;
        for r in &cfg.policy.attribution {
            let i = md[at..].find(&md_escape(&r.reason)).expect("rule reason");
            at += i;
        }
        assert!(md.contains("au moins un enfant de moins de 21 ans ; bénéficiaire de l'ALF"));
        // Retention and limits come from the values given.
        let ret = Retention {
            cases_months_after_closure: 7,
            ..Retention::default()
        };
        let md = markdown(&cfg, &ret, "x");
        assert!(md.contains("7 mois après la clôture du dossier"));
        assert!(md.contains("600 requêtes par minute et par partenaire (rafale de 60)"));
        assert!(md.contains("`TLS13_AES_256_GCM_SHA384`"));
        assert!(md.contains("crl.pem"));
    }

    #[test]
    fn telephone_goes_only_to_referents_in_the_dossier() {
        let cfg = example();
        let md = markdown(&cfg, &Retention::default(), "CCAPEX");
        let head = matrix_head(&md);
        let row = matrix_row(&md, "telephone");
        assert_eq!(head.len(), row.len());
        for (id, cell) in head.iter().zip(&row).skip(1) {
            let p = cfg.partners.get(id).expect("a partner column");
            if p.has(Role::Referent) {
                assert_eq!(*cell, "✓ `dossier`", "{id}");
            } else {
                assert_eq!(*cell, "", "{id}");
            }
        }
        // CAF gets the name in its enrichment file, never the phone.
        let caf = head.iter().position(|h| *h == "caf").unwrap();
        assert!(matrix_row(&md, "nom")[caf].contains("`enrichment`"));
        assert!(!row[caf].contains("enrichment"));
        // Nor does the enrichment view's own table list it.
        let enrichment = &md[md.find("### Vue enrichment").unwrap()..];
        let enrichment = &enrichment[..enrichment[4..].find("\n#").unwrap() + 4];
        assert!(enrichment.contains("| `nom` |"));
        assert!(!enrichment.contains("telephone"));
        // The secretariat reads names in the agenda, not the phone.
        let ddets = head.iter().position(|h| *h == "ddets").unwrap();
        assert_eq!(matrix_row(&md, "nom")[ddets], "✓ `agenda`");
        assert_eq!(row[ddets], "");
        // The DPO receives no case content.
        let dpo = head.iter().position(|h| *h == "dpo").unwrap();
        assert!(matrix_row(&md, "nom")[dpo].is_empty());
        assert!(md.contains("Aucune donnée de dossier n'est transmise par la passerelle à : "));
    }

    #[test]
    fn the_record_is_in_french() {
        let cfg = example();
        let md = markdown(&cfg, &Retention::default(), "CCAPEX");
        assert!(md.starts_with("# Registre des activités de traitement"));
        for heading in [
            "## 1. Responsable du traitement",
            "## 2. Finalités",
            "## 3. Catégories de personnes concernées et catégories de données",
            "## 4. Destinataires",
            "## 5. Transferts hors de l'Union européenne",
            "## 6. Durées de conservation",
            "## 7. Mesures de sécurité",
        ] {
            assert!(md.contains(&format!("\n{heading}")), "{heading}");
        }
        // No English word left: neither in the record's own text nor in
        // the texts it quotes from the configuration (code spans, such as
        // the cipher suites' names, aside).
        let prose: String = md.split('`').step_by(2).collect();
        let words: Vec<String> = prose
            .split(|c: char| !c.is_alphabetic() && c != '\'')
            .map(str::to_lowercase)
            .collect();
        for english in [
            "the", "and", "of", "is", "to", "with", "from", "every", "none", "only",
        ] {
            assert!(
                !words.iter().any(|w| w == english),
                "English word {english:?} in the record"
            );
        }
        // 0 and 1 take the singular.
        assert!(md.contains("`ville-sables` (1 commune)"));
        assert!(md.contains("`dpo` (1 clé)"));
    }

    #[test]
    fn html_escapes_a_malicious_controller() {
        let cfg = example();
        let evil = "<script>alert(\"x\")</script> & 'co' | **bold** [l](javascript:x)";
        let page = html(&cfg, &Retention::default(), evil);
        assert!(!page.contains("<script"));
        assert!(
            page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;")
        );
        let md = markdown(&cfg, &Retention::default(), evil);
        assert!(!md.contains("<script"));
        assert!(md.contains("&lt;script&gt;"));
        assert!(md.contains("\\[l\\](javascript:x)"));
        // A line break cannot open a block or end a table row.
        let md = markdown(&cfg, &Retention::default(), "A\n# B\n| c |");
        assert!(!md.contains("\n# B"));
        assert!(md.contains("A \\# B \\| c \\|"));
    }

    #[test]
    fn html_is_self_contained() {
        let cfg = example();
        let page = html(&cfg, &Retention::default(), "CCAPEX de la Vendée");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.trim_end().ends_with("</html>"));
        assert!(page.contains("<style>"));
        let lower = page.to_ascii_lowercase();
        for bad in [
            "src=", "href=", "<link", "<script", "<img", "@import", "url(",
        ] {
            assert!(!lower.contains(bad), "{bad}");
        }
        // "http" only in the CSP meta's http-equiv.
        assert_eq!(lower.matches("http").count(), 1);
        assert!(page.contains("http-equiv=\"Content-Security-Policy\""));
        // Same content as the Markdown: every field of every view.
        for view in cfg.policy.views.values() {
            for f in &view.fields {
                assert!(page.contains(&html_escape(&f.purpose)));
            }
        }
        assert!(page.contains("<td><code>telephone</code></td>"));
    }

    /// Compares `actual` with the pinned file `snapshots/<name>`, or rewrites
    /// the file when `PASSERELLE_BLESS` is set (after a change of wording
    /// meant to be seen in review).
    fn pinned(name: &str, actual: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/register/snapshots")
            .join(name);
        if std::env::var_os("PASSERELLE_BLESS").is_some() {
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if expected != actual {
            let line = expected
                .lines()
                .zip(actual.lines())
                .position(|(e, a)| e != a)
                .map_or(expected.lines().count().min(actual.lines().count()), |i| i);
            panic!(
                "{name} differs from {} from line {} on:\nexpected: {:?}\nactual:   {:?}\n(PASSERELLE_BLESS=1 rewrites it)",
                path.display(),
                line + 1,
                expected.lines().nth(line),
                actual.lines().nth(line)
            );
        }
    }

    /// The record of the example configuration as `passerelle register`
    /// writes it when run from the repository's root, at a fixed time: the
    /// checkout's absolute prefix is taken off every path shown.
    fn example_record(render: fn(&model::Doc) -> String, escape: fn(&str) -> String) -> String {
        let cfg = example();
        let doc = model::document(
            &cfg,
            &cfg.policy.retention,
            controller(&cfg),
            "2026-11-29T12:00:00.000Z",
        );
        let root = format!("{}/", env!("CARGO_MANIFEST_DIR"));
        render(&doc).replace(&escape(&root), "")
    }

    #[test]
    fn the_example_record_in_markdown_is_pinned() {
        pinned("example.md", &example_record(markdown::render, md_escape));
    }

    #[test]
    fn the_example_record_in_html_is_pinned() {
        pinned("example.html", &example_record(html::render, html_escape));
    }
}
