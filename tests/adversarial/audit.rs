//! Attacks on the access log and the database behind it (issue 10, items
//! 1, 2 and 13): an attacker with write access to the database edits the
//! columns the DPO's queries read, empties a household's references,
//! cuts or rewrites entries with the checkpoints table, shadows the guards'
//! tables; the runtime role tries every bypass; a second instance starts
//! with other keys. Tampering is done in SQL, as such an attacker would;
//! the verdict comes from `passerelle audit verify` (the real binary) or
//! its library function.

use crate::both;
use crate::helpers::{Db, TestApp, decrypt, sample, spawn_app};
use passerelle::audit::tlog;
use passerelle::store::Backend;
use sqlx::Row;

/// A month's first steps: DDETS uploads, CAF downloads and acknowledges,
/// MDSF is refused CAF's file; a checkpoint is signed.
async fn activity(app: &TestApp) {
    let (status, _) = app
        .push_list("2026-10", "text/csv", sample("liste-2026-10-excel-fr.csv"))
        .await;
    assert_eq!(status, 201);
    let caf = app.client("caf");
    let f = caf.outbox().await.unwrap().remove(0);
    decrypt(
        &caf.download(&f.file_id).await.unwrap(),
        &app.identity("caf"),
    );
    assert!(app.client("mdsf").download(&f.file_id).await.is_err());
    caf.ack(&f.file_id).await.unwrap();
    let (status, c) = app
        .client("dpo")
        .post_json("/v1/audit/checkpoint", &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(status, 200, "{c}");
}

/// The checkpoint CAF's client would keep in `state/checkpoint`, saved
/// in the test's folder.
async fn partner_saves_a_checkpoint(app: &TestApp) -> (std::path::PathBuf, u64) {
    let (status, c) = app
        .client("caf")
        .get_json("/v1/audit/checkpoint")
        .await
        .unwrap();
    assert_eq!(status, 200, "{c}");
    let path = app.dir.path().join("caf-state-checkpoint");
    std::fs::write(&path, c["checkpoint"].as_str().unwrap()).unwrap();
    (path, c["size"].as_u64().unwrap())
}

async fn verify(app: &TestApp) -> tlog::Verification {
    let mut conn = app.app.store.pool().acquire().await.unwrap();
    tlog::verify(&mut conn, &app.app.signer.verifier_key())
        .await
        .unwrap()
}

/// Runs `passerelle audit … verify [extra]` as the DPO does: (exit code,
/// standard output).
async fn verify_cmd(app: &TestApp, extra: &[&str]) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"));
    cmd.args(["audit", "--config"])
        .arg(app.config_path())
        .arg("--data")
        .arg(app.dir.path().join("data"))
        .arg("--database-url")
        .arg(app.app.config.gateway.storage.url())
        .arg("verify")
        .args(extra);
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (o.status.code().unwrap_or(-1), format!("{out}{err}"))
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(app.app.store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn try_exec(app: &TestApp, sql: &str) -> Result<u64, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(app.app.store.pool())
        .await
        .map(|r| r.rows_affected())
}

async fn int(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(app.app.store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// The attacker with the owner's rights removes the guards of `tables`.
async fn disable_guards(app: &TestApp, tables: &[&str]) {
    let pool = app.app.store.pool();
    for t in tables {
        match app.app.store.backend() {
            Backend::Sqlite => {
                let names: Vec<String> = sqlx::query(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1",
                )
                .bind(t.to_string())
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
                for n in names {
                    exec(app, &format!("DROP TRIGGER {n}")).await;
                }
            }
            Backend::Postgres => exec(app, &format!("ALTER TABLE {t} DISABLE TRIGGER ALL")).await,
        }
    }
}

/// Every audit table's rows, as text, to show an attack changed nothing.
async fn audit_tables(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT seq, at, partner, action, outcome, entry, leaf_hash, subjects_set FROM audit_log ORDER BY seq",
        "SELECT set_id, n, subject FROM audit_subjects ORDER BY set_id, n",
        "SELECT size, note FROM audit_checkpoints ORDER BY size",
        "SELECT seq, leaf_hash FROM audit_pruned ORDER BY seq",
        "SELECT next_seq, prunable_below, last_leaf FROM audit_head",
        "SELECT name, fingerprint FROM instance_keys ORDER BY name",
    ] {
        for r in sqlx::query(sql)
            .fetch_all(app.app.store.pool())
            .await
            .unwrap()
        {
            let cols: Vec<String> = (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .or_else(|_| {
                            r.try_get::<Option<i64>, _>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .unwrap()
                        .unwrap_or_default()
                })
                .collect();
            out.push(cols.join("|"));
        }
    }
    out
}

async fn editing_an_entrys_partner_column_is_caught_by_verify(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    assert!(verify(&app).await.ok());
    let seq = int(
        &app,
        "SELECT MIN(seq) FROM audit_log WHERE action = 'outbox.download' AND partner = 'caf'",
    )
    .await;
    let refused = int(
        &app,
        "SELECT MIN(seq) FROM audit_log WHERE partner = 'mdsf' AND outcome = 'refused'",
    )
    .await;
    // Without the guards' removal the edit itself is refused.
    assert!(
        try_exec(
            &app,
            &format!("UPDATE audit_log SET partner = 'mdsf' WHERE seq = {seq}")
        )
        .await
        .is_err()
    );
    disable_guards(&app, &["audit_log"]).await;
    // Each column the DPO filters on, edited so that her query misses
    // the entry (or finds it where it is not), then put back.
    for (column, edit, undo, at) in [
        ("partner", "partner = 'mdsf'", "partner = 'caf'", seq),
        ("at", "at = at - 86400000", "at = at + 86400000", seq),
        (
            "action",
            "action = 'healthz'",
            "action = 'outbox.download'",
            seq,
        ),
        ("outcome", "outcome = 'ok'", "outcome = 'refused'", refused),
    ] {
        exec(
            &app,
            &format!("UPDATE audit_log SET {edit} WHERE seq = {at}"),
        )
        .await;
        let v = verify(&app).await;
        let f = v
            .faults
            .iter()
            .find(|f| f.kind == "column")
            .unwrap_or_else(|| panic!("editing {column} not caught: {v:?}"));
        assert_eq!(f.position, at as u64, "{column}");
        assert!(
            f.message.contains(&format!("{column} column was altered")),
            "{column}: {}",
            f.message
        );
        if column == "partner" {
            let (code, out) = verify_cmd(&app, &[]).await;
            assert_eq!(code, 1, "{out}");
            assert!(out.contains("FAULT"), "{out}");
            assert!(
                out.contains(&format!("entry {seq}: column")) && out.contains("partner"),
                "{out}"
            );
        }
        exec(
            &app,
            &format!("UPDATE audit_log SET {undo} WHERE seq = {at}"),
        )
        .await;
        assert!(verify(&app).await.ok(), "{column} put back");
    }
    app.stop().await;
}
both!(editing_an_entrys_partner_column_is_caught_by_verify);

async fn deleting_a_households_references_is_refused_and_caught(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    let set = int(&app, "SELECT MIN(subjects_set) FROM audit_log").await;
    let subject: String = sqlx::query("SELECT subject FROM audit_subjects WHERE set_id = $1 AND n = (SELECT MIN(n) FROM audit_subjects WHERE set_id = $1)")
        .bind(set)
        .fetch_one(app.app.store.pool())
        .await
        .unwrap()
        .get(0);
    let before = audit_tables(&app).await;
    for sql in [
        format!("DELETE FROM audit_subjects WHERE set_id = {set}"),
        "DELETE FROM audit_subjects".to_owned(),
        format!("UPDATE audit_subjects SET subject = 'someone-else' WHERE set_id = {set}"),
        "DELETE FROM audit_checkpoints".to_owned(),
        "UPDATE audit_head SET next_seq = 0".to_owned(),
    ] {
        let r = try_exec(&app, &sql).await;
        assert!(r.is_err(), "{sql} was allowed: {r:?}");
    }
    if app.app.store.backend() == Backend::Postgres {
        for t in [
            "audit_subjects",
            "audit_checkpoints",
            "audit_pruned",
            "audit_head",
        ] {
            let r = try_exec(&app, &format!("TRUNCATE {t}")).await;
            assert!(r.is_err(), "TRUNCATE {t} was allowed");
        }
    }
    assert_eq!(
        audit_tables(&app).await,
        before,
        "the refused deletes changed nothing"
    );
    // The attacker removes the guard and empties one household's
    // references: the subject-access answer would now omit those entries,
    // and verify says which entry lost its households.
    disable_guards(&app, &["audit_subjects"]).await;
    exec(
        &app,
        &format!("DELETE FROM audit_subjects WHERE subject = '{subject}'"),
    )
    .await;
    let v = verify(&app).await;
    let f = v
        .faults
        .iter()
        .find(|f| f.kind == "subjects")
        .unwrap_or_else(|| panic!("deleted references not caught: {v:?}"));
    assert!(
        f.message.contains("households were altered"),
        "{}",
        f.message
    );
    let (code, out) = verify_cmd(&app, &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(": subjects"), "{out}");
    app.stop().await;
}
both!(deleting_a_households_references_is_refused_and_caught);

/// Rewrites entry `seq` (a refused access made to look allowed) and every
/// later entry's link, as a careful forger would, then the head.
async fn forge_from(app: &TestApp, seq: i64) {
    let rows = sqlx::query("SELECT seq, entry, leaf_hash FROM audit_log ORDER BY seq")
        .fetch_all(app.app.store.pool())
        .await
        .unwrap();
    let mut prev: Option<(String, String)> = None; // (old leaf, new leaf)
    for r in rows {
        let s: i64 = r.get(0);
        let entry: String = r.get(1);
        let leaf: String = r.get(2);
        if s < seq {
            continue;
        }
        let mut forged = entry.clone();
        if s == seq {
            forged = forged.replacen("\"outcome\":\"refused\"", "\"outcome\":\"ok\"", 1);
            assert_ne!(forged, entry, "entry {seq} is a refusal");
        }
        if let Some((old, new)) = &prev {
            forged = forged.replacen(
                &format!("\"prev\":\"{old}\""),
                &format!("\"prev\":\"{new}\""),
                1,
            );
        }
        let new_leaf = hex::encode(passerelle::audit::leaf_hash(forged.as_bytes()));
        sqlx::query("UPDATE audit_log SET entry = $1, leaf_hash = $2, outcome = CASE WHEN seq = $3 THEN 'ok' ELSE outcome END WHERE seq = $4")
            .bind(forged)
            .bind(new_leaf.clone())
            .bind(seq)
            .bind(s)
            .execute(app.app.store.pool())
            .await
            .unwrap();
        prev = Some((leaf, new_leaf));
    }
    let (_, last) = prev.unwrap();
    sqlx::query("UPDATE audit_head SET last_leaf = $1")
        .bind(last)
        .execute(app.app.store.pool())
        .await
        .unwrap();
}

async fn emptying_the_checkpoints_table_is_caught_with_a_saved_checkpoint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    let (saved, size) = partner_saves_a_checkpoint(&app).await;
    assert_eq!(app.get("caf", "/v1/outbox").await.status(), 200);
    let (code, out) = verify_cmd(&app, &["--checkpoint", saved.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("extends the saved checkpoint of {size} entries")),
        "{out}"
    );
    // The checkpoints are guarded…
    assert!(
        try_exec(&app, "DELETE FROM audit_checkpoints")
            .await
            .is_err()
    );
    // …but the owner removes the guards, empties the table and rewrites
    // MDSF's refused download as allowed, with every later link.
    disable_guards(&app, &["audit_log", "audit_checkpoints", "audit_head"]).await;
    exec(&app, "DELETE FROM audit_checkpoints").await;
    let refused = int(
        &app,
        "SELECT MIN(seq) FROM audit_log WHERE partner = 'mdsf' AND outcome = 'refused'",
    )
    .await;
    assert!((refused as u64) < size);
    forge_from(&app, refused).await;
    // Alone, the log is consistent with itself: verify says so plainly.
    let (code, out) = verify_cmd(&app, &[]).await;
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("no checkpoint: only internal consistency was checked"),
        "{out}"
    );
    // With the partner's checkpoint, the rewrite is caught.
    let (code, out) = verify_cmd(&app, &["--checkpoint", saved.to_str().unwrap()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAULT"), "{out}");
    assert!(
        out.contains("not the log the saved checkpoint of that size signed"),
        "{out}"
    );
    app.stop().await;
}
both!(emptying_the_checkpoints_table_is_caught_with_a_saved_checkpoint);

async fn entries_cut_after_the_last_checkpoint_are_caught_with_a_saved_checkpoint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    let kept = int(&app, "SELECT MAX(size) FROM audit_checkpoints").await;
    for _ in 0..3 {
        assert_eq!(app.get("mdsf", "/v1/outbox").await.status(), 200);
    }
    let (saved, size) = partner_saves_a_checkpoint(&app).await;
    assert!(size as i64 > kept);
    // The owner cuts every entry after the checkpoint it keeps, the later
    // checkpoint with them, and rewinds the head.
    disable_guards(&app, &["audit_log", "audit_checkpoints", "audit_head"]).await;
    exec(&app, &format!("DELETE FROM audit_log WHERE seq >= {kept}")).await;
    exec(
        &app,
        &format!("DELETE FROM audit_checkpoints WHERE size > {kept}"),
    )
    .await;
    let last: String = sqlx::query("SELECT leaf_hash FROM audit_log WHERE seq = $1")
        .bind(kept - 1)
        .fetch_one(app.app.store.pool())
        .await
        .unwrap()
        .get(0);
    sqlx::query("UPDATE audit_head SET next_seq = $1, last_leaf = $2")
        .bind(kept)
        .bind(last)
        .execute(app.app.store.pool())
        .await
        .unwrap();
    // The stored checkpoints alone cannot see it…
    let (code, out) = verify_cmd(&app, &[]).await;
    assert_eq!(code, 0, "{out}");
    // …the partner's saved one does, and says where.
    let (code, out) = verify_cmd(&app, &["--checkpoint", saved.to_str().unwrap()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "entry {kept}: truncated — the saved checkpoint covers {size} entries but the log has {kept}"
        )),
        "{out}"
    );
    // A checkpoint signed by another key is not taken as a rest.
    let other = passerelle::audit::checkpoint::Signer::new(
        app.app.signer.origin(),
        &passerelle::audit::checkpoint::generate_pkcs8(),
    )
    .unwrap();
    let forged = app.dir.path().join("forged-checkpoint");
    std::fs::write(&forged, other.sign(kept as u64, &[0; 32])).unwrap();
    let (code, out) = verify_cmd(&app, &["--checkpoint", forged.to_str().unwrap()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the saved checkpoint: the checkpoint's signature does not verify"),
        "{out}"
    );
    app.stop().await;
}
both!(entries_cut_after_the_last_checkpoint_are_caught_with_a_saved_checkpoint);

/// PostgreSQL: a role of the test's own, LOGIN, dropped by [`drop_role`].
async fn create_role(app: &TestApp) -> (String, String) {
    let role = format!("passerelle_rt_{}", hex::encode(rand::random::<[u8; 6]>()));
    exec(
        app,
        &format!("CREATE ROLE {role} LOGIN PASSWORD 'runtime' NOSUPERUSER NOCREATEDB NOCREATEROLE"),
    )
    .await;
    let url = app.app.config.gateway.storage.url();
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host_db) = rest.split_once('@').unwrap();
    (role.clone(), format!("{scheme}://{role}:runtime@{host_db}"))
}

/// Takes back what `--grant-runtime` gave (the role owns nothing), then
/// drops the role.
async fn drop_role(app: &TestApp, role: &str) {
    exec(
        app,
        &format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}"),
    )
    .await;
    exec(
        app,
        &format!("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}"),
    )
    .await;
    exec(app, &format!("REVOKE ALL ON SCHEMA public FROM {role}")).await;
    // A session of the role that just closed may still be ending on the
    // server side: a few bounded tries.
    let drop = format!("DROP ROLE {role}");
    for _ in 0..50 {
        if try_exec(app, &drop).await.is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    exec(app, &drop).await;
}

/// Runs `passerelle migrate --grant-runtime role` on the test's database.
async fn migrate_granting(app: &TestApp, role: &str) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_passerelle"));
    cmd.args(["migrate", "--config"])
        .arg(app.config_path())
        .arg("--data")
        .arg(app.dir.path().join("data"))
        .arg("--database-url")
        .arg(app.app.config.gateway.storage.url())
        .args(["--grant-runtime", role]);
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temp_table_named_audit_head_does_not_bypass_the_delete_guard() {
    // SQLite: a temporary table does not stand in for the main schema's
    // in a trigger either.
    let app = spawn_app(Db::Sqlite).await.unwrap();
    activity(&app).await;
    let before = audit_tables(&app).await;
    let mut conn = app.app.store.pool().acquire().await.unwrap();
    for sql in [
        "CREATE TEMP TABLE audit_head (id INTEGER, next_seq INTEGER, prunable_below INTEGER, last_leaf TEXT)",
        "INSERT INTO temp.audit_head VALUES (1, 0, 1000000000, '')",
        "CREATE TEMP TABLE audit_pruned (seq INTEGER, leaf_hash TEXT)",
        "INSERT INTO temp.audit_pruned SELECT seq, leaf_hash FROM main.audit_log",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let r = sqlx::query("DELETE FROM main.audit_log WHERE seq = 1")
        .execute(&mut *conn)
        .await;
    assert!(
        r.is_err(),
        "the delete guard read the temporary table: {r:?}"
    );
    sqlx::query("DROP TABLE temp.audit_head")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("DROP TABLE temp.audit_pruned")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(audit_tables(&app).await, before);
    app.stop().await;

    // PostgreSQL, as the runtime role: pg_temp comes first in a session's
    // search_path, so an unqualified name in a guard would be the attacker's.
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    activity(&app).await;
    let (role, url) = create_role(&app).await;
    let (code, out) = migrate_granting(&app, &role).await;
    assert_eq!(code, 0, "{out}");
    let before = audit_tables(&app).await;
    let runtime = sqlx::AnyPool::connect(&url).await.unwrap();
    let mut conn = runtime.acquire().await.unwrap();
    for sql in [
        "CREATE TEMP TABLE audit_head (id INTEGER, next_seq BIGINT, prunable_below BIGINT, last_leaf TEXT)",
        "INSERT INTO pg_temp.audit_head VALUES (1, 0, 1000000000, '')",
        "CREATE TEMP TABLE audit_pruned (seq BIGINT, leaf_hash TEXT)",
        "INSERT INTO pg_temp.audit_pruned SELECT seq, leaf_hash FROM public.audit_log",
        "CREATE TEMP TABLE audit_log (seq BIGINT, subjects_set BIGINT)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    for sql in [
        "DELETE FROM public.audit_log WHERE seq = 1",
        "DELETE FROM public.audit_subjects",
    ] {
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await;
        let e = r.expect_err(sql).to_string();
        assert!(e.contains("kept"), "{sql}: {e}");
    }
    // Its temporary tables go now, not when the server gets round to
    // cleaning up after the session (the role is dropped below).
    sqlx::query("DISCARD TEMP")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    runtime.close().await;
    assert_eq!(audit_tables(&app).await, before);
    drop_role(&app, &role).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_role_cannot_update_delete_truncate_or_disable_triggers() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    activity(&app).await;
    let (role, url) = create_role(&app).await;
    let (code, out) = migrate_granting(&app, &role).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("granted the runtime rights to {role}")),
        "{out}"
    );
    let before = audit_tables(&app).await;
    let entries = int(&app, "SELECT COUNT(*) FROM audit_log").await;
    let runtime = sqlx::AnyPool::connect(&url).await.unwrap();
    for sql in [
        "UPDATE public.audit_log SET partner = 'mdsf'",
        "UPDATE public.audit_log SET entry = '{}' WHERE seq = 0",
        "DELETE FROM public.audit_log WHERE seq = 1",
        "DELETE FROM public.audit_log",
        "UPDATE public.audit_subjects SET subject = 'x'",
        "DELETE FROM public.audit_subjects",
        "UPDATE public.audit_checkpoints SET note = 'x'",
        "DELETE FROM public.audit_checkpoints",
        "DELETE FROM public.audit_pruned",
        "UPDATE public.audit_head SET next_seq = 0",
        "UPDATE public.audit_head SET prunable_below = prunable_below - 1",
        "DELETE FROM public.audit_head",
        "DELETE FROM public.instance_keys",
        "UPDATE public.instance_keys SET fingerprint = 'x'",
        "TRUNCATE public.audit_log",
        "TRUNCATE public.audit_subjects",
        "TRUNCATE public.audit_checkpoints",
        "TRUNCATE public.audit_pruned",
        "TRUNCATE public.audit_head",
        "TRUNCATE public.instance_keys",
        "ALTER TABLE public.audit_log DISABLE TRIGGER ALL",
        "ALTER TABLE public.audit_log DISABLE TRIGGER audit_log_guard",
        "ALTER TABLE public.audit_subjects DISABLE TRIGGER ALL",
        "ALTER TABLE public.audit_head DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_guard ON public.audit_log",
        "CREATE OR REPLACE FUNCTION public.audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END; $$",
        "ALTER TABLE public.audit_log OWNER TO CURRENT_USER",
        "CREATE TABLE public.audit_shadow (x INT)",
        "SET session_replication_role = replica",
    ] {
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&runtime)
            .await;
        assert!(r.is_err(), "the runtime role was allowed: {sql}");
    }
    assert_eq!(audit_tables(&app).await, before, "the store is unchanged");

    // The gateway itself runs on that role: it starts (schema checked
    // read-only), serves, appends to the log, and the log verifies.
    let overrides = passerelle::config::Overrides {
        listen: Some(([127, 0, 0, 1], 0).into()),
        data: Some(app.dir.path().join("data")),
        database_url: Some(url.clone()),
        console_listen: Some(([127, 0, 0, 1], 0).into()),
    };
    let config = passerelle::config::Config::load(&app.config_path(), &overrides).unwrap();
    let gw = passerelle::app::App::open(config)
        .await
        .expect("the gateway starts as the runtime role");
    let server = passerelle::http::start(gw.clone()).await.unwrap();
    let caf = passerelle::client::GatewayClient::new(
        &format!("https://127.0.0.1:{}", server.addr.port()),
        &std::fs::read(app.certs().join("ca.crt")).unwrap(),
        Some(&std::fs::read(app.certs().join("caf.crt")).unwrap()),
        Some(&std::fs::read(app.certs().join("caf.key")).unwrap()),
    )
    .unwrap();
    assert!(caf.outbox().await.unwrap().is_empty());
    let (status, _) = caf.get_json("/v1/audit/checkpoint").await.unwrap();
    assert_eq!(status, 200);
    let report = passerelle::retention::run(&gw, passerelle::util::now_ms())
        .await
        .expect("retention runs as the runtime role");
    assert_eq!(report.audit_entries, 0);
    server.shutdown(std::time::Duration::from_secs(5)).await;
    gw.store.close().await;
    runtime.close().await;
    let v = verify(&app).await;
    assert!(v.ok(), "{v:?}");
    assert!(
        int(&app, "SELECT COUNT(*) FROM audit_log").await > entries,
        "it appended"
    );
    drop_role(&app, &role).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_role_on_an_older_schema_refuses_to_start_naming_passerelle_migrate() {
    let Some(app) = spawn_app(Db::Postgres).await else {
        return;
    };
    let (role, runtime_url) = create_role(&app).await;
    let (code, out) = migrate_granting(&app, &role).await;
    assert_eq!(code, 0, "{out}");
    // As if this release's last migration were not applied yet.
    let last = passerelle::store::SCHEMA_VERSION;
    exec(
        &app,
        &format!("UPDATE _sqlx_migrations SET success = FALSE WHERE version = {last}"),
    )
    .await;
    let e = passerelle::store::Store::open(&runtime_url)
        .await
        .expect_err("the runtime role cannot migrate");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("version {}", last - 1))
            && msg.contains(&format!("needs version {last}")),
        "{msg}"
    );
    assert!(
        msg.contains("run `passerelle migrate` as the database owner"),
        "{msg}"
    );
    exec(
        &app,
        &format!("UPDATE _sqlx_migrations SET success = TRUE WHERE version = {last}"),
    )
    .await;
    passerelle::store::Store::open(&runtime_url)
        .await
        .expect("up to date: the runtime role starts")
        .close()
        .await;
    drop_role(&app, &role).await;
    app.stop().await;
}

async fn a_second_instance_with_other_keys_refuses_to_start(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    activity(&app).await;
    let before = audit_tables(&app).await;
    let second = app.dir.path().join("second");
    let open_second = || async {
        let overrides = passerelle::config::Overrides {
            listen: Some(([127, 0, 0, 1], 0).into()),
            data: Some(second.clone()),
            database_url: Some(app.app.config.gateway.storage.url()),
            console_listen: Some(([127, 0, 0, 1], 0).into()),
        };
        let config = passerelle::config::Config::load(&app.config_path(), &overrides).unwrap();
        passerelle::app::App::open(config).await
    };
    // Fresh keys of its own: refused, naming each file to copy.
    let e = open_second()
        .await
        .expect_err("other keys refused")
        .to_string();
    // (The example configuration names its age identity file: both
    // instances read the same one.)
    for name in ["audit-signing", "pseudonymisation-v1"] {
        assert!(e.contains(name), "{name} not named: {e}");
    }
    assert!(e.contains("audit-signing.key"), "{e}");
    assert!(
        e.contains("copy these files from the first instance"),
        "{e}"
    );
    let secret = std::fs::read_to_string(second.join("pseudonymisation.key")).unwrap();
    assert!(!e.contains(secret.trim()), "a secret key was echoed: {e}");
    assert_eq!(
        audit_tables(&app).await,
        before,
        "nothing recorded for the refused instance"
    );
    // With the first instance's files copied, it starts.
    for f in ["pseudonymisation.key", "audit-signing.key"] {
        std::fs::copy(app.dir.path().join("data").join(f), second.join(f)).unwrap();
    }
    let other = open_second().await.expect("same keys: it starts");
    other.store.close().await;
    app.stop().await;
}
both!(a_second_instance_with_other_keys_refuses_to_start);
