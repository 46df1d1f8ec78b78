//! Attacks on the network edge: idle sockets holding every connection slot,
//! floods of requests from a certificate of no partner, a huge path meant
//! to bloat the audit log, handshakes refused without a trace of who tried,
//! a revoked certificate that stays usable until a restart (SIGHUP, CRL
//! rewritten), a broken CRL meant to take the gateway down, and the
//! development PKI in production.

use crate::both;
use crate::helpers::{Db, TestApp, edit, lay_out_site, sha256_hex, spawn_app_with};
use crate::process::Site;
use passerelle::client::GatewayClient;
use rustls_pki_types::pem::PemObject;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Bound for anything that must happen "soon" (a reload, a poll).
const SOON: Duration = Duration::from_secs(15);

fn server_toml(dir: &Path) -> std::path::PathBuf {
    dir.join("config/passerelle.toml")
}

/// Sets `key = value` in `[server]` (adding the key after `listen`).
fn set_server(dir: &Path, key: &str, value: &str) {
    let path = server_toml(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut first = true;
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with(&format!("{key} =")))
        .map(|l| {
            // The first `listen` is the `[server]` one (`[console]` has one too).
            if l.starts_with("listen =") && std::mem::take(&mut first) {
                format!("{l}\n{key} = {value}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

/// `GET /healthz` with a given client, bounded.
async fn healthz(c: &GatewayClient) -> Result<u16, String> {
    match tokio::time::timeout(SOON, c.http().get(c.url("/healthz")).send()).await {
        Ok(Ok(r)) => Ok(r.status().as_u16()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer in time".into()),
    }
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// A client of the gateway at `port` with a PEM certificate and key.
fn client_at(certs: &Path, port: u16, cert: &[u8], key: &[u8]) -> GatewayClient {
    GatewayClient::new(
        &format!("https://127.0.0.1:{port}"),
        &read(certs, "ca.crt"),
        Some(cert),
        Some(key),
    )
    .unwrap()
}

/// A client of the gateway at `port` presenting partner `id`'s certificate.
fn partner_at(certs: &Path, port: u16, id: &str) -> GatewayClient {
    client_at(
        certs,
        port,
        &read(certs, &format!("{id}.crt")),
        &read(certs, &format!("{id}.key")),
    )
}

fn der(pem: &[u8]) -> Vec<u8> {
    rustls_pki_types::CertificateDer::from_pem_slice(pem)
        .unwrap()
        .to_vec()
}

fn serial(pem: &[u8]) -> Vec<u8> {
    let der = der(pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    cert.tbs_certificate.raw_serial().to_vec()
}

/// A CRL of the test's development CA revoking `serials` (and the example
/// revoked certificate), valid for a day.
fn crl_revoking(certs: &Path, serials: &[Vec<u8>]) -> String {
    let ca = String::from_utf8(read(certs, "ca.crt")).unwrap();
    let key = String::from_utf8(read(certs, "ca.key")).unwrap();
    let mut all = serials.to_vec();
    all.push(serial(&read(certs, "revoked.crt")));
    let now = time::OffsetDateTime::now_utc();
    passerelle::tls::make_crl(
        &ca,
        &key,
        &all,
        now - time::Duration::minutes(1),
        now + time::Duration::days(1),
    )
    .unwrap()
}

/// Replaces a file the way an operator's tool does: a new file renamed
/// over the old one.
fn replace(path: &Path, content: &[u8]) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A fresh certificate of partner caf (CN caf), not in any CRL yet.
fn new_caf_cert(certs: &Path) -> (String, String) {
    let ca = String::from_utf8(read(certs, "ca.crt")).unwrap();
    let key = String::from_utf8(read(certs, "ca.key")).unwrap();
    passerelle::tls::make_client_cert(&ca, &key, "caf").unwrap()
}

/// Waits (bounded) until `healthz` with a new client fails; whether it
/// did.
async fn eventually_refused(c: impl Fn() -> GatewayClient) -> bool {
    for _ in 0..75 {
        if healthz(&c()).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

// ---------------------------------------------------------------- slots

async fn idle_sockets_that_never_say_hello_do_not_lock_partners_out(db: Db) {
    // Few slots, a long wait for the ClientHello: only the cap per address
    // can keep the partner served while the flood holds its sockets.
    let Some(app) = spawn_app_with(db, |dir| {
        edit(
            &server_toml(dir),
            "max_connections = 256",
            "max_connections = 40",
        );
        set_server(dir, "max_connections_per_ip", "8");
        set_server(dir, "client_hello_timeout_secs", "60");
        edit(
            &server_toml(dir),
            "handshake_timeout_secs = 10",
            "handshake_timeout_secs = 60",
        );
    })
    .await
    else {
        return;
    };
    let before = crate::state::snapshot(&app).await;
    // 100 idle sockets from 127.0.0.2 (within its connection burst).
    let mut flood = Vec::new();
    for _ in 0..100 {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(([127, 0, 0, 2], 0).into()).unwrap();
        flood.push(s.connect(app.addr).await.unwrap());
    }
    // The partner, from 127.0.0.1, is served while they stay open.
    for _ in 0..3 {
        assert_eq!(
            healthz(&app.client("caf")).await,
            Ok(200),
            "a partner was locked out by 100 idle sockets from another address"
        );
    }
    // The sockets beyond the cap were closed by the gateway.
    let mut closed = 0;
    for s in flood.iter_mut() {
        let mut b = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(50), s.read(&mut b)).await
        {
            closed += 1;
        }
    }
    assert!(
        closed >= 90,
        "only {closed} of 100 idle sockets were closed"
    );
    drop(flood);
    crate::state::assert_unchanged(&app, &before, "idle socket flood").await;
    app.stop().await;
}
both!(idle_sockets_that_never_say_hello_do_not_lock_partners_out);

async fn a_socket_that_never_says_hello_is_closed_long_before_the_handshake_timeout(db: Db) {
    let Some(app) = spawn_app_with(db, |dir| {
        set_server(dir, "client_hello_timeout_secs", "1");
        edit(
            &server_toml(dir),
            "handshake_timeout_secs = 10",
            "handshake_timeout_secs = 120",
        );
    })
    .await
    else {
        return;
    };
    let mut idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut b = [0u8; 1];
    // Closed after the ClientHello delay (1 s), not the handshake's (120 s).
    let r = tokio::time::timeout(SOON, idle.read(&mut b)).await;
    assert!(
        matches!(r, Ok(Ok(0) | Err(_))),
        "an idle socket was still open after {SOON:?}: {r:?}"
    );
    app.stop().await;
}
both!(a_socket_that_never_says_hello_is_closed_long_before_the_handshake_timeout);

// ---------------------------------------------------------------- bounded abuse

/// Entries of the audit log whose JSON holds `needle`.
async fn entries_with(app: &TestApp, needle: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar::<_, String>("SELECT entry FROM audit_log ORDER BY seq")
        .fetch_all(app.app.store.pool())
        .await
        .unwrap()
        .iter()
        .filter(|e| e.contains(needle))
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}

async fn a_foreign_certificate_flood_is_rate_limited_and_logged_in_bounded_form(db: Db) {
    let Some(mut app) = spawn_app_with(db, |dir| {
        let p = server_toml(dir);
        edit(&p, "burst = 60", "burst = 5");
        edit(&p, "requests_per_minute = 600", "requests_per_minute = 1");
        edit(
            &p,
            "refused_log_interval_secs = 60",
            "refused_log_interval_secs = 3600",
        );
    })
    .await
    else {
        return;
    };
    let before = crate::state::snapshot(&app).await;
    let intrus = app.client("intrus");
    let fp = sha256_hex(&der(&read(&app.certs(), "intrus.crt")));
    let mut statuses = Vec::new();
    for _ in 0..40 {
        statuses.push(healthz(&intrus).await.unwrap());
    }
    // Rate-limited although it belongs to no partner.
    assert_eq!(
        statuses.iter().filter(|s| **s == 403).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        35,
        "{statuses:?}"
    );
    // Bounded: one full entry per reason, the rest counted.
    let full: Vec<_> = entries_with(&app, &fp)
        .await
        .into_iter()
        .filter(|e| e["action"] == "request")
        .collect();
    assert_eq!(
        full.len(),
        2,
        "40 refusals wrote {} full entries",
        full.len()
    );
    // Stopping closes the interval: one summary per reason, with its count.
    app.restart_after(Duration::ZERO).await;
    let summaries = entries_with(&app, &fp).await;
    let summaries: Vec<_> = summaries
        .iter()
        .filter(|e| e["action"] == "refused.summary")
        .map(|e| {
            (
                e["reason"].as_str().unwrap().to_owned(),
                e["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        summaries.contains(&("unknown_certificate".into(), 4)),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&("rate_limited".into(), 34)),
        "{summaries:?}"
    );
    crate::state::assert_unchanged(&app, &before, "foreign certificate flood").await;
    app.stop().await;
}
both!(a_foreign_certificate_flood_is_rate_limited_and_logged_in_bounded_form);

async fn a_60_kb_path_is_stored_bounded_in_the_audit_log(db: Db) {
    let Some(app) = spawn_app_with(db, |_| {}).await else {
        return;
    };
    let before = crate::state::snapshot(&app).await;
    let path = format!("/v1/{}", "a".repeat(60_000));
    let c = app.client("caf");
    let r = c.http().get(c.url(&path)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let digest = sha256_hex(path.as_bytes());
    let entries = entries_with(&app, &digest).await;
    assert_eq!(
        entries.len(),
        1,
        "the request's entry names the path's SHA-256"
    );
    let stored = entries[0].to_string();
    assert!(
        stored.len() < 2_000,
        "an entry of {} bytes was stored",
        stored.len()
    );
    let route = entries[0]["route"].as_str().unwrap();
    assert!(route.contains("cut: 60004 bytes"), "{route}");
    // The same 60 KB as an id, on routes that record their objects.
    let seen = app.count("SELECT COUNT(*) FROM audit_log").await;
    let id = "f".repeat(60_000);
    for path in [
        format!("/v1/outbox/{id}"),
        format!("/v1/outbox/{id}/ack"),
        format!("/v1/returns/{id}"),
    ] {
        let r = if path.ends_with("/ack") {
            c.http().post(c.url(&path)).send().await.unwrap()
        } else {
            c.http().get(c.url(&path)).send().await.unwrap()
        };
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    let all = sqlx::query_scalar::<_, String>("SELECT entry FROM audit_log ORDER BY seq")
        .fetch_all(app.app.store.pool())
        .await
        .unwrap();
    assert_eq!(all.len() as i64, seen + 3, "one entry per request");
    for e in &all[all.len() - 3..] {
        assert!(e.len() < 2_000, "an entry of {} bytes was stored", e.len());
    }
    crate::state::assert_unchanged(&app, &before, "60 KB path").await;
    app.stop().await;
}
both!(a_60_kb_path_is_stored_bounded_in_the_audit_log);

// ---------------------------------------------------------------- identity

/// Warnings of the server module, kept for the tests that read the logs.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter("passerelle::http=warn")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buf
    })
    .clone()
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn a_refused_handshake_is_logged_with_its_remote_address(db: Db) {
    let logs = captured_logs();
    let Some(app) = spawn_app_with(db, |_| {}).await else {
        return;
    };
    // Not TLS at all, from 127.0.0.3.
    let s = tokio::net::TcpSocket::new_v4().unwrap();
    s.bind(([127, 0, 0, 3], 0).into()).unwrap();
    let mut tcp = s.connect(app.addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut tcp, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut b = [0u8; 64];
    let _ = tokio::time::timeout(SOON, tcp.read(&mut b)).await;
    let mut line = None;
    for _ in 0..50 {
        let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        line = text
            .lines()
            .find(|l| l.contains(&local.to_string()))
            .map(String::from);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = line.expect("no log line names the refused handshake's ip:port");
    assert!(line.contains("TLS handshake refused"), "{line}");
    assert!(line.contains("reason"), "{line}");
    app.stop().await;
}
both!(a_refused_handshake_is_logged_with_its_remote_address);

#[tokio::test]
async fn the_development_pki_is_refused_in_production() {
    let dir = tempfile::tempdir().unwrap();
    lay_out_site(dir.path());
    set_server(dir.path(), "production", "true");
    let overrides = passerelle::config::Overrides {
        listen: Some(([127, 0, 0, 1], 0).into()),
        data: Some(dir.path().join("data")),
        database_url: None,
        console_listen: Some(([127, 0, 0, 1], 0).into()),
    };
    let cfg = passerelle::config::Config::load(&server_toml(dir.path()), &overrides).unwrap();
    let app = passerelle::app::App::open(cfg).await.unwrap();
    let err = passerelle::http::start(app.clone())
        .await
        .expect_err("the development PKI was accepted with production = true");
    let msg = err.to_string();
    assert!(msg.contains("development PKI"), "{msg}");
    assert!(msg.contains("production = true"), "{msg}");
    app.store.close().await;
}

// ---------------------------------------------------------------- reload

async fn a_reload_handle_revokes_a_certificate_and_keeps_an_invalid_crl_out(db: Db) {
    let logs = captured_logs();
    // The CRL poll is slowed down: only the explicit reloads act.
    let Some(app) = spawn_app_with(db, |dir| {
        edit(
            &server_toml(dir),
            "crl_poll_secs = 5",
            "crl_poll_secs = 3600",
        );
    })
    .await
    else {
        return;
    };
    // A second server on the same gateway, whose reload handle we hold.
    let server = passerelle::http::start(app.app.clone()).await.unwrap();
    let reload = server.reload_handle();
    let port = server.addr.port();
    let certs = app.certs();
    let (cert, key) = new_caf_cert(&certs);
    // New clients each time: a kept-alive connection was verified before.
    let stolen = || client_at(&certs, port, cert.as_bytes(), key.as_bytes());
    let caf = || partner_at(&certs, port, "caf");
    assert_eq!(healthz(&stolen()).await, Ok(200));
    let before = crate::state::snapshot(&app).await;

    // Revoked, reloaded: refused; the gateway serves on.
    replace(
        &certs.join("crl.pem"),
        crl_revoking(&certs, &[serial(cert.as_bytes())]).as_bytes(),
    );
    reload.reload().expect("a valid CRL reloads");
    assert!(
        healthz(&stolen()).await.is_err(),
        "the revoked certificate is still served"
    );
    assert_eq!(healthz(&caf()).await, Ok(200));

    // An invalid CRL: refused, the previous one stays in force.
    replace(
        &certs.join("crl.pem"),
        b"-----BEGIN X509 CRL-----\nbroken\n-----END X509 CRL-----\n",
    );
    let errors = reload.reload().expect_err("an invalid CRL was accepted");
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, passerelle::http::ReloadError::Tls(_))),
        "{errors:?}"
    );
    assert!(
        healthz(&stolen()).await.is_err(),
        "the invalid CRL let the revoked certificate in"
    );
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        text.lines()
            .any(|l| l.contains("ERROR") && l.contains("reload refused") && l.contains("CRL")),
        "no error logged for the invalid CRL:\n{text}"
    );
    assert_eq!(
        healthz(&caf()).await,
        Ok(200),
        "the invalid CRL took the gateway down"
    );
    crate::state::assert_unchanged(&app, &before, "reload with an invalid CRL").await;
    server.shutdown(Duration::from_secs(5)).await;
    app.stop().await;
}
both!(a_reload_handle_revokes_a_certificate_and_keeps_an_invalid_crl_out);

async fn a_reload_with_a_key_that_is_not_the_certificates_keeps_serving(db: Db) {
    let Some(app) = spawn_app_with(db, |_| {}).await else {
        return;
    };
    let server = passerelle::http::start(app.app.clone()).await.unwrap();
    let reload = server.reload_handle();
    let (port, certs) = (server.addr.port(), app.certs());
    let caf = || partner_at(&certs, port, "caf");
    // Another key in place of the server's: refused, the old pair serves on.
    replace(&certs.join("server.key"), &read(&certs, "intrus.key"));
    let errors = reload
        .reload()
        .expect_err("a mismatched server key was accepted");
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, passerelle::http::ReloadError::Tls(_))),
        "{errors:?}"
    );
    assert_eq!(
        healthz(&caf()).await,
        Ok(200),
        "a bad server key took the gateway down"
    );
    server.shutdown(Duration::from_secs(5)).await;
    app.stop().await;
}
both!(a_reload_with_a_key_that_is_not_the_certificates_keeps_serving);

async fn a_partner_withdrawn_from_partners_toml_is_refused_after_a_reload(db: Db) {
    let Some(app) = spawn_app_with(db, |_| {}).await else {
        return;
    };
    let server = passerelle::http::start(app.app.clone()).await.unwrap();
    let reload = server.reload_handle();
    let (port, certs) = (server.addr.port(), app.certs());
    let mdsf = || partner_at(&certs, port, "mdsf");
    assert_eq!(healthz(&mdsf()).await, Ok(200));
    let partners = app.dir.path().join("config/partners.toml");
    // A broken partners file: refused, the partners in force stay.
    edit(
        &partners,
        "roles = [\"member\", \"referent\"]\ncertificate = { cn = \"mdsf\" }",
        "roles = [\"nobody\"]\ncertificate = { cn = \"mdsf\" }",
    );
    let errors = reload
        .reload()
        .expect_err("a broken partners file was accepted");
    assert!(
        errors
            .iter()
            .any(|e| matches!(e, passerelle::http::ReloadError::Partners(_))),
        "{errors:?}"
    );
    assert_eq!(healthz(&mdsf()).await, Ok(200));
    // Fixed, with mdsf's certificate withdrawn: its certificate is refused.
    edit(
        &partners,
        "roles = [\"nobody\"]\ncertificate = { cn = \"mdsf\" }",
        "roles = [\"member\", \"referent\"]\ncertificate = { cn = \"mdsf-withdrawn\" }",
    );
    reload.reload().expect("a valid partners file reloads");
    assert_eq!(healthz(&mdsf()).await, Ok(403));
    server.shutdown(Duration::from_secs(5)).await;
    app.stop().await;
}
both!(a_partner_withdrawn_from_partners_toml_is_refused_after_a_reload);

/// A partner whose age key leaked sends a new recipient; the operator edits
/// partners.toml and reloads: the files routed afterwards are sealed to the
/// new key only, without a restart.
async fn a_leaked_partner_key_is_replaced_by_a_reload_for_the_next_files(db: Db) {
    let Some(app) = spawn_app_with(db, |_| {}).await else {
        return;
    };
    let server = passerelle::http::start(app.app.clone()).await.unwrap();
    let reload = server.reload_handle();
    let (port, certs) = (server.addr.port(), app.certs());
    let new_key = age::x25519::Identity::generate();
    std::fs::write(
        certs.join("caf-new.agepub"),
        new_key.to_public().to_string(),
    )
    .unwrap();
    edit(
        &app.dir.path().join("config/partners.toml"),
        "recipients_file = \"../certs-example/caf.agepub\"",
        "recipients_file = \"../certs-example/caf-new.agepub\"",
    );
    reload.reload().expect("the edited partners file reloads");
    let ddets = partner_at(&certs, port, "ddets");
    let list = crate::helpers::list_csv(&[["CDP-R-1", "Nomrecharge", "Alix", "85100"]]);
    let (status, body) = ddets.push_list("2026-10", "text/csv", list).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let caf = partner_at(&certs, port, "caf");
    let files = caf.outbox().await.unwrap();
    let ct = caf.download(&files[0].file_id).await.unwrap();
    let open = |id: &age::x25519::Identity| passerelle::ingest::envelope::open(&ct, id, 1 << 30);
    assert!(
        open(&new_key).is_ok(),
        "the new key does not open the new file"
    );
    assert!(
        open(&app.identity("caf")).is_err(),
        "the leaked key still opens the new file"
    );
    server.shutdown(Duration::from_secs(5)).await;
    app.stop().await;
}
both!(a_leaked_partner_key_is_replaced_by_a_reload_for_the_next_files);

async fn a_handshake_flood_is_audited_in_bounded_form(db: Db) {
    let Some(mut app) = spawn_app_with(db, |dir| {
        edit(
            &server_toml(dir),
            "refused_log_interval_secs = 60",
            "refused_log_interval_secs = 3600",
        );
    })
    .await
    else {
        return;
    };
    // 20 connections from 127.0.0.4 that are not TLS at all.
    for _ in 0..20 {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(([127, 0, 0, 4], 0).into()).unwrap();
        let mut tcp = s.connect(app.addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut tcp, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        // Until the gateway closes: a client that left first would make
        // the refusal a reset, another reason, under a loaded machine.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(60), tcp.read_to_end(&mut rest)).await;
    }
    app.restart_after(Duration::ZERO).await;
    // Counted for this source only: the machine's other tests may knock on
    // a port this gateway reused.
    let full = app
        .texts("SELECT entry FROM audit_log WHERE action = 'tls.refused'")
        .await
        .into_iter()
        .filter(|e| e[0].contains("remote:127.0.0.4"))
        .count();
    assert_eq!(
        full,
        1,
        "20 refused handshakes wrote more than one full entry: {:?}",
        app.texts("SELECT entry FROM audit_log WHERE action = 'tls.refused'")
            .await
    );
    let summaries: Vec<_> = entries_with(&app, "action:tls.refused")
        .await
        .into_iter()
        .filter(|e| e.to_string().contains("remote:127.0.0.4"))
        .collect();
    let counted: u64 = summaries.iter().map(|e| e["rows"].as_u64().unwrap()).sum();
    assert_eq!(counted, 19, "{summaries:?}");
    app.stop().await;
}
both!(a_handshake_flood_is_audited_in_bounded_form);

/// Revokes a fresh caf certificate in the CRL of a running binary, then
/// `signal()` (or nothing); the certificate must be refused soon after,
/// and the gateway still serve.
async fn revoke_on_a_running_binary(crl_poll_secs: u64, signal: impl FnOnce(u32)) {
    let mut site = Site::new(Db::Sqlite).await.expect("SQLite needs no server");
    edit(
        &server_toml(site.dir.path()),
        "crl_poll_secs = 5",
        &format!("crl_poll_secs = {crl_poll_secs}"),
    );
    let mut gw = site.start("warn");
    let certs = site.certs();
    let (cert, key) = new_caf_cert(&certs);
    let port = gw.port();
    // New clients each time: a kept-alive connection was verified before.
    let stolen = || client_at(&certs, port, cert.as_bytes(), key.as_bytes());
    let caf = || partner_at(&certs, port, "caf");
    assert_eq!(healthz(&stolen()).await, Ok(200));
    replace(
        &certs.join("crl.pem"),
        crl_revoking(&certs, &[serial(cert.as_bytes())]).as_bytes(),
    );
    signal(gw.pid());
    assert!(
        eventually_refused(stolen).await,
        "the revoked certificate is still served"
    );
    assert!(gw.running(), "the gateway died");
    assert_eq!(healthz(&caf()).await, Ok(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_a_revoked_certificate_out_and_keeps_serving() {
    revoke_on_a_running_binary(3600, |pid| {
        let ok = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -HUP failed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_crl_is_loaded_without_a_signal() {
    revoke_on_a_running_binary(1, |_| {}).await;
}
