//! The members' and referents' pages driven as a browser drives them
//! (`/perimetre`, `/dossiers`, `/alertes`), with the API checked behind
//! them: the answers reach the secretariat's agenda, the events reach the
//! CCAPEX's figures, and nobody sees a household outside their own.

use crate::both;
use crate::console::{Browser, Page, entries};
use crate::helpers::{Db, LIST_HEADER, TestApp, csv_records, spawn_app};

/// Three households of Les Sables-d'Olonne, their CDP 20 days ago: Alice
/// Martin (Vendée Habitat), Bruno Durand (Vendée Logement esh), Chloé
/// Petit (a private landlord).
fn month_list(cdp: time::Date) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(LIST_HEADER.split(',')).unwrap();
    let d = cdp.to_string();
    for (r, nom, prenom, tel, bt, bailleur, dette) in [
        (
            "CDP-1",
            "Martin",
            "Alice",
            "0601020304",
            "social",
            "Vendée Habitat",
            "2311.00",
        ),
        (
            "CDP-2",
            "Durand",
            "Bruno",
            "",
            "social",
            "Vendée Logement esh",
            "1200.00",
        ),
        (
            "CDP-3",
            "Petit",
            "Chloé",
            "",
            "prive",
            "M. Bernard",
            "640.50",
        ),
    ] {
        w.write_record([
            r,
            &d,
            nom,
            prenom,
            "3 rue Travot",
            "85100",
            "Les Sables-d'Olonne",
            tel,
            "",
            bt,
            bailleur,
            dette,
            "450.00",
            "",
        ])
        .unwrap();
    }
    w.into_inner().unwrap()
}

/// The value of the hidden `token` of the dossier headed `who`.
fn dossier_token(page: &Page, who: &str) -> String {
    page.name_after(&format!("{who} — "), r#"token" value=""#)
}

/// The list sent, CAF's enrichment returned for every household: the
/// three wait for the concertation. Returns the CDP date.
async fn month_in_concertation(app: &TestApp) -> time::Date {
    let today = time::OffsetDateTime::now_utc().date();
    let cdp = today - time::Duration::days(20);
    let (status, body) = app.push_list("2026-11", "text/csv", month_list(cdp)).await;
    assert_eq!(status, 201, "{body}");
    let (_, _, plain) = app.caf_file().await;
    let mut ret = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    for r in csv_records(&plain).iter().skip(1) {
        ret.push_str(&format!("{},oui,1984-03-12,1,0,,non,oui\n", r[0]));
    }
    let (status, body) = crate::circuit::push_return(app, "caf", "enrichment", &ret).await;
    assert_eq!(status, 201, "{body}");
    cdp
}

/// The DPO's "who accessed this person's data?" (postal code 85100),
/// answered on the page.
async fn who_saw(dpo: &mut Browser, csrf: &str, nom: &str, prenom: &str) -> String {
    let p = dpo
        .post(
            "/journal/personne",
            &[
                ("csrf", csrf),
                ("nom", nom),
                ("prenom", prenom),
                ("code_postal", "85100"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    p.body
}

async fn members_and_referents_work_in_the_console(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let cdp = month_in_concertation(&app).await;
    let today = time::OffsetDateTime::now_utc().date().to_string();

    // Vendée Habitat's social worker sees its own tenant only, with the
    // concertation view's fields and nothing more.
    let mut hugo = Browser::new(&app, Some("cesf-vh"));
    let vh = hugo.get("/perimetre").await;
    assert_eq!(vh.status, 200, "{}", vh.body);
    assert!(vh.body.contains("Martin"), "{}", vh.body);
    for absent in [
        "Durand",
        "Petit",
        "Dette locative",
        "0601020304",
        "2\u{a0}311",
    ] {
        assert!(
            !vh.body.contains(absent),
            "{absent} shown to Vendée Habitat"
        );
    }
    assert!(
        vh.body.contains("1 ménage(s) de votre périmètre"),
        "{}",
        vh.body
    );
    assert!(vh.body.contains("25 à 49 ans"), "the age band in French");

    // What waits for each of them, on the home page.
    let home = hugo.get("/").await;
    assert!(
        home.body
            .contains("1</strong> ménage(s) de votre périmètre"),
        "{}",
        home.body
    );
    let mut camille = Browser::new(&app, Some("sec-ddets"));
    let home = camille.get("/").await;
    assert!(
        home.body.contains("3</strong> ménage(s) sans décision"),
        "{}",
        home.body
    );
    assert!(
        !home.body.contains("Envoyer la liste"),
        "this month's list came: {}",
        home.body
    );

    // The CCAS (the whole town) sees the three; a forged form changes
    // nothing.
    let mut louis = Browser::new(&app, Some("ref-ccas"));
    let scope = louis.get("/perimetre").await;
    assert_eq!(scope.status, 200, "{}", scope.body);
    for name in ["Martin", "Durand", "Petit"] {
        assert!(scope.body.contains(name), "{name} in the CCAS's scope");
    }
    let martin = scope.name_after("Martin", "rep.");
    let durand = scope.name_after("Durand", "rep.");
    let petit = scope.name_after("Petit", "rep.");
    let forged = louis
        .post(
            "/perimetre",
            &[("csrf", "forged"), (&format!("rep.{martin}"), "oui")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM member_answers").await, 0);
    // Nothing chosen, a name with "non", a selection without an answer:
    // each a French 400, nothing stored.
    for fields in [
        vec![(format!("rep.{martin}"), String::new())],
        vec![
            (format!("rep.{martin}"), "non".to_owned()),
            (format!("nom.{martin}"), "Mme Leroy".to_owned()),
        ],
        vec![(format!("sel.{durand}"), "oui".to_owned())],
    ] {
        let mut form = vec![("csrf".to_owned(), scope.csrf())];
        form.extend(fields);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let refused = louis.post("/perimetre", &form).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            refused.body.contains("Rien n'a été enregistré"),
            "{}",
            refused.body
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM member_answers").await, 0);

    // Hugo cannot answer for a household Vendée Habitat was never shown.
    let stranger = hugo
        .post(
            "/perimetre",
            &[("csrf", &vh.csrf()), (&format!("rep.{durand}"), "non")],
        )
        .await;
    assert_eq!(stranger.status, 403, "{}", stranger.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM member_answers").await, 0);

    // The CCAS follows Alice Martin already; the two others, chosen
    // together, it does not.
    let answered = louis
        .post(
            "/perimetre",
            &[
                ("csrf", &scope.csrf()),
                (&format!("rep.{martin}"), "oui"),
                (&format!("nom.{martin}"), "Mme Leroy"),
                (&format!("sel.{durand}"), "oui"),
                (&format!("sel.{petit}"), "oui"),
                ("lot", "non"),
            ],
        )
        .await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    assert_eq!(answered.location(), "/perimetre?fait=3");
    let home = louis.get("/").await;
    assert!(
        home.body.contains("Ce qui vous attend") && !home.body.contains("de votre périmètre</a>"),
        "{}",
        home.body
    );
    let after = louis.get(answered.location()).await;
    assert!(
        after.body.contains("3 réponse(s) enregistrée(s)"),
        "{}",
        after.body
    );
    assert!(
        after.body.contains("par ccas-sables (Mme Leroy)"),
        "{}",
        after.body
    );
    assert!(after.body.contains("0 sans réponse"), "{}", after.body);
    let applied = entries(&app, "return.apply").await;
    let mine = applied.last().unwrap();
    assert_eq!(mine["person"], "ref-ccas", "{mine}");
    assert_eq!(mine["partner"], "ccas-sables", "{mine}");
    let reads = entries(&app, "scope.read").await;
    assert!(
        reads
            .iter()
            .any(|e| e["person"] == "cesf-vh" && e["rows"] == 1),
        "{reads:?}"
    );

    // The secretariat's agenda shows it, in the API and on the page.
    let index = camille.get("/concertations").await;
    let opened = camille
        .post(
            "/concertations",
            &[("csrf", &index.csrf()), ("date", &today)],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let location = opened.location().to_owned();
    let id = location.trim_start_matches("/concertations/");
    let (status, api) = app
        .client("ddets")
        .get_json(&format!("/v1/concertations/{id}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{api}");
    let entry = |nom: &str| {
        api["agenda"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["nom"] == nom)
            .cloned()
            .unwrap_or_else(|| panic!("{nom} not in {api}"))
    };
    assert_eq!(entry("Martin")["referent_connu"], "ccas-sables", "{api}");
    assert!(entry("Durand")["referent_connu"].is_null(), "{api}");
    let agenda = camille.get(&location).await;
    let row = &agenda.body[agenda.body.find("Martin Alice").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("ccas-sables"), "{row}");

    // Alice Martin and Chloé Petit go to the CCAS, Bruno Durand to the
    // MDSF.
    let decided = camille
        .post(
            &format!("{location}/decisions"),
            &[
                ("csrf", &agenda.csrf()),
                (
                    &format!(
                        "decision.{}",
                        agenda.name_after("Martin Alice", "decision.")
                    ),
                    "org:ccas-sables",
                ),
                (
                    &format!(
                        "decision.{}",
                        agenda.name_after("Durand Bruno", "decision.")
                    ),
                    "org:mdsf",
                ),
                (
                    &format!("decision.{}", agenda.name_after("Petit Chloé", "decision.")),
                    "org:ccas-sables",
                ),
            ],
        )
        .await;
    assert_eq!(decided.status, 200, "{}", decided.body);

    // The CCAS's dossiers: its two households, contact data and amounts as
    // people read them, both not reached yet, under its alerts.
    let dossiers = louis.get("/dossiers").await;
    assert_eq!(dossiers.status, 200, "{}", dossiers.body);
    assert!(
        dossiers
            .body
            .contains("2 ménage(s) confié(s) à votre structure : 2 pas encore joint(s)"),
        "{}",
        dossiers.body
    );
    assert!(!dossiers.body.contains("Durand"), "the MDSF's household");
    for shown in [
        "0601020304",
        "2\u{a0}311,00\u{a0}€",
        "640,50\u{a0}€",
        "Vendée Habitat",
        "Vos alertes",
    ] {
        assert!(
            dossiers.body.contains(shown),
            "{shown} in {}",
            dossiers.body
        );
    }
    assert!(
        dossiers.body.contains(&format!(
            "{:02}/{:02}/{}",
            cdp.day(),
            u8::from(cdp.month()),
            cdp.year()
        )),
        "the CDP date"
    );
    let alice = dossier_token(&dossiers, "Martin Alice");
    let home = louis.get("/").await;
    assert!(
        home.body.contains("2</strong> ménage(s) à joindre"),
        "{}",
        home.body
    );
    assert!(home.body.contains(r#"href="/dossiers""#), "{}", home.body);
    assert_eq!(
        entries(&app, "dossiers.read").await.last().unwrap()["person"],
        "ref-ccas"
    );

    // The MDSF's referent sees Bruno Durand only, and cannot report on
    // the CCAS's household.
    let mut nadia = Browser::new(&app, Some("ref-mdsf"));
    let theirs = nadia.get("/dossiers").await;
    assert!(theirs.body.contains("Durand Bruno"), "{}", theirs.body);
    assert!(!theirs.body.contains("Martin") && !theirs.body.contains("Petit"));
    let alertes = nadia.get("/alertes").await;
    assert_eq!(alertes.status, 200, "{}", alertes.body);
    assert!(
        alertes.body.contains("1 ménage(s) pas encore joint(s)"),
        "{}",
        alertes.body
    );
    let events_before = app.count("SELECT COUNT(*) FROM events").await;
    let intruding = nadia
        .post(
            "/dossiers/evenement",
            &[
                ("csrf", &theirs.csrf()),
                ("token", &alice),
                ("evenement", "appel_reussi"),
                ("date", &today),
            ],
        )
        .await;
    assert_eq!(intruding.status, 403, "{}", intruding.body);
    let forged = louis
        .post(
            "/dossiers/evenement",
            &[
                ("csrf", "x"),
                ("token", &alice),
                ("evenement", "appel_reussi"),
                ("date", &today),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events").await,
        events_before
    );

    // The CCAS reaches Alice Martin by phone, then closes: without a motif
    // the closing is refused whole, with it the dossier is over.
    let csrf = dossiers.csrf();
    let called = louis
        .post(
            "/dossiers/evenement",
            &[
                ("csrf", &csrf),
                ("token", &alice),
                ("evenement", "appel_reussi"),
                ("date", &today),
            ],
        )
        .await;
    assert_eq!(called.status, 303, "{}", called.body);
    let no_motif = louis
        .post(
            "/dossiers/evenement",
            &[
                ("csrf", &csrf),
                ("token", &alice),
                ("evenement", "cloture"),
                ("date", &today),
            ],
        )
        .await;
    assert_eq!(no_motif.status, 422, "{}", no_motif.body);
    assert!(no_motif.body.contains("motif"), "{}", no_motif.body);
    let closed = louis
        .post(
            "/dossiers/evenement",
            &[
                ("csrf", &csrf),
                ("token", &alice),
                ("evenement", "cloture"),
                ("motif", "sans_suite"),
                ("date", &today),
                ("detail", "ne donne plus suite"),
            ],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    let dossiers = louis.get("/dossiers").await;
    assert!(
        dossiers
            .body
            .contains("1 pas encore joint(s), 1 terminé(s)"),
        "{}",
        dossiers.body
    );
    let section = &dossiers.body[dossiers.body.find("Martin Alice — clos").expect("closed")..];
    for shown in [
        "Appel réussi",
        "Clôture du suivi",
        "Sans suite",
        "Ce suivi est terminé",
    ] {
        assert!(section.contains(shown), "{shown} in {section}");
    }
    assert!(
        !dossiers.body.contains("ne donne plus suite"),
        "the detail stays sealed"
    );
    assert_eq!(
        entries(&app, "return.apply").await.last().unwrap()["person"],
        "ref-ccas"
    );

    // The figures count the contact and the closing.
    let from = (cdp - time::Duration::days(1)).to_string();
    let (status, stats) = app
        .client("ddets")
        .get_json(&format!("/v1/stats?from={from}&to={today}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{stats}");
    let ccas = stats["attributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["organisme"] == "ccas-sables")
        .cloned()
        .unwrap_or_else(|| panic!("{stats}"));
    assert_eq!(ccas["total"], 2, "{stats}");
    assert_eq!(ccas["sans_suite"], 1, "{stats}");
    assert_eq!(ccas["delai_premier_contact_median_jours"], 20.0, "{stats}");

    // The DPO, in the console: the log intact on a fresh checkpoint, and
    // every access to Alice Martin's data, through the API and the
    // console, naming the persons.
    let (status, _) = app
        .client("ddets")
        .post_json("/v1/audit/checkpoint", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let mut anne = Browser::new(&app, Some("dpo"));
    let home = anne.get("/").await;
    assert!(
        home.body.contains("Ce qui vous attend") && !home.body.contains("a été modifié"),
        "{}",
        home.body
    );
    let journal = anne.get("/journal").await;
    assert_eq!(journal.status, 200, "{}", journal.body);
    assert!(
        journal.body.contains("Le journal est intact."),
        "{}",
        journal.body
    );
    assert!(journal.body.contains("a été signé le"), "{}", journal.body);
    let asked_before = entries(&app, "audit.subject").await.len();
    let forged = anne
        .post(
            "/journal/personne",
            &[
                ("csrf", "x"),
                ("nom", "Martin"),
                ("prenom", "Alice"),
                ("code_postal", "85100"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(entries(&app, "audit.subject").await.len(), asked_before);
    let csrf = journal.csrf();
    let alice_seen = who_saw(&mut anne, &csrf, "MARTIN", "alice").await;
    let row_of =
        |body: &str, needle: &str| -> bool { body.split("<tr>").any(|r| r.contains(needle)) };
    for (person, action) in [
        ("Hugo Lefèvre (cesf-vh)", "scope.read"),
        ("Louis Moreau (ref-ccas)", "scope.read"),
        ("Louis Moreau (ref-ccas)", "return.apply"),
        ("Louis Moreau (ref-ccas)", "dossiers.read"),
        ("Camille Roux (sec-ddets)", "concertation.decide"),
    ] {
        assert!(
            alice_seen
                .split("<tr>")
                .any(|r| r.contains(person) && r.contains(&format!("<code>{action}</code>"))),
            "{person} {action} in {alice_seen}"
        );
    }
    assert!(
        alice_seen.split("<tr>").any(|r| r.contains("machine (API)")
            && r.contains("<code>list.upload</code>")
            && r.contains("(ddets)")),
        "the API's upload: {alice_seen}"
    );
    assert!(
        alice_seen.split("<tr>").any(|r| r.contains("machine (API)")
            && r.contains("<code>return.apply</code>")
            && r.contains("(caf)")),
        "CAF's enrichment over the API: {alice_seen}"
    );
    assert!(
        !alice_seen.contains("2\u{a0}311") && !alice_seen.contains("0601020304"),
        "no case content"
    );
    let asked = entries(&app, "audit.subject").await;
    assert_eq!(asked.len(), asked_before + 1);
    assert_eq!(asked.last().unwrap()["person"], "dpo");
    // Vendée Habitat never saw Bruno Durand.
    let durand_seen = who_saw(&mut anne, &csrf, "Durand", "Bruno").await;
    assert!(
        row_of(&durand_seen, "Louis Moreau (ref-ccas)"),
        "{durand_seen}"
    );
    assert!(!row_of(&durand_seen, "(cesf-vh)"), "{durand_seen}");

    // The log filtered by person, in pages of 50.
    let hugo_only = anne.get("/journal?personne=cesf-vh").await;
    assert_eq!(hugo_only.status, 200, "{}", hugo_only.body);
    let table = &hugo_only.body[hugo_only.body.find("Entrées du journal").unwrap()..];
    assert!(table.contains("Hugo Lefèvre (cesf-vh)"), "{table}");
    assert!(
        !table.contains("(ref-ccas)") && !table.contains("(sec-ddets)"),
        "{table}"
    );
    let (status, api) = app
        .client("dpo")
        .get_json("/v1/audit?person=cesf-vh")
        .await
        .unwrap();
    assert_eq!(status, 200, "{api}");
    let api_entries = api["entries"].as_array().unwrap();
    assert!(
        !api_entries.is_empty() && api_entries.iter().all(|e| e["person"] == "cesf-vh"),
        "{api}"
    );
    let refused = anne.get("/journal?resultat=refused&personne=cesf-vh").await;
    assert!(refused.body.contains("refusé"), "{}", refused.body);
    let bad = anne.get("/journal?du=hier").await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The downloads: the report, the export, the record.
    let report = anne.get("/journal/rapport").await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert!(
        report.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(
        report.body.contains("<html") && report.body.contains("cesf-vh"),
        "the report names the persons"
    );
    assert_eq!(
        entries(&app, "audit.report").await.last().unwrap()["person"],
        "dpo"
    );
    let export = anne.get("/journal/export").await;
    assert_eq!(export.status, 200);
    let lines: Vec<serde_json::Value> = export
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().any(|e| e["person"] == "cesf-vh"),
        "{}",
        export.body
    );
    assert_eq!(entries(&app, "audit.export").await.len(), 1);
    let record = anne.get("/registre").await;
    assert_eq!(record.status, 200, "{}", record.body);
    assert!(record.body.contains("concertation"), "{}", record.body);
    assert!(
        record.body.contains("<h2>2. Finalités</h2>")
            && record.body.contains("<h3>Vue dossier</h3>")
            && record
                .body
                .contains("téléphoner au locataire et lui proposer un rendez-vous"),
        "the record in French, with the policy's purposes: {}",
        record.body
    );
    assert!(
        record.body.contains("Préfecture de la Vendée")
            && record.body.contains("décret n° 2015-1384"),
        "the controller and the legal basis come from the configuration: {}",
        record.body
    );
    let md = anne.get("/registre.md").await;
    assert_eq!(md.status, 200);
    assert!(
        md.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("registre.md")
    );

    // Roles: each page to its own people.
    for (who, path) in [
        ("ref-ccas", "/journal"),
        ("sec-ddets", "/registre"),
        ("cesf-vh", "/journal/export"),
        ("cesf-vh", "/dossiers"),
        ("sec-ddets", "/perimetre"),
        ("sec-ddets", "/dossiers"),
        ("dpo", "/perimetre"),
        ("cesf-vh", "/alertes"),
    ] {
        let mut b = Browser::new(&app, Some(who));
        let p = b.get(path).await;
        assert_eq!(p.status, 403, "{who} on {path}: {}", p.body);
        assert!(p.body.contains("réservée au rôle"), "{}", p.body);
    }
}
both!(members_and_referents_work_in_the_console);
