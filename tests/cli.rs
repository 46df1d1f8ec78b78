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
                "{ name = \"adresse\", purpose = \"tell apart namesakes in CAF's files\" }",
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
