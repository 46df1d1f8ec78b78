//! What an attack must not change: every business table's rows (counted,
//! and the cases' states listed) and the files in the data folder. The
//! audit log is left out on purpose: a refusal is itself audited.

use crate::helpers::TestApp;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::Path;

/// The business tables an attack must leave as they were.
pub const TABLES: &[&str] = &[
    "lists",
    "cases",
    "case_tokens",
    "outbox",
    "outbox_chunks",
    "returns",
    "enrichments",
    "member_answers",
    "concertations",
    "agenda",
    "decisions",
    "events",
];

/// A snapshot of the store, compared before and after an attack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreState {
    /// Rows per table.
    pub rows: BTreeMap<&'static str, i64>,
    /// `case_id=state` for every case, sorted.
    pub case_states: Vec<String>,
    /// `acked_at` set or not, per outbox file, sorted.
    pub outbox_acks: Vec<String>,
    /// Files under the data folder (relative paths, SQLite's own files
    /// excepted), sorted.
    pub files: Vec<String>,
}

/// Takes the snapshot.
pub async fn snapshot(app: &TestApp) -> StoreState {
    let pool = app.app.store.pool();
    let mut rows = BTreeMap::new();
    for table in TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await
            .unwrap();
        rows.insert(*table, row.try_get::<i64, _>(0).unwrap());
    }
    let case_states = sqlx::query("SELECT case_id, state FROM cases ORDER BY case_id")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}={}",
                r.try_get::<String, _>(0).unwrap(),
                r.try_get::<String, _>(1).unwrap()
            )
        })
        .collect();
    let outbox_acks = sqlx::query(
        "SELECT file_id, CASE WHEN acked_at IS NULL THEN 'waiting' ELSE 'acked' END FROM outbox ORDER BY file_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| {
        format!(
            "{}={}",
            r.try_get::<String, _>(0).unwrap(),
            r.try_get::<String, _>(1).unwrap()
        )
    })
    .collect();
    let data = app.dir.path().join("data");
    let mut files = Vec::new();
    walk(&data, &data, &mut files);
    files.sort();
    StoreState {
        rows,
        case_states,
        outbox_acks,
        files,
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        if rel.contains("passerelle.db") || rel.ends_with("-wal") || rel.ends_with("-shm") {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            out.push(rel);
        }
    }
}

/// Asserts the store is as `before`, naming the attack on failure.
pub async fn assert_unchanged(app: &TestApp, before: &StoreState, attack: &str) {
    let after = snapshot(app).await;
    assert_eq!(&after, before, "{attack}: the store changed");
}
