//! Attacks the gateway already withstood in the adversarial walk, kept here
//! so that they stay withstood: path and id tricks, request smuggling, old
//! TLS and CBC offers, certificates that must not open the door, a partner
//! reaching for another's files, keys and ciphertexts that do not match,
//! zip bombs and XML entities, and uploaded markup never served as a page.
//! Each asserts the refusal and that the store did not move.

use crate::both;
use crate::helpers::{Db, TestApp, code, list_csv, spawn_app, status_json};
use crate::state::{assert_unchanged, snapshot};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A PEM certificate and its key.
type CertKey<'a> = (&'a [u8], &'a [u8]);

/// A rustls client presenting `id`'s certificate (or `cert_key`), trusting
/// the test CA.
fn tls_client(app: &TestApp, cert_key: (&[u8], &[u8])) -> tokio_rustls::TlsConnector {
    let ca = std::fs::read(app.certs().join("ca.crt")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&ca) {
        roots.add(c.unwrap()).unwrap();
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_key.0)
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_slice(cert_key.1).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Sends `request` byte for byte over mutual TLS as partner `id` and returns
/// everything the gateway answered until it closed (or 10 s passed).
async fn raw_exchange(app: &TestApp, id: &str, request: &[u8]) -> String {
    let cert = std::fs::read(app.certs().join(format!("{id}.crt"))).unwrap();
    let key = std::fs::read(app.certs().join(format!("{id}.key"))).unwrap();
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = tls_client(app, (&cert, &key))
        .connect(name, tcp)
        .await
        .expect("handshake as a partner");
    tls.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(n) = tls.read(&mut buf).await {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The status codes of every response in a raw answer, in order.
fn statuses(answer: &str) -> Vec<u16> {
    answer
        .match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| answer.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// A list of `n` invented households for period 2026-10.
fn small_list(prefix: &str, n: usize) -> Vec<u8> {
    let refs: Vec<String> = (0..n).map(|i| format!("CDP-{prefix}-{i:05}")).collect();
    let names: Vec<String> = (0..n).map(|i| format!("Nom{prefix}{i}")).collect();
    let rows: Vec<[&str; 4]> = (0..n)
        .map(|i| [refs[i].as_str(), names[i].as_str(), "Alix", "85100"])
        .collect();
    list_csv(&rows)
}

async fn path_and_id_tricks_never_reach_a_file_or_a_500(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, body) = app
        .push_list("2026-10", "text/csv", small_list("P", 3))
        .await;
    assert_eq!(status, 201, "{body}");
    let (file_id, _, _) = app.caf_file().await;
    let before = snapshot(&app).await;
    let long = "A".repeat(5000);
    let tricks = [
        "/v1/outbox/../../../../etc/passwd".to_owned(),
        "/v1/outbox/..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "/v1/outbox/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        format!("/v1/outbox/{file_id}%00"),
        format!("/v1/outbox/{file_id}%2f..%2f{file_id}"),
        format!("/v1/outbox/{file_id}/..%2f..%2fack"),
        format!("/v1/outbox/{long}"),
        "/v1/outbox/'%20OR%20'1'='1".to_owned(),
        "/v1/returns/..%2f..%2fpasswd".to_owned(),
        "/v1/lists/%27%3B%20DROP%20TABLE%20cases%3B--".to_owned(),
        "//v1/outbox".to_owned(),
        "/v1/outbox/%ff%fe".to_owned(),
    ];
    for path in &tricks {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let answer = raw_exchange(&app, "caf", request.as_bytes()).await;
        let got = statuses(&answer);
        assert_eq!(
            got.len(),
            1,
            "{path}: one answer expected, got {answer:.300}"
        );
        assert!(
            (400..500).contains(&got[0]),
            "{path}: answered {} ({answer:.300})",
            got[0]
        );
        assert!(
            !answer.contains("age-encryption.org") && !answer.contains("root:"),
            "{path}: a file came back"
        );
    }
    // The same file by its plain id still works: the refusals above were not luck.
    let request = format!(
        "GET /v1/outbox/{file_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    );
    let answer = raw_exchange(&app, "caf", request.as_bytes()).await;
    assert_eq!(statuses(&answer), vec![200], "{answer:.300}");
    assert!(answer.contains("age-encryption.org"));
    assert_unchanged(&app, &before, "path and id tricks").await;
    app.stop().await;
}
both!(path_and_id_tricks_never_reach_a_file_or_a_500);

async fn content_length_and_transfer_encoding_smuggling_is_refused(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let before = snapshot(&app).await;
    let list = small_list("S", 2);
    let smuggled = "GET /v1/outbox/x/ack HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let attempts: Vec<Vec<u8>> = vec![
        // CL.TE: a front reading Content-Length would pass the second request inside the body.
        [
            format!(
                "POST /v1/lists?period=2026-10 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                5 + smuggled.len()
            )
            .into_bytes(),
            smuggled.as_bytes().to_vec(),
        ]
        .concat(),
        // Two different lengths.
        [
            format!(
                "POST /v1/lists?period=2026-10 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nContent-Length: 4\r\n\r\n",
                list.len()
            )
            .into_bytes(),
            list.clone(),
        ]
        .concat(),
        // An obfuscated transfer coding.
        [
            format!(
                "POST /v1/lists?period=2026-10 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nTransfer-Encoding: xchunked\r\nContent-Length: {}\r\n\r\n",
                list.len()
            )
            .into_bytes(),
            list.clone(),
        ]
        .concat(),
        // A chunk size that overflows.
        b"POST /v1/lists?period=2026-10 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n".to_vec(),
    ];
    for (i, request) in attempts.iter().enumerate() {
        let answer = raw_exchange(&app, "ddets", request).await;
        let got = statuses(&answer);
        assert!(
            !got.is_empty() && got.iter().all(|s| (400..500).contains(s)),
            "attempt {i}: {answer:.400}"
        );
        assert!(
            got.len() <= 1,
            "attempt {i}: a second request was read: {answer:.400}"
        );
    }
    assert_unchanged(&app, &before, "CL/TE smuggling").await;
    app.stop().await;
}
both!(content_length_and_transfer_encoding_smuggling_is_refused);

/// A ClientHello written by hand, since no maintained client still offers
/// TLS 1.1: `version` in the hello, `suites` offered.
fn client_hello(version: [u8; 2], suites: &[u16]) -> Vec<u8> {
    let mut body = version.to_vec();
    body.extend([7u8; 32]);
    body.push(0);
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend(s.to_be_bytes());
    }
    body.extend([1, 0]);
    let ext: &[u8] = &[
        0, 13, 0, 10, 0, 8, 4, 3, 8, 4, 4, 1, 5, 3, // signature_algorithms
        0, 10, 0, 6, 0, 4, 0, 0x1d, 0, 0x17, // supported_groups: x25519, P-256
        0, 11, 0, 2, 1, 0, // ec_point_formats
    ];
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![1];
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut record = vec![0x16, 3, 1];
    record.extend((hs.len() as u16).to_be_bytes());
    record.extend(hs);
    record
}

/// The first byte the gateway answers a ClientHello with: 0x16 for a
/// ServerHello, 0x15 for an alert, `None` when it just closes.
async fn first_answer_byte(app: &TestApp, hello: &[u8]) -> Option<u8> {
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(hello).await.unwrap();
    let mut b = [0u8; 1];
    match tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut b)).await {
        Ok(Ok(1)) => Some(b[0]),
        _ => None,
    }
}

async fn tls_1_1_and_cbc_only_offers_get_no_server_hello(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let before = snapshot(&app).await;
    const CBC: &[u16] = &[0xc013, 0xc014, 0xc009, 0xc00a, 0x002f, 0x0035, 0x003c];
    const AEAD: &[u16] = &[0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca8, 0xcca9];
    let tls11 = first_answer_byte(&app, &client_hello([3, 2], &[CBC, AEAD].concat())).await;
    assert_ne!(tls11, Some(0x16), "TLS 1.1 got a ServerHello");
    let cbc = first_answer_byte(&app, &client_hello([3, 3], CBC)).await;
    assert_ne!(
        cbc,
        Some(0x16),
        "a CBC-only TLS 1.2 offer got a ServerHello"
    );
    // The same hand-written hello with AEAD suites is answered: the
    // refusals above come from the versions and suites, not the writing.
    let aead = first_answer_byte(&app, &client_hello([3, 3], AEAD)).await;
    assert_eq!(aead, Some(0x16), "a TLS 1.2 AEAD offer got no ServerHello");
    assert_unchanged(&app, &before, "TLS 1.1 and CBC offers").await;
    app.stop().await;
}
both!(tls_1_1_and_cbc_only_offers_get_no_server_hello);

async fn absent_revoked_expired_foreign_or_server_only_certificates_cannot_upload(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let before = snapshot(&app).await;
    let ca = std::fs::read_to_string(app.certs().join("ca.crt")).unwrap();
    let ca_key = std::fs::read_to_string(app.certs().join("ca.key")).unwrap();
    let eleven_years_ago = time::OffsetDateTime::now_utc() - time::Duration::days(11 * 366);
    let expired =
        passerelle::tls::make_leaf_cert(&ca, &ca_key, "ddets", false, eleven_years_ago).unwrap();
    let server_only = passerelle::tls::make_leaf_cert(
        &ca,
        &ca_key,
        "ddets",
        true,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let (_, foreign_cert, foreign_key) = passerelle::tls::make_foreign_ca_client("ddets").unwrap();
    let revoked_cert = std::fs::read(app.certs().join("revoked.crt")).unwrap();
    let revoked_key = std::fs::read(app.certs().join("revoked.key")).unwrap();
    let attempts: Vec<(&str, Option<CertKey>)> = vec![
        ("no certificate", None),
        ("a revoked certificate", Some((&revoked_cert, &revoked_key))),
        (
            "an expired ddets certificate",
            Some((expired.0.as_bytes(), expired.1.as_bytes())),
        ),
        (
            "a ddets certificate from another CA",
            Some((foreign_cert.as_bytes(), foreign_key.as_bytes())),
        ),
        (
            "a ddets certificate for server authentication only",
            Some((server_only.0.as_bytes(), server_only.1.as_bytes())),
        ),
    ];
    for (what, cert_key) in attempts {
        let c = app.client_with(cert_key);
        let r = c
            .http()
            .post(c.url("/v1/lists?period=2026-10"))
            .header("content-type", "text/csv")
            .body(small_list("C", 2))
            .send()
            .await;
        assert!(
            r.is_err(),
            "{what} got an answer: {:?}",
            r.map(|r| r.status())
        );
    }
    assert_unchanged(&app, &before, "certificates that must not open the door").await;
    // A fresh certificate of the same CA for the same partner does: the
    // refusals above were about the certificates.
    let fresh = passerelle::tls::make_leaf_cert(
        &ca,
        &ca_key,
        "ddets",
        false,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let c = app.client_with(Some((fresh.0.as_bytes(), fresh.1.as_bytes())));
    let (status, body) = c
        .push_list("2026-10", "text/csv", small_list("C", 2))
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    app.stop().await;
}
both!(absent_revoked_expired_foreign_or_server_only_certificates_cannot_upload);

async fn a_partner_cannot_list_fetch_or_acknowledge_another_partners_file(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, body) = app
        .push_list("2026-10", "text/csv", small_list("X", 3))
        .await;
    assert_eq!(status, 201, "{body}");
    let caf_files = app.client("caf").outbox().await.unwrap();
    let file_id = caf_files[0].file_id.clone();
    let before = snapshot(&app).await;
    for thief in ["ccas-sables", "mdsf", "ddets", "intrus"] {
        let listed = app.get(thief, "/v1/outbox").await;
        let text = listed.text().await.unwrap();
        assert!(
            !text.contains(&file_id),
            "{thief} sees CAF's file in its listing"
        );
        let (status, _) = status_json(app.get(thief, &format!("/v1/outbox/{file_id}")).await).await;
        assert!(
            matches!(status, 403 | 404),
            "{thief} fetching CAF's file: {status}"
        );
        let (status, _) =
            status_json(app.post(thief, &format!("/v1/outbox/{file_id}/ack")).await).await;
        assert!(
            matches!(status, 403 | 404),
            "{thief} acknowledging CAF's file: {status}"
        );
    }
    assert_unchanged(&app, &before, "another partner's file").await;
    assert_eq!(app.client("caf").outbox().await.unwrap().len(), 1);
    app.stop().await;
}
both!(a_partner_cannot_list_fetch_or_acknowledge_another_partners_file);

async fn another_partners_key_opens_no_file_and_a_tampered_return_is_refused(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, body) = app
        .push_list("2026-10", "text/csv", small_list("K", 2))
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, ct, plain) = app.caf_file().await;
    for other in ["ccas-sables", "mdsf", "ddets"] {
        let opened = passerelle::ingest::envelope::open(&ct, &app.identity(other), 1 << 30);
        assert!(opened.is_err(), "{other}'s key opened CAF's file");
    }
    // CAF's return, encrypted to the gateway, then altered in transit.
    let tokens: Vec<String> = crate::helpers::csv_records(&plain)
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    let mut csv = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    for t in &tokens {
        csv.push_str(&format!("{t},oui,1984-03-12,1,2,4;9,oui,non\n"));
    }
    let sealed =
        passerelle::export::envelope::seal(csv.as_bytes(), &[app.gateway_recipient()]).unwrap();
    let before = snapshot(&app).await;
    let caf = app.client("caf");
    for (what, mut bytes) in [
        ("a flipped payload byte", sealed.clone()),
        ("a flipped header byte", sealed.clone()),
        ("a cut tail", sealed.clone()),
    ] {
        match what {
            "a flipped payload byte" => {
                let n = bytes.len();
                bytes[n - 20] ^= 0x01;
            }
            "a flipped header byte" => bytes[40] ^= 0x01,
            _ => bytes.truncate(bytes.len() - 16),
        }
        let (status, body) = caf.push_return("enrichment", bytes).await.unwrap();
        assert!((400..500).contains(&status), "{what}: {status} {body}");
        assert!(!code(&body).is_empty(), "{what}: no error code in {body}");
    }
    assert_unchanged(&app, &before, "tampered ciphertext").await;
    // The untouched ciphertext is applied: the refusals were the tampering's.
    let (status, body) = caf.push_return("enrichment", sealed).await.unwrap();
    assert_eq!(status, 201, "{body}");
    app.stop().await;
}
both!(another_partners_key_opens_no_file_and_a_tampered_return_is_refused);

/// An XLSX whose shared strings declare an external entity and a billion
/// laughs; calamine must never expand them.
fn xlsx_with_entities() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts: &[(&str, String)] = &[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Liste" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.to_owned(),
        ),
        (
            "xl/sharedStrings.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>&xxe;</t></si><si><t>&d;</t></si></sst>"#.to_owned(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row></sheetData></worksheet>"#.to_owned(),
        ),
    ];
    for (name, text) in parts {
        w.start_file(*name, opts).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn an_xlsx_with_external_and_nested_xml_entities_is_refused_unexpanded(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let before = snapshot(&app).await;
    let (status, body) = app
        .push_list(
            "2026-10",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx_with_entities(),
        )
        .await;
    assert!((400..500).contains(&status), "{status} {body}");
    let text = body.to_string();
    assert!(
        !text.contains("root:"),
        "the external entity was read: {text:.300}"
    );
    assert!(
        !text.contains("aaaaaaaaaaaaaaaaaaaa"),
        "an entity was expanded"
    );
    assert!(text.len() < 10_000, "an answer of {} bytes", text.len());
    assert_unchanged(&app, &before, "XML entities in an XLSX").await;
    app.stop().await;
}
both!(an_xlsx_with_external_and_nested_xml_entities_is_refused_unexpanded);

async fn uploaded_markup_is_never_served_as_a_page(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let script = "<script>alert(1)</script>";
    let list = list_csv(&[["CDP-M-1", script, "<img src=x onerror=alert(2)>", "85100"]]);
    let (status, body) = app.push_list("2026-10", "text/csv", list).await;
    assert_eq!(status, 201, "{body}");
    let caf = app.client("caf");
    let files = caf.outbox().await.unwrap();
    let resp = app
        .get("caf", &format!("/v1/outbox/{}", files[0].file_id))
        .await;
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "application/age");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    // A refused upload's answer is JSON, never a page, whatever it quotes.
    let bad = list_csv(&[["CDP-M-2", script, "Alix", "8510<b>"]]);
    let c = app.client("ddets");
    let resp = c
        .http()
        .post(c.url("/v1/lists?period=2026-11"))
        .header("content-type", "text/csv")
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    app.stop().await;
}
both!(uploaded_markup_is_never_served_as_a_page);

async fn a_zip_bomb_list_is_refused_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let before = snapshot(&app).await;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("xl/sharedStrings.xml", opts).unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..400 {
        w.write_all(&zeros).unwrap();
    }
    let bomb = w.finish().unwrap().into_inner();
    assert!(bomb.len() < 2_000_000);
    let (status, body) = app
        .push_list(
            "2026-10",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bomb,
        )
        .await;
    assert!(matches!(status, 400 | 413 | 422), "{status} {body}");
    assert_unchanged(&app, &before, "zip bomb").await;
    app.stop().await;
}
both!(a_zip_bomb_list_is_refused_and_nothing_is_stored);

async fn a_planted_name_never_reaches_the_logs_or_an_error(db: Db) {
    let Some(mut site) = crate::process::Site::new(db).await else {
        return;
    };
    let gw = site.start("debug");
    let ddets = site.client(&gw, "ddets");
    let good = list_csv(&[["CDP-N-1", "Plantenom", "Plantéprénom", "85100"]]);
    let (status, body) = ddets.push_list("2026-10", "text/csv", good).await.unwrap();
    assert_eq!(status, 201, "{body}");
    let bad = list_csv(&[
        ["CDP-N-2", "Plantenom", "Plantéprénom", "851"],
        ["CDP-N-3", "Autreplanté", "Plantéprénom", "not a code"],
    ]);
    let (status, body) = ddets.push_list("2026-11", "text/csv", bad).await.unwrap();
    assert_eq!(status, 422, "{body}");
    let answer = body.to_string().to_lowercase();
    assert!(
        answer.contains("code_postal"),
        "the error names the field: {answer}"
    );
    let caf = site.client(&gw, "caf");
    let files = caf.outbox().await.unwrap();
    let ct = caf.download(&files[0].file_id).await.unwrap();
    let plain = passerelle::ingest::envelope::open(&ct, &site.identity("caf"), 1 << 30).unwrap();
    assert!(
        String::from_utf8_lossy(&plain).contains("Plantenom"),
        "the name did travel to CAF, sealed"
    );
    let logs = gw.logs().to_lowercase();
    assert!(
        logs.contains("list"),
        "the debug log was captured: {logs:.300}"
    );
    for planted in ["plantenom", "plantéprénom", "autreplanté", "rue travot"] {
        assert!(!logs.contains(planted), "{planted} in the gateway's log");
        assert!(!answer.contains(planted), "{planted} in the error answer");
    }
}
both!(a_planted_name_never_reaches_the_logs_or_an_error);

async fn a_persons_certificate_does_not_open_the_api_as_its_partner(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let before = snapshot(&app).await;
    // Camille Roux's personal certificate: the same CA, her partner is the
    // DDETS, yet the API is for machines: 403, nothing stored.
    let c = app.client("person-sec-ddets");
    let (status, body) = c
        .push_list("2026-10", "text/csv", small_list("H", 2))
        .await
        .unwrap();
    assert_eq!(status, 403, "{body}");
    assert_eq!(code(&body), "unknown_certificate");
    assert_unchanged(&app, &before, "a person's certificate on the API").await;
    app.stop().await;
}
both!(a_persons_certificate_does_not_open_the_api_as_its_partner);
