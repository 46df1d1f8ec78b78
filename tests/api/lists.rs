//! `POST /v1/lists` and the enrichment file routed to CAF.

use crate::both;
use crate::helpers::{Db, decrypt, sample, spawn_app};

async fn the_clean_sample_is_accepted_and_routed_to_caf(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let (status, receipt) = app.push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv")).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["rows"], 25);
    let caf = app.client("caf");
    let files = caf.outbox().await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].kind, "enrichment");
    let plain = decrypt(&caf.download(&files[0].file_id).await.unwrap(), &app.identity("caf"));
    let text = String::from_utf8(plain).unwrap();
    assert_eq!(text.lines().next().unwrap(), "token,nom,prenom,adresse,code_postal,commune");
    assert_eq!(text.lines().count(), 26);
    app.stop().await;
}
both!(the_clean_sample_is_accepted_and_routed_to_caf);
