//! The console in a real browser: headless Chromium (through
//! `chromedriver`, WebDriver over plain HTTP on 127.0.0.1) presents a
//! person's certificate imported from its `.p12`, renders each page, saves
//! a screenshot of it under `target/screenshots/` and runs axe-core on it:
//! no serious or critical violation.
//!
//! Needs `chromium`, `chromedriver`, `certutil`/`pk12util` (libnss3-tools)
//! and axe-core (`npm install --prefix target/npm axe-core@4`, or
//! `PASSERELLE_AXE_JS`); skipped with a message without them, unless
//! `PASSERELLE_REQUIRE_CHROMIUM=1` (CI).
//!
//! The WebDriver calls are a few JSON requests over the reqwest the suite
//! already has (DESIGN.md, decision log: no WebDriver crate for five
//! endpoints).

use crate::helpers::{Db, TestApp, repo, sample, spawn_app};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// axe-core's script, if installed.
fn axe_js() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PASSERELLE_AXE_JS") {
        return Some(PathBuf::from(p));
    }
    let p = repo().join("target/npm/node_modules/axe-core/axe.min.js");
    p.is_file().then_some(p)
}

/// What the browser test needs, or why it is skipped.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    axe: String,
}

fn tools() -> Result<Tools, String> {
    let chromium = on_path("chromium")
        .or_else(|| on_path("chromium-browser"))
        .ok_or("chromium is not on PATH (apt-get install chromium)")?;
    let chromedriver = on_path("chromedriver")
        .ok_or("chromedriver is not on PATH (apt-get install chromium-driver)")?;
    for t in ["certutil", "pk12util"] {
        on_path(t).ok_or(format!(
            "{t} is not on PATH (apt-get install libnss3-tools)"
        ))?;
    }
    let axe =
        axe_js().ok_or("axe-core is not installed (npm install --prefix target/npm axe-core@4)")?;
    let axe = std::fs::read_to_string(&axe).map_err(|e| format!("{}: {e}", axe.display()))?;
    Ok(Tools {
        chromium,
        chromedriver,
        axe,
    })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `HOME` whose NSS database trusts the test's CA and holds `person`'s
/// certificate and key, imported from their `.p12` as a person would.
fn nss_home(app: &TestApp, person: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join(".pki/nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let db_arg = format!("sql:{}", db.display());
    run(Command::new("certutil").args(["-N", "-d", &db_arg, "--empty-password"]));
    run(Command::new("certutil")
        .args([
            "-A",
            "-d",
            &db_arg,
            "-n",
            "passerelle-ca",
            "-t",
            "C,,",
            "-i",
        ])
        .arg(app.certs().join("ca.crt")));
    run(Command::new("pk12util")
        .args([
            "-d",
            &db_arg,
            "-W",
            passerelle::tls::devpki::P12_PASSWORD,
            "-i",
        ])
        .arg(app.certs().join(format!("person-{person}.p12"))));
    home
}

/// A chromedriver and its one browser session; killed (with the browser,
/// its process group) when dropped.
struct Driver {
    child: Child,
    http: reqwest::Client,
    url: String,
    _home: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(tools: &Tools, app: &TestApp, person: &str) -> Driver {
        use std::os::unix::process::CommandExt;
        let home = nss_home(app, person);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .env("HOME", home.path())
            .env("TMPDIR", home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut d = Driver {
            child,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            url: format!("http://127.0.0.1:{port}"),
            _home: home,
        };
        for _ in 0..200 {
            if d.http.get(format!("{}/status", d.url)).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = d._home.path().join("profile");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "timeouts": {"pageLoad": 20000, "script": 30000},
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=fr-FR",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display())],
                "prefs": {"profile.content_settings.exceptions.auto_select_certificate": {
                    "https://127.0.0.1,*": {"setting": {"filters": [
                        {"ISSUER": {"CN": passerelle::tls::devpki::DEV_CA_CN}}]}}}}
            }
        }}});
        let r = d.call("POST", "/session", Some(caps)).await;
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        d.url = format!("{}/session/{id}", d.url);
        d
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url);
        let req = match method {
            "POST" => self
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body.unwrap_or(json!({})).to_string()),
            "DELETE" => self.http.delete(url),
            _ => self.http.get(url),
        };
        let text = req.send().await.unwrap().text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(
            v["value"]["error"].is_null(),
            "WebDriver {method} {path}: {text}"
        );
        v
    }

    /// Opens `url`, returns the page's title.
    async fn open(&self, url: &str) -> String {
        self.call("POST", "/url", Some(json!({"url": url}))).await;
        self.call("GET", "/title", None).await["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn screenshot(&self, to: &Path) {
        use base64::Engine;
        let v = self.call("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v["value"].as_str().unwrap())
            .unwrap();
        std::fs::write(to, png).unwrap();
    }

    /// axe-core's violations on the page: `(id, impact, help, nodes)`.
    async fn axe(&self, axe: &str) -> Vec<Value> {
        let script = format!(
            "const done = arguments[arguments.length - 1];\n{axe}\n\
             axe.run(document, {{resultTypes: ['violations']}})\
             .then(r => done(JSON.stringify(r.violations.map(v => ({{id: v.id, impact: v.impact, \
             help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}})))))\
             .catch(e => done('error: ' + e));"
        );
        let v = self
            .call(
                "POST",
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        let text = v["value"].as_str().unwrap_or_default();
        serde_json::from_str::<Vec<Value>>(text).unwrap_or_else(|_| panic!("axe: {v}"))
    }

    async fn quit(self) {
        self.call("DELETE", "", None).await;
    }
}

/// The folder of the screenshots.
fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Renders `pages` (`(name, path, expected title start)`) as `person`:
/// screenshot, then axe-core; fails on any serious or critical violation.
async fn check_pages(tools: &Tools, app: &TestApp, person: &str, pages: &[(&str, String, &str)]) {
    let driver = Driver::start(tools, app, person).await;
    let mut failures = Vec::new();
    for (name, path, title) in pages {
        let got = driver.open(&format!("{}{path}", app.console)).await;
        assert!(
            got.starts_with(title),
            "{path}: title {got:?}, expected {title:?}"
        );
        driver
            .screenshot(&screenshots().join(format!("console-{name}.png")))
            .await;
        for v in driver.axe(&tools.axe).await {
            println!("axe on {path}: {v}");
            if matches!(v["impact"].as_str(), Some("serious" | "critical")) {
                failures.push(format!("{path}: {v}"));
            }
        }
    }
    driver.quit().await;
    assert!(failures.is_empty(), "axe-core: {failures:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_renders_in_chromium_and_passes_axe() {
    let tools = match tools() {
        Ok(t) => t,
        Err(why) => {
            if std::env::var("PASSERELLE_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
                panic!("PASSERELLE_REQUIRE_CHROMIUM=1 but {why}");
            }
            println!("SKIPPED (console in Chromium): {why}");
            return;
        }
    };
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    // A month under way: a list, a concertation opened, one decision.
    let (status, body) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201, "{body}");
    // CAF's enrichment for every household: they wait for the
    // concertation in the members' scopes.
    let (_, _, plain) = app.caf_file().await;
    let mut ret = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    for r in crate::helpers::csv_records(&plain).iter().skip(1) {
        ret.push_str(&format!("{},oui,1984-03-12,1,2,4;9,oui,non\n", r[0]));
    }
    let (status, body) = crate::circuit::push_return(&app, "caf", "enrichment", &ret).await;
    assert_eq!(status, 201, "{body}");
    let ddets = app.client("ddets");
    let (status, agenda) = ddets
        .post_json("/v1/concertations", &json!({"date": "2026-10-05"}))
        .await
        .unwrap();
    assert_eq!(status, 201, "{agenda}");
    let id = agenda["concertation_id"].as_str().unwrap().to_owned();
    let token = agenda["agenda"][0]["token"].as_str().unwrap().to_owned();
    let (status, r) = ddets
        .post_json(
            &format!("/v1/concertations/{id}/decisions"),
            &json!({"decisions": [{"token": token, "organisme": "ccas-sables"}]}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{r}");
    // EXPLOC's events for the month's first households: summonses with a
    // hearing in ten days (the alerts), steps for the figures.
    let hearing = (time::OffsetDateTime::now_utc().date() + time::Duration::days(10)).to_string();
    let mut explo = String::from(
        "ref_procedure,etape,date_etape,nom,prenom,adresse,code_postal,commune,date_audience,ref_cdp\n",
    );
    for i in 1..=5 {
        explo.push_str(&format!(
            "EXP-{i},assignation,2026-09-25,X,Y,1 rue,85100,Olonne,{hearing},CDP-202609-0000{i}\n"
        ));
    }
    explo.push_str("EXP-1,jugement_delais,2026-10-20,X,Y,1 rue,85100,Olonne,,CDP-202609-00001\n");
    let (status, r) = ddets
        .push_procedures("2026-10", "text/csv", explo.as_bytes().to_vec())
        .await
        .unwrap();
    assert_eq!(status, 201, "{r}");

    check_pages(
        &tools,
        &app,
        "sec-ddets",
        &[
            ("accueil", "/".into(), "Accueil"),
            ("listes", "/listes".into(), "Listes"),
            ("concertations", "/concertations".into(), "Concertations"),
            (
                "agenda",
                format!("/concertations/{id}"),
                "Concertation du 05/10/2026",
            ),
            ("alertes", "/alertes".into(), "Alertes"),
            (
                "chiffres",
                "/chiffres?du=2026-09-01&au=2026-09-30".into(),
                "Chiffres",
            ),
            ("introuvable", "/nulle-part".into(), "Page introuvable"),
        ],
    )
    .await;
    // The CCAS's social worker: its scope before the concertation, the
    // dossier attributed to it, its alerts.
    check_pages(
        &tools,
        &app,
        "ref-ccas",
        &[
            ("perimetre", "/perimetre".into(), "Périmètre"),
            ("dossiers", "/dossiers".into(), "Dossiers"),
            ("alertes-referent", "/alertes".into(), "Alertes"),
        ],
    )
    .await;
    // The DPO: the log, its anomalies and filters; the record.
    check_pages(
        &tools,
        &app,
        "dpo",
        &[
            ("accueil-dpo", "/".into(), "Accueil"),
            ("journal", "/journal".into(), "Journal des accès"),
            (
                "journal-filtre",
                "/journal?personne=sec-ddets&resultat=ok".into(),
                "Journal des accès",
            ),
            ("registre", "/registre".into(), "Registre des traitements"),
        ],
    )
    .await;
    // A landlord's social worker on the secretariat's page: the French
    // refusal page, accessible too.
    check_pages(
        &tools,
        &app,
        "cesf-vh",
        &[("refus", "/concertations".into(), "Accès refusé")],
    )
    .await;
    app.stop().await;
}
