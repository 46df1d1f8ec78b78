//! `passerelle client` driven as a partner's cron job would: the real
//! binary against a real gateway over mutual TLS.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::{Db, TestApp, sample, spawn_app};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Writes `client-<id>/client.toml` in the test folder.
fn client_toml(app: &TestApp, id: &str) -> PathBuf {
    let dir = app.dir.path().join(format!("client-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("client.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"gateway  = "{}"
ca       = "../certs-example/ca.crt"
cert     = "../certs-example/{id}.crt"
key      = "../certs-example/{id}.key"
identity = "../certs-example/{id}.agekey"
inbox    = "inbox"
outbox   = "outbox"
interval_secs = 1
max_retries = 8
"#,
            app.base
        ),
    )
    .unwrap();
    cfg
}

fn client(cfg: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    c.arg("client").arg("--config").arg(cfg).args(args);
    c.env("RUST_LOG", "warn");
    c
}

async fn run(cfg: &Path, args: &[&str]) -> Output {
    let mut c = client(cfg, args);
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn write_old(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
        .unwrap();
}

/// An enrichment return for every row of CAF's file.
fn enrichment_for(inbox_file: &Path) -> String {
    let text = std::fs::read_to_string(inbox_file).unwrap();
    let mut out = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    for line in text.lines().skip(1) {
        let token = line.split(',').next().unwrap();
        out.push_str(&format!("{token},oui,1970-05-04,1,0,,non,non\n"));
    }
    out
}

async fn a_partner_pulls_acknowledges_and_pushes_with_the_client(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ddets = client_toml(&app, "ddets");
    let list = app.dir.path().join("liste.csv");
    std::fs::write(&list, sample("liste-2026-10-excel-fr.csv")).unwrap();
    let o = run(
        &ddets,
        &["push-list", list.to_str().unwrap(), "--period", "2026-10"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("accepted (201)"),
        "{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("pinned"),
        "first use pins the recipient: {}",
        text(&o)
    );
    let pinned =
        std::fs::read_to_string(ddets.parent().unwrap().join("state/gateway.recipient")).unwrap();
    assert_eq!(pinned.trim(), app.gateway_recipient().to_string());

    // EXPLOC's export goes the same way, encrypted to the pinned recipient.
    let explo = app.dir.path().join("procedures.csv");
    std::fs::write(&explo, sample("procedures-2026-12-exploc.csv")).unwrap();
    let o = run(
        &ddets,
        &[
            "push-procedures",
            explo.to_str().unwrap(),
            "--period",
            "2026-12",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("accepted (201)"), "{}", text(&o));
    assert!(out.contains("\"rows\":10"), "{}", text(&o));
    let o = run(
        &ddets,
        &[
            "push-procedures",
            explo.to_str().unwrap(),
            "--period",
            "2026-1",
        ],
    )
    .await;
    assert_ne!(
        o.status.code(),
        Some(0),
        "a bad period is refused: {}",
        text(&o)
    );

    let caf = client_toml(&app, "caf");
    let o = run(&caf, &["pull"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let inbox = caf.parent().unwrap().join("inbox");
    let files = files_in(&inbox);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with("2026-10-enrichment-fil_") && files[0].ends_with(".csv"),
        "{files:?}"
    );
    let got = inbox.join(&files[0]);
    assert_eq!(std::fs::read_to_string(&got).unwrap().lines().count(), 26);
    assert!(
        app.client("caf").outbox().await.unwrap().is_empty(),
        "acknowledged"
    );
    let o = run(&caf, &["pull", "--json"]).await;
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["received"], serde_json::json!([]), "{}", text(&o));

    let ret = caf.parent().unwrap().join("enrichment.csv");
    std::fs::write(&ret, enrichment_for(&got)).unwrap();
    let o = run(
        &caf,
        &["push-return", "enrichment", ret.to_str().unwrap(), "--json"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["status"].as_u64(), v["answer"]["applied"].as_u64()),
        (Some(201), Some(25)),
        "{v}"
    );
    let o = run(
        &caf,
        &[
            "push-return",
            "enrichment",
            ret.to_str().unwrap(),
            "--quiet",
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stdout.is_empty(), "--quiet prints nothing: {}", text(&o));

    let o = run(&caf, &["status", "--json"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        s["waiting"], 1,
        "CAF, a member too, now has its concertation file: {s}"
    );
    assert_eq!(s["certificate"], "caf");
    assert!(s["certificate_days_left"].as_i64().unwrap() > 3000);
    assert!(
        s["last_success"]["pull"].is_string() && s["last_success"]["push"].is_string(),
        "{s}"
    );
    app.stop().await;
}
both!(a_partner_pulls_acknowledges_and_pushes_with_the_client);

async fn a_pull_killed_at_any_point_leaves_every_file_exactly_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // Four files of 3,000 rows each for CAF.
    for m in 1..=4 {
        let mut csv = String::from(
            "ref_cdp,date_cdp,nom,prenom,adresse,code_postal,commune,bailleur_type,bailleur_nom,montant_dette\n",
        );
        for i in 0..3000 {
            csv.push_str(&format!("R{m}-{i},2026-0{m}-05,Nom{i},Prénom{m},{i} rue Travot,85100,Les Sables-d'Olonne,prive,SCI,1200\n"));
        }
        let (status, r) = app
            .push_list(&format!("2026-0{m}"), "text/csv", csv.into_bytes())
            .await;
        assert_eq!(status, 201, "{r}");
    }
    let caf = client_toml(&app, "caf");
    let inbox = caf.parent().unwrap().join("inbox");
    for delay_ms in [5u64, 15, 30, 60, 100, 150, 250, 400] {
        let mut child = client(&caf, &["pull", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let _ = child.kill(); // SIGKILL: no clean-up runs
        let _ = child.wait();
    }
    let o = run(&caf, &["pull"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let files = files_in(&inbox);
    assert_eq!(
        files.len(),
        4,
        "every file exactly once, no temporary file left: {files:?}"
    );
    for f in &files {
        assert!(!f.starts_with(".part-"), "{f}");
        let body = std::fs::read_to_string(inbox.join(f)).unwrap();
        assert_eq!(body.lines().count(), 3001, "{f} is whole");
    }
    let ids: Vec<&str> = files.iter().map(|f| f.split('-').nth(3).unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique);
    assert!(
        app.client("caf").outbox().await.unwrap().is_empty(),
        "all acknowledged"
    );
    app.stop().await;
}
both!(a_pull_killed_at_any_point_leaves_every_file_exactly_once);

async fn the_client_waits_out_a_gateway_restart(db: Db) {
    let Some(mut app) = spawn_app(db).await else {
        return;
    };
    let ddets = client_toml(&app, "ddets");
    let list = app.dir.path().join("liste.csv");
    std::fs::write(&list, sample("liste-2026-09-clean.csv")).unwrap();
    // Pin the recipient while the gateway is up.
    assert_eq!(
        run(&ddets, &["accept-recipient"]).await.status.code(),
        Some(0)
    );
    let child = client(
        &ddets,
        &["push-list", list.to_str().unwrap(), "--period", "2026-09"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The gateway goes down for two seconds while the client is sending.
    app.restart_after(Duration::from_secs(2)).await;
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 1);
    app.stop().await;
}
both!(the_client_waits_out_a_gateway_restart);

async fn an_unreachable_gateway_ends_with_exit_code_2(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let caf = client_toml(&app, "caf");
    let text_cfg = std::fs::read_to_string(&caf).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &caf,
        text_cfg
            .replace(&app.base, &format!("https://127.0.0.1:{port}"))
            .replace("max_retries = 8", "max_retries = 1"),
    )
    .unwrap();
    let o = run(&caf, &["pull"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot reach the gateway"),
        "{}",
        text(&o)
    );
    app.stop().await;
}
both!(an_unreachable_gateway_ends_with_exit_code_2);

async fn watch_sends_returns_and_sets_refused_ones_aside_with_the_errors(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.push_list("2026-10", "text/csv", sample("liste-2026-10-excel-fr.csv"))
        .await;
    let caf = client_toml(&app, "caf");
    let dir = caf.parent().unwrap().to_path_buf();
    // First round: pulls CAF's file.
    let o = run(&caf, &["watch", "--once"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let inbox_file = dir.join("inbox").join(&files_in(&dir.join("inbox"))[0]);
    let outbox = dir.join("outbox");
    write_old(
        &outbox.join("enrichment-2026-10.csv"),
        enrichment_for(&inbox_file).as_bytes(),
    );
    write_old(
        &outbox.join("enrichment-bad.csv"),
        b"token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\nv1-x,peut-etre,,1,0,,non,non\n",
    );
    write_old(&outbox.join("notes.txt"), b"hello");
    // Being written: too fresh, left for a later round.
    std::fs::write(outbox.join("referent-fresh.csv"), b"token,referent_connu\n").unwrap();
    // A long-running watch, stopped by SIGTERM once it has sent.
    let mut child = client(&caf, &["watch", "--interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while files_in(&outbox.join("sent")).is_empty() || files_in(&outbox.join("rejected")).len() < 4
    {
        assert!(
            std::time::Instant::now() < deadline,
            "watch did not process the outbox"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let term = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "watch did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(0), "a clean stop");
    assert_eq!(
        files_in(&outbox.join("sent")),
        vec![
            "enrichment-2026-10.csv",
            "enrichment-2026-10.csv.receipt.json"
        ]
    );
    assert_eq!(
        files_in(&outbox.join("rejected")),
        vec![
            "enrichment-bad.csv",
            "enrichment-bad.csv.errors.json",
            "notes.txt",
            "notes.txt.errors.json"
        ]
    );
    let errors: serde_json::Value = serde_json::from_slice(
        &std::fs::read(outbox.join("rejected/enrichment-bad.csv.errors.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(errors["error"]["code"], "invalid_rows", "{errors}");
    assert_eq!(errors["error"]["details"][0]["line"], 2, "{errors}");
    assert!(
        outbox.join("referent-fresh.csv").exists()
            || outbox.join("rejected/referent-fresh.csv").exists()
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM enrichments").await, 25);
    drop(child);
    app.stop().await;
}
both!(watch_sends_returns_and_sets_refused_ones_aside_with_the_errors);

async fn a_changed_gateway_recipient_stops_the_client_from_sending(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ddets = client_toml(&app, "ddets");
    let state = ddets.parent().unwrap().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let other = age::x25519::Identity::generate().to_public().to_string();
    std::fs::write(state.join("gateway.recipient"), format!("{other}\n")).unwrap();
    let list = app.dir.path().join("liste.csv");
    std::fs::write(&list, sample("liste-2026-09-clean.csv")).unwrap();
    let o = run(
        &ddets,
        &["push-list", list.to_str().unwrap(), "--period", "2026-09"],
    )
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("recipient changed"),
        "{}",
        text(&o)
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM lists").await,
        0,
        "nothing was sent"
    );
    // The operator accepts the new key: sending works again.
    let o = run(&ddets, &["accept-recipient"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(
        &ddets,
        &["push-list", list.to_str().unwrap(), "--period", "2026-09"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 1);
    // A refused list: exit 3 and the line errors on stderr.
    std::fs::write(&list, sample("liste-invalide.csv")).unwrap();
    let o = run(
        &ddets,
        &["push-list", list.to_str().unwrap(), "--period", "2026-10"],
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("line 3 code_postal"),
        "{}",
        text(&o)
    );
    app.stop().await;
}
both!(a_changed_gateway_recipient_stops_the_client_from_sending);

async fn the_client_witnesses_the_log_and_fails_loudly_on_a_fork_or_a_rollback(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let caf = client_toml(&app, "caf");
    let state = caf.parent().unwrap().join("state");
    let o = run(&caf, &["status", "--json"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["audit_log_size"][0], 0, "first run: nothing seen before");
    app.push_list("2026-10", "text/csv", sample("liste-2026-10-excel-fr.csv"))
        .await;
    // The log grew: consistent with what was seen.
    let o = run(&caf, &["pull"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let seen = std::fs::read_to_string(state.join("checkpoint")).unwrap();
    let size: u64 = seen.lines().nth(1).unwrap().parse().unwrap();
    // Rollback: the client once saw a longer log than the gateway shows now.
    std::fs::write(
        state.join("checkpoint"),
        app.app.signer.sign(size + 1000, &[7u8; 32]),
    )
    .unwrap();
    let o = run(&caf, &["pull"]).await;
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ROLLBACK"),
        "{}",
        text(&o)
    );
    // Fork: the client saw another log of a smaller size.
    std::fs::write(
        state.join("checkpoint"),
        app.app.signer.sign(size - 1, &[7u8; 32]),
    )
    .unwrap();
    let o = run(&caf, &["pull"]).await;
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("FORK"),
        "{}",
        text(&o)
    );
    // A checkpoint signed by another key is refused too.
    std::fs::write(state.join("checkpoint"), seen).unwrap();
    let other = passerelle::audit::checkpoint::Signer::new(
        "x",
        &passerelle::audit::checkpoint::generate_pkcs8(),
    )
    .unwrap();
    std::fs::write(state.join("audit.pub"), other.verifier_key()).unwrap();
    let o = run(&caf, &["pull"]).await;
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    app.stop().await;
}
both!(the_client_witnesses_the_log_and_fails_loudly_on_a_fork_or_a_rollback);
