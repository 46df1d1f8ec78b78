//! The command line as scripts call it: `dev-certs`, `check-config`, `demo`,
//! run on the built binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn passerelle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(args)
        .env_remove("PASSERELLE_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the passerelle binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A copy of `config/` and `certs-example/`, same relative layout.
fn config_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("config"), &dir.path().join("config"));
    copy_dir(
        &repo().join("certs-example"),
        &dir.path().join("certs-example"),
    );
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn dev_certs_writes_the_whole_development_pki() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pki");
    let o = passerelle(&["dev-certs", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut expected = vec![
        "ca.crt".to_owned(),
        "server.crt".to_owned(),
        "server.key".to_owned(),
        "crl.pem".to_owned(),
        "gateway.agepub".to_owned(),
    ];
    for id in passerelle::tls::devpki::EXAMPLE_PARTNERS {
        for ext in ["crt", "key", "agekey"] {
            expected.push(format!("{id}.{ext}"));
        }
    }
    for f in &expected {
        let p = out.join(f);
        assert!(p.is_file(), "{f} missing");
        assert!(std::fs::metadata(&p).unwrap().len() > 0, "{f} is empty");
    }
    let recipient = std::fs::read_to_string(out.join("gateway.agepub")).unwrap();
    assert!(recipient.trim().starts_with("age1"), "{recipient}");
    assert!(
        text(&o.stdout).contains(recipient.trim()),
        "the recipient is printed"
    );
    for id in passerelle::tls::devpki::EXAMPLE_PARTNERS {
        let key = std::fs::read_to_string(out.join(format!("{id}.agekey"))).unwrap();
        assert!(
            key.contains("AGE-SECRET-KEY-1"),
            "{id}.agekey is in age-keygen's format"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(out.join(format!("{id}.key")))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o077, 0, "{id}.key is readable by others ({mode:o})");
    }
    assert!(
        std::fs::read_to_string(out.join("ca.crt"))
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(
        std::fs::read_to_string(out.join("crl.pem"))
            .unwrap()
            .contains("BEGIN X509 CRL")
    );
}

#[test]
fn dev_certs_output_is_a_working_configuration() {
    // A fresh PKI in place of certs-example/ is accepted by check-config.
    let dir = config_copy();
    std::fs::remove_dir_all(dir.path().join("certs-example")).unwrap();
    let o = passerelle(&[
        "dev-certs",
        "--out",
        dir.path().join("certs-example").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = passerelle(&[
        "check-config",
        "--config",
        dir.path().join("config/passerelle.toml").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

#[test]
fn check_config_accepts_the_example_configuration() {
    let config = repo().join("config/passerelle.toml");
    let o = passerelle(&["check-config", "--config", config.to_str().unwrap()]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    assert!(text(&o.stdout).contains("OK"), "{}", text(&o.stdout));
}

/// Runs check-config on a copy broken by `breaks`, expects a failure whose
/// stderr names every string of `names`.
fn refuses(breaks: impl FnOnce(&Path), names: &[&str]) {
    let dir = config_copy();
    breaks(dir.path());
    let config = dir.path().join("config/passerelle.toml");
    let o = passerelle(&["check-config", "--config", config.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert!(!o.status.success(), "accepted; stdout: {}", text(&o.stdout));
    assert_ne!(o.status.code(), Some(0));
    for n in names {
        assert!(err.contains(n), "stderr does not name {n:?}: {err}");
    }
}

#[test]
fn check_config_refuses_an_unknown_key_naming_file_and_key() {
    refuses(
        |d| {
            let p = d.join("config/passerelle.toml");
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, format!("listen_adress = \"0.0.0.0:8443\"\n{text}")).unwrap();
        },
        &["passerelle.toml", "listen_adress"],
    );
    refuses(
        |d| {
            edit(
                &d.join("config/passerelle.toml"),
                "burst = 60",
                "burst = 60\nmax_burst = 3",
            )
        },
        &["passerelle.toml", "max_burst"],
    );
}

#[test]
fn check_config_refuses_a_missing_partners_file_naming_it() {
    refuses(
        |d| std::fs::remove_file(d.join("config/partners.toml")).unwrap(),
        &["partners.toml"],
    );
}

#[test]
fn check_config_refuses_a_partner_without_recipient_naming_file_and_key() {
    refuses(
        |d| {
            edit(
                &d.join("config/partners.toml"),
                "recipients_file = \"../certs-example/caf.agepub\"\n",
                "",
            )
        },
        &["partners.toml", "caf", "recipients"],
    );
}

#[test]
fn check_config_refuses_a_view_field_without_purpose_naming_file_and_key() {
    refuses(
        |d| {
            edit(
                &d.join("config/policy.toml"),
                "{ name = \"adresse\", purpose = \"distinguer les homonymes dans les fichiers de la CAF\" }",
                "{ name = \"adresse\" }",
            )
        },
        &["policy.toml", "views.enrichment.fields.adresse", "purpose"],
    );
}

#[test]
fn check_config_refuses_an_unknown_role_naming_file_and_key() {
    refuses(
        |d| {
            edit(
                &d.join("config/partners.toml"),
                "roles = [\"source\", \"secretariat\"]",
                "roles = [\"source\", \"secretary\"]",
            )
        },
        &["partners.toml", "ddets", "roles", "secretary"],
    );
}

#[test]
fn demo_runs_the_circuit_and_says_what_happened() {
    let config = repo().join("config/passerelle.toml");
    let o = passerelle(&["demo", "--config", config.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert!(
        o.status.success(),
        "stdout: {out}\nstderr: {}",
        text(&o.stderr)
    );
    assert!(out.contains("25 rows accepted"), "{out}");
    assert!(out.contains("HTTP 200"), "the duplicate upload: {out}");
    assert!(out.contains("HTTP 404"), "mdsf fetching CAF's file: {out}");
    assert!(
        out.contains("token,nom,prenom,adresse,code_postal,commune"),
        "{out}"
    );
    // EXPLOC's export: linked, routed, and the table per parcours.
    assert!(
        out.contains("10 events, 8 linked to a CDP of the circuit, 2 outside it"),
        "{out}"
    );
    assert!(out.contains("mdsf: a procedure file with"), "{out}");
    for parcours in ["contacte", "attribue_non_joint", "non_traite", "en_attente"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(parcours) && l.contains("CDP  summoned")),
            "{parcours}: {out}"
        );
    }
}

#[test]
fn demo_can_leave_the_gateway_and_its_console_running_on_its_month() {
    use std::io::BufRead;
    let config = repo().join("config/passerelle.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args([
            "demo",
            "--keep-running",
            "--console-listen",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut printed = String::new();
    let port = loop {
        let line = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!("the demo did not say where its console is:\n{printed}");
            }
        };
        printed.push_str(&line);
        printed.push('\n');
        if let Some(at) = line.find("console https://localhost:") {
            let rest = &line[at + "console https://localhost:".len()..];
            break rest[..rest.find('/').unwrap()].parse::<u16>().unwrap();
        }
    };
    // The rest of the instructions: the CA to trust, the .p12 and its password.
    for _ in 0..6 {
        if let Ok(l) = rx.recv_timeout(std::time::Duration::from_secs(5)) {
            printed.push_str(&l);
            printed.push('\n');
        }
    }
    assert!(printed.contains("person-sec-ddets.p12"), "{printed}");
    assert!(printed.contains("password: passerelle"), "{printed}");
    let certs = repo().join("certs-example");
    let read = |n: &str| std::fs::read(certs.join(n)).unwrap();
    passerelle::tls::install_crypto_provider();
    let tls = passerelle::tls::client_config(
        &read("ca.crt"),
        Some(&read("person-sec-ddets.crt")),
        Some(&read("person-sec-ddets.key")),
    )
    .unwrap();
    let pages = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .build()
            .unwrap();
        let mut out = Vec::new();
        for path in ["/", "/concertations"] {
            let r = http
                .get(format!("https://127.0.0.1:{port}{path}"))
                .send()
                .await
                .unwrap();
            out.push((r.status().as_u16(), r.text().await.unwrap()));
        }
        out
    });
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let mut stopped = None;
    for _ in 0..200 {
        if let Some(s) = child.try_wait().unwrap() {
            stopped = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let Some(status) = stopped else {
        let _ = child.kill();
        panic!("the demo did not stop on Ctrl-C");
    };
    assert!(status.success(), "{status}");
    assert_eq!(pages[0].0, 200, "{}", pages[0].1);
    assert!(pages[0].1.contains("Camille Roux"), "{}", pages[0].1);
    assert_eq!(pages[1].0, 200, "{}", pages[1].1);
    assert!(
        pages[1].1.contains("Voir l'ordre du jour"),
        "the demo's concertation: {}",
        pages[1].1
    );
}

#[test]
fn demo_runs_from_a_fresh_checkout_where_key_files_are_not_0600() {
    // git does not keep file modes other than 644/755: a clone has
    // certs-example/*.agekey readable by others. The README's first
    // command (`cargo run --release -- demo`) must still work.
    let dir = config_copy();
    for entry in std::fs::read_dir(dir.path().join("certs-example")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
    }
    let config = dir.path().join("config/passerelle.toml");
    let o = passerelle(&["demo", "--config", config.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert!(
        o.status.success(),
        "stdout: {out}\nstderr: {}",
        text(&o.stderr)
    );
    assert!(out.contains("25 rows accepted"), "{out}");
}

#[test]
fn check_config_refuses_a_person_with_more_than_their_partners_roles() {
    // A CCAS social worker given the DPO's role, and a person whose
    // certificate name is a partner's (it would open the API as that
    // partner): both named at once.
    refuses(
        |d| {
            let people = d.join("config/people.toml");
            edit(
                &people,
                "roles = [\"member\", \"referent\"]\ncertificate = { cn = \"person-ref-ccas\" }",
                "roles = [\"member\", \"dpo\"]\ncertificate = { cn = \"person-ref-ccas\" }",
            );
            edit(
                &people,
                "certificate = { cn = \"person-dpo\" }",
                "certificate = { cn = \"dpo\" }",
            );
        },
        &[
            "people.toml",
            "ref-ccas",
            "\"dpo\" is not a role of partner \"ccas-sables\"",
            "\"dpo\" is a partner's certificate name",
        ],
    );
}
