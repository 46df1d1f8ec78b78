//! The DPO's questions to the log: filtered listing, and every access to
//! one household's data (GDPR art. 15: "who has seen my file?").

use super::StoredEntry;
use sqlx::{AnyConnection, Row};

/// A query could not be answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A filter is malformed (the caller's mistake).
    #[error("{0}")]
    BadFilter(String),
    /// The log could not be read.
    #[error("cannot read the audit log: {0}")]
    Db(#[from] sqlx::Error),
}

/// Filters of `GET /v1/audit`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// From this day (`AAAA-MM-JJ`, UTC), inclusive.
    pub from: Option<String>,
    /// To this day, inclusive.
    pub to: Option<String>,
    /// Partner id.
    pub partner: Option<String>,
    /// Action (`outbox.download`…).
    pub action: Option<String>,
    /// `ok`, `refused`, `error`.
    pub outcome: Option<String>,
    /// An object id appearing in the entry (`file:…`, `list:…`…).
    pub object: Option<String>,
    /// The person who acted through the console (`people.toml` id).
    pub person: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Entries per page (at most 500).
    pub per_page: Option<u32>,
}

fn day_ms(day: &str, end: bool) -> Result<i64, String> {
    let d = crate::domain::parse_date(day)?;
    let t = d.midnight().assume_utc();
    let t = if end { t + time::Duration::days(1) } else { t };
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Entries matching `f`, newest first: `(entries, total)`.
pub async fn list(
    conn: &mut AnyConnection,
    f: &Filter,
) -> Result<(Vec<StoredEntry>, i64), QueryError> {
    let mut clauses = vec!["1 = 1".to_owned()];
    let mut params: Vec<Param> = Vec::new();
    enum Param {
        I(i64),
        S(String),
    }
    if let Some(d) = &f.from {
        params.push(Param::I(day_ms(d, false).map_err(QueryError::BadFilter)?));
        clauses.push(format!("at >= ${}", params.len()));
    }
    if let Some(d) = &f.to {
        params.push(Param::I(day_ms(d, true).map_err(QueryError::BadFilter)?));
        clauses.push(format!("at < ${}", params.len()));
    }
    for (col, v) in [
        ("partner", &f.partner),
        ("action", &f.action),
        ("outcome", &f.outcome),
    ] {
        if let Some(v) = v {
            params.push(Param::S(v.clone()));
            clauses.push(format!("{col} = ${}", params.len()));
        }
    }
    let like = |v: &str| {
        v.replace(['\\', '"'], "")
            .replace('%', "\\%")
            .replace('_', "\\_")
    };
    if let Some(o) = &f.object {
        params.push(Param::S(format!("%\"{}\"%", like(o))));
        clauses.push(format!("entry LIKE ${} ESCAPE '\\'", params.len()));
    }
    if let Some(p) = &f.person {
        params.push(Param::S(format!("%\"person\":\"{}\"%", like(p))));
        clauses.push(format!("entry LIKE ${} ESCAPE '\\'", params.len()));
    }
    let per = f.per_page.unwrap_or(100).clamp(1, 500) as i64;
    let page = f.page.unwrap_or(1).max(1) as i64;
    let where_ = clauses.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM audit_log WHERE {where_}");
    let list_sql = format!(
        "SELECT entry FROM audit_log WHERE {where_} ORDER BY seq DESC LIMIT {per} OFFSET {}",
        (page - 1) * per
    );
    macro_rules! bound {
        ($sql:expr) => {{
            let mut q = sqlx::query(sqlx::AssertSqlSafe($sql));
            for p in &params {
                q = match p {
                    Param::I(i) => q.bind(*i),
                    Param::S(s) => q.bind(s.clone()),
                };
            }
            q
        }};
    }
    let total: i64 = bound!(count_sql).fetch_one(&mut *conn).await?.try_get(0)?;
    let rows = bound!(list_sql).fetch_all(&mut *conn).await?;
    let entries = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .filter_map(|e| StoredEntry::parse(&e))
        .collect();
    Ok((entries, total))
}

/// The entries of `from..=to` (UTC days) as JSON lines, newest first, as `passerelle audit export` writes them.
pub async fn export(conn: &mut AnyConnection, from: &str, to: &str) -> Result<String, QueryError> {
    let f = Filter {
        from: Some(from.to_owned()),
        to: Some(to.to_owned()),
        per_page: Some(500),
        ..Default::default()
    };
    let mut lines = String::new();
    for page in 1.. {
        let (entries, _) = list(
            conn,
            &Filter {
                page: Some(page),
                ..f.clone()
            },
        )
        .await?;
        if entries.is_empty() {
            break;
        }
        for e in entries {
            lines.push_str(&e.to_string());
            lines.push('\n');
        }
    }
    Ok(lines)
}

/// Every entry that concerns one of `subjects` (a household's keyed
/// references, one per key version), oldest first.
pub async fn by_subject(
    conn: &mut AnyConnection,
    subjects: &[String],
) -> Result<Vec<StoredEntry>, sqlx::Error> {
    let mut out = Vec::new();
    for s in subjects {
        let rows = sqlx::query(
            "SELECT entry FROM audit_log WHERE subjects_set IN (SELECT set_id FROM audit_subjects WHERE subject = $1) ORDER BY seq",
        )
        .bind(s.clone())
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            if let Some(e) = StoredEntry::parse(&r.try_get::<String, _>(0)?) {
                out.push(e);
            }
        }
    }
    out.sort_by_key(|e| e.seq);
    out.dedup_by_key(|e| e.seq);
    Ok(out)
}
