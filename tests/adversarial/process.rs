//! The real binary as an attacker or a power cut meets it: `passerelle
//! serve` in a child process on a test site (example configuration, fresh
//! development PKI, its own data folder and database), killed with SIGKILL
//! and started again, its log kept per start.

use crate::helpers::{Db, lay_out_site, postgres_url};
use passerelle::client::GatewayClient;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A site: configuration, PKI, data folder and database, outliving the
/// gateway processes started on it.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    starts: usize,
}

/// One running `passerelle serve`.
pub struct Gateway {
    child: Child,
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// Its standard error (logs), written as it runs.
    pub log: PathBuf,
}

impl Site {
    /// A fresh site, or `None` when the database is PostgreSQL and no
    /// server is configured (the helper says it is skipped).
    pub async fn new(db: Db) -> Option<Site> {
        let database_url = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(postgres_url().await?),
        };
        let dir = tempfile::tempdir().unwrap();
        lay_out_site(dir.path());
        Some(Site {
            dir,
            database_url,
            starts: 0,
        })
    }

    /// `passerelle SUBCOMMAND --config … --data … [--database-url …]`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_passerelle"));
        cmd.args(args)
            .arg("--config")
            .arg(self.dir.path().join("config/passerelle.toml"))
            .arg("--data")
            .arg(self.dir.path().join("data"))
            .env_remove("PASSERELLE_DATABASE_URL");
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        cmd
    }

    /// Starts `serve` on a port of its choosing, with logs at `level`, and
    /// waits (at most a minute) for it to listen.
    pub fn start(&mut self, level: &str) -> Gateway {
        self.starts += 1;
        let log = self.dir.path().join(format!("serve-{}.log", self.starts));
        let child = self
            .command(&[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--console-listen",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", level)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("passerelle serve starts");
        let mut gw = Gateway {
            child,
            base: String::new(),
            log,
        };
        const MARK: &str = "passerelle listening on ";
        for _ in 0..600 {
            let text = std::fs::read_to_string(&gw.log).unwrap_or_default();
            if let Some(at) = text.find(MARK) {
                let rest = &text[at + MARK.len()..];
                gw.base = rest.split_whitespace().next().unwrap().to_owned();
                return gw;
            }
            if let Ok(Some(status)) = gw.child.try_wait() {
                panic!("serve exited with {status}: {text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("serve did not listen within a minute");
    }

    /// The site's PKI folder.
    pub fn certs(&self) -> PathBuf {
        self.dir.path().join("certs-example")
    }

    /// A client of `gw` presenting `id`'s certificate, without retries (a
    /// killed gateway must show as a failed request).
    pub fn client(&self, gw: &Gateway, id: &str) -> GatewayClient {
        let read = |name: &str| std::fs::read(self.certs().join(name)).unwrap();
        let mut c = GatewayClient::new(
            &gw.base,
            &read("ca.crt"),
            Some(&read(&format!("{id}.crt"))),
            Some(&read(&format!("{id}.key"))),
        )
        .unwrap();
        c.set_retries(0);
        c
    }

    /// A partner's age identity.
    pub fn identity(&self, id: &str) -> age::x25519::Identity {
        let text = std::fs::read_to_string(self.certs().join(format!("{id}.agekey"))).unwrap();
        passerelle::config::secrets::parse_age_identity(&text).unwrap()
    }

    /// Saves the gateway's latest signed checkpoint as a partner's client
    /// does (`state/checkpoint`), waiting (at most a minute) for the first.
    pub async fn save_checkpoint(&self, gw: &Gateway) {
        let c = self.client(gw, "caf");
        for _ in 0..600 {
            if let Ok((200, v)) = c.get_json("/v1/audit/checkpoint").await
                && let Some(note) = v["checkpoint"].as_str()
            {
                std::fs::write(self.dir.path().join("checkpoint"), note).unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no signed checkpoint within a minute");
    }

    /// `passerelle audit verify --checkpoint` the last saved checkpoint:
    /// (passed, what it printed).
    pub fn audit_verify(&self) -> (bool, String) {
        let saved = self.dir.path().join("checkpoint");
        let arg = format!("--checkpoint={}", saved.display());
        let out = self.command(&["audit", "verify", &arg]).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// A read connection to the site's database.
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.database_url {
            Some(u) => u.clone(),
            None => format!(
                "sqlite://{}?mode=ro",
                self.dir.path().join("data/passerelle.db").display()
            ),
        };
        sqlx::pool::PoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap()
    }
}

impl Gateway {
    /// SIGKILL, as a power cut or the OOM killer: no shutdown code runs.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.base.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// What it logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}
