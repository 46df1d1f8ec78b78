//! Storage through sqlx's `Any` driver: SQLite (embedded default, WAL) or
//! PostgreSQL, the same SQL text (`$n` placeholders) on both, one
//! migrations folder per backend. Times are epoch milliseconds.
//!
//! Every action opens one transaction ([`Store::begin`]) that covers the
//! action, the files it emits and its audit entries: after a crash at any
//! point, either all of it is there or none of it.
//!
//! Each table's SQL has one home here, a repository module per table or
//! aggregate: typed functions over a connection (a transaction's or the
//! pool's), no business rule. The audit log's own tables are `audit`'s;
//! this module never calls it.

pub mod cases;
pub mod concertations;
pub mod console;
pub mod decisions;
pub mod enrichments;
pub mod events;
pub mod lists;
pub mod member_answers;
pub mod outbox;
pub mod procedures;
pub mod returns;
pub mod tokens;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, SqlSafeStr};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// A transaction on the store.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// A storage problem. Its message is for the log, never for a partner.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The PostgreSQL schema is older than this release and the role
    /// connected may not migrate it (the runtime role).
    #[error(
        "the database schema is at version {found} but this passerelle needs version {needed}, \
         and the role {role:?} does not own the schema: run `passerelle migrate` as the database owner"
    )]
    SchemaBehind {
        /// The latest migration applied.
        found: i64,
        /// The latest migration of this release.
        needed: i64,
        /// The role connected.
        role: String,
    },
    /// An applied migration differs from this release's (edited history)
    /// or is unknown to it (a newer release migrated the database).
    #[error("migration {version} applied to the database is not this release's: {problem}")]
    SchemaMismatch {
        /// The migration version.
        version: i64,
        /// What differs.
        problem: String,
    },
    /// The URL names no supported database.
    #[error("unsupported database URL (use sqlite:… or postgres://…)")]
    Url,
    /// The data folder cannot be created.
    #[error("cannot create the data folder: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value is none the gateway writes (altered database).
    #[error("column {column} holds {value:?}, which the gateway never writes")]
    Invalid {
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },
}

impl StoreError {
    /// Whether the storage is unavailable for now rather than wrong: the
    /// disk is full, or the database cannot be reached. The API answers
    /// 503 with `Retry-After`; service returns by itself once space or
    /// the database is back.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(e) => unavailable(e),
            StoreError::Io(e) => io_unavailable(e),
            _ => false,
        }
    }
}

/// Whether a database error means "unavailable for now" (see
/// [`StoreError::is_unavailable`]): SQLite's `SQLITE_FULL` or `SQLITE_IOERR`;
/// PostgreSQL's insufficient resources (class 53: disk full, out of
/// memory, too many connections), connection exceptions (class 08) and
/// shutdowns (57P01–57P03); a connection that cannot be made or is lost;
/// no connection free within the pool's acquire timeout.
pub fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            let Some(code) = d.code() else { return false };
            match code.parse::<i32>() {
                // SQLite: the primary result code is the low byte of the
                // extended one. 13 = SQLITE_FULL, 10 = SQLITE_IOERR.
                Ok(n) if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => {
                    matches!(n & 0xff, 10 | 13)
                }
                _ => {
                    code.starts_with("53")
                        || code.starts_with("08")
                        || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
                }
            }
        }
        _ => false,
    }
}

/// Whether a file-system error means "no space left" (or quota).
pub fn io_unavailable(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Whether any error in `e`'s chain of sources is the storage being
/// unavailable for now (see [`StoreError::is_unavailable`]).
pub fn unavailable_cause(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    // A chain is short; bounded all the same.
    for _ in 0..16 {
        let Some(err) = cur else { return false };
        if let Some(s) = err.downcast_ref::<StoreError>()
            && s.is_unavailable()
        {
            return true;
        }
        if let Some(d) = err.downcast_ref::<sqlx::Error>()
            && unavailable(d)
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io_unavailable(io)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// How long a request waits for a PostgreSQL connection (and so how soon
/// it answers 503 when the server is down): seconds, not a minute.
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection handed back to the pool must not be inside a transaction.
/// A transaction dropped after an error queues a `ROLLBACK`; this runs it
/// (a ping) and closes the connection if the driver still counts a
/// transaction: after `SQLITE_FULL`, SQLite has already rolled the
/// transaction back itself, the driver's `ROLLBACK` then fails and the
/// connection would refuse every later `BEGIN` (the 500s to every other
/// request after one disk-full upload, until a restart).
fn release_clean(
    conn: &mut sqlx::AnyConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, sqlx::Error>> {
    use sqlx::Connection;
    Box::pin(async move {
        conn.ping().await?;
        Ok(!conn.is_in_transaction())
    })
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    _checkpoints: Option<Arc<Checkpoints>>,
}

/// The WAL checkpoint task, stopped with the last handle on the store.
#[derive(Debug)]
struct Checkpoints(tokio::task::JoinHandle<()>);

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The schema version this release brings (its last migration's number).
pub const SCHEMA_VERSION: usize = 10;

fn migrator(backend: Backend) -> Migrator {
    let files: [(&str, &'static str); SCHEMA_VERSION] = match backend {
        Backend::Sqlite => [
            ("init", include_str!("migrations/sqlite/0001_init.sql")),
            (
                "circuit",
                include_str!("migrations/sqlite/0002_circuit.sql"),
            ),
            ("tlog", include_str!("migrations/sqlite/0003_tlog.sql")),
            (
                "key versions",
                include_str!("migrations/sqlite/0004_key_versions.sql"),
            ),
            (
                "outbox subjects",
                include_str!("migrations/sqlite/0005_outbox_subjects.sql"),
            ),
            (
                "streaming",
                include_str!("migrations/sqlite/0006_streaming.sql"),
            ),
            (
                "audit guards",
                include_str!("migrations/sqlite/0007_audit_guards.sql"),
            ),
            (
                "console",
                include_str!("migrations/sqlite/0008_console.sql"),
            ),
            (
                "console logins",
                include_str!("migrations/sqlite/0009_console_logins.sql"),
            ),
            (
                "procedures",
                include_str!("migrations/sqlite/0010_procedures.sql"),
            ),
        ],
        Backend::Postgres => [
            ("init", include_str!("migrations/postgres/0001_init.sql")),
            (
                "circuit",
                include_str!("migrations/postgres/0002_circuit.sql"),
            ),
            ("tlog", include_str!("migrations/postgres/0003_tlog.sql")),
            (
                "key versions",
                include_str!("migrations/postgres/0004_key_versions.sql"),
            ),
            (
                "outbox subjects",
                include_str!("migrations/postgres/0005_outbox_subjects.sql"),
            ),
            (
                "streaming",
                include_str!("migrations/postgres/0006_streaming.sql"),
            ),
            (
                "audit guards",
                include_str!("migrations/postgres/0007_audit_guards.sql"),
            ),
            (
                "console",
                include_str!("migrations/postgres/0008_console.sql"),
            ),
            (
                "console logins",
                include_str!("migrations/postgres/0009_console_logins.sql"),
            ),
            (
                "procedures",
                include_str!("migrations/postgres/0010_procedures.sql"),
            ),
        ],
    };
    Migrator::with_migrations(
        files
            .into_iter()
            .zip(1..)
            .map(|((name, sql), version)| {
                Migration::new(
                    version,
                    Cow::Borrowed(name),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// Connects (creating the SQLite file if needed) and brings the schema
    /// up to date: SQLite always; PostgreSQL only when the role connected
    /// owns the schema, otherwise checks it read-only
    /// ([`StoreError::SchemaBehind`] names `passerelle migrate`).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, false).await
    }

    /// Connects and applies this release's migrations whoever owns the
    /// schema (`passerelle migrate`, run as the database owner).
    pub async fn open_and_migrate(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, true).await
    }

    async fn open_with(url: &str, always_migrate: bool) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url);
        };
        let pool = match backend {
            Backend::Sqlite => {
                if let Some(path) = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .map(|p| p.split('?').next().unwrap_or(p))
                    && let Some(dir) = std::path::Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)?;
                }
                AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(60))
                    .after_release(release_clean)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA page_size = 8192")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA busy_timeout = 60000")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA foreign_keys = ON")
                                .execute(&mut *conn)
                                .await?;
                            // A month's list is one transaction: a page
                            // cache that holds it avoids spilling to the
                            // WAL and reading pages back (64 MiB).
                            sqlx::query("PRAGMA cache_size = -16384")
                                .execute(&mut *conn)
                                .await?;
                            // Copying the WAL back into the database is
                            // not done by the committing request (a
                            // month's list would wait for it) but by the
                            // background task of `Store::open`; the WAL
                            // file is then cut back to 64 MiB.
                            sqlx::query("PRAGMA wal_autocheckpoint = 0")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA journal_size_limit = 67108864")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                    .after_release(release_clean)
                    .connect(url)
                    .await?
            }
        };
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        match backend {
            Backend::Sqlite => migrator(backend).run(&pool).await?,
            Backend::Postgres if always_migrate => migrator(backend).run(&pool).await?,
            Backend::Postgres => migrate_or_check(&pool).await?,
        }
        let checkpoints = (backend == Backend::Sqlite)
            .then(|| Arc::new(Checkpoints(tokio::spawn(checkpoint_wal(pool.clone())))));
        Ok(Store {
            pool,
            backend,
            _checkpoints: checkpoints,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction, holding the store's write lock from the
    /// start so that writers queue instead of racing: on SQLite
    /// `BEGIN IMMEDIATE`; on PostgreSQL the audit head row, which every
    /// write transaction updates anyway, locked `FOR UPDATE` (with several
    /// gateway instances too). A check-then-insert (the same list sent twice
    /// at once, a case decided twice) thus sees the other's commit.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT next_seq FROM audit_head WHERE id = 1 FOR UPDATE")
                    .fetch_one(&mut *tx)
                    .await?;
                tx
            }
        })
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Grants `role` what the running gateway needs on PostgreSQL and
    /// nothing more on the audit tables: SELECT and INSERT; UPDATE of the
    /// head's counters (which never go back) and DELETE of entries and
    /// sets that retention released (guarded by triggers). Every other
    /// table: SELECT, INSERT, UPDATE, DELETE. No TRUNCATE, no ownership
    /// (so no `ALTER TABLE … DISABLE TRIGGER`, no function replaced).
    pub async fn grant_runtime(&self, role: &str) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Db(sqlx::Error::Configuration(
                "--grant-runtime is for PostgreSQL: SQLite has no roles".into(),
            )));
        }
        let quoted = quote_ident(role);
        let tables: Vec<String> = sqlx::query(
            "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| sqlx::Row::try_get::<String, _>(r, 0))
        .collect::<Result<_, _>>()?;
        let mut statements = vec![
            format!("GRANT USAGE ON SCHEMA public TO {quoted}"),
            format!("REVOKE CREATE ON SCHEMA public FROM {quoted}"),
        ];
        for t in &tables {
            let privileges = match t.as_str() {
                "_sqlx_migrations" => "SELECT",
                "audit_head" => "SELECT, UPDATE",
                "audit_log" | "audit_subjects" => "SELECT, INSERT, DELETE",
                "audit_pruned" | "audit_checkpoints" | "instance_keys" => "SELECT, INSERT",
                _ => "SELECT, INSERT, UPDATE, DELETE",
            };
            statements.push(format!(
                "REVOKE ALL ON public.{} FROM {quoted}",
                quote_ident(t)
            ));
            statements.push(format!(
                "GRANT {privileges} ON public.{} TO {quoted}",
                quote_ident(t)
            ));
        }
        statements.push(format!(
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"
        ));
        let mut tx = self.pool.begin().await?;
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A PostgreSQL identifier, quoted.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// PostgreSQL: checks the applied migrations read-only; migrates only when
/// the schema is behind and the role connected owns it (or the database
/// is empty and the role may create tables): a runtime role that can only
/// read and insert the audit tables starts on an up-to-date schema and
/// refuses, naming `passerelle migrate`, on an older one.
async fn migrate_or_check(pool: &AnyPool) -> Result<(), StoreError> {
    use sqlx::Row;
    let m = migrator(Backend::Postgres);
    let needed = m.iter().map(|m| m.version).max().unwrap_or(0);
    let row = sqlx::query(
        "SELECT current_user::text, \
                (SELECT tableowner::text FROM pg_catalog.pg_tables \
                 WHERE schemaname = 'public' AND tablename = '_sqlx_migrations'), \
                pg_catalog.has_schema_privilege('public', 'CREATE')",
    )
    .fetch_one(pool)
    .await?;
    let role: String = row.try_get(0)?;
    let owner: Option<String> = row.try_get(1)?;
    let may_create: bool = row.try_get(2)?;
    let Some(owner) = owner else {
        if may_create {
            m.run(pool).await?;
            return Ok(());
        }
        return Err(StoreError::SchemaBehind {
            found: 0,
            needed,
            role,
        });
    };
    let applied = sqlx::query(
        "SELECT version, checksum FROM public._sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(pool)
    .await?;
    let mut found = 0;
    for r in &applied {
        let version: i64 = r.try_get(0)?;
        let checksum: Vec<u8> = r.try_get(1)?;
        match m.iter().find(|m| m.version == version) {
            None => {
                return Err(StoreError::SchemaMismatch {
                    version,
                    problem:
                        "this release does not know it (a newer release migrated the database)"
                            .into(),
                });
            }
            Some(mine) if mine.checksum.as_ref() != checksum.as_slice() => {
                return Err(StoreError::SchemaMismatch {
                    version,
                    problem: "its checksum differs (an applied migration was edited)".into(),
                });
            }
            Some(_) => found = found.max(version),
        }
    }
    if applied.len() == m.iter().count() {
        return Ok(());
    }
    if owner == role {
        m.run(pool).await?;
        return Ok(());
    }
    Err(StoreError::SchemaBehind {
        found,
        needed,
        role,
    })
}

/// SQLite: copies committed WAL frames into the database every two
/// seconds, without blocking readers or writers (`PASSIVE`), until the
/// pool closes or the store is dropped. The last connection to close checkpoints what remains.
async fn checkpoint_wal(pool: AnyPool) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "WAL checkpoint failed; retried");
        }
    }
}

/// How many rows one multi-row `INSERT` should carry: statements of a few
/// thousand parameters, under both backends' limits (SQLite 32,766,
/// PostgreSQL 65,535).
pub(crate) fn rows_per_insert(params_per_row: usize) -> usize {
    (4_000 / params_per_row.max(1)).max(1)
}

/// Builds `INSERT INTO table (cols) VALUES (…),(…)` for `rows` rows. On
/// SQLite the placeholders are anonymous (`?`): sqlx resolves a numbered
/// placeholder by name, which SQLite looks up in a list as long as the
/// statement's parameters, so numbered placeholders make a large statement
/// cost the square of its size. PostgreSQL gets `$1…$n`.
pub(crate) fn multi_insert(
    conn: &sqlx::AnyConnection,
    table: &str,
    cols: &[&str],
    rows: usize,
) -> String {
    let anonymous = conn.backend_name().eq_ignore_ascii_case("sqlite");
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let n = cols.len();
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..n {
            if c > 0 {
                sql.push(',');
            }
            if anonymous {
                sql.push('?');
            } else {
                sql.push_str(&format!("${}", r * n + c + 1));
            }
        }
        sql.push(')');
    }
    sql
}
