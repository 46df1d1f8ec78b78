//! `GET /v1/outbox`, `GET /v1/outbox/{id}`, `POST /v1/outbox/{id}/ack`: a
//! partner sees, fetches and acknowledges its own files only.

use crate::both;
use crate::helpers::{
    Db, code, csv_records, decrypt, list_csv, sample, sha256_hex, spawn_app, status_json,
};

async fn a_partner_never_sees_or_fetches_another_partners_file(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, _) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201);
    let caf_files = app.client("caf").outbox().await.unwrap();
    assert_eq!(caf_files.len(), 1);
    let id = &caf_files[0].file_id;

    for other in ["mdsf", "ddets", "ccas-sables", "vendee-habitat", "dpo"] {
        assert!(
            app.client(other).outbox().await.unwrap().is_empty(),
            "{other} sees a file"
        );
        let (status, body) = status_json(app.get(other, &format!("/v1/outbox/{id}")).await).await;
        assert_eq!(status, 404, "{other} GET: {body}");
        assert_eq!(code(&body), "not_found");
        let (status, body) =
            status_json(app.post(other, &format!("/v1/outbox/{id}/ack")).await).await;
        assert_eq!(status, 404, "{other} ack: {body}");
        assert_eq!(code(&body), "not_found");
    }
    // The refused ack changed nothing for CAF.
    assert_eq!(app.client("caf").outbox().await.unwrap().len(), 1);

    // An id that does not exist answers exactly like someone else's.
    for path in [
        "/v1/outbox/fil_doesnotexist",
        "/v1/outbox/fil_doesnotexist/ack",
    ] {
        let resp = if path.ends_with("/ack") {
            app.post("caf", path).await
        } else {
            app.get("caf", path).await
        };
        let (status, body) = status_json(resp).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(code(&body), "not_found");
    }

    // CAF acknowledges: 204, the file leaves the listing, a second ack is 204.
    let resp = app.post("caf", &format!("/v1/outbox/{id}/ack")).await;
    assert_eq!(resp.status(), 204);
    assert!(app.client("caf").outbox().await.unwrap().is_empty());
    let resp = app.post("caf", &format!("/v1/outbox/{id}/ack")).await;
    assert_eq!(resp.status(), 204);
    assert!(app.client("caf").outbox().await.unwrap().is_empty());
    // mdsf still cannot reach it once acknowledged.
    let (status, _) = status_json(app.get("mdsf", &format!("/v1/outbox/{id}")).await).await;
    assert_eq!(status, 404);
    app.stop().await;
}
both!(a_partner_never_sees_or_fetches_another_partners_file);

async fn the_download_is_age_and_matches_the_listed_sha256(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, _) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201);
    let caf = app.client("caf");
    let files = caf.outbox().await.unwrap();
    let f = &files[0];
    assert_eq!(f.kind, "enrichment");
    assert_eq!(f.period, "2026-09");
    assert_eq!(f.rows, 25);
    assert!(!f.created_at.is_empty());
    // The listing's raw JSON has the contract's fields.
    let (_, listing) = status_json(app.get("caf", "/v1/outbox").await).await;
    for key in [
        "file_id",
        "kind",
        "period",
        "rows",
        "size",
        "sha256",
        "created_at",
    ] {
        assert!(
            listing[0].get(key).is_some(),
            "{key} missing from {listing}"
        );
    }
    let resp = app.get("caf", &format!("/v1/outbox/{}", f.file_id)).await;
    assert_eq!(resp.status(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(ct, "application/age");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert_eq!(bytes.len() as u64, f.size);
    assert_eq!(sha256_hex(&bytes), f.sha256);
    // Downloading does not acknowledge.
    assert_eq!(caf.outbox().await.unwrap().len(), 1);
    app.stop().await;
}
both!(the_download_is_age_and_matches_the_listed_sha256);

/// A list of a few thousand rows: CAF's file is written in several chunks
/// while it is encrypted and streamed back chunk by chunk; it arrives
/// whole, with the size and digest the listing announced, and the log
/// names its households once for the upload, the file and the download.
async fn a_large_file_is_stored_and_served_in_chunks(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let names: Vec<[String; 4]> = (0..2_500)
        .map(|i| {
            [
                format!("CDP-L-{i:05}"),
                format!("Nom{i}"),
                "Prénom".to_owned(),
                "85100".to_owned(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 4]> = names
        .iter()
        .map(|[a, b, c, d]| [a.as_str(), b.as_str(), c.as_str(), d.as_str()])
        .collect();
    let (status, _) = app.push_list("2026-10", "text/csv", list_csv(&rows)).await;
    assert_eq!(status, 201);
    assert!(
        app.count("SELECT COUNT(*) FROM outbox_chunks").await >= 3,
        "CAF's file is stored in several chunks"
    );
    let caf = app.client("caf");
    let files = caf.outbox().await.unwrap();
    let resp = app
        .get("caf", &format!("/v1/outbox/{}", files[0].file_id))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-length"].to_str().unwrap(),
        files[0].size.to_string()
    );
    let ct = resp.bytes().await.unwrap().to_vec();
    assert_eq!(ct.len() as u64, files[0].size);
    assert_eq!(sha256_hex(&ct), files[0].sha256);
    let plain = decrypt(&ct, &app.identity("caf"));
    let records = csv_records(&plain);
    assert_eq!(records.len(), 2_501);
    assert_eq!(records[2_500][1], "Nom2499");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_subjects").await,
        2_500
    );
}
both!(a_large_file_is_stored_and_served_in_chunks);
