//! Transport and identity: mutual TLS on every route, the certificate maps
//! to a partner, roles per route, CRLs honoured (fail closed), rate limit
//! per partner, certificates of ambiguous identity refused, and every
//! refusal in the audit log.

use crate::both;
use crate::helpers::{Db, TestApp, code, edit, sample, spawn_app, spawn_app_with, status_json};
use passerelle::tls::{make_client_cert_with_two_cns, make_crl, make_foreign_ca_client};
use rustls_pki_types::pem::PemObject;
use std::time::Duration;

/// `GET /healthz` with a raw client: `Ok(status)` or `Err` when the TLS
/// layer refused the connection.
async fn healthz_with(
    app: &TestApp,
    cert_key: Option<(&[u8], &[u8])>,
) -> Result<u16, reqwest::Error> {
    let c = app.client_with(cert_key);
    c.http()
        .get(c.url("/healthz"))
        .send()
        .await
        .map(|r| r.status().as_u16())
}

async fn healthz_as(app: &TestApp, id: &str) -> Result<u16, reqwest::Error> {
    let c = app.client(id);
    c.http()
        .get(c.url("/healthz"))
        .send()
        .await
        .map(|r| r.status().as_u16())
}

/// Waits (a little) for the audit log to hold at least `n` rows matching `sql`:
/// a refused handshake is recorded by the server after the client saw it fail.
async fn eventually_count(app: &TestApp, sql: &'static str, n: i64) -> i64 {
    let mut last = 0;
    for _ in 0..50 {
        last = app.count(sql).await;
        if last >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

async fn a_client_without_certificate_never_reaches_a_handler(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    assert!(app.addr.ip().is_loopback());
    let r = healthz_with(&app, None).await;
    assert!(r.is_err(), "answered {r:?} without a client certificate");
    app.stop().await;
}
both!(a_client_without_certificate_never_reaches_a_handler);

async fn a_certificate_from_another_ca_is_refused_even_with_a_partner_cn(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (_ca, cert, key) = make_foreign_ca_client("caf").unwrap();
    let r = healthz_with(&app, Some((cert.as_bytes(), key.as_bytes()))).await;
    assert!(r.is_err(), "a foreign CA's caf certificate got {r:?}");
    app.stop().await;
}
both!(a_certificate_from_another_ca_is_refused_even_with_a_partner_cn);

async fn a_revoked_certificate_is_refused(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let r = healthz_as(&app, "revoked").await;
    assert!(r.is_err(), "a revoked certificate got {r:?}");
    app.stop().await;
}
both!(a_revoked_certificate_is_refused);

async fn a_valid_certificate_of_no_partner_gets_403_unknown_certificate(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    for path in ["/healthz", "/v1/outbox", "/v1/recipient"] {
        let (status, body) = status_json(app.get("intrus", path).await).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(code(&body), "unknown_certificate");
    }
    let (status, body) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201, "{body}");
    let c = app.client("intrus");
    let resp = c
        .http()
        .post(c.url("/v1/lists?period=2026-10"))
        .header("content-type", "text/csv")
        .body(sample("liste-2026-10-excel-fr.csv"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(code(&body), "unknown_certificate");
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 1);
    app.stop().await;
}
both!(a_valid_certificate_of_no_partner_gets_403_unknown_certificate);

async fn a_route_outside_the_partners_roles_is_refused_with_403(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    for id in ["caf", "mdsf", "dpo"] {
        let (status, body) = app
            .client(id)
            .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
            .await
            .unwrap();
        assert_eq!(status, 403, "{id}: {body}");
        assert_eq!(code(&body), "forbidden");
    }
    for table in [
        "SELECT COUNT(*) FROM lists",
        "SELECT COUNT(*) FROM cases",
        "SELECT COUNT(*) FROM outbox",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    app.stop().await;
}
both!(a_route_outside_the_partners_roles_is_refused_with_403);

async fn a_partner_reaches_healthz_and_the_gateways_recipient(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, body) = status_json(app.get("ddets", "/healthz").await).await;
    assert_eq!(status, 200, "{body}");
    let published = std::fs::read_to_string(app.certs().join("gateway.agepub")).unwrap();
    let published = published
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("age1"))
        .expect("an age recipient in gateway.agepub");
    for id in ["ddets", "caf", "dpo"] {
        let served = app.client(id).recipient().await.unwrap();
        assert_eq!(served, published, "{id}");
    }
    assert_eq!(published, app.gateway_recipient().to_string());
    // Unknown routes are JSON 404s.
    let (status, body) = status_json(app.get("ddets", "/v1/nothing-here").await).await;
    assert_eq!(status, 404);
    assert_eq!(code(&body), "no_route");
    app.stop().await;
}
both!(a_partner_reaches_healthz_and_the_gateways_recipient);

async fn an_expired_crl_refuses_every_client(db: Db) {
    let Some(app) = spawn_app_with(db, |dir| {
        let certs = dir.join("certs-example");
        let now = time::OffsetDateTime::now_utc();
        let crl = make_crl(
            &std::fs::read_to_string(certs.join("ca.crt")).unwrap(),
            &std::fs::read_to_string(certs.join("ca.key")).unwrap(),
            &[],
            now - time::Duration::days(2),
            now - time::Duration::days(1),
        )
        .unwrap();
        std::fs::write(certs.join("crl.pem"), crl).unwrap();
    })
    .await
    else {
        return;
    };
    for id in ["caf", "ddets"] {
        let r = healthz_as(&app, id).await;
        assert!(r.is_err(), "{id} got {r:?} under an expired CRL");
    }
    app.stop().await;
}
both!(an_expired_crl_refuses_every_client);

async fn refused_handshakes_and_requests_are_in_the_audit_log(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    assert!(healthz_with(&app, None).await.is_err());
    let (_ca, cert, key) = make_foreign_ca_client("caf").unwrap();
    assert!(
        healthz_with(&app, Some((cert.as_bytes(), key.as_bytes())))
            .await
            .is_err()
    );
    assert!(healthz_as(&app, "revoked").await.is_err());
    assert_eq!(app.get("intrus", "/healthz").await.status(), 403);
    let (status, _) = app
        .client("caf")
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await
        .unwrap();
    assert_eq!(status, 403);

    let handshakes = eventually_count(
        &app,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'tls.refused' AND outcome = 'refused'",
        3,
    )
    .await;
    assert!(
        handshakes >= 3,
        "{handshakes} refused handshakes audited, expected 3"
    );
    let rows = app
        .texts("SELECT COALESCE(partner, ''), action, outcome, entry FROM audit_log WHERE action <> 'tls.refused' ORDER BY seq")
        .await;
    let refused: Vec<&Vec<String>> = rows.iter().filter(|r| r[2] == "refused").collect();
    assert!(
        refused.iter().any(|r| r[0].is_empty()
            && r[3].contains("unknown_certificate")
            && r[3].contains("403")),
        "intrus's 403 is not audited: {rows:?}"
    );
    assert!(
        refused.iter().any(|r| r[0] == "caf"
            && r[3].contains("forbidden")
            && r[3].contains("POST /v1/lists")),
        "caf's 403 is not audited: {rows:?}"
    );
    // The intruder's certificate fingerprint is recorded.
    let intrus = std::fs::read(app.certs().join("intrus.crt")).unwrap();
    let der = rustls_pki_types::CertificateDer::from_pem_slice(&intrus).unwrap();
    let fp = crate::helpers::sha256_hex(der.as_ref());
    assert!(
        refused.iter().any(|r| r[3].contains(&fp)),
        "intrus's fingerprint {fp} not in the log"
    );
    app.stop().await;
}
both!(refused_handshakes_and_requests_are_in_the_audit_log);

async fn a_partner_over_its_rate_gets_429_with_retry_after(db: Db) {
    let Some(app) = spawn_app_with(db, |dir| {
        let main = dir.join("config/passerelle.toml");
        edit(
            &main,
            "requests_per_minute = 600",
            "requests_per_minute = 1",
        );
        edit(&main, "burst = 60", "burst = 2");
    })
    .await
    else {
        return;
    };
    assert_eq!(app.get("caf", "/healthz").await.status(), 200);
    assert_eq!(app.get("caf", "/healthz").await.status(), 200);
    let resp = app.get("caf", "/healthz").await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry >= 1, "Retry-After {retry}");
    let (_, body) = status_json(resp).await;
    assert_eq!(code(&body), "rate_limited");
    // Another partner has its own budget.
    assert_eq!(app.get("ddets", "/healthz").await.status(), 200);
    // The refusal is audited.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE partner = 'caf' AND outcome = 'refused'")
            .await
            >= 1
    );
    app.stop().await;
}
both!(a_partner_over_its_rate_gets_429_with_retry_after);

async fn a_certificate_with_two_common_names_gets_403_ambiguous_identity(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // Something to serve: DDETS's list leaves a file for CAF.
    let (status, body) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201, "{body}");
    let outbox_before = app.count("SELECT COUNT(*) FROM outbox").await;
    let ca = std::fs::read_to_string(app.certs().join("ca.crt")).unwrap();
    let ca_key = std::fs::read_to_string(app.certs().join("ca.key")).unwrap();
    let mut fingerprints = Vec::new();
    // Each first CN is a partner that, taken alone, would be served.
    for (first, method, path) in [
        ("dpo", "GET", "/healthz"),
        ("caf", "GET", "/v1/outbox"),
        ("ddets", "POST", "/v1/lists?period=2026-10"),
    ] {
        let (cert, key) = make_client_cert_with_two_cns(&ca, &ca_key, first, "intrus").unwrap();
        let der = rustls_pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
        fingerprints.push(crate::helpers::sha256_hex(der.as_ref()));
        let c = app.client_with(Some((cert.as_bytes(), key.as_bytes())));
        let req = if method == "POST" {
            c.http()
                .post(c.url(path))
                .header("content-type", "text/csv")
                .body(sample("liste-2026-10-excel-fr.csv"))
        } else {
            c.http().get(c.url(path))
        };
        let (status, body) = status_json(req.send().await.unwrap()).await;
        assert_eq!(status, 403, "/CN={first}/CN=intrus {method} {path}: {body}");
        assert_eq!(code(&body), "ambiguous_identity", "{body}");
        assert!(body.get("files").is_none() && !body.is_array(), "{body}");
    }
    // Nothing stored, nothing served.
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox").await,
        outbox_before
    );
    assert_eq!(app.client("caf").outbox().await.unwrap().len(), 1);
    // Each refusal is audited: no partner, the code, the status, the fingerprint.
    let rows = app
        .texts("SELECT COALESCE(partner, ''), outcome, entry FROM audit_log WHERE action = 'request' ORDER BY seq")
        .await;
    for fp in &fingerprints {
        assert!(
            rows.iter().any(|r| r[0].is_empty()
                && r[1] == "refused"
                && r[2].contains("ambiguous_identity")
                && r[2].contains("403")
                && r[2].contains(fp.as_str())),
            "the refusal of {fp} is not audited: {rows:?}"
        );
    }
    app.stop().await;
}
both!(a_certificate_with_two_common_names_gets_403_ambiguous_identity);
