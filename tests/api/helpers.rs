//! `spawn_app()`: a real gateway on 127.0.0.1 port 0, a fresh development
//! PKI, fresh keys and a fresh database (SQLite in a temporary folder, or a
//! new PostgreSQL database when `PASSERELLE_TEST_POSTGRES_URL` is set).

use passerelle::app::App;
use passerelle::client::GatewayClient;
use passerelle::config::{Config, Overrides};
use passerelle::http::RunningServer;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

/// The example partners.
pub const PARTNERS: &[&str] = passerelle::tls::devpki::EXAMPLE_PARTNERS;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// Embedded SQLite in the test's folder.
    Sqlite,
    /// A fresh database on the server named by `PASSERELLE_TEST_POSTGRES_URL`.
    Postgres,
}

/// A running gateway and what a test needs to talk to it.
pub struct TestApp {
    /// The test's folder: config/, certs-example/, data/.
    pub dir: TempDir,
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// The address.
    pub addr: std::net::SocketAddr,
    /// The console's `https://127.0.0.1:PORT`.
    pub console: String,
    /// The gateway's state (store, keys) for checks behind the API.
    pub app: Arc<App>,
    server: Option<RunningServer>,
    #[allow(dead_code)] // read by restart_after, which tests/client.rs uses
    database_url: Option<String>,
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_test_writer()
            .try_init();
    }
}

/// The repository's folder.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A sample file's bytes.
pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/samples").join(name)).expect("sample present")
}

/// A fresh PostgreSQL database URL, or `None` (with a line saying the test
/// is skipped) when no server is configured. `PASSERELLE_REQUIRE_POSTGRES=1`
/// (set by CI) turns the skip into a failure.
pub async fn postgres_url() -> Option<String> {
    let Ok(admin) = std::env::var("PASSERELLE_TEST_POSTGRES_URL") else {
        if std::env::var("PASSERELLE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("PASSERELLE_REQUIRE_POSTGRES=1 but PASSERELLE_TEST_POSTGRES_URL is not set");
        }
        eprintln!(
            "SKIPPED (PostgreSQL): set PASSERELLE_TEST_POSTGRES_URL=postgres://user:pass@127.0.0.1:5432/postgres to run it"
        );
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("passerelle_test_{}", hex::encode(rand::random::<[u8; 8]>()));
    let pool = sqlx::AnyPool::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .expect("CREATE DATABASE (the test role needs CREATEDB)");
    pool.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Some(format!("{base}/{name}"))
}

/// Lays out in `dir` what a gateway's site holds: a copy of the example
/// `config/` and a fresh development PKI in `certs-example/`, at the same
/// relative places as in the repository.
pub fn lay_out_site(dir: &Path) {
    let config_dir = dir.join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    for f in passerelle::config::FILES {
        std::fs::copy(repo().join("config").join(f), config_dir.join(f)).unwrap();
    }
    passerelle::tls::devpki::generate(&dir.join("certs-example"), PARTNERS)
        .expect("development PKI");
}

/// Starts a gateway on the example configuration.
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, |_| {}).await
}

/// Starts a gateway after letting `tweak` edit the test's files (its
/// argument is the test folder, holding `config/` and `certs-example/`).
pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&Path)) -> Option<TestApp> {
    init_logs();
    let database_url = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(postgres_url().await?),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    lay_out_site(dir.path());
    let main = dir.path().join("config/passerelle.toml");
    tweak(dir.path());
    let overrides = Overrides {
        listen: Some(([127, 0, 0, 1], 0).into()),
        data: Some(dir.path().join("data")),
        database_url: database_url.clone(),
        console_listen: Some(([127, 0, 0, 1], 0).into()),
    };
    let config = Config::load(&main, &overrides).expect("example configuration loads");
    let app = App::open(config).await.expect("gateway opens");
    let server = passerelle::http::start(app.clone())
        .await
        .expect("server starts");
    let addr = server.addr;
    let console_port = server.console_addr.expect("console listener").port();
    Some(TestApp {
        base: format!("https://127.0.0.1:{}", addr.port()),
        console: format!("https://127.0.0.1:{console_port}"),
        addr,
        dir,
        app,
        server: Some(server),
        database_url,
    })
}

impl TestApp {
    /// Stops the gateway, waits `down`, and starts it again on the same
    /// address with the same data (a gateway restart seen by its clients).
    #[allow(dead_code)] // used by tests/client.rs
    pub async fn restart_after(&mut self, down: std::time::Duration) {
        if let Some(s) = self.server.take() {
            s.shutdown(std::time::Duration::from_secs(5)).await;
        }
        self.app.store.close().await;
        tokio::time::sleep(down).await;
        let overrides = Overrides {
            listen: Some(self.addr),
            data: Some(self.dir.path().join("data")),
            database_url: self.database_url.clone(),
            console_listen: Some(([127, 0, 0, 1], 0).into()),
        };
        let config = Config::load(&self.config_path(), &overrides).expect("configuration loads");
        self.app = App::open(config).await.expect("gateway reopens");
        let server = passerelle::http::start(self.app.clone())
            .await
            .expect("server restarts on the same address");
        let console_port = server.console_addr.expect("console listener").port();
        self.console = format!("https://127.0.0.1:{console_port}");
        self.server = Some(server);
    }

    /// The test's development PKI folder.
    pub fn certs(&self) -> PathBuf {
        self.dir.path().join("certs-example")
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.certs().join(name)).unwrap()
    }

    /// A client presenting `id`'s certificate (`id` may also be `revoked`
    /// or `intrus`).
    pub fn client(&self, id: &str) -> GatewayClient {
        GatewayClient::new(
            &self.base,
            &self.read("ca.crt"),
            Some(&self.read(&format!("{id}.crt"))),
            Some(&self.read(&format!("{id}.key"))),
        )
        .unwrap()
    }

    /// A client presenting the given PEM certificate and key, or none.
    pub fn client_with(&self, cert_key: Option<(&[u8], &[u8])>) -> GatewayClient {
        GatewayClient::new(
            &self.base,
            &self.read("ca.crt"),
            cert_key.map(|c| c.0),
            cert_key.map(|c| c.1),
        )
        .unwrap()
    }

    /// A partner's age identity file.
    pub fn identity_path(&self, id: &str) -> PathBuf {
        self.certs().join(format!("{id}.agekey"))
    }

    /// A partner's age identity.
    pub fn identity(&self, id: &str) -> age::x25519::Identity {
        let text = std::fs::read_to_string(self.identity_path(id)).unwrap();
        passerelle::config::secrets::parse_age_identity(&text).unwrap()
    }

    /// The gateway's age recipient.
    pub fn gateway_recipient(&self) -> age::x25519::Recipient {
        self.app.identity.to_public()
    }

    /// Uploads a list as DDETS: (status, JSON).
    pub async fn push_list(
        &self,
        period: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        self.client("ddets")
            .push_list(period, content_type, body)
            .await
            .unwrap()
    }

    /// Runs a SQL count on the store.
    pub async fn count(&self, sql: &'static str) -> i64 {
        let row = sqlx::query(sql)
            .fetch_one(self.app.store.pool())
            .await
            .unwrap();
        sqlx::Row::try_get(&row, 0).unwrap()
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown(std::time::Duration::from_secs(5)).await;
        }
        self.app.store.close().await;
    }

    /// The config folder path.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config/passerelle.toml")
    }

    /// Runs `passerelle audit … report` for today, as the DPO would on the
    /// server, and gives its exit status, stderr and the page.
    pub async fn dpo_report(&self) -> (Option<i32>, String, String) {
        let out = self.dir.path().join("report.html");
        let url = self.app.config.gateway.storage.url();
        let config = self.config_path();
        let data = self.dir.path().join("data");
        let page = out.clone();
        let r = tokio::task::spawn_blocking(move || {
            let today = time::OffsetDateTime::now_utc().date().to_string();
            std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"))
                .args(["audit", "--config"])
                .arg(&config)
                .arg("--data")
                .arg(&data)
                .arg("--database-url")
                .arg(&url)
                .args(["report", "--from", &today, "--to", &today, "--out"])
                .arg(&out)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let html = std::fs::read_to_string(&page).unwrap_or_default();
        (
            r.status.code(),
            String::from_utf8_lossy(&r.stderr).into_owned(),
            html,
        )
    }
}

/// Decrypts with an identity (test side: the `age` crate).
pub fn decrypt(ct: &[u8], id: &age::x25519::Identity) -> Vec<u8> {
    passerelle::ingest::envelope::open(ct, id, 1 << 30).expect("decrypts")
}

/// Whether the `age` CLI is installed; prints a skip line when not.
pub fn age_cli() -> bool {
    let ok = std::process::Command::new("age")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("PASSERELLE_REQUIRE_AGE_CLI").is_ok_and(|v| v == "1") {
            panic!("PASSERELLE_REQUIRE_AGE_CLI=1 but the age CLI is not installed");
        }
        eprintln!("SKIPPED (age CLI): install `age` to run the CLI interoperability checks");
    }
    ok
}

/// Replaces `from` by `to` in a file of the test folder (panics when absent,
/// so a tweak never silently does nothing).
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Runs both variants of a test: `both!(name, body_fn)`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Db::Postgres).await
            }
        }
    };
}

/// The JSON body of a raw response, with its status (`Null` when the body
/// is not JSON).
pub async fn status_json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// The stable machine code of an error body (`""` when there is none).
pub fn code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The columns of the list table, in the contract's order.
pub const LIST_HEADER: &str = "ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,telephone,courriel,bailleur_type,bailleur_nom,montant_dette,loyer_mensuel,commissaire_justice";

/// A valid CSV list of invented rows, each given as
/// `[ref_cdp, nom, prenom, code_postal]`; every other cell is a plain valid
/// value (social landlord, 1000 € of debt, no phone or e-mail).
pub fn list_csv(rows: &[[&str; 4]]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(LIST_HEADER.split(',')).unwrap();
    for (i, [ref_cdp, nom, prenom, code_postal]) in rows.iter().enumerate() {
        let adresse = format!("{} rue Travot", i + 1);
        w.write_record([
            *ref_cdp,
            "2026-10-01",
            *nom,
            *prenom,
            &adresse,
            *code_postal,
            "Les Sables-d'Olonne",
            "",
            "",
            "social",
            "Vendée Habitat",
            "1000",
            "",
            "",
        ])
        .unwrap();
    }
    w.into_inner().unwrap()
}

/// The records of a CSV text (header first).
pub fn csv_records(text: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// SHA-256, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

impl TestApp {
    /// A raw `GET path` as `id`.
    pub async fn get(&self, id: &str, path: &str) -> reqwest::Response {
        let c = self.client(id);
        c.http().get(c.url(path)).send().await.unwrap()
    }

    /// A raw `POST path` (empty body) as `id`.
    pub async fn post(&self, id: &str, path: &str) -> reqwest::Response {
        let c = self.client(id);
        c.http().post(c.url(path)).send().await.unwrap()
    }

    /// CAF's only waiting file: its id, ciphertext and plaintext.
    pub async fn caf_file(&self) -> (String, Vec<u8>, Vec<u8>) {
        let caf = self.client("caf");
        let files = caf.outbox().await.unwrap();
        assert_eq!(files.len(), 1, "CAF has one file waiting");
        let ct = caf.download(&files[0].file_id).await.unwrap();
        let plain = decrypt(&ct, &self.identity("caf"));
        (files[0].file_id.clone(), ct, plain)
    }

    /// The text columns of a query's rows (every selected column must be
    /// text).
    pub async fn texts(&self, sql: &'static str) -> Vec<Vec<String>> {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_all(self.app.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<String, _>(i).unwrap())
                    .collect()
            })
            .collect()
    }
}
