//! `cargo bench --bench gateway`: the figures of README's "Benchmark figures".
//!
//! 1. A 100,000-row list (about 10 MB of CSV) validated, pseudonymised,
//!    sealed, stored and routed to CAF, in-process on SQLite, then the same
//!    through HTTPS with mutual TLS; peak resident memory before and after.
//! 2. Server CPU per full mutual-TLS handshake (no resumption), measured on
//!    a separate `passerelle serve` process from its /proc counters.
//!
//! 0. Peak memory reading XLSX (run first, so that the process's peak
//!    resident memory is this part's): a crafted file of a few hundred KB
//!    that expands to millions of cells (refused by `max_xlsx_cells` and
//!    the text bound), and a legitimate 100,000-row workbook.
//!    `PASSERELLE_BENCH_ONLY=xlsx` stops after this part.
//!
//! Bounded: fixed row and handshake counts; servers on 127.0.0.1 only.

use passerelle::app::App;
use passerelle::circuit::Actor;
use passerelle::config::{Config, Overrides};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The allocator the `passerelle` binary runs with (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: usize = 100_000;
const HANDSHAKES: usize = 400;
const RUNS: usize = 5;

fn generate_list(rows: usize) -> Vec<u8> {
    const NOMS: &[&str] = &[
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau",
    ];
    const PRENOMS: &[&str] = &[
        "Jean", "Marie", "Pierre", "Sophie", "Luc", "Anne", "Paul", "Julie", "Hélène", "Loïc",
    ];
    const COMMUNES: &[(&str, &str)] = &[
        ("85100", "Les Sables-d'Olonne"),
        ("85340", "L'Île-d'Olonne"),
        ("85520", "Jard-sur-Mer"),
        ("85150", "Sainte-Foy"),
        ("85440", "Talmont-Saint-Hilaire"),
    ];
    let mut out = Vec::with_capacity(rows * 110);
    out.extend_from_slice(b"ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,telephone,bailleur_type,bailleur_nom,montant_dette,loyer_mensuel\n");
    for i in 0..rows {
        let (cp, commune) = COMMUNES[i % COMMUNES.len()];
        writeln!(
            out,
            "CDP-B-{i:07},2026-10-{:02},{}{},{},{} rue des Mimosas,{cp},{commune},06{:08},{},{},{}.{:02},{}.00",
            1 + i % 28,
            NOMS[i % NOMS.len()],
            i / 100,
            PRENOMS[(i / 7) % PRENOMS.len()],
            1 + i % 300,
            i % 100_000_000,
            if i % 3 == 0 { "social" } else { "prive" },
            if i % 3 == 0 { "Vendée Habitat" } else { "SCI Les Dunes" },
            500 + i % 9000,
            i % 100,
            300 + i % 700,
        )
        .unwrap();
    }
    out
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start after ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f[11].parse().unwrap();
    let stime: f64 = f[12].parse().unwrap();
    (utime + stime) / 100.0 // USER_HZ is 100 on Linux
}

fn setup(dir: &Path) -> std::path::PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg = dir.join("config");
    std::fs::create_dir_all(&cfg).unwrap();
    for f in passerelle::config::FILES {
        std::fs::copy(repo.join("config").join(f), cfg.join(f)).unwrap();
    }
    passerelle::tls::devpki::generate(
        &dir.join("certs-example"),
        passerelle::tls::devpki::EXAMPLE_PARTNERS,
    )
    .unwrap();
    // The handshake loop opens hundreds of connections from one address.
    let main = cfg.join("passerelle.toml");
    let text = std::fs::read_to_string(&main)
        .unwrap()
        .replace(
            "connections_per_ip_per_second = 20",
            "connections_per_ip_per_second = 100000",
        )
        .replace(
            "connection_burst_per_ip = 100",
            "connection_burst_per_ip = 100000",
        );
    std::fs::write(&main, text).unwrap();
    main
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` convention
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

/// Writes an XLSX of one sheet into `out`, streaming: `rows` rows of the
/// cells `row(r)` gives (`(column letters, shared string index or inline
/// text)`), with a shared strings table of `strings`.
fn write_xlsx(
    out: &Path,
    dimension: &str,
    strings: &[String],
    rows: u32,
    mut row: impl FnMut(u32) -> Vec<(String, Result<usize, String>)>,
) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, String); 4] = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.into()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.into()),
    ];
    for (name, text) in &parts {
        z.start_file(*name, opts).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.start_file("xl/sharedStrings.xml", opts).unwrap();
    write!(z, r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">"#, strings.len()).unwrap();
    for st in strings {
        write!(z, "<si><t>{st}</t></si>").unwrap();
    }
    z.write_all(b"</sst>").unwrap();
    z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    write!(z, r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>"#).unwrap();
    for r in 1..=rows {
        write!(z, r#"<row r="{r}">"#).unwrap();
        for (col, v) in row(r) {
            match v {
                Ok(i) => write!(z, r#"<c r="{col}{r}" t="s"><v>{i}</v></c>"#),
                Err(text) => write!(
                    z,
                    r#"<c r="{col}{r}" t="inlineStr"><is><t>{text}</t></is></c>"#
                ),
            }
            .unwrap();
        }
        z.write_all(b"</row>").unwrap();
    }
    z.write_all(b"</sheetData></worksheet>").unwrap();
    z.finish().unwrap();
}

fn column(mut n: u32) -> String {
    let mut s = Vec::new();
    n += 1;
    while n > 0 {
        s.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// Part 0: peak memory reading XLSX files, with the gateway's default
/// limits.
fn xlsx_memory(dir: &Path) {
    let limits = passerelle::ingest::Limits::default();
    let base = peak_rss_mib();
    println!("XLSX memory (default limits; peak resident memory of this process):");
    println!("  baseline: {base:.0} MiB");
    // The attack: 200 rows of 16,384 cells (3.3 million), each the same
    // 1,000-character shared string, the sheet claiming A1:XFD1048576.
    let attack = dir.join("attack.xlsx");
    let cols: Vec<String> = (0..16_384).map(column).collect();
    write_xlsx(&attack, "A1:XFD1048576", &["x".repeat(1_000)], 200, |_| {
        cols.iter().map(|c| (c.clone(), Ok(0))).collect()
    });
    let size = std::fs::metadata(&attack).unwrap().len();
    let spool = passerelle::ingest::Spool::from_reader(
        std::fs::File::open(&attack).unwrap(),
        dir,
        usize::MAX,
    )
    .unwrap();
    let t = Instant::now();
    let refused = passerelle::ingest::read_list(spool, &limits).err();
    println!(
        "  crafted {:.0} KB XLSX (3,276,800 cells of 1,000 chars): {} in {:.2} s, peak {:.0} MiB",
        size as f64 / 1e3,
        refused.map_or("ACCEPTED".to_owned(), |e| format!("refused ({e})")),
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    // A legitimate list: 100,000 rows of 12 columns, inline strings.
    let legit = dir.join("legit.xlsx");
    let header = [
        "ref_cdp",
        "date_cdp",
        "nom",
        "prenom",
        "adresse",
        "code_postal",
        "commune",
        "telephone",
        "bailleur_type",
        "bailleur_nom",
        "montant_dette",
        "loyer_mensuel",
    ];
    write_xlsx(&legit, "A1:L100001", &[], 100_001, |r| {
        let i = r as usize;
        let cells: Vec<String> = if r == 1 {
            header.iter().map(|h| (*h).to_owned()).collect()
        } else {
            vec![
                format!("CDP-X-{i:07}"),
                format!("2026-10-{:02}", 1 + i % 28),
                format!("Nom{}", i / 100),
                "Prénom".into(),
                format!("{} rue des Mimosas", 1 + i % 300),
                "85100".into(),
                "Les Sables-d'Olonne".into(),
                format!("06{:08}", i % 100_000_000),
                "social".into(),
                "Vendée Habitat".into(),
                format!("{}.{:02}", 500 + i % 9000, i % 100),
                "400.00".into(),
            ]
        };
        cells
            .into_iter()
            .enumerate()
            .map(|(c, t)| (column(c as u32), Err(t)))
            .collect()
    });
    let size = std::fs::metadata(&legit).unwrap().len();
    let spool = passerelle::ingest::Spool::from_reader(
        std::fs::File::open(&legit).unwrap(),
        dir,
        usize::MAX,
    )
    .unwrap();
    let t = Instant::now();
    let file = passerelle::ingest::read_list(spool, &limits).unwrap();
    let n = file.validate().unwrap();
    println!(
        "  legitimate {:.1} MB XLSX ({n} rows x 12 columns): read and validated in {:.2} s, peak {:.0} MiB",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    xlsx_memory(dir.path());
    if std::env::var("PASSERELLE_BENCH_ONLY").is_ok_and(|v| v == "xlsx") {
        return;
    }
    let config_path = setup(dir.path());
    // `PASSERELLE_BENCH_ROWS` changes the size of part 1's list.
    let rows: usize = std::env::var("PASSERELLE_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROWS);
    let list = generate_list(rows);
    println!(
        "list: {rows} rows, {:.1} MB of CSV",
        list.len() as f64 / 1e6
    );

    // 0. Parsing and validation alone.
    let t = Instant::now();
    let file = passerelle::ingest::read_list(&list, &Default::default()).unwrap();
    let n = file.validate().unwrap();
    println!(
        "read_list + validate: {:.2} s for {n} rows",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let typed = file.rows().count();
    println!(
        "second pass (typed rows): {:.2} s for {typed} rows",
        t.elapsed().as_secs_f64()
    );
    drop(file);

    // 1a. In-process: the pipeline alone, on a new store each time (the
    //     machine is a shared VM: the median of a few runs).
    let rss0 = peak_rss_mib();
    let spool_dir = dir.path().join("spool");
    std::fs::create_dir_all(&spool_dir).unwrap();
    // Spooled to temporary files, as uploads are; the bytes themselves
    // are not kept in this process during the runs. One more line per
    // run: on PostgreSQL the runs share one database, where the same
    // content would be a re-upload.
    let spooled: Vec<_> = (0..RUNS)
        .map(|run| {
            let extra = format!(
                "CDP-RUN-{run},2026-10-02,Extra,Une,1 rue Travot,85100,Les Sables-d'Olonne,,prive,SCI,100,\n"
            );
            passerelle::ingest::Spool::from_reader(
                std::io::Read::chain(&list[..], extra.as_bytes()),
                &spool_dir,
                usize::MAX,
            )
            .unwrap()
        })
        .collect();
    let list_mb = list.len() as f64 / 1e6;
    drop(list);
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut app = None;
    let mut rss1 = 0.0;
    for (run, spool) in spooled.iter().enumerate() {
        let config = Config::load(
            &config_path,
            &Overrides {
                listen: Some(([127, 0, 0, 1], 0).into()),
                data: Some(dir.path().join(format!("data-{run}"))),
                database_url: std::env::var("PASSERELLE_BENCH_DATABASE_URL").ok(),
                console_listen: Some(([127, 0, 0, 1], 0).into()),
            },
        )
        .unwrap();
        if let Some(previous) = app.take() {
            let previous: std::sync::Arc<App> = previous;
            previous.store.close().await;
        }
        let a = App::open(config).await.unwrap();
        let actor = Actor::new(
            a.config.partners.get("ddets").unwrap().clone(),
            "bench",
            "bench",
            "POST /v1/lists",
        );
        if run == 0 {
            rss1 = peak_rss_mib();
        }
        let cpu0 = cpu_seconds(std::process::id());
        let t = Instant::now();
        let outcome = passerelle::circuit::lists::accept_list(
            &a,
            &actor,
            // A period per run: on PostgreSQL the runs share one database.
            passerelle::domain::Period::parse(&format!("2025-{:02}", run + 1)).unwrap(),
            spool.clone(),
        )
        .await
        .unwrap();
        times.push(t.elapsed().as_secs_f64());
        cpu.push(cpu_seconds(std::process::id()) - cpu0);
        assert!(matches!(
            outcome,
            passerelle::circuit::lists::ListOutcome::Created(_)
        ));
        app = Some(a);
    }
    let app = app.unwrap();
    let rss2 = peak_rss_mib();
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "accept_list in-process ({:?}): median {:.2} s over {RUNS} runs ({} s) — validate, pseudonymise, seal, store {rows} cases, build and encrypt CAF's file, audit",
        app.store.backend(),
        times[RUNS / 2],
        shown.join(", ")
    );
    cpu.sort_by(f64::total_cmp);
    println!(
        "  CPU used by the process per acceptance: median {:.2} s (both cores busy when it nears twice the wall time)",
        cpu[RUNS / 2]
    );
    println!(
        "peak RSS: {rss1:.0} MiB before, {rss2:.0} MiB after (+{:.0} MiB for a {list_mb:.1} MB file; process start {rss0:.0} MiB)",
        rss2 - rss1,
    );

    if std::env::args().any(|a| a == "pipeline") {
        return; // `cargo bench --bench gateway -- pipeline`: part 1a only
    }

    // 1b. Over HTTPS with mutual TLS (another period: a new list).
    let server = passerelle::http::start(app.clone()).await.unwrap();
    let base = format!("https://127.0.0.1:{}", server.addr.port());
    let certs = dir.path().join("certs-example");
    let read = |n: &str| std::fs::read(certs.join(n)).unwrap();
    let ddets = passerelle::client::GatewayClient::new(
        &base,
        &read("ca.crt"),
        Some(&read("ddets.crt")),
        Some(&read("ddets.key")),
    )
    .unwrap();
    let mut list2 = generate_list(ROWS);
    list2.extend_from_slice(b"CDP-B-EXTRA,2026-11-02,Extra,Une,1 rue Travot,85100,Les Sables-d'Olonne,,prive,SCI,100,\n");
    let t = Instant::now();
    let (status, _) = ddets.push_list("2026-11", "text/csv", list2).await.unwrap();
    assert_eq!(status, 201);
    println!(
        "POST /v1/lists over mTLS: {:.2} s for {} rows",
        t.elapsed().as_secs_f64(),
        ROWS + 1
    );
    server.shutdown(Duration::from_secs(5)).await;
    app.store.close().await;

    // 2. Handshake CPU on a separate server process.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["serve", "--config"])
        .arg(&config_path)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path().join("data-hs"))
        .env("RUST_LOG", "error")
        // As deploy/passerelle.service runs it.
        .env("MALLOC_ARENA_MAX", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    passerelle::tls::install_crypto_provider();
    let mut cfg = passerelle::tls::client_config(
        &read("ca.crt"),
        Some(&read("caf.crt")),
        Some(&read("caf.key")),
    )
    .unwrap();
    cfg.resumption = rustls::client::Resumption::disabled();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    // Warm-up, then measure.
    for round in 0..2 {
        let n = if round == 0 { 20 } else { HANDSHAKES };
        let cpu0 = cpu_seconds(child.id());
        let t = Instant::now();
        for _ in 0..n {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let mut tls = connector.connect(name.clone(), tcp).await.unwrap();
            tokio::io::AsyncWriteExt::shutdown(&mut tls).await.unwrap();
            let mut buf = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut buf).await;
        }
        if round == 1 {
            // Let the server finish closing the last connections.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let cpu = cpu_seconds(child.id()) - cpu0;
            println!(
                "mTLS handshakes: {n} full handshakes (TLS 1.3, ECDSA P-256, X25519, client certificate verified against CA + CRL) in {:.2} s; server CPU {:.2} ms per handshake",
                t.elapsed().as_secs_f64(),
                cpu * 1000.0 / n as f64
            );
        }
    }

    // 3. The server's memory against the list's size: lists of growing
    //    size uploaded over mutual TLS to the same `passerelle serve`
    //    process; its peak resident size after each.
    let ddets = passerelle::client::GatewayClient::new(
        &format!("https://127.0.0.1:{port}"),
        &read("ca.crt"),
        Some(&read("ddets.crt")),
        Some(&read("ddets.key")),
    )
    .unwrap();
    let status = |pid: u32, key: &str| -> f64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    println!(
        "server before any list: peak RSS {:.0} MiB",
        status(child.id(), "VmHWM:")
    );
    for (rows, period) in [
        (10_000, "2026-05"),
        (50_000, "2026-06"),
        (100_000, "2026-07"),
        (200_000, "2026-08"),
    ] {
        let body = generate_list(rows);
        let mb = body.len() as f64 / 1e6;
        let t = Instant::now();
        let (code, _) = ddets.push_list(period, "text/csv", body).await.unwrap();
        assert_eq!(code, 201);
        println!(
            "server after a {rows}-row list ({mb:.1} MB, {:.2} s): peak RSS {:.0} MiB, now {:.0} MiB",
            t.elapsed().as_secs_f64(),
            status(child.id(), "VmHWM:"),
            status(child.id(), "VmRSS:")
        );
    }
}

/// Stops the server process even when the benchmark panics.
struct KillOnDrop(std::process::Child);

impl KillOnDrop {
    fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
