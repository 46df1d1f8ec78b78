//! Attacks on input, faults and withdrawal: half-broken encodings, floods
//! of bad rows, XLSX files that expand in memory, symlinks planted in the
//! data folder, a full disk, a database that goes away, and lists sent by
//! mistake (withdrawal).

use crate::helpers::{Db, code, list_csv, spawn_app};
use crate::state;

/// A valid UTF-8 list (`Zoé`, `Léa`) with one Windows-1252 byte (`\xE9`)
/// on line 3: before, it was silently reread as Windows-1252 and every
/// accent garbled (`Zoé` → `ZoÃ©`), yet accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_with_one_bad_byte_is_refused_naming_line_and_byte() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let good = list_csv(&[
        ["CDP-1", "Zoé", "Ana", "85100"],
        ["CDP-2", "Durand", "Léa", "85100"],
    ]);
    let text = String::from_utf8(good.clone()).unwrap();
    // Line 3 (header = 1): "Léa" written in Windows-1252.
    let mut bytes = Vec::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i == 2 {
            bytes.extend_from_slice(&line.as_bytes()[..line.find("Léa").unwrap()]);
            bytes.extend_from_slice(b"L\xE9a");
            bytes.extend_from_slice(&line.as_bytes()[line.find("Léa").unwrap() + "Léa".len()..]);
        } else {
            bytes.extend_from_slice(line.as_bytes());
        }
    }
    let before = state::snapshot(&app).await;
    let (status, body) = app.push_list("2026-10", "text/csv", bytes).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "unreadable_file", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ligne 3, octet 0xE9"),
        "the refusal names the line and the byte: {message}"
    );
    assert_eq!(body["error"]["details"][0]["line"], 3, "{body}");
    state::assert_unchanged(&app, &before, "UTF-8 with one bad byte").await;

    // Genuine Windows-1252 (no UTF-8 sequence anywhere) is still accepted.
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let (status, body) = app.push_list("2026-10", "text/csv", latin1).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["rows"], 2);
    app.stop().await;
}

/// 200,000 bad rows once made a 205 MB answer (and held every error in
/// memory): the answer lists the first errors and counts the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_bad_rows_get_a_bounded_answer() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let mut body = crate::helpers::LIST_HEADER.as_bytes().to_vec();
    body.push(b'\n');
    for i in 0..200_000 {
        // One field where the header has fourteen: an error of its line.
        body.extend_from_slice(format!("CDP-{i}\n").as_bytes());
    }
    let before = state::snapshot(&app).await;
    let c = app.client("ddets");
    let resp = c
        .http()
        .post(c.url("/v1/lists?period=2026-10"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let text = resp.bytes().await.unwrap();
    assert!(
        text.len() < 64 * 1024,
        "the answer is bounded, not {} bytes",
        text.len()
    );
    let body: serde_json::Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(code(&body), "invalid_rows", "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), passerelle::ingest::MAX_ERROR_DETAILS);
    assert_eq!(details[0]["line"], 2, "the first errors, by line");
    assert_eq!(body["error"]["details_truncated"], true, "{body}");
    assert_eq!(body["error"]["details_total"], 200_000, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("200000 rows are invalid"), "{message}");
    state::assert_unchanged(&app, &before, "200,000 bad rows").await;
    app.stop().await;
}

/// Sets SQLite's `max_page_count` on every connection of the gateway's
/// pool (the pragma is per connection): `Some(n)` makes the database full
/// at `n` pages (a real `SQLITE_FULL`), `None` lifts the bound.
async fn sqlite_max_pages(app: &crate::helpers::TestApp, pages: Option<i64>) {
    let pool = app.app.store.pool();
    let mut held = Vec::new();
    // The pool holds at most 4 connections: take them all.
    for _ in 0..4 {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let n = pages.unwrap_or(1 << 30);
        sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA max_page_count = {n}")))
            .execute(&mut **conn)
            .await
            .unwrap();
    }
}

/// After one upload refused for a full disk, the gateway once answered 500
/// to every other request until restarted (a connection left counting a
/// transaction SQLite had already rolled back). Now: 503 with
/// `Retry-After`, nothing half-stored, and full service once space is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_full_upload_is_refused_503_and_service_heals() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let rows: Vec<[String; 4]> = (0..400)
        .map(|i| {
            [
                format!("CDP-{i}"),
                format!("Nom{i}"),
                "Ana".into(),
                "85100".into(),
            ]
        })
        .collect();
    let rows: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()])
        .collect();
    let list = list_csv(&rows);
    let before = state::snapshot(&app).await;
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(app.app.store.pool())
        .await
        .unwrap();
    sqlite_max_pages(&app, Some(pages)).await;
    let c = app.client("ddets");
    let upload = || {
        c.http()
            .post(c.url("/v1/lists?period=2026-10"))
            .header("content-type", "text/csv")
            .body(list.clone())
            .send()
    };
    let resp = upload().await.unwrap();
    assert_eq!(resp.status().as_u16(), 503, "disk full: 503");
    assert!(
        resp.headers().get("retry-after").is_some(),
        "503 carries Retry-After"
    );
    let (_, body) = crate::helpers::status_json(resp).await;
    assert_eq!(code(&body), "unavailable", "{body}");
    state::assert_unchanged(&app, &before, "disk-full upload").await;

    // Space is back: every request is served again, without a restart.
    sqlite_max_pages(&app, None).await;
    for i in 0..12 {
        let resp = app.get("ddets", "/v1/lists").await;
        assert_eq!(
            resp.status().as_u16(),
            200,
            "request {i} after the disk-full upload"
        );
    }
    let resp = upload().await.unwrap();
    let (status, body) = crate::helpers::status_json(resp).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["rows"], 400);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 400);
    app.stop().await;
}

/// What a real full disk does at `COMMIT` (SQLite rolls the whole
/// transaction back itself, and the driver's own `ROLLBACK` then fails):
/// the connection once went back to the pool still counting a transaction
/// and refused every later `BEGIN`, a 500 to every request it served
/// until a restart. Now it is closed instead, and every request is served.
async fn a_transaction_the_database_rolled_back_itself_does_not_poison_the_pool(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    for _ in 0..3 {
        let mut tx = app.app.store.begin().await.unwrap();
        // The transaction ends behind the driver's back.
        sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        drop(tx);
    }
    for i in 0..12 {
        let resp = app.get("ddets", "/v1/lists").await;
        assert_eq!(resp.status().as_u16(), 200, "request {i}");
        let mut tx = app.app.store.begin().await.unwrap();
        sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    app.stop().await;
}
crate::both!(a_transaction_the_database_rolled_back_itself_does_not_poison_the_pool);

/// A TCP proxy between the gateway and the PostgreSQL server, which the
/// test can cut (every open connection closed, new ones closed at once)
/// and restore. The shared server itself is never stopped.
struct PgProxy {
    addr: std::net::SocketAddr,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl PgProxy {
    async fn start(server: String) -> PgProxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let links =
            std::sync::Arc::new(std::sync::Mutex::new(Vec::<tokio::task::AbortHandle>::new()));
        let accept = {
            let (cut, links) = (cut.clone(), links.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        drop(inbound); // refused: closed at once
                        continue;
                    }
                    let server = server.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(&server).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    let mut links = links.lock().unwrap();
                    links.retain(|l| !l.is_finished());
                    links.push(link.abort_handle());
                }
            })
        };
        PgProxy {
            addr,
            cut,
            links,
            accept,
        }
    }

    /// The database goes away: open connections closed, new ones refused.
    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// The database is back.
    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// With PostgreSQL gone, a request once waited a minute for a connection
/// and got a 500. Now: 503 with `Retry-After` within seconds, nothing
/// half-stored, and full service once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_down_answers_503_within_seconds_and_heals() {
    use crate::helpers::status_json;
    use std::time::Duration;
    let Some(url) = crate::helpers::postgres_url().await else {
        return;
    };
    // postgres://user:pass@HOST:PORT/db → the proxy in between.
    let (head, rest) = url.split_once('@').unwrap();
    let (server, db) = rest.split_once('/').unwrap();
    let proxy = PgProxy::start(server.to_owned()).await;
    let proxied = format!("{head}@{}/{db}", proxy.addr);

    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path(), &dir.path().join("data"), Some(proxied));
    let certs = dir.path().join("certs-example");
    let app = passerelle::app::App::open(config).await.unwrap();
    let server = passerelle::http::start(app.clone()).await.unwrap();
    let read = |n: &str| std::fs::read(certs.join(n)).unwrap();
    let ddets = passerelle::client::GatewayClient::new(
        &format!("https://127.0.0.1:{}", server.addr.port()),
        &read("ca.crt"),
        Some(&read("ddets.crt")),
        Some(&read("ddets.key")),
    )
    .unwrap();
    let list = list_csv(&[
        ["CDP-1", "Zoé", "Ana", "85100"],
        ["CDP-2", "Léa", "Eve", "85100"],
    ]);
    let upload = || {
        ddets
            .http()
            .post(ddets.url("/v1/lists?period=2026-10"))
            .header("content-type", "text/csv")
            .body(list.clone())
            .send()
    };
    let resp = ddets
        .http()
        .get(ddets.url("/v1/lists"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);

    proxy.cut();
    // Bounded: a correctness bound (the old wait was 60 s), not a timing.
    for what in ["GET /v1/lists", "POST /v1/lists"] {
        let send = async {
            if what.starts_with("GET") {
                ddets.http().get(ddets.url("/v1/lists")).send().await
            } else {
                upload().await
            }
        };
        let resp = tokio::time::timeout(Duration::from_secs(40), send)
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer within 40 s with PostgreSQL down"))
            .unwrap();
        assert_eq!(resp.status().as_u16(), 503, "{what}");
        assert!(resp.headers().get("retry-after").is_some(), "{what}");
        let (_, body) = status_json(resp).await;
        assert_eq!(code(&body), "unavailable", "{what}: {body}");
    }

    proxy.restore();
    // Nothing half-stored; full service by itself.
    let lists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lists")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(lists, 0, "the refused upload stored nothing");
    for i in 0..20 {
        let resp = ddets
            .http()
            .get(ddets.url("/v1/lists"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            200,
            "request {i} after the database came back"
        );
    }
    let (status, body) = status_json(upload().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(cases, 2);
    server.shutdown(Duration::from_secs(5)).await;
    app.store.close().await;
}

/// The example configuration in `dir` (config/, certs-example/ with a
/// fresh development PKI), its data folder `data`.
fn test_config(
    dir: &std::path::Path,
    data: &std::path::Path,
    database_url: Option<String>,
) -> passerelle::config::Config {
    let config_dir = dir.join("config");
    if !config_dir.exists() {
        crate::helpers::lay_out_site(dir);
    }
    let overrides = passerelle::config::Overrides {
        listen: Some(([127, 0, 0, 1], 0).into()),
        data: Some(data.to_owned()),
        database_url,
        console_listen: Some(([127, 0, 0, 1], 0).into()),
    };
    passerelle::config::Config::load(&config_dir.join("passerelle.toml"), &overrides).unwrap()
}

/// Symbolic links planted in the data folder were followed: temporary
/// files written elsewhere, an outside file overwritten. Now the gateway
/// refuses to start, naming the link, and the outside file is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_planted_in_the_data_folder_is_refused_at_start() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = passerelle::app::App::open(test_config(dir.path(), &data, None))
        .await
        .unwrap();
    app.store.close().await;
    drop(app);
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "précieux\n").unwrap();
    let outside_dir = dir.path().join("elsewhere");
    std::fs::create_dir(&outside_dir).unwrap();

    let refused = |what: &'static str, link: std::path::PathBuf| {
        let config = test_config(dir.path(), &data, None);
        async move {
            let err = passerelle::app::App::open(config)
                .await
                .err()
                .unwrap_or_else(|| panic!("{what}: the gateway started"));
            let message = err.to_string();
            assert!(
                message.contains(&link.display().to_string()) && message.contains("symbolic link"),
                "{what}: the refusal names the link: {message}"
            );
        }
    };
    // A file the gateway rewrites, pointing outside.
    let pubkey = data.join("audit-signing.pub");
    std::fs::remove_file(&pubkey).unwrap();
    symlink(&outside, &pubkey).unwrap();
    refused("audit-signing.pub → outside", pubkey.clone()).await;
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "précieux\n");
    std::fs::remove_file(&pubkey).unwrap();
    // The uploads' folder, pointing elsewhere.
    let tmp = data.join("tmp");
    std::fs::remove_dir(&tmp).unwrap();
    symlink(&outside_dir, &tmp).unwrap();
    refused("tmp → elsewhere", tmp.clone()).await;
    std::fs::remove_file(&tmp).unwrap();
    // A dangling link where a key will be created.
    let key = data.join("pseudonymisation.key");
    std::fs::rename(&key, dir.path().join("key.bak")).unwrap();
    symlink(dir.path().join("planted.key"), &key).unwrap();
    refused("dangling pseudonymisation.key", key.clone()).await;
    assert!(!dir.path().join("planted.key").exists());
    std::fs::remove_file(&key).unwrap();
    std::fs::rename(dir.path().join("key.bak"), &key).unwrap();
    // With the links gone, it starts again. The data folder's own path
    // may be a link (systemd's StateDirectory with DynamicUser): resolved
    // once at start, the real folder is used from then on.
    let linked = dir.path().join("data-link");
    symlink(&data, &linked).unwrap();
    let app = passerelle::app::App::open(test_config(dir.path(), &linked, None))
        .await
        .unwrap();
    assert_eq!(
        app.config.gateway.storage.data,
        std::fs::canonicalize(&data).unwrap()
    );
    app.store.close().await;
    assert!(std::fs::read_dir(&outside_dir).unwrap().next().is_none());
}

/// Files were created with the umask's mode (0644 under the usual 022,
/// 0666 under 000). Started by the real binary under umask 000: the data
/// folder is 0700 and every file in it 0600 (keys, database, its WAL).
#[test]
fn files_are_0600_and_the_folder_0700_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _ = test_config(dir.path(), &data, None);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" retention run --config \"$1\" --data \"$2\"")
        .arg(env!("CARGO_BIN_EXE_passerelle"))
        .arg(dir.path().join("config/passerelle.toml"))
        .arg(&data)
        .env_remove("PASSERELLE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    assert_eq!(mode(&data.join("tmp")), 0o700, "tmp/");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&data).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            files.push(e.file_name().into_string().unwrap());
            assert_eq!(mode(&e.path()), 0o600, "{:?}", e.file_name());
        }
    }
    files.sort();
    for expected in [
        "audit-signing.key",
        "audit-signing.pub",
        "passerelle.db",
        "pseudonymisation.key",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} in {files:?}"
        );
    }
}

/// A small XLSX whose one sheet claims `A1:XFD1048576` and holds `rows`
/// rows of 16,384 cells each, every cell the same shared string of
/// `string_len` characters: a few hundred KB that once expanded to
/// hundreds of MB in the server.
fn expanding_xlsx(rows: u32, string_len: usize) -> Vec<u8> {
    use std::io::Write;
    fn col(mut n: u32) -> String {
        let mut s = Vec::new();
        n += 1;
        while n > 0 {
            s.push(b'A' + ((n - 1) % 26) as u8);
            n = (n - 1) / 26;
        }
        s.reverse();
        String::from_utf8(s).unwrap()
    }
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let files: [(&str, String); 5] = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.into()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.into()),
        ("xl/sharedStrings.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{}</t></si></sst>"#, "x".repeat(string_len))),
    ];
    for (name, text) in &files {
        z.start_file(*name, opts).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>"#).unwrap();
    let cols: Vec<String> = (0..16_384).map(col).collect();
    for r in 1..=rows {
        let mut row = format!(r#"<row r="{r}">"#);
        for c in &cols {
            row.push_str(&format!(r#"<c r="{c}{r}" t="s"><v>0</v></c>"#));
        }
        row.push_str("</row>");
        z.write_all(row.as_bytes()).unwrap();
    }
    z.write_all(b"</sheetData></worksheet>").unwrap();
    z.finish().unwrap().into_inner()
}

/// A 485 KB XLSX once made the server allocate 897 MB: millions of cells
/// (each a copy of a shared string) held in memory. The cells held are
/// now bounded by `[limits] max_xlsx_cells`: such a file is refused with a
/// clear error and nothing is stored. (Peak memory is measured by the
/// bench, not here.)
async fn an_xlsx_that_expands_to_millions_of_cells_is_refused(db: Db) {
    let Some(app) = crate::helpers::spawn_app_with(db, |dir| {
        crate::helpers::edit(
            &dir.join("config/passerelle.toml"),
            "max_xlsx_cells = 3000000",
            "max_xlsx_cells = 100000",
        );
    })
    .await
    else {
        return;
    };
    let before = state::snapshot(&app).await;
    // 8 rows of 16,384 cells: 131,072 cells over the bound of 100,000;
    // then 4 rows (65,536 cells, under it) of one 2,000-character shared
    // string: 128 MiB of text, over the body limit (64 MiB).
    for (xlsx, refusal) in [
        (expanding_xlsx(8, 10), "more than 100000 cells"),
        (expanding_xlsx(4, 2_000), "more than 67108864 bytes of text"),
    ] {
        assert!(xlsx.len() < 2_000_000, "a small file: {} bytes", xlsx.len());
        let (status, body) = app
            .push_list(
                "2026-10",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                xlsx,
            )
            .await;
        assert_eq!(status, 413, "{body}");
        assert_eq!(code(&body), "too_large", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(refusal), "{message}");
    }
    state::assert_unchanged(&app, &before, "an XLSX expanding to millions of cells").await;
    app.stop().await;
}
crate::both!(an_xlsx_that_expands_to_millions_of_cells_is_refused);

/// `DELETE /v1/lists/{id}` as `id` (raw: no retry).
async fn withdraw(
    app: &crate::helpers::TestApp,
    id: &str,
    list_id: &str,
) -> (u16, serde_json::Value) {
    let c = app.client(id);
    let resp = c
        .http()
        .delete(c.url(&format!("/v1/lists/{list_id}")))
        .send()
        .await
        .unwrap();
    crate::helpers::status_json(resp).await
}

/// A list sent by mistake could not be taken back. Withdrawn by its
/// source: its cases, tokens and waiting files are deleted, and a partner
/// that already took one of its files receives a `retrait` file naming
/// the tokens to delete (sealed to it like every outgoing file).
async fn withdrawing_a_list_deletes_its_cases_and_sends_retrait_files(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let caf = app.client("caf");
    // List A: CAF takes (downloads and acknowledges) its enrichment file.
    let (status, a) = app
        .push_list(
            "2026-10",
            "text/csv",
            list_csv(&[
                ["CDP-A1", "Zoé", "Ana", "85100"],
                ["CDP-A2", "Léa", "Eve", "85100"],
            ]),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let (file_a, _, plain_a) = app.caf_file().await;
    caf.ack(&file_a).await.unwrap();
    let tokens_a: Vec<String> = crate::helpers::csv_records(&plain_a)
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(tokens_a.len(), 2);
    // List B: its file is still waiting for CAF.
    let (status, b) = app
        .push_list(
            "2026-10",
            "text/csv",
            list_csv(&[["CDP-B1", "Roux", "Paul", "85100"]]),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(caf.outbox().await.unwrap().len(), 1);

    // B: cases and the waiting file deleted; nothing was delivered, so no
    // retrait file.
    let (status, body) = withdraw(&app, "ddets", b["list_id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["list_id"], b["list_id"]);
    assert_eq!(body["withdrawn_cases"], 1);
    assert!(
        caf.outbox().await.unwrap().is_empty(),
        "B's waiting file is gone"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 2);

    // A: CAF already took its file: it receives a retrait file with its
    // tokens of A's cases.
    let (status, body) = withdraw(&app, "ddets", a["list_id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["withdrawn_cases"], 2);
    let files = caf.outbox().await.unwrap();
    assert_eq!(files.len(), 1, "one retrait file for CAF");
    assert_eq!(files[0].kind, "retrait");
    let ct = caf.download(&files[0].file_id).await.unwrap();
    let plain = crate::helpers::decrypt(&ct, &app.identity("caf"));
    let records = crate::helpers::csv_records(&plain);
    assert_eq!(records[0], ["token"]);
    let mut got: Vec<String> = records[1..].iter().map(|r| r[0].clone()).collect();
    let mut want = tokens_a.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the tokens CAF holds for A's cases");
    for table in ["cases", "case_tokens", "lists", "enrichments"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(app.app.store.pool())
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} after both withdrawals");
    }
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'list.withdraw'")
            .fetch_one(app.app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 2, "each withdrawal is audited");
    app.stop().await;
}
crate::both!(withdrawing_a_list_deletes_its_cases_and_sends_retrait_files);

/// A list of two households (refs `CDP-{prefix}1`, `CDP-{prefix}2`)
/// whose first agenda entry the concertation decided with `decision`
/// (`{"organisme": …}` or `{"non_traite": …}`); its id.
async fn list_with_one_decided_case(
    app: &crate::helpers::TestApp,
    prefix: &str,
    decision: serde_json::Value,
) -> String {
    let (r1, r2) = (format!("CDP-{prefix}1"), format!("CDP-{prefix}2"));
    let (status, list) = app
        .push_list(
            "2026-10",
            "text/csv",
            list_csv(&[[&r1, "Zoé", "Ana", "85100"], [&r2, "Léa", "Eve", "85100"]]),
        )
        .await;
    assert_eq!(status, 201, "{list}");
    let ddets = app.client("ddets");
    let (status, c) = ddets
        .post_json(
            "/v1/concertations",
            &serde_json::json!({"date": "2026-10-30"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{c}");
    let id = c["concertation_id"].as_str().unwrap();
    let mut decision = decision;
    decision["token"] = c["agenda"][0]["token"].clone();
    let (status, d) = ddets
        .post_json(
            &format!("/v1/concertations/{id}/decisions"),
            &serde_json::json!({ "decisions": [decision] }),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{d}");
    list["list_id"].as_str().unwrap().to_owned()
}

/// Once the concertation has decided one of its cases, a list can no
/// longer be withdrawn: 409, and nothing changes.
async fn withdrawing_a_decided_list_is_refused_409(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let list_id =
        list_with_one_decided_case(&app, "D", serde_json::json!({"non_traite": "demenagement"}))
            .await;
    let before = state::snapshot(&app).await;
    let (status, body) = withdraw(&app, "ddets", &list_id).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(code(&body), "conflict");
    state::assert_unchanged(&app, &before, "withdrawing a decided list").await;
    app.stop().await;
}
crate::both!(withdrawing_a_decided_list_is_refused_409);

/// Only the source that uploaded a list may withdraw it: another partner
/// (here one without the role, then one given it) is refused and the list
/// stays whole; a list that does not exist answers the same 404.
async fn another_source_cannot_withdraw_a_list(db: Db) {
    let Some(app) = crate::helpers::spawn_app_with(db, |dir| {
        let path = dir.join("config/partners.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        // CCAS becomes a source too: a source, but not this list's.
        let at = text
            .find("id = \"ccas-sables\"")
            .expect("ccas-sables in partners.toml");
        let roles = at + text[at..].find("roles = [").unwrap() + "roles = [".len();
        let mut text = text;
        text.insert_str(roles, "\"source\", ");
        std::fs::write(&path, text).unwrap();
    })
    .await
    else {
        return;
    };
    let (status, list) = app
        .push_list(
            "2026-10",
            "text/csv",
            list_csv(&[["CDP-S1", "Zoé", "Ana", "85100"]]),
        )
        .await;
    assert_eq!(status, 201, "{list}");
    let list_id = list["list_id"].as_str().unwrap();
    let before = state::snapshot(&app).await;
    let (status, body) = withdraw(&app, "caf", list_id).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = withdraw(&app, "ccas-sables", list_id).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    let (status, body) = withdraw(&app, "ddets", "lst_does_not_exist").await;
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    state::assert_unchanged(&app, &before, "another source withdrawing a list").await;
    app.stop().await;
}
crate::both!(another_source_cannot_withdraw_a_list);

/// Cases the concertation never decided were kept for ever. Retention
/// now removes them once past `[retention] undecided_cases_months`
/// (with their tokens), audited; a decided case is left to the closure rule.
async fn retention_removes_cases_left_undecided_past_the_period(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // One case decided (attributed to a referent): kept by this rule.
    list_with_one_decided_case(&app, "U", serde_json::json!({"organisme": "ccas-sables"})).await;
    let now = passerelle::util::now_ms();
    let r = passerelle::retention::run(&app.app, now).await.unwrap();
    assert_eq!(r.undecided_cases, 0, "nothing is old yet");
    let months = i64::from(app.app.config.policy.retention.undecided_cases_months);
    let r = passerelle::retention::run(&app.app, now + (months * 30 + 1) * 86_400_000)
        .await
        .unwrap();
    assert_eq!(r.undecided_cases, 1, "the undecided case is removed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cases").await,
        1,
        "the decided one stays"
    );
    let logged: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.run' AND entry LIKE '%undecided_cases:1%'",
    )
    .fetch_one(app.app.store.pool())
    .await
    .unwrap();
    assert_eq!(logged, 1, "the removal is audited");
    app.stop().await;
}
crate::both!(retention_removes_cases_left_undecided_past_the_period);
