//! A partner's return arrives (CAF's enrichment, a member's answer about
//! known referents, a referent's follow-up events): validated whole,
//! authorised row by row (only tokens delivered to this partner; follow-ups
//! only on cases attributed to it), applied in one transaction with its
//! audit entry, then routed (CAF's enrichment sends each member its
//! `concertation` file).

use super::cases::{self, state};
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::Role;
use crate::domain::followup::FollowupEvent;
use crate::ingest::Spool;
use crate::ingest::returns::{ReturnKind, ReturnRow, read_return};
use crate::util::{new_id, now_ms};
use serde::Serialize;
use sqlx::Row;

/// What happened to one row.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RowResult {
    /// Line in the file.
    pub line: u64,
    /// The caller's token.
    pub token: String,
    /// What was applied.
    pub effect: String,
}

/// The answer to a return (CONTRACT.md `POST /v1/returns`).
#[derive(Debug, Clone, Serialize)]
pub struct ReturnReceipt {
    /// Id.
    pub return_id: String,
    /// Rows read.
    pub rows: i64,
    /// Rows applied.
    pub applied: i64,
    /// Files routed as a consequence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routed: Vec<String>,
}

/// Whether the return was applied now or had been already.
#[derive(Debug, Clone)]
pub enum ReturnOutcome {
    /// Applied now.
    Created(ReturnReceipt),
    /// The same bytes were already applied.
    Duplicate(ReturnReceipt),
}

/// Applies a return's plaintext, spooled (the decrypted body, a temporary
/// file; `Spool::from(bytes)` otherwise). Its rows are read from the spool
/// off the async threads.
pub async fn accept_return(
    app: &App,
    actor: &Actor,
    kind: ReturnKind,
    plaintext: Spool,
) -> Result<ReturnOutcome, CircuitError> {
    let role = cases::role_for(kind);
    let limits = app.config.gateway.limits.clone();
    let sha = plaintext.sha256_hex().to_owned();
    let parsed = tokio::task::spawn_blocking(move || {
        read_return(
            plaintext,
            kind,
            &crate::ingest::Limits {
                max_rows: limits.max_rows,
                max_cell_chars: limits.max_cell_chars,
                max_xlsx_uncompressed_bytes: limits.max_xlsx_uncompressed_bytes,
            },
        )
    })
    .await
    .expect("the validation task does not panic");
    // A kind outside the caller's roles is refused whatever the file holds
    // (naming its lines when they can be read).
    if !actor.partner.has(role) {
        let rows = parsed.unwrap_or_default();
        return Err(CircuitError::NotYourCase {
            message: format!(
                "returns of kind {} need the role {}, which your partner does not hold; nothing was applied",
                kind.as_str(),
                role.as_str()
            ),
            lines: rows
                .iter()
                .map(|(l, t, _)| (*l, t.clone(), "kind outside your roles".to_owned()))
                .collect(),
        });
    }
    let rows = parsed?;
    let mut tx = app.store.begin().await?;
    if let Some(r) = sqlx::query(
        "SELECT return_id, rows, applied FROM returns WHERE partner = $1 AND kind = $2 AND sha256 = $3",
    )
    .bind(actor.partner.id.clone())
    .bind(kind.as_str())
    .bind(sha.clone())
    .fetch_optional(&mut *tx)
    .await?
    {
        let receipt = ReturnReceipt {
            return_id: r.try_get(0)?,
            rows: r.try_get(1)?,
            applied: r.try_get(2)?,
            routed: Vec::new(),
        };
        let mut rec = actor.record("return.apply", Outcome::Ok);
        rec.objects = vec![format!("return:{}", receipt.return_id)];
        rec.reason = Some("duplicate".into());
        audit::append(&mut tx, &rec).await?;
        tx.commit().await?;
        return Ok(ReturnOutcome::Duplicate(receipt));
    }

    // Row-level authorisation, before anything is applied.
    let mut resolved = Vec::with_capacity(rows.len());
    let mut refused = Vec::new();
    let mut conflicts = Vec::new();
    for (line, token, row) in rows {
        match cases::by_token(&mut tx, &actor.partner.id, &token).await? {
            None => refused.push((
                line,
                token,
                "this token was never delivered to you".to_owned(),
            )),
            Some(case_id) => {
                if kind == ReturnKind::Followup {
                    let d = sqlx::query("SELECT organisme FROM decisions WHERE case_id = $1")
                        .bind(case_id.clone())
                        .fetch_optional(&mut *tx)
                        .await?;
                    let mine = d
                        .map(|r| r.try_get::<Option<String>, _>(0))
                        .transpose()?
                        .flatten()
                        .is_some_and(|o| o == actor.partner.id);
                    if !mine {
                        refused.push((
                            line,
                            token,
                            "this case is not attributed to you".to_owned(),
                        ));
                        continue;
                    }
                    if let ReturnRow::Followup(f) = &row
                        && f.evenement == FollowupEvent::Cloture
                    {
                        let st: String = sqlx::query("SELECT state FROM cases WHERE case_id = $1")
                            .bind(case_id.clone())
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get(0)?;
                        if st == state::CLOSED {
                            conflicts.push((
                                line,
                                token.clone(),
                                "the case is already closed".to_owned(),
                            ));
                        }
                    }
                }
                resolved.push((line, token, case_id, row));
            }
        }
    }
    if !refused.is_empty() {
        return Err(CircuitError::NotYourCase {
            message: format!(
                "{} row(s) name cases you may not act on; nothing was applied",
                refused.len()
            ),
            lines: refused,
        });
    }
    if !conflicts.is_empty() {
        return Err(CircuitError::Conflict {
            message: format!(
                "{} row(s) conflict with the cases' state; nothing was applied",
                conflicts.len()
            ),
            lines: conflicts,
        });
    }

    let return_id = new_id("ret");
    let at = now_ms();
    let mut results = Vec::new();
    let mut subjects = Vec::new();
    let mut enriched = Vec::new();
    for (line, token, case_id, row) in &resolved {
        let c = cases::load(app, &mut tx, case_id).await?;
        subjects.push(c.subject.clone());
        let effect = match row {
            ReturnRow::Enrichment(e) => {
                cases::put_enrichment(app, &mut tx, case_id, &return_id, e, at).await?;
                if c.state == state::RECEIVED {
                    cases::set_state(&mut tx, case_id, state::ENRICHED).await?;
                    enriched.push(case_id.clone());
                }
                "enrichment recorded".to_owned()
            }
            ReturnRow::Referent(a) => {
                sqlx::query("DELETE FROM member_answers WHERE case_id = $1 AND partner = $2")
                    .bind(case_id.clone())
                    .bind(actor.partner.id.clone())
                    .execute(&mut *tx)
                    .await?;
                let sealed = a.nom_referent.as_ref().map(|n| {
                    app.pseudo.seal(
                        &format!("{case_id}/referent/{}", actor.partner.id),
                        n.as_bytes(),
                    )
                });
                sqlx::query(
                    "INSERT INTO member_answers (case_id, partner, referent_connu, organisme, sealed, return_id, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(case_id.clone())
                .bind(actor.partner.id.clone())
                .bind(i64::from(a.referent_connu))
                .bind(a.organisme.clone())
                .bind(sealed)
                .bind(return_id.clone())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if a.referent_connu {
                    format!("referent known: {}", a.organisme.as_deref().unwrap_or("?"))
                } else {
                    "no referent known".to_owned()
                }
            }
            ReturnRow::Followup(f) => {
                let event_id = new_id("evt");
                let sealed = f
                    .detail
                    .as_ref()
                    .map(|d| app.pseudo.seal(&event_id, d.as_bytes()));
                sqlx::query(
                    "INSERT INTO events (event_id, case_id, partner, date, evenement, motif, sealed, return_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(event_id)
                .bind(case_id.clone())
                .bind(actor.partner.id.clone())
                .bind(f.date.to_string())
                .bind(f.evenement.as_str())
                .bind(f.motif.map(|m| m.as_str()))
                .bind(sealed)
                .bind(return_id.clone())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                // `c` was read in this transaction after the file's earlier
                // rows were applied: its state is current.
                if f.evenement == FollowupEvent::Cloture {
                    cases::set_state(&mut tx, case_id, state::CLOSED).await?;
                } else if f.evenement.is_contact() && c.state == state::ATTRIBUTED {
                    cases::set_state(&mut tx, case_id, state::CONTACTED).await?;
                }
                format!("event {} recorded", f.evenement)
            }
        };
        results.push(RowResult {
            line: *line,
            token: token.clone(),
            effect,
        });
    }

    // CAF's enrichment: each member receives the newly enriched cases of its scope.
    let mut routed = Vec::new();
    if !enriched.is_empty() {
        let mut loaded = Vec::new();
        for id in &enriched {
            loaded.push(cases::load(app, &mut tx, id).await?);
            cases::set_state(&mut tx, id, state::IN_CONCERTATION).await?;
        }
        let members: Vec<_> = app
            .config
            .partners
            .with_role(Role::Member)
            .cloned()
            .collect();
        routed =
            super::routing::route_cases(app, &mut tx, "concertation", &loaded, &members, actor, at)
                .await?;
    }

    let n = results.len() as i64;
    sqlx::query(
        "INSERT INTO returns (return_id, partner, kind, sha256, rows, applied, result, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(return_id.clone())
    .bind(actor.partner.id.clone())
    .bind(kind.as_str())
    .bind(sha)
    .bind(n)
    .bind(n)
    .bind(serde_json::to_string(&results).expect("serialises"))
    .bind(at)
    .execute(&mut *tx)
    .await?;
    let mut rec = actor.record("return.apply", Outcome::Ok);
    rec.objects = vec![
        format!("return:{return_id}"),
        format!("kind:{}", kind.as_str()),
    ];
    rec.objects
        .extend(routed.iter().map(|f| format!("file:{f}")));
    rec.fields = kind.columns().iter().map(|c| (*c).to_owned()).collect();
    rec.rows = Some(n as u64);
    rec.subjects = subjects;
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(ReturnOutcome::Created(ReturnReceipt {
        return_id,
        rows: n,
        applied: n,
        routed,
    }))
}

/// What a return applied, for its sender.
pub async fn get_return(
    app: &App,
    actor: &Actor,
    return_id: &str,
) -> Result<serde_json::Value, CircuitError> {
    let mut tx = app.store.begin().await?;
    let row = sqlx::query(
        "SELECT partner, kind, rows, applied, result, created_at FROM returns WHERE return_id = $1",
    )
    .bind(return_id.to_owned())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(CircuitError::NotFound)?;
    let partner: String = row.try_get(0)?;
    if partner != actor.partner.id {
        return Err(CircuitError::NotFound);
    }
    let result: Vec<RowResult> =
        serde_json::from_str(&row.try_get::<String, _>(4)?).unwrap_or_default();
    let mut rec = actor.record("return.read", Outcome::Ok);
    rec.objects = vec![format!("return:{return_id}")];
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(serde_json::json!({
        "return_id": return_id,
        "kind": row.try_get::<String, _>(1)?,
        "rows": row.try_get::<i64, _>(2)?,
        "applied": row.try_get::<i64, _>(3)?,
        "created_at": crate::util::ms_to_rfc3339(row.try_get(5)?),
        "results": result,
    }))
}
