//! The audit trail: one entry per answered request and per file produced,
//! downloaded or acknowledged; numbered without gaps; each hashed; nothing
//! personal; append-only on both backends.

use crate::both;
use crate::helpers::{Db, TestApp, csv_records, sample, sha256_hex, spawn_app, status_json};
use sqlx::Row;

/// `(seq, action, outcome, entry, leaf_hash)`, in order.
async fn log(app: &TestApp) -> Vec<(i64, String, String, String, String)> {
    sqlx::query("SELECT seq, action, outcome, entry, leaf_hash FROM audit_log ORDER BY seq")
        .fetch_all(app.app.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

async fn every_answered_request_has_an_audit_entry(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let source = sample("liste-2026-09-clean.csv");
    let (status, receipt) = app.push_list("2026-09", "text/csv", source.clone()).await;
    assert_eq!(status, 201);
    let caf = app.client("caf");
    let files = caf.outbox().await.unwrap();
    let id = files[0].file_id.clone();
    caf.download(&id).await.unwrap();
    let (status, _) = status_json(app.get("mdsf", &format!("/v1/outbox/{id}")).await).await;
    assert_eq!(status, 404);
    caf.ack(&id).await.unwrap();

    let entries = log(&app).await;
    let seqs: Vec<i64> = entries.iter().map(|e| e.0).collect();
    assert_eq!(
        seqs,
        (0..entries.len() as i64).collect::<Vec<_>>(),
        "seq runs from 0 without gaps"
    );
    let steps: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.1.as_str(), e.2.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("list.upload", "ok"),
            ("file.produce", "ok"),
            ("outbox.list", "ok"),
            ("outbox.download", "ok"),
            ("request", "refused"),
            ("outbox.ack", "ok"),
        ],
        "{entries:#?}"
    );
    let json: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| serde_json::from_str(&e.3).unwrap())
        .collect();
    for (e, j) in entries.iter().zip(&json) {
        assert_eq!(j["seq"], e.0);
        assert_eq!(j["action"], e.1.as_str());
        assert_eq!(j["outcome"], e.2.as_str());
        assert!(j["at"].as_str().is_some_and(|a| a.len() >= 20), "{j}");
        assert!(
            j["cert_sha256"].as_str().is_some_and(|f| f.len() == 64),
            "{j}"
        );
    }
    // The file produced for CAF: its fields, rows and households.
    let produce = &json[1];
    assert_eq!(produce["partner"], "ddets");
    let fields: Vec<&str> = produce["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        fields.join(","),
        "token,nom,prenom,adresse,code_postal,commune"
    );
    assert_eq!(produce["rows"], 25);
    assert_eq!(produce["subjects"], 25);
    let objects = produce["objects"].to_string();
    assert!(
        objects.contains(&id) && objects.contains("to:caf"),
        "{objects}"
    );
    let upload = &json[0];
    assert_eq!(upload["rows"], 25);
    assert!(
        upload["objects"]
            .to_string()
            .contains(receipt["list_id"].as_str().unwrap())
    );
    let download = &json[3];
    assert_eq!(download["partner"], "caf");
    assert_eq!(download["rows"], 25);
    assert_eq!(download["subjects"], 25);
    // The download's households are its production's, copied in the store.
    assert_eq!(download["subjects_sha256"], produce["subjects_sha256"]);
    assert_eq!(upload["subjects_sha256"], produce["subjects_sha256"]);
    assert_eq!(download["fields"], produce["fields"]);
    let refused = &json[4];
    assert_eq!(refused["partner"], "mdsf");
    assert_eq!(refused["status"], 404);
    assert_eq!(refused["reason"], "not_found");
    assert_eq!(json[5]["partner"], "caf");
    // Each household reference is kept for the DPO, once: the upload, the
    // production of the file holding the whole list and its download name
    // the same set.
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_subjects").await, 25);
    assert_eq!(upload["subjects"], 25);

    // Nothing personal in the log.
    let src = csv_records(&source);
    let col = |name: &str| src[0].iter().position(|h| h == name).unwrap();
    for (_, _, _, entry, _) in &entries {
        for row in &src[1..] {
            for name in [
                "nom",
                "prenom",
                "commune",
                "adresse",
                "telephone",
                "courriel",
                "ref_cdp",
            ] {
                let v = row[col(name)].trim();
                if !v.is_empty() {
                    assert!(
                        !entry.contains(v),
                        "{name} {v:?} in the audit entry {entry}"
                    );
                }
            }
        }
    }
    // Each leaf hash is RFC 6962's SHA-256(0x00 || entry).
    for (seq, _, _, entry, leaf) in &entries {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(entry.as_bytes());
        assert_eq!(*leaf, sha256_hex(&bytes), "leaf hash of entry {seq}");
    }
    app.stop().await;
}
both!(every_answered_request_has_an_audit_entry);

async fn the_audit_log_refuses_update_and_delete(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    assert_eq!(app.get("caf", "/healthz").await.status(), 200);
    assert_eq!(app.get("ddets", "/healthz").await.status(), 200);
    let before = log(&app).await;
    assert_eq!(before.len(), 2);
    let pool = app.app.store.pool();
    for sql in [
        "UPDATE audit_log SET outcome = 'ok'",
        "UPDATE audit_log SET entry = '{}' WHERE seq = 0",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE seq = 1",
    ] {
        let r = sqlx::query(sql).execute(pool).await;
        assert!(r.is_err(), "{sql} was allowed: {r:?}");
    }
    assert_eq!(log(&app).await, before, "the log is unchanged");
    app.stop().await;
}
both!(the_audit_log_refuses_update_and_delete);
