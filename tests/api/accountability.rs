//! The access log as the DPO and a CNIL auditor use it: verification that
//! catches every kind of tampering and names where, signed checkpoints and
//! proofs, subject-access answers, retention that keeps the log verifiable.

use crate::both;
use crate::helpers::{Db, TestApp, decrypt, sample, spawn_app};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use passerelle::audit::{checkpoint, merkle, tlog};

/// A month's first steps: DDETS uploads, CAF lists, downloads and acks,
/// MDSF tries CAF's file; then a checkpoint is signed.
async fn activity(app: &TestApp) -> String {
    let (status, _) = app
        .push_list("2026-10", "text/csv", sample("liste-2026-10-excel-fr.csv"))
        .await;
    assert_eq!(status, 201);
    let caf = app.client("caf");
    let f = caf.outbox().await.unwrap().remove(0);
    decrypt(
        &caf.download(&f.file_id).await.unwrap(),
        &app.identity("caf"),
    );
    assert!(app.client("mdsf").download(&f.file_id).await.is_err());
    caf.ack(&f.file_id).await.unwrap();
    let (status, c) = app
        .client("dpo")
        .post_json("/v1/audit/checkpoint", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{c}");
    f.file_id
}

async fn verify(app: &TestApp) -> tlog::Verification {
    let mut conn = app.app.store.pool().acquire().await.unwrap();
    tlog::verify(&mut conn, &app.app.signer.verifier_key())
        .await
        .unwrap()
}

/// Lets the test play the attacker with write access to the database.
async fn disable_guards(app: &TestApp) {
    let pool = app.app.store.pool();
    match app.app.store.backend() {
        passerelle::store::Backend::Sqlite => {
            for t in ["audit_log_no_update", "audit_log_no_delete"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {t}")))
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
        passerelle::store::Backend::Postgres => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER ALL")
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(app.app.store.pool())
        .await
        .unwrap();
}

async fn first_fault(app: &TestApp) -> (u64, &'static str) {
    let v = verify(app).await;
    let f = v
        .faults
        .first()
        .unwrap_or_else(|| panic!("tampering not detected: {v:?}"));
    (f.position, f.kind)
}

async fn audit_verify_catches_every_tampering_and_names_the_entry(db: Db) {
    for mutation in [
        "flip",
        "flip_rehash",
        "delete",
        "insert",
        "swap",
        "truncate",
    ] {
        let Some(app) = spawn_app(db).await else {
            return;
        };
        activity(&app).await;
        let v = verify(&app).await;
        assert!(v.ok(), "{v:?}");
        assert!(v.checkpoints_checked >= 1);
        let n = v.entries as i64;
        disable_guards(&app).await;
        let expected = match mutation {
            "flip" => {
                exec(&app, "UPDATE audit_log SET entry = REPLACE(entry, '\"outcome\":\"ok\"', '\"outcome\":\"ko\"') WHERE seq = 3").await;
                (3, "modified")
            }
            "flip_rehash" => {
                // A careful attacker also rewrites the leaf hash: the next
                // entry's link (and the checkpoint) still betray it.
                let row = sqlx::query("SELECT entry FROM audit_log WHERE seq = 2")
                    .fetch_one(app.app.store.pool())
                    .await
                    .unwrap();
                let entry: String = sqlx::Row::get(&row, 0);
                let forged = entry.replacen("\"rows\":", "\"rows\":1", 1);
                let leaf = hex::encode(passerelle::audit::leaf_hash(forged.as_bytes()));
                sqlx::query("UPDATE audit_log SET entry = $1, leaf_hash = $2 WHERE seq = 2")
                    .bind(forged)
                    .bind(leaf)
                    .execute(app.app.store.pool())
                    .await
                    .unwrap();
                (2, "modified")
            }
            "delete" => {
                exec(&app, "DELETE FROM audit_log WHERE seq = 4").await;
                (4, "deleted")
            }
            "insert" => {
                exec(&app, &format!("INSERT INTO audit_log (seq, at, partner, action, outcome, entry, leaf_hash) SELECT {n}, at, partner, action, outcome, entry, leaf_hash FROM audit_log WHERE seq = 1")).await;
                (n as u64, "inserted")
            }
            "swap" => {
                exec(
                    &app,
                    &format!("UPDATE audit_log SET seq = {} WHERE seq = 2", n + 10),
                )
                .await;
                exec(&app, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
                exec(
                    &app,
                    &format!("UPDATE audit_log SET seq = 3 WHERE seq = {}", n + 10),
                )
                .await;
                (2, "reordered")
            }
            _ => {
                exec(
                    &app,
                    &format!("DELETE FROM audit_log WHERE seq >= {}", n - 2),
                )
                .await;
                ((n - 2) as u64, "truncated")
            }
        };
        assert_eq!(first_fault(&app).await, expected, "{mutation}");
        app.stop().await;
    }
}
both!(audit_verify_catches_every_tampering_and_names_the_entry);

async fn the_audit_verify_command_exits_non_zero_on_a_fault(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    let data = app.dir.path().join("data");
    let url = app.app.config.gateway.storage.url();
    let config = app.config_path();
    let run = move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
            .args(["audit", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(&data)
            .arg("--database-url")
            .arg(&url)
            .arg("verify")
            .output()
            .unwrap()
    };
    let o = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("OK:"));
    disable_guards(&app).await;
    exec(&app, "DELETE FROM audit_log WHERE seq = 1").await;
    let o = tokio::task::spawn_blocking(run).await.unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("entry 1: deleted"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    app.stop().await;
}
both!(the_audit_verify_command_exits_non_zero_on_a_fault);

async fn checkpoints_and_proofs_let_any_partner_witness_the_log(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let caf = app.client("caf");
    let (_, c1) = caf.get_json("/v1/audit/checkpoint").await.unwrap();
    let key = c1["verifier_key"].as_str().unwrap();
    let cp1 = checkpoint::verify(c1["checkpoint"].as_str().unwrap(), key).unwrap();
    activity(&app).await;
    let (_, c2) = caf.get_json("/v1/audit/checkpoint").await.unwrap();
    let cp2 = checkpoint::verify(c2["checkpoint"].as_str().unwrap(), key).unwrap();
    assert!(cp2.size > cp1.size);
    let (status, p) = caf
        .get_json(&format!(
            "/v1/audit/proof/consistency?from={}&to={}",
            cp1.size, cp2.size
        ))
        .await
        .unwrap();
    assert_eq!(status, 200, "{p}");
    let hashes = |v: &serde_json::Value| -> Vec<merkle::Hash> {
        v["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect()
    };
    assert!(merkle::verify_consistency(
        cp1.size,
        cp2.size,
        &cp1.root,
        &cp2.root,
        &hashes(&p)
    ));
    let (status, p) = caf
        .get_json(&format!(
            "/v1/audit/proof/inclusion?index=1&size={}",
            cp2.size
        ))
        .await
        .unwrap();
    assert_eq!(status, 200, "{p}");
    let leaf: merkle::Hash = B64
        .decode(p["leaf"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert!(merkle::verify_inclusion(
        1,
        cp2.size,
        &leaf,
        &hashes(&p),
        &cp2.root
    ));
    let (status, _) = caf
        .get_json(&format!(
            "/v1/audit/proof/consistency?from=1&to={}",
            cp2.size + 1000
        ))
        .await
        .unwrap();
    assert_eq!(status, 400);
    app.stop().await;
}
both!(checkpoints_and_proofs_let_any_partner_witness_the_log);

async fn a_subject_access_request_lists_exactly_the_accesses_to_that_household(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let file_id = activity(&app).await;
    let dpo = app.client("dpo");
    // A tenant of the sample list, written as the tenant would.
    let (status, r) = dpo
        .post_json(
            "/v1/audit/subject",
            &serde_json::json!({"nom": "renard", "prenom": "THIERRY", "code_postal": "85150"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{r}");
    let seen: Vec<(String, String)> = r["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["partner"].as_str().unwrap().to_owned(),
                a["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("ddets".to_owned(), "list.upload".to_owned()),
            ("ddets".to_owned(), "file.produce".to_owned()),
            ("caf".to_owned(), "outbox.download".to_owned()),
        ]
    );
    let download = &r["accesses"][2];
    assert_eq!(
        download["fields"],
        serde_json::json!([
            "token",
            "nom",
            "prenom",
            "adresse",
            "code_postal",
            "commune"
        ])
    );
    assert!(download["objects"].to_string().contains(&file_id));
    // Nobody else's data was touched for a person not in any list.
    let (_, r) = dpo
        .post_json(
            "/v1/audit/subject",
            &serde_json::json!({"nom": "Inconnu", "prenom": "Personne", "code_postal": "85100"}),
        )
        .await
        .unwrap();
    assert_eq!(r["accesses"], serde_json::json!([]));
    // Only the DPO asks; the question itself is on record.
    let (status, _) = app
        .client("caf")
        .post_json(
            "/v1/audit/subject",
            &serde_json::json!({"nom": "x", "prenom": "y", "code_postal": "85100"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
    let (status, page) = dpo
        .get_json("/v1/audit?action=audit.subject")
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(page["total"], 2, "{page}");
    // Filters: one partner's downloads.
    let (_, page) = dpo
        .get_json("/v1/audit?partner=caf&action=outbox.download")
        .await
        .unwrap();
    assert_eq!(page["total"], 1, "{page}");
    let (_, page) = dpo
        .get_json(&format!(
            "/v1/audit?object=file:{file_id}&per_page=2&page=1"
        ))
        .await
        .unwrap();
    assert!(
        page["total"].as_i64().unwrap() >= 4,
        "produce, download, refused fetch, ack: {page}"
    );
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    let (_, refused) = dpo
        .get_json("/v1/audit?outcome=refused&partner=mdsf")
        .await
        .unwrap();
    assert_eq!(refused["total"], 1, "{refused}");
    assert_eq!(refused["entries"][0]["action"], "request");
    app.stop().await;
}
both!(a_subject_access_request_lists_exactly_the_accesses_to_that_household);

async fn retention_removes_what_is_past_its_period_and_the_log_stays_verifiable(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    // One case is decided "not processed": the only one retention may remove.
    let ddets = app.client("ddets");
    let (_, c) = ddets
        .post_json(
            "/v1/concertations",
            &serde_json::json!({"date": "2026-10-30"}),
        )
        .await
        .unwrap();
    let token = c["agenda"][0]["token"].clone();
    let id = c["concertation_id"].as_str().unwrap();
    let (status, _) = ddets
        .post_json(
            &format!("/v1/concertations/{id}/decisions"),
            &serde_json::json!({"decisions": [{"token": token, "non_traite": "demenagement"}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let before_cases = app.count("SELECT COUNT(*) FROM cases").await;
    // Nothing is old yet.
    let r = passerelle::retention::run(&app.app, passerelle::util::now_ms())
        .await
        .unwrap();
    assert_eq!(r, passerelle::retention::RetentionReport::default());
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, before_cases);
    // A year and a month later: the acknowledged file, the case closed as
    // not processed (with its tokens and decision) and the audit entries
    // go; the open cases stay.
    let later = passerelle::util::now_ms() + 400 * 86_400_000;
    let entries_before = verify(&app).await.entries;
    let r = passerelle::retention::run(&app.app, later).await.unwrap();
    assert_eq!(r.outbox_files, 1);
    assert_eq!(r.cases, 1, "only the case closed as not processed");
    assert!(r.audit_entries >= 8, "{r:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cases").await,
        before_cases - 1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM decisions").await, 0);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM case_tokens WHERE case_id NOT IN (SELECT case_id FROM cases)"
        )
        .await,
        0
    );
    let v = verify(&app).await;
    assert!(v.ok(), "still verifiable after pruning: {v:?}");
    assert_eq!(
        v.entries,
        entries_before + 1,
        "pruned leaves kept, and the run itself audited"
    );
    // The first run's own entry was old too: only the second one remains,
    // counting what it removed.
    let (_, page) = app
        .client("dpo")
        .get_json("/v1/audit?action=retention.run")
        .await
        .unwrap();
    assert_eq!(page["total"], 1, "{page}");
    assert!(
        page["entries"][0]["objects"]
            .to_string()
            .contains("outbox_files:1"),
        "{page}"
    );
    app.stop().await;
}
both!(retention_removes_what_is_past_its_period_and_the_log_stays_verifiable);

async fn a_key_rotation_keeps_old_tokens_working_and_households_recognised(db: Db) {
    let Some(mut app) = spawn_app(db).await else {
        return;
    };
    app.push_list("2026-10", "text/csv", sample("liste-2026-10-excel-fr.csv"))
        .await;
    let caf = app.client("caf");
    let f = caf.outbox().await.unwrap().remove(0);
    let old_file = String::from_utf8(decrypt(
        &caf.download(&f.file_id).await.unwrap(),
        &app.identity("caf"),
    ))
    .unwrap();
    caf.ack(&f.file_id).await.unwrap();
    let old_token = old_file
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    assert!(old_token.starts_with("v1-"));
    // Thierry Renard (85150) gets a referent in October.
    let ddets = app.client("ddets");
    let (_, c) = ddets
        .post_json(
            "/v1/concertations",
            &serde_json::json!({"date": "2026-10-30"}),
        )
        .await
        .unwrap();
    let renard = c["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["nom"] == "RENARD")
        .unwrap()
        .clone();
    let id = c["concertation_id"].as_str().unwrap();
    let (status, _) = ddets
        .post_json(&format!("/v1/concertations/{id}/decisions"), &serde_json::json!({"decisions": [{"token": renard["token"], "organisme": "ccas-sables"}]}))
        .await
        .unwrap();
    assert_eq!(status, 200);

    // The operator rotates the pseudonymisation key and restarts.
    let (version, _) = passerelle::app::rotate_keys(&app.app.config).unwrap();
    assert_eq!(version, 2);
    app.restart_after(std::time::Duration::ZERO).await;
    assert_eq!(app.app.pseudo.current_version(), 2);

    // November: the same household, written otherwise.
    let csv = "ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,bailleur_type,bailleur_nom,montant_dette\n\
               N1,2026-11-03,Renard,THIERRY,1 rue des Sables,85150,Sainte-Foy,prive,SCI,900\n";
    let (status, _) = app
        .push_list("2026-11", "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, 201);
    let caf = app.client("caf");
    let f = caf.outbox().await.unwrap().remove(0);
    let new_file = String::from_utf8(decrypt(
        &caf.download(&f.file_id).await.unwrap(),
        &app.identity("caf"),
    ))
    .unwrap();
    assert!(
        new_file.lines().nth(1).unwrap().starts_with("v2-"),
        "new cases use the new key"
    );
    // CAF's October token still resolves.
    let ret = format!(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n{old_token},oui,1970-01-01,1,0,,non,non\n"
    );
    let body =
        passerelle::export::envelope::seal(ret.as_bytes(), &[app.gateway_recipient()]).unwrap();
    let (status, r) = caf.push_return("enrichment", body).await.unwrap();
    assert_eq!(status, 201, "{r}");
    // The household is recognised across the rotation.
    let (_, c) = ddets
        .post_json(
            "/v1/concertations",
            &serde_json::json!({"date": "2026-11-20"}),
        )
        .await
        .unwrap();
    let nov = c["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["date_cdp"] == "2026-11-03")
        .unwrap()
        .clone();
    assert_eq!(nov["referent_precedent"], "ccas-sables", "{nov}");
    // Old sealed cases still open (the agenda shows October's names).
    assert!(
        c["agenda"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["nom"] == "Blanchard")
    );
    // The DPO finds the household's accesses under both keys.
    let (_, r) = app
        .client("dpo")
        .post_json(
            "/v1/audit/subject",
            &serde_json::json!({"nom": "Renard", "prenom": "Thierry", "code_postal": "85150"}),
        )
        .await
        .unwrap();
    let actions: Vec<&str> = r["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.iter().filter(|a| **a == "list.upload").count() == 2,
        "{actions:?}"
    );
    app.stop().await;
}
both!(a_key_rotation_keeps_old_tokens_working_and_households_recognised);

async fn the_dpo_report_and_register_come_from_the_command_line(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    let (code, stderr, html) = app.dpo_report().await;
    assert_eq!(code, Some(0), "{stderr}");
    let reg = app.dir.path().join("register.html");
    let config = app.config_path();
    let reg_out = {
        let reg = reg.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
                .args(["register", "--config"])
                .arg(&config)
                .args(["--format", "html", "--out"])
                .arg(&reg)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    assert!(html.contains("chart-accesses") && html.contains("caf") && html.contains("mdsf"));
    assert!(
        html.contains(app.app.signer.origin()),
        "the checkpoint it rests on"
    );
    assert!(
        !html.contains("Blanchard") && !html.contains("Jard-sur-Mer"),
        "no personal data in the report"
    );
    assert!(
        html.contains("aucun accès par la console"),
        "machines are no persons"
    );
    assert_eq!(
        reg_out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&reg_out.stderr)
    );
    let register = std::fs::read_to_string(&reg).unwrap();
    assert!(register.contains("telephone") && register.contains("dossier"));
    assert!(
        register.contains("EXPLOC") && register.contains("<code>procedure</code>"),
        "the record names the procedure events and their file"
    );
    assert!(
        register.contains("<html lang=\"fr\">")
            && register.contains("<h1>Registre des activités de traitement")
            && register.contains("<h2>4. Destinataires par champ</h2>"),
        "the record is in French: {register}"
    );
    app.stop().await;
}
both!(the_dpo_report_and_register_come_from_the_command_line);
