//! Judicialisation (docs/convention.md "Procedure events"): EXPLOC's
//! events uploaded by the DDETS, linked to the circuit's cases by every
//! rule, routed to referents as `procedure` files, shown in the alerts
//! before the hearing, and counted per `parcours` in the figures.

use crate::both;
use crate::helpers::{Db, TestApp, age_cli, code, decrypt, spawn_app};
use passerelle::client::GatewayClient;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const LIST_HEAD: &str = "ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,bailleur_type,bailleur_nom,montant_dette\n";
const EXPLOC_HEAD: &str =
    "Réf procédure;Étape;Date étape;Nom;Prénom;Adresse;Code postal;Commune;Date audience;Réf CDP\n";

async fn push_procedures(c: &GatewayClient, period: &str, body: &str) -> (u16, Value) {
    c.push_procedures(period, "text/csv", body.as_bytes().to_vec())
        .await
        .unwrap()
}

/// Every waiting file of `kind` for `id`, decrypted (with the `age` CLI
/// when installed, as a partner would) and acknowledged: its records,
/// header first (the headers as normalised by the reader).
async fn pull(app: &TestApp, id: &str, kind: &str) -> Vec<Vec<Vec<String>>> {
    let c = app.client(id);
    let mut out = Vec::new();
    for f in c.outbox().await.unwrap() {
        if f.kind != kind {
            continue;
        }
        let ct = c.download(&f.file_id).await.unwrap();
        let plain = if age_cli() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("file.age");
            std::fs::write(&path, &ct).unwrap();
            let o = std::process::Command::new("age")
                .arg("-d")
                .arg("-i")
                .arg(app.identity_path(id))
                .arg(&path)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        } else {
            decrypt(&ct, &app.identity(id))
        };
        c.ack(&f.file_id).await.unwrap();
        // CSV or XLSX, as the partner's configuration asks.
        let table = passerelle::ingest::read_table(&plain, &Default::default()).unwrap();
        let mut records = vec![table.headers().to_vec()];
        for r in table.rows() {
            let r = r.unwrap();
            let mut cells: Vec<String> = r.cells().iter().map(|c| c.text.clone()).collect();
            cells.resize(records[0].len(), String::new());
            records.push(cells);
        }
        out.push(records);
    }
    out
}

/// The token of `id`'s `dossier` file for the household `nom`, by pulling it.
fn token_of(files: &[Vec<Vec<String>>], nom: &str) -> String {
    for f in files {
        let t = f[0].iter().position(|h| h == "token").unwrap();
        let n = f[0].iter().position(|h| h == "nom").unwrap();
        if let Some(r) = f[1..].iter().find(|r| r[n] == nom) {
            return r[t].clone();
        }
    }
    panic!("no {nom} in {files:?}")
}

/// Uploads `csv` as the month's list, routes it, opens a concertation and
/// records `decide(nom)` for each agenda entry (`None`: left undecided);
/// returns the DDETS's tokens by surname.
async fn month(
    app: &TestApp,
    period: &str,
    csv: &str,
    date: &str,
    decide: impl Fn(&str) -> Option<Value>,
) -> BTreeMap<String, String> {
    let ddets = app.client("ddets");
    let (status, l) = app
        .push_list(period, "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, 201, "{l}");
    let (status, r) = ddets
        .post_json(
            &format!("/v1/lists/{}/route", l["list_id"].as_str().unwrap()),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{r}");
    let (status, c) = ddets
        .post_json("/v1/concertations", &json!({"date": date}))
        .await
        .unwrap();
    assert_eq!(status, 201, "{c}");
    let mut tokens = BTreeMap::new();
    let mut decisions = Vec::new();
    for e in c["agenda"].as_array().unwrap() {
        let nom = e["nom"].as_str().unwrap().to_owned();
        let token = e["token"].as_str().unwrap().to_owned();
        if let Some(mut d) = decide(&nom) {
            d["token"] = json!(token);
            decisions.push(d);
        }
        tokens.insert(nom, token);
    }
    if !decisions.is_empty() {
        let (status, r) = ddets
            .post_json(
                &format!(
                    "/v1/concertations/{}/decisions",
                    c["concertation_id"].as_str().unwrap()
                ),
                &json!({ "decisions": decisions }),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{r}");
    }
    tokens
}

async fn followup(app: &TestApp, id: &str, rows: &[(&str, &str, &str)]) {
    let mut csv = String::from("token,date,evenement,motif,detail\n");
    for (t, d, e) in rows {
        csv.push_str(&format!("{t},{d},{e},,\n"));
    }
    let (status, r) = crate::circuit::push_return(app, id, "followup", &csv).await;
    assert_eq!(status, 201, "{r}");
}

async fn procedures_id_lines(c: &GatewayClient, id: &str) -> Vec<(u64, String, String, String)> {
    let (status, d) = c.get_json(&format!("/v1/procedures/{id}")).await.unwrap();
    assert_eq!(status, 200, "{d}");
    d["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["line"].as_u64().unwrap(),
                l["effect"].as_str().unwrap().to_owned(),
                l["token"].as_str().unwrap_or_default().to_owned(),
                l["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn events_linked_to_the_right_case_reach_its_referent_and_the_alerts(db: Db) {
    let Some(mut app) = spawn_app(db).await else {
        return;
    };
    let ddets = app.client("ddets");
    let sept = format!(
        "{LIST_HEAD}R1,2026-09-01,Lefèvre,Hélène,3 rue Travot,85100,Les Sables-d'Olonne,prive,SCI,1200\n\
         R2,2026-09-02,Martin,Paul,5 rue Travot,85100,Les Sables-d'Olonne,social,Vendée Habitat,900\n"
    );
    let t = month(&app, "2026-09", &sept, "2026-09-20", |nom| {
        Some(match nom {
            "Lefèvre" => json!({"organisme": "ccas-sables"}),
            _ => json!({"organisme": "mdsf"}),
        })
    })
    .await;
    let ccas_r1 = token_of(&pull(&app, "ccas-sables", "dossier").await, "Lefèvre");
    let mdsf_r2 = token_of(&pull(&app, "mdsf", "dossier").await, "Martin");
    // October: the same household again, written otherwise; not decided yet.
    let oct = format!(
        "{LIST_HEAD}R3,2026-10-03,LEFEVRE,helene,3 rue Travot,85100,Les Sables-d'Olonne,prive,SCI,1500\n"
    );
    let t3 = month(&app, "2026-10", &oct, "2026-10-20", |_| None).await;
    let ddets_r3 = t3["LEFEVRE"].clone();
    // Cases stored before procedure events existed have no ref_cdp key yet.
    sqlx::query("UPDATE cases SET ref_key = NULL")
        .execute(app.app.store.pool())
        .await
        .unwrap();

    let today = time::OffsetDateTime::now_utc().date();
    let hearing = (today + time::Duration::days(20)).to_string();
    let explo = format!(
        "{EXPLOC_HEAD}EXP-1;Assignation;20/09/2026;LEFÈVRE;hélène;3 rue Travot;85100;Les Sables;{hearing};\n\
         EXP-1;Jugement résiliation;10/10/2026;Lefevre;Helene;3 rue Travot;85100;Les Sables;;\n\
         EXP-2;assignation;15/10/2026;Martin-Durand;Paul;5 rue Travot;85100;Les Sables;;R2\n\
         EXP-3;assignation;15/10/2026;Inconnu;Jean;9 rue Y;85100;Les Sables;;\n\
         EXP-4;expulsion;01/08/2026;Lefèvre;Hélène;3 rue Travot;85100;Les Sables;;\n\
         exp-1;ASSIGNATION;2026-09-20;Lefèvre;Hélène;3 rue Travot;85100;Les Sables;{hearing};\n"
    );

    // Not the source: refused before anything is read.
    let (status, r) = push_procedures(&app.client("caf"), "2026-11", &explo).await;
    assert_eq!((status, code(&r)), (403, "forbidden"), "{r}");

    let (status, r) = push_procedures(&ddets, "2026-11", &explo).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (&r["rows"], &r["linked"], &r["unlinked"], &r["repeated"]),
        (&json!(6), &json!(3), &json!(2), &json!(1)),
        "{r}"
    );
    let id = r["procedures_id"].as_str().unwrap().to_owned();
    let lines = procedures_id_lines(&ddets, &id).await;
    let effects: Vec<(u64, &str, &str)> = lines
        .iter()
        .map(|(l, e, t, _)| (*l, e.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        effects,
        [
            // The most recent CDP on or before the event: September's,
            // never October's (after it).
            (2, "linked", t["Lefèvre"].as_str()),
            // On 10 October, October's CDP is the most recent.
            (3, "linked", ddets_r3.as_str()),
            // By ref_cdp, whatever the name.
            (4, "linked", t["Martin"].as_str()),
            (5, "hors_circuit", ""),
            // Before any CDP of the household.
            (6, "hors_circuit", ""),
            // The same event as line 2.
            (7, "repeated", ""),
        ],
        "{lines:?}"
    );
    assert_eq!(lines[0].3, "identite");
    assert_eq!(lines[2].3, "ref_cdp");
    assert!(lines[4].3.contains("on or before 2026-08-01"), "{lines:?}");
    // Another partner may not read it; the source again: the same.
    let (status, _) = app
        .client("mdsf")
        .get_json(&format!("/v1/procedures/{id}"))
        .await
        .unwrap();
    assert_eq!(status, 403);

    // The same bytes again: 200, the same upload, nothing new.
    let (status, again) = push_procedures(&ddets, "2026-11", &explo).await;
    assert_eq!((status, &again["procedures_id"]), (200, &json!(id)));
    assert_eq!(app.count("SELECT COUNT(*) FROM procedure_events").await, 5);

    // The referents receive their households' events, without identity.
    let ccas = pull(&app, "ccas-sables", "procedure").await;
    assert_eq!(
        ccas,
        [vec![
            vec!["token", "etape", "date_etape", "date_audience"]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>(),
            vec![
                ccas_r1.clone(),
                "assignation".into(),
                "2026-09-20".into(),
                hearing.clone()
            ],
        ]]
    );
    let mdsf = pull(&app, "mdsf", "procedure").await;
    assert_eq!(
        mdsf[0][1],
        [mdsf_r2.as_str(), "assignation", "2026-10-15", ""]
    );
    assert_eq!(mdsf.len(), 1);

    // The hearing in 20 days shows in the secretariat's alerts and in the
    // referent's.
    let (_, alerts) = ddets.get_json("/v1/alerts").await.unwrap();
    let a = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["token"] == json!(t["Lefèvre"]))
        .unwrap_or_else(|| panic!("{alerts}"));
    assert_eq!(
        (&a["audience"], &a["jours_avant_audience"]),
        (&json!(hearing), &json!(20)),
        "{a}"
    );
    let (_, mine) = app
        .client("ccas-sables")
        .get_json("/v1/alerts")
        .await
        .unwrap();
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .any(|a| a["token"] == json!(ccas_r1) && a["jours_avant_audience"] == json!(20)),
        "{mine}"
    );

    // In the console: the secretariat and the referent see the hearing
    // first, with the days before it.
    let hearing_fr = {
        let (y, m, d) = (&hearing[..4], &hearing[5..7], &hearing[8..]);
        format!("{d}/{m}/{y}")
    };
    for (person, token) in [
        ("sec-ddets", t["Lefèvre"].as_str()),
        ("ref-ccas", ccas_r1.as_str()),
    ] {
        let mut b = crate::console::Browser::new(&app, Some(person));
        let page = b.get("/alertes").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let hearings = &page.body[page
            .body
            .find("Audiences à venir")
            .unwrap_or_else(|| panic!("{person}: {}", page.body))..];
        let row = &hearings[hearings.find(token).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(
            row.contains(&hearing_fr) && row.contains("20 jours"),
            "{person}: {row}"
        );
    }

    // A bad file: every bad line named, nothing stored.
    let bad = format!(
        "{EXPLOC_HEAD}EXP-9;audiance;20/09/2026;A;B;1 rue;85100;X;;\n\
         EXP-9;assignation;31/02/2026;A;B;1 rue;85100;X;;\n"
    );
    let (status, r) = push_procedures(&ddets, "2026-11", &bad).await;
    assert_eq!((status, code(&r)), (422, "invalid_rows"), "{r}");
    let lines: Vec<u64> = r["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3], "{r}");
    assert_eq!(app.count("SELECT COUNT(*) FROM procedure_events").await, 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM procedure_files").await, 1);

    // After a key rotation, households and references of earlier cases
    // are still recognised; an event sent before is still known.
    passerelle::app::rotate_keys(&app.app.config).unwrap();
    app.restart_after(std::time::Duration::ZERO).await;
    let ddets = app.client("ddets");
    // This time as a workbook, with real date cells.
    let dec = {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        for (c, h) in EXPLOC_HEAD.trim_end().split(';').enumerate() {
            ws.write_string(0, c as u16, h).unwrap();
        }
        let rows: [[&str; 10]; 3] = [
            [
                "EXP-2",
                "Audience",
                "2026-11-20",
                "Martin",
                "Paul",
                "5 rue Travot",
                "85100",
                "Les Sables",
                "",
                "",
            ],
            [
                "EXP-5",
                "desistement",
                "2026-11-02",
                "X",
                "Y",
                "1 rue",
                "85000",
                "La Roche",
                "",
                "R1",
            ],
            [
                "EXP-2",
                "assignation",
                "2026-10-15",
                "Martin-Durand",
                "Paul",
                "5 rue Travot",
                "85100",
                "Les Sables",
                "",
                "R2",
            ],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                if c == 2 {
                    let d = ExcelDateTime::parse_from_str(v).unwrap();
                    ws.write_datetime_with_format(r, c, &d, &date).unwrap();
                } else if !v.is_empty() {
                    ws.write_string(r, c, *v).unwrap();
                }
            }
        }
        wb.save_to_buffer().unwrap()
    };
    let (status, r) = ddets
        .push_procedures(
            "2026-12",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            dec,
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (&r["linked"], &r["unlinked"], &r["repeated"]),
        (&json!(2), &json!(0), &json!(1)),
        "{r}"
    );
    let lines = procedures_id_lines(&ddets, r["procedures_id"].as_str().unwrap()).await;
    assert_eq!(
        (lines[0].2.as_str(), lines[0].3.as_str()),
        (t["Martin"].as_str(), "identite")
    );
    assert_eq!(
        (lines[1].2.as_str(), lines[1].3.as_str()),
        (t["Lefèvre"].as_str(), "ref_cdp")
    );
    app.stop().await;
}
both!(events_linked_to_the_right_case_reach_its_referent_and_the_alerts);

/// The `judiciarisation` line a test expects: every step at 0 but those
/// given.
fn line(parcours: &str, cdp: u64, steps: &[(&str, u64)], pct: Value, delay: Value) -> Value {
    let mut v = json!({
        "parcours": parcours, "cdp": cdp,
        "pct_assignation": pct, "delai_assignation_median_jours": delay,
    });
    for e in passerelle::domain::Etape::ALL {
        v[e.as_str()] = json!(0);
    }
    for (e, n) in steps {
        v[*e] = json!(n);
    }
    v
}

async fn judiciarisation_counts_each_parcours_from_a_known_truth(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ddets = app.client("ddets");
    let row = |r: &str, d: &str, nom: &str| {
        format!(
            "{r},2026-09-0{d},{nom},Jo,{d} rue Travot,85100,Les Sables-d'Olonne,social,Vendée Habitat,900\n"
        )
    };
    let mut list = String::from(LIST_HEAD);
    for (r, d, nom) in [
        ("RA", "1", "Alpha"),
        ("RB", "2", "Bravo"),
        ("RC", "3", "Charlie"),
        ("RD", "4", "Delta"),
        ("RE", "5", "Echo"),
        ("RF", "6", "Foxtrot"),
        ("RG", "7", "Golf"),
    ] {
        list.push_str(&row(r, d, nom));
    }
    month(&app, "2026-09", &list, "2026-09-20", |nom| match nom {
        "Alpha" | "Bravo" | "Golf" => Some(json!({"organisme": "ccas-sables"})),
        "Charlie" | "Delta" => Some(json!({"organisme": "mdsf"})),
        "Echo" => Some(json!({"non_traite": "demenagement"})),
        _ => None,
    })
    .await;
    let ccas = pull(&app, "ccas-sables", "dossier").await;
    let mdsf = pull(&app, "mdsf", "dossier").await;
    // Alpha reached before its summons, Golf too (a kept appointment);
    // Bravo reached only after it; Charlie never; Delta reached, no
    // summons. A referent's own "assignation" does not count.
    followup(
        &app,
        "ccas-sables",
        &[
            (&token_of(&ccas, "Alpha"), "2026-09-10", "appel_reussi"),
            (&token_of(&ccas, "Bravo"), "2026-10-01", "appel_reussi"),
            (&token_of(&ccas, "Golf"), "2026-09-08", "rdv_honore"),
            (&token_of(&ccas, "Golf"), "2026-09-09", "assignation"),
        ],
    )
    .await;
    followup(
        &app,
        "mdsf",
        &[
            (&token_of(&mdsf, "Delta"), "2026-09-15", "visite"),
            (
                &token_of(&mdsf, "Charlie"),
                "2026-09-15",
                "appel_sans_reponse",
            ),
        ],
    )
    .await;
    let p = |r: &str, e: &str, d: &str, nom: &str, cdp: &str| {
        format!("{r};{e};{d};{nom};Jo;1 rue Travot;85100;Les Sables;;{cdp}\n")
    };
    let mut explo = String::from(EXPLOC_HEAD);
    for l in [
        p("P-A", "assignation", "2026-09-25", "Alpha", ""),
        p("P-A", "jugement_delais", "2026-11-05", "Alpha", ""),
        p("P-B", "assignation", "2026-09-20", "Bravo", ""),
        p("P-E", "assignation", "2026-10-05", "Echo", ""),
        p("P-E", "assignation", "2026-10-25", "Echo", ""),
        p("P-E", "expulsion", "2026-11-20", "Echo", ""),
        p("P-F", "assignation", "2026-10-10", "Inconnu", "RF"),
        p("P-G", "assignation", "2026-09-30", "Golf", ""),
        // Matching no case: one dated in the window, one after it.
        p("P-X", "assignation", "2026-09-12", "Xray", ""),
        p("P-Y", "assignation", "2026-10-12", "Yankee", ""),
    ] {
        explo.push_str(&l);
    }
    let (status, r) = push_procedures(&ddets, "2026-11", &explo).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (&r["linked"], &r["unlinked"]),
        (&json!(8), &json!(2)),
        "{r}"
    );

    let (status, s) = ddets
        .get_json("/v1/stats?from=2026-09-01&to=2026-09-30")
        .await
        .unwrap();
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        s["judiciarisation"],
        json!({
            "parcours": [
                // Alpha (24 days), Golf (23), Delta: the lower middle of 23 and 24.
                line("contacte", 3, &[("assignation", 2), ("jugement_delais", 1)], json!(67), json!(23)),
                // Bravo (18 days), Charlie.
                line("attribue_non_joint", 2, &[("assignation", 1)], json!(50), json!(18)),
                // Echo: two summons count once, from the first (30 days).
                line("non_traite", 1, &[("assignation", 1), ("expulsion", 1)], json!(100), json!(30)),
                // Foxtrot, by its ref_cdp (34 days).
                line("en_attente", 1, &[("assignation", 1)], json!(100), json!(34)),
            ],
            "hors_circuit": {"assignation": 1},
        }),
        "{s}"
    );
    // A window without cases: every parcours at 0, shares null.
    let (_, empty) = ddets
        .get_json("/v1/stats?from=2025-01-01&to=2025-01-31")
        .await
        .unwrap();
    assert_eq!(
        empty["judiciarisation"]["parcours"][0],
        line("contacte", 0, &[], Value::Null, Value::Null)
    );
    // The same as CSV, for a spreadsheet.
    let r = ddets
        .http()
        .get(ddets.url("/v1/stats?from=2026-09-01&to=2026-09-30&table=judiciarisation"))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    let csv = crate::helpers::csv_records(&r.bytes().await.unwrap());
    assert_eq!(csv[0][..3], ["parcours", "cdp", "assignation"]);
    assert_eq!(csv[1][..3], ["contacte", "3", "2"]);
    assert_eq!(csv[1][csv[0].len() - 2..], ["67", "23"]);
    assert_eq!(csv[5][0], "hors_circuit");
    assert_eq!(csv.len(), 6);
    // The console's /chiffres: the parcours side by side, every share with
    // its counts, small numbers flagged.
    let mut b = crate::console::Browser::new(&app, Some("sec-ddets"));
    let page = b.get("/chiffres?du=2026-09-01&au=2026-09-30").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let j = &page.body[page.body.find("Judiciarisation").unwrap()..];
    for shown in [
        "67 % (2 sur 3)",
        "50 % (1 sur 2)",
        "100 % (1 sur 1)",
        "Attribués et joints à temps",
        "Prudence",
        "Hors circuit",
        "23 j",
    ] {
        assert!(j.contains(shown), "{shown}: {j}");
    }
    let csv = b
        .get("/chiffres.csv?du=2026-09-01&au=2026-09-30&tableau=judiciarisation")
        .await;
    assert!(
        csv.body.starts_with("parcours,cdp,assignation"),
        "{}",
        csv.body
    );
    app.stop().await;
}
both!(judiciarisation_counts_each_parcours_from_a_known_truth);
