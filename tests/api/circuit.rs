//! The monthly circuit end to end, the way partners drive it: DDETS's list,
//! CAF's enrichment, members' answers, the concertation and its decisions,
//! referents' follow-ups, and the CCAPEX's figures — replayed on docs/domain.md's
//! 243 CDPs built by a generator from the households' facts and the
//! partners' answers behind the published table.

use crate::both;
use crate::helpers::{Db, TestApp, decrypt, spawn_app};
use passerelle::client::GatewayClient;
use std::collections::BTreeMap;

/// Where a generated household must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Referent(&'static str),
    NonTraite(&'static str),
}

#[derive(Debug, Clone)]
struct Household {
    nom: String,
    prenom: String,
    commune: &'static str,
    code_postal: &'static str,
    social: bool,
    date_cdp: time::Date,
    birth: Option<time::Date>,
    ages: Vec<u32>,
    alf: bool,
    known_by: Option<&'static str>,
    target: Target,
    sans_suite: bool,
    month: usize,
}

const TOWN: (&str, &str) = ("Les Sables-d'Olonne", "85100");
const SECTOR: (&str, &str) = ("Jard-sur-Mer", "85520");
const OUTSIDE: (&str, &str) = ("Fontenay-le-Comte", "85200");
const MONTHS: [(i32, u8); 3] = [(2022, 3), (2022, 9), (2023, 4)];

/// A household's facts: target, member that already follows it, (commune,
/// postal code), social landlord, age, children's ages, ALF.
type Facts = (
    Target,
    Option<&'static str>,
    (&'static str, &'static str),
    bool,
    Option<i32>,
    Vec<u32>,
    bool,
);

/// docs/domain.md's 243 CDPs: MDSF 164 (54 new), CCAS 52 (30 new), CAF 13 (11
/// new), not processed 14; CCAS closed 12 "sans suite", MDSF 21.
fn generate() -> Vec<Household> {
    let mut out = Vec::new();
    let mut add = |n: usize, kind: &str, f: &dyn Fn(usize) -> Facts| {
        for i in 0..n {
            let (target, known_by, (commune, cp), social, age, ages, alf) = f(i);
            let k = out.len();
            let month = k % 3;
            let (y, m) = MONTHS[month];
            let date_cdp = time::Date::from_calendar_date(
                y,
                time::Month::try_from(m).unwrap(),
                1 + (k % 27) as u8,
            )
            .unwrap();
            out.push(Household {
                nom: format!("Foyer{kind}{i}"),
                prenom: format!("Prénom{k}"),
                commune,
                code_postal: cp,
                social,
                date_cdp,
                birth: age.map(|a| date_cdp.replace_year(date_cdp.year() - a).unwrap()),
                ages,
                alf,
                known_by,
                target,
                sans_suite: false,
                month,
            });
        }
    };
    use Target::*;
    // MDSF, new: families with children (half with a social landlord).
    add(54, "Mn", &|i| {
        (
            Referent("mdsf"),
            None,
            SECTOR,
            i % 2 == 0,
            Some(35),
            vec![5],
            false,
        )
    });
    // MDSF, already followed: facts that alone would propose the CCAS.
    add(110, "Mk", &|_| {
        (
            Referent("mdsf"),
            Some("mdsf"),
            TOWN,
            false,
            Some(60),
            vec![],
            false,
        )
    });
    // CCAS, new: over 50 without children, in town; one exactly 50.
    add(30, "Cn", &|i| {
        (
            Referent("ccas-sables"),
            None,
            TOWN,
            false,
            Some(if i == 0 { 50 } else { 62 }),
            vec![],
            false,
        )
    });
    // CCAS, already followed: a family (rules alone would say MDSF).
    add(22, "Ck", &|_| {
        (
            Referent("ccas-sables"),
            Some("ccas-sables"),
            TOWN,
            true,
            Some(40),
            vec![3],
            false,
        )
    });
    // CAF, new: child under 21, ALF, private landlord.
    add(11, "Fn", &|i| {
        (
            Referent("caf"),
            None,
            SECTOR,
            false,
            Some(33),
            vec![if i == 0 { 20 } else { 8 }],
            true,
        )
    });
    // CAF, already followed.
    add(2, "Fk", &|_| {
        (
            Referent("caf"),
            Some("caf"),
            SECTOR,
            false,
            Some(30),
            vec![],
            false,
        )
    });
    // Not processed: outside the sector (proposed), moved out, debt paid (decided).
    add(5, "Nh", &|_| {
        (
            NonTraite("hors_secteur"),
            None,
            OUTSIDE,
            false,
            Some(45),
            vec![],
            false,
        )
    });
    add(5, "Nd", &|_| {
        (
            NonTraite("demenagement"),
            None,
            SECTOR,
            false,
            Some(45),
            vec![2],
            false,
        )
    });
    add(4, "Ns", &|_| {
        (
            NonTraite("dette_soldee"),
            None,
            SECTOR,
            false,
            None,
            vec![],
            false,
        )
    });
    let mut ccas = 0;
    let mut mdsf = 0;
    for h in &mut out {
        match h.target {
            Target::Referent("ccas-sables") if ccas < 12 => {
                h.sans_suite = true;
                ccas += 1;
            }
            Target::Referent("mdsf") if mdsf < 21 => {
                h.sans_suite = true;
                mdsf += 1;
            }
            _ => {}
        }
    }
    out
}

fn list_csv(households: &[&Household]) -> Vec<u8> {
    let mut s = String::from(
        "ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,telephone,bailleur_type,bailleur_nom,montant_dette\n",
    );
    for (i, h) in households.iter().enumerate() {
        let (t, b) = if h.social {
            ("social", "Vendée Habitat")
        } else {
            ("prive", "SCI Océan")
        };
        s.push_str(&format!(
            "CDP-{}-{i},{},{},{},{} rue des Mimosas,{},{},0612345678,{t},{b},{}.00\n",
            h.month,
            h.date_cdp,
            h.nom,
            h.prenom,
            i + 1,
            h.code_postal,
            h.commune,
            1000 + i
        ));
    }
    s.into_bytes()
}

/// Pulls, decrypts, parses (CSV or XLSX) and acknowledges every waiting file
/// of `kind`: `(header, rows)` per file.
async fn pull(app: &TestApp, id: &str, kind: &str) -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    let c = app.client(id);
    let mut out = Vec::new();
    for f in c.outbox().await.unwrap() {
        if f.kind != kind {
            continue;
        }
        let plain = decrypt(&c.download(&f.file_id).await.unwrap(), &app.identity(id));
        let table = passerelle::ingest::read_table(&plain, &Default::default()).unwrap();
        let header = table.headers().to_vec();
        let rows = table
            .rows()
            .map(|r| r.unwrap().cells().iter().map(|c| c.text.clone()).collect())
            .collect();
        c.ack(&f.file_id).await.unwrap();
        out.push((header, rows));
    }
    out
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// Pushes a return, age-encrypted to the gateway: (status, JSON).
pub async fn push_return(
    app: &TestApp,
    id: &str,
    kind: &str,
    csv: &str,
) -> (u16, serde_json::Value) {
    let body =
        passerelle::export::envelope::seal(csv.as_bytes(), &[app.gateway_recipient()]).unwrap();
    post_raw(
        &app.client(id),
        &format!("/v1/returns?kind={kind}"),
        "application/age",
        body,
    )
    .await
}

async fn post_raw(
    c: &GatewayClient,
    path: &str,
    ct: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let r = c
        .http()
        .post(c.url(path))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn post_json(
    c: &GatewayClient,
    path: &str,
    v: serde_json::Value,
) -> (u16, serde_json::Value) {
    post_raw(c, path, "application/json", serde_json::to_vec(&v).unwrap()).await
}

async fn get_json(c: &GatewayClient, path: &str) -> (u16, serde_json::Value) {
    let r = c.http().get(c.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

fn key(nom: &str, prenom: &str) -> String {
    format!("{nom}|{prenom}")
}

/// Runs one month of the circuit for `month`'s households.
async fn run_month(app: &TestApp, all: &[Household], month: usize) {
    let by_name: BTreeMap<String, &Household> =
        all.iter().map(|h| (key(&h.nom, &h.prenom), h)).collect();
    let hs: Vec<&Household> = all.iter().filter(|h| h.month == month).collect();
    let (y, m) = MONTHS[month];
    let (status, r) = app
        .push_list(&format!("{y}-{m:02}"), "text/csv", list_csv(&hs))
        .await;
    assert_eq!(status, 201, "{r}");

    // CAF completes every case of its enrichment file.
    let files = pull(app, "caf", "enrichment").await;
    assert_eq!(files.len(), 1);
    let (h, rows) = &files[0];
    let mut ret = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    for r in rows {
        let hh = by_name[&key(&r[col(h, "nom")], &r[col(h, "prenom")])];
        let ages: Vec<String> = hh.ages.iter().map(u32::to_string).collect();
        ret.push_str(&format!(
            "{},oui,{},1,{},{},{},non\n",
            r[col(h, "token")],
            hh.birth.map(|b| b.to_string()).unwrap_or_default(),
            hh.ages.len(),
            ages.join(";"),
            if hh.alf { "oui" } else { "non" }
        ));
    }
    let (status, r) = push_return(app, "caf", "enrichment", &ret).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["applied"], rows.len());

    // Each member says which households it already follows.
    for member in [
        "caf",
        "mdsf",
        "ccas-sables",
        "vendee-habitat",
        "vendee-logement",
    ] {
        let mut ret = String::from("token,referent_connu,organisme,nom_referent\n");
        let mut n = 0;
        for (h, rows) in pull(app, member, "concertation").await {
            for r in rows {
                let hh = by_name[&key(&r[col(&h, "nom")], &r[col(&h, "prenom")])];
                assert!(
                    hh.commune != OUTSIDE.0,
                    "{member} received a case outside the sector"
                );
                if member.starts_with("vendee") {
                    assert!(hh.social, "{member} received a tenant of another landlord");
                }
                let known = hh.known_by == Some(member);
                ret.push_str(&format!(
                    "{},{},{},{}\n",
                    r[col(&h, "token")],
                    if known { "oui" } else { "non" },
                    if known { member } else { "" },
                    if known { "Mme Référente" } else { "" }
                ));
                n += 1;
            }
        }
        if n > 0 {
            let (status, r) = push_return(app, member, "referent", &ret).await;
            assert_eq!(status, 201, "{member}: {r}");
        }
    }

    // The concertation: proposals as the criteria say; not-processed motifs decided.
    let ddets = app.client("ddets");
    let day = MONTHS[month];
    let (status, c) = post_json(
        &ddets,
        "/v1/concertations",
        serde_json::json!({"date": format!("{}-{:02}-28", day.0, day.1)}),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    let agenda = c["agenda"].as_array().unwrap();
    assert_eq!(agenda.len(), hs.len());
    let mut explicit = Vec::new();
    for e in agenda {
        let hh = by_name[&key(e["nom"].as_str().unwrap(), e["prenom"].as_str().unwrap())];
        match hh.target {
            Target::Referent(o) => assert_eq!(e["proposal"]["organisme"], o, "{e}"),
            Target::NonTraite("hors_secteur") => {
                assert_eq!(e["proposal"]["non_traite"], "hors_secteur", "{e}")
            }
            Target::NonTraite(m) => {
                explicit.push(serde_json::json!({"token": e["token"], "non_traite": m}))
            }
        }
        assert_eq!(e["referent_connu"].as_str(), hh.known_by, "{e}");
        assert!(e["jours_restants"].as_i64().unwrap() <= 42);
    }
    let id = c["concertation_id"].as_str().unwrap();
    let (status, d) = post_json(
        &ddets,
        &format!("/v1/concertations/{id}/decisions"),
        serde_json::json!({"accept_proposals": true, "decisions": explicit}),
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["decided"].as_array().unwrap().len(), hs.len());

    // Referents receive their dossiers with the full contact data, and report.
    for (referent, delay) in [("mdsf", 10), ("ccas-sables", 5), ("caf", 7)] {
        let mut ret = String::from("token,date,evenement,motif,detail\n");
        let mut n = 0;
        for (h, rows) in pull(app, referent, "dossier").await {
            assert!(h.contains(&"telephone".to_owned()) && h.contains(&"montant_dette".to_owned()));
            for r in rows {
                let hh = by_name[&key(&r[col(&h, "nom")], &r[col(&h, "prenom")])];
                assert_eq!(hh.target, Target::Referent(referent));
                let token = &r[col(&h, "token")];
                if hh.sans_suite {
                    ret.push_str(&format!(
                        "{token},{},appel_sans_reponse,,\n",
                        hh.date_cdp + time::Duration::days(3)
                    ));
                    ret.push_str(&format!(
                        "{token},{},cloture,sans_suite,\n",
                        hh.date_cdp + time::Duration::days(30)
                    ));
                } else {
                    ret.push_str(&format!(
                        "{token},{},appel_reussi,,\n",
                        hh.date_cdp + time::Duration::days(delay)
                    ));
                    ret.push_str(&format!(
                        "{token},{},axe_fsl,,dossier FSL déposé\n",
                        hh.date_cdp + time::Duration::days(delay + 5)
                    ));
                }
                n += 1;
            }
        }
        if n > 0 {
            let (status, r) = push_return(app, referent, "followup", &ret).await;
            assert_eq!(status, 201, "{referent}: {r}");
        }
    }
}

async fn the_243_cdps_give_back_the_ccapex_table(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let all = generate();
    assert_eq!(all.len(), 243);
    for month in 0..3 {
        run_month(&app, &all, month).await;
    }
    let ddets = app.client("ddets");
    let (status, s) = get_json(&ddets, "/v1/stats?from=2021-02-01&to=2023-12-31").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["total_cdp"], 243);
    let lines: Vec<(String, u64, u64, u64, u64)> = s["attributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["organisme"].as_str().unwrap().to_owned(),
                a["total"].as_u64().unwrap(),
                a["pct"].as_u64().unwrap(),
                a["nouvelles"].as_u64().unwrap(),
                a["sans_suite"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            ("mdsf".to_owned(), 164, 68, 54, 21),
            ("ccas-sables".to_owned(), 52, 21, 30, 12),
            ("caf".to_owned(), 13, 5, 11, 0),
        ]
    );
    assert_eq!(s["non_traites"]["total"], 14);
    assert_eq!(s["non_traites"]["pct"], 6);
    assert_eq!(
        s["non_traites"]["motifs"],
        serde_json::json!({"demenagement": 5, "dette_soldee": 4, "hors_secteur": 5})
    );
    assert_eq!(s["en_attente"]["total"], 0);
    // What the CCAPEX lacked: delay to first contact, axes.
    let delay = |o: &str| {
        s["attributions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["organisme"] == o)
            .unwrap()["delai_premier_contact_median_jours"]
            .as_f64()
    };
    assert_eq!(delay("mdsf"), Some(10.0));
    assert_eq!(delay("ccas-sables"), Some(5.0));
    assert_eq!(delay("caf"), Some(7.0));
    assert_eq!(s["axes"]["axe_fsl"], 243 - 14 - 33);
    // The spreadsheet form.
    let r = ddets
        .http()
        .get(ddets.url("/v1/stats?from=2021-02-01&to=2023-12-31"))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert!(csv.lines().any(|l| l == "mdsf,164,68,54,21,10"), "{csv}");
    // The DPO may read the figures too; CAF may not.
    assert_eq!(get_json(&app.client("dpo"), "/v1/stats").await.0, 200);
    assert_eq!(get_json(&app.client("caf"), "/v1/stats").await.0, 403);
    app.stop().await;
}
both!(the_243_cdps_give_back_the_ccapex_table);

/// Counts of every table a return or decision may write.
async fn domain_counts(app: &TestApp) -> Vec<i64> {
    let mut v = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM returns",
        "SELECT COUNT(*) FROM enrichments",
        "SELECT COUNT(*) FROM member_answers",
        "SELECT COUNT(*) FROM events",
        "SELECT COUNT(*) FROM decisions",
        "SELECT COUNT(*) FROM outbox",
        "SELECT COUNT(*) FROM case_tokens",
    ] {
        v.push(app.count(sql).await);
    }
    v
}

fn small() -> Vec<Household> {
    let mut hs: Vec<Household> = generate()
        .into_iter()
        .filter(|h| h.month == 0)
        .filter(|h| {
            matches!(
                h.nom.as_str(),
                "FoyerCn0" | "FoyerMn0" | "FoyerFn0" | "FoyerMk3" | "FoyerCn3"
            )
        })
        .collect();
    for h in &mut hs {
        h.sans_suite = false;
    }
    hs
}

async fn every_refused_return_or_decision_leaves_the_store_unchanged(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let hs = small();
    assert_eq!(
        hs.len(),
        3,
        "{:?}",
        hs.iter().map(|h| &h.nom).collect::<Vec<_>>()
    );
    let refs: Vec<&Household> = hs.iter().collect();
    let (status, list) = app.push_list("2022-03", "text/csv", list_csv(&refs)).await;
    assert_eq!(status, 201, "{list}");
    let (h, rows) = pull(&app, "caf", "enrichment").await.remove(0);
    let caf_token = rows[0][col(&h, "token")].clone();
    let header = "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n";
    let before = domain_counts(&app).await;

    // A kind outside the partner's roles.
    let (status, r) = push_return(
        &app,
        "mdsf",
        "enrichment",
        &format!("{header}{caf_token},oui,1970-01-01,1,0,,non,non\n"),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (403, Some("not_your_case")),
        "{r}"
    );
    // … even when its file is unreadable: the role is refused first.
    let (status, r) = push_return(
        &app,
        "mdsf",
        "enrichment",
        "token,allocataire\nx,peut-etre\n",
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (403, Some("not_your_case")),
        "{r}"
    );
    // A token never delivered to this partner (CAF's token sent by the CCAS as a member).
    let (status, r) = push_return(
        &app,
        "ccas-sables",
        "referent",
        &format!(
            "token,referent_connu,organisme\n{caf_token},non,\nv1-aaaaaaaaaaaaaaaaaaaaaaaa,non,\n"
        ),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (403, Some("not_your_case")),
        "{r}"
    );
    assert_eq!(r["error"]["details"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["error"]["details"][0]["line"], 2);
    // Plaintext.
    let caf = app.client("caf");
    let (status, r) = post_raw(
        &caf,
        "/v1/returns?kind=enrichment",
        "text/csv",
        format!("{header}{caf_token},oui,,1,0,,non,non\n").into_bytes(),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (415, Some("unsupported_media_type")),
        "{r}"
    );
    assert!(r["error"]["message"].as_str().unwrap().contains("age"));
    // Bad rows: every one named, nothing applied (the good first row neither).
    let (status, r) = push_return(&app, "caf", "enrichment", &format!("{header}{caf_token},oui,1970-01-01,1,0,,non,non\n{caf_token},peut-être,31/02/1970,1,x,,non,non\n")).await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (422, Some("invalid_rows")),
        "{r}"
    );
    let lines: Vec<u64> = r["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 3, 3]);
    // A follow-up on a case not attributed to anyone yet.
    let (status, r) = push_return(
        &app,
        "caf",
        "followup",
        &format!("token,date,evenement,motif,detail\n{caf_token},2022-03-10,appel_reussi,,\n"),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (403, Some("not_your_case")),
        "{r}"
    );
    assert_eq!(
        domain_counts(&app).await,
        before,
        "a refused return changed the store"
    );

    // The same bytes twice are applied once.
    let mut ret = String::from(header);
    for r in &rows {
        ret.push_str(&format!(
            "{},oui,1960-01-01,1,0,,non,non\n",
            r[col(&h, "token")]
        ));
    }
    let (s1, r1) = push_return(&app, "caf", "enrichment", &ret).await;
    let (s2, r2) = push_return(&app, "caf", "enrichment", &ret).await;
    assert_eq!((s1, s2), (201, 200), "{r1} {r2}");
    assert_eq!(r1["return_id"], r2["return_id"]);
    // Its sender can read what was applied; nobody else.
    let (status, detail) = get_json(
        &caf,
        &format!("/v1/returns/{}", r1["return_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["results"].as_array().unwrap().len(), 3);
    assert_eq!(
        get_json(
            &app.client("mdsf"),
            &format!("/v1/returns/{}", r1["return_id"].as_str().unwrap())
        )
        .await
        .0,
        404
    );

    // Deciding twice: 409, nothing recorded the second time.
    let ddets = app.client("ddets");
    let (_, c) = post_json(
        &ddets,
        "/v1/concertations",
        serde_json::json!({"date": "2022-03-28"}),
    )
    .await;
    let id = c["concertation_id"].as_str().unwrap().to_owned();
    let token = c["agenda"][0]["token"].as_str().unwrap().to_owned();
    let path = format!("/v1/concertations/{id}/decisions");
    let (status, r) = post_json(
        &ddets,
        &path,
        serde_json::json!({"decisions": [{"token": token, "organisme": "ccas-sables"}]}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let before = domain_counts(&app).await;
    let (status, r) = post_json(
        &ddets,
        &path,
        serde_json::json!({"decisions": [{"token": token, "organisme": "mdsf"}]}),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{r}"
    );
    let (status, _) = post_json(
        &ddets,
        &path,
        serde_json::json!({"decisions": [{"token": token, "non_traite": "vacances"}]}),
    )
    .await;
    assert_eq!(status, 400);
    // Only the secretariat runs the concertation.
    assert_eq!(
        post_json(
            &app.client("mdsf"),
            &path,
            serde_json::json!({"accept_proposals": true})
        )
        .await
        .0,
        403
    );
    assert_eq!(domain_counts(&app).await, before);
    // A follow-up by a referent the case was not attributed to.
    let (h, rows) = pull(&app, "ccas-sables", "dossier").await.remove(0);
    let ccas_token = rows[0][col(&h, "token")].clone();
    let (status, _) = push_return(
        &app,
        "mdsf",
        "followup",
        &format!("token,date,evenement,motif,detail\n{ccas_token},2022-03-10,appel_reussi,,\n"),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(domain_counts(&app).await, before);
    app.stop().await;
}
both!(every_refused_return_or_decision_leaves_the_store_unchanged);

async fn a_returning_household_is_proposed_to_its_referent_and_alerts_count_days(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ddets = app.client("ddets");
    // Month 1: one person over 50 in town, routed before CAF answers.
    let csv1 = "ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,bailleur_type,bailleur_nom,montant_dette\n\
                R1,2026-09-01,Lefèvre,Hélène,3 rue Travot,85100,Les Sables-d'Olonne,prive,SCI,1200\n";
    let (_, l1) = app
        .push_list("2026-09", "text/csv", csv1.as_bytes().to_vec())
        .await;
    let (status, routed) = post_json(
        &ddets,
        &format!("/v1/lists/{}/route", l1["list_id"].as_str().unwrap()),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{routed}");
    assert_eq!(
        pull(&app, "ccas-sables", "concertation").await.len(),
        1,
        "routed to the CCAS before CAF answered"
    );
    let (_, c) = post_json(
        &ddets,
        "/v1/concertations",
        serde_json::json!({"date": "2026-09-20"}),
    )
    .await;
    let e = &c["agenda"][0];
    assert!(e["proposal"].is_null(), "no enrichment yet: {e}");
    assert!(
        e["no_proposal_reason"]
            .as_str()
            .unwrap()
            .contains("enrichment")
    );
    assert_eq!(e["jours_restants"], 42 - 19);
    let (status, _) = post_json(
        &ddets,
        &format!(
            "/v1/concertations/{}/decisions",
            c["concertation_id"].as_str().unwrap()
        ),
        serde_json::json!({"decisions": [{"token": e["token"], "organisme": "ccas-sables"}]}),
    )
    .await;
    assert_eq!(status, 200);
    // Not reached yet: the secretariat sees it in the alerts.
    let (_, alerts) = get_json(&ddets, "/v1/alerts").await;
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["referent"], "ccas-sables");
    // Month 2: the same household, written otherwise, comes back.
    let csv2 = "ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,bailleur_type,bailleur_nom,montant_dette\n\
                R2,2026-10-03,LEFEVRE,helene,3 rue Travot,85100,Les Sables-d'Olonne,prive,SCI,1500\n";
    app.push_list("2026-10", "text/csv", csv2.as_bytes().to_vec())
        .await;
    let (_, c) = post_json(
        &ddets,
        "/v1/concertations",
        serde_json::json!({"date": "2026-10-20"}),
    )
    .await;
    assert_eq!(c["agenda"].as_array().unwrap().len(), 1, "{c}");
    let e = &c["agenda"][0];
    assert_eq!(e["referent_precedent"], "ccas-sables", "{e}");
    assert_eq!(e["proposal"]["organisme"], "ccas-sables", "{e}");
    // The referent reaches the first one: it leaves the alerts.
    let (h, rows) = pull(&app, "ccas-sables", "dossier").await.remove(0);
    let token = &rows[0][col(&h, "token")];
    let (status, r) = push_return(
        &app,
        "ccas-sables",
        "followup",
        &format!(
            "token,date,evenement,motif,detail\n{token},2026-09-25,appel_reussi,,\n\
             {token},2026-10-20,assignation,,\n{token},2026-10-21,cloture,sans_suite,\n\
             {token},2026-11-30,audience,,\n"
        ),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let (_, alerts) = get_json(&ddets, "/v1/alerts").await;
    assert_eq!(
        alerts.as_array().unwrap().len(),
        1,
        "only the October case is left: {alerts}"
    );
    assert_eq!(alerts[0]["date_cdp"], "2026-10-03");
    // Court events after closure still count for the CCAPEX.
    let (_, s) = get_json(&ddets, "/v1/stats?from=2026-09-01&to=2026-10-31").await;
    assert_eq!(
        s["judiciaire"],
        serde_json::json!({"assignation": 1, "audience": 1}),
        "{s}"
    );
    assert_eq!(s["attributions"][0]["sans_suite"], 1, "{s}");
    assert_eq!(
        s["attributions"][0]["delai_premier_contact_median_jours"], 24.0,
        "{s}"
    );
    assert_eq!(s["en_attente"]["total"], 1, "{s}");
    assert_eq!(s["en_attente"]["pct"], 50, "{s}");
    // Closing it twice: 409.
    let (status, r) = push_return(
        &app,
        "ccas-sables",
        "followup",
        &format!("token,date,evenement,motif,detail\n{token},2026-12-01,cloture,autre,\n"),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{r}"
    );
    app.stop().await;
}
both!(a_returning_household_is_proposed_to_its_referent_and_alerts_count_days);
