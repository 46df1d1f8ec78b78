//! A store written by the previous release opens under this one: migration
//! 0006 moves outbox files into chunks, finds each file's production entry
//! and turns per-entry subject rows into sets, on SQLite and PostgreSQL.

use crate::both;
use crate::helpers::{Db, postgres_url, repo};
use passerelle::store::{Store, outbox};
use sqlx::Row;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

const BEFORE: [(&str, &str); 5] = [
    ("init", "0001_init.sql"),
    ("circuit", "0002_circuit.sql"),
    ("tlog", "0003_tlog.sql"),
    ("key versions", "0004_key_versions.sql"),
    ("outbox subjects", "0005_outbox_subjects.sql"),
];

async fn a_store_of_the_previous_release_is_migrated_whole(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let (url, folder) = match db {
        Db::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display()),
            "sqlite",
        ),
        Db::Postgres => match postgres_url().await {
            Some(u) => (u, "postgres"),
            None => return,
        },
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let migrations = BEFORE
        .iter()
        .zip(1..)
        .map(|((name, file), version)| {
            let sql = std::fs::read_to_string(
                repo().join("src/store/migrations").join(folder).join(file),
            )
            .unwrap();
            Migration::new(
                version,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql)),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
        .run(&pool)
        .await
        .unwrap();
    let entry = r#"{"v":1,"seq":0,"action":"file.produce","objects":["file:fil_old","to:caf"],"subjects":2,"subjects_sha256":"d"}"#;
    for sql in [
        "INSERT INTO lists VALUES ('lst_old', '2026-01', 'ddets', 'h', 1, 'csv', 0)",
        "INSERT INTO cases (case_id, list_id, line, household, subject, date_cdp, code_postal, bailleur_type, state, sealed, created_at) \
         VALUES ('cas_old', 'lst_old', 2, 'hv1.x', 's1', '2026-01-02', '85100', 'prive', 'received', 'x', 0)",
        "INSERT INTO case_tokens VALUES ('v1-tok', 'caf', 'cas_old', 0)",
        "INSERT INTO audit_subjects (subject, seq) VALUES ('s2', 0), ('s1', 0)",
        "UPDATE audit_head SET next_seq = 1 WHERE id = 1",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO outbox (file_id, partner, kind, period, list_id, rows, format, fields, size, sha256, body, created_at, subjects) \
         VALUES ('fil_old', 'caf', 'enrichment', '2026-01', 'lst_old', 1, 'csv', 'token', 3, 'h', $1, 0, 's1')",
    )
    .bind(b"AGE".to_vec())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO audit_log (seq, at, partner, action, outcome, entry, leaf_hash) VALUES (0, 0, 'ddets', 'file.produce', 'ok', $1, 'l')")
        .bind(entry)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = Store::open(&url).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let body: Vec<Vec<u8>> = futures_util::TryStreamExt::try_collect(outbox::body_stream(
        store.pool().clone(),
        "fil_old".into(),
    ))
    .await
    .unwrap();
    assert_eq!(body.concat(), b"AGE");
    let meta = outbox::get(&mut conn, "fil_old").await.unwrap().unwrap();
    assert_eq!(meta.produce_seq, Some(0));
    let subjects = passerelle::audit::subjects_of(&mut conn, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((subjects.set, subjects.count), (0, 2));
    let set: Vec<String> =
        sqlx::query("SELECT subject FROM audit_subjects WHERE set_id = 0 ORDER BY n")
            .fetch_all(&mut *conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    assert_eq!(set, ["s1", "s2"], "sorted, as the entry's digest was");
    let found = passerelle::audit::query::by_subject(&mut conn, &["s2".to_owned()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let token: String = sqlx::query("SELECT case_id FROM case_tokens WHERE token = 'v1-tok'")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(token, "cas_old");
    drop(conn);
    store.close().await;
}
both!(a_store_of_the_previous_release_is_migrated_whole);

/// Migration 0007 adds guards to the audit tables and `audit verify`
/// checks more (columns, household sets): a log written by the previous
/// release verifies after it, against the checkpoint a partner saved, and
/// retention still prunes it.
async fn a_log_of_the_previous_release_verifies_and_prunes_after_migration_0007(db: Db) {
    use passerelle::audit::{self, AuditRecord, Outcome, checkpoint, tlog};
    let dir = tempfile::tempdir().unwrap();
    let (url, folder) = match db {
        Db::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display()),
            "sqlite",
        ),
        Db::Postgres => match postgres_url().await {
            Some(u) => (u, "postgres"),
            None => return,
        },
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let migrations = BEFORE
        .iter()
        .copied()
        .chain([("streaming", "0006_streaming.sql")])
        .zip(1..)
        .map(|((name, file), version)| {
            let sql = std::fs::read_to_string(
                repo().join("src/store/migrations").join(folder).join(file),
            )
            .unwrap();
            Migration::new(
                version,
                Cow::Borrowed(name),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql)),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
        .run(&pool)
        .await
        .unwrap();
    let signer = checkpoint::Signer::new("test/audit", &checkpoint::generate_pkcs8()).unwrap();
    let mut conn = pool.acquire().await.unwrap();
    for (i, subjects) in [vec![], vec!["s2".to_owned(), "s1".to_owned()], vec![]]
        .into_iter()
        .enumerate()
    {
        let mut rec = AuditRecord::new("list.upload", Outcome::Ok);
        rec.partner = Some(format!("p{i}"));
        rec.subjects = subjects;
        audit::append(&mut conn, &rec).await.unwrap();
    }
    let (size, note) = tlog::sign_checkpoint(&mut conn, &signer, None)
        .await
        .unwrap();
    assert_eq!(size, 3);
    drop(conn);
    pool.close().await;

    let store = Store::open(&url).await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let v = tlog::verify_with(&mut conn, &signer.verifier_key(), Some(&note))
        .await
        .unwrap();
    assert!(v.ok() && v.anchored(), "{v:?}");
    assert_eq!((v.saved_checkpoint, v.subject_sets_checked), (Some(3), 1));
    drop(conn);
    let mut tx = store.begin().await.unwrap();
    let pruned = audit::prune_before(&mut tx, i64::MAX).await.unwrap();
    assert_eq!(pruned, 3, "retention still releases and prunes entries");
    tx.commit().await.unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let v = tlog::verify_with(&mut conn, &signer.verifier_key(), Some(&note))
        .await
        .unwrap();
    assert!(v.ok(), "{v:?}");
    let sets: i64 = sqlx::query("SELECT COUNT(*) FROM audit_subjects")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(sets, 0, "the pruned entry's set went with it");
    drop(conn);
    store.close().await;
}
both!(a_log_of_the_previous_release_verifies_and_prunes_after_migration_0007);
