//! The secretariat's deadline alerts: cases whose household has not been
//! reached yet, with the days left before the legal delay runs out.

use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::Role;
use crate::domain::followup::FollowupEvent;
use crate::domain::{CaseState, Token};
use crate::util::now_ms;
use serde::Serialize;

/// The fields an alert discloses (audited as such).
pub const ALERT_FIELDS: [&str; 4] = ["token", "date_cdp", "state", "referent"];

/// One case to chase (docs/convention.md `GET /v1/alerts`).
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// CDP date.
    pub date_cdp: String,
    /// Days left before the legal delay runs out (negative: passed).
    pub jours_restants: i64,
    /// The referent designated, if any.
    pub referent: Option<String>,
    /// The case's state.
    pub state: CaseState,
    /// The secretariat's token for the case.
    pub token: Token,
}

/// Cases whose household has not been reached yet on `today`, in CDP date
/// order: all of them for the `secretariat`, a `referent`'s own
/// otherwise.
pub async fn alerts(
    app: &App,
    actor: &Actor,
    today: time::Date,
) -> Result<Vec<Alert>, CircuitError> {
    actor.require_any(&[Role::Secretariat, Role::Referent])?;
    let only_mine = !actor.has(Role::Secretariat);
    let mut tx = app.store.begin().await?;
    let mut out = Vec::new();
    let mut shown = Vec::new();
    let contacts: Vec<&str> = FollowupEvent::CONTACTS.iter().map(|e| e.as_str()).collect();
    for c in crate::store::cases::unreached(&mut tx, &contacts).await? {
        if only_mine && c.referent.as_deref() != Some(actor.partner_id()) {
            continue;
        }
        let d = crate::domain::parse_date(&c.date_cdp).map_err(CircuitError::BadRequest)?;
        let token = Token::new(app.pseudo.case_token(
            c.key_version,
            actor.partner_id(),
            c.case_id.as_str(),
        ));
        shown.push((token.clone(), c.case_id));
        out.push(Alert {
            date_cdp: c.date_cdp,
            jours_restants: super::concertation::days_left(app, d, today),
            referent: c.referent,
            state: c.state,
            token,
        });
    }
    crate::store::tokens::insert(&mut tx, actor.partner_id(), shown, now_ms()).await?;
    let mut rec = actor.record("alerts.read", Outcome::Ok);
    rec.fields = ALERT_FIELDS.map(String::from).to_vec();
    rec.rows = Some(out.len() as u64);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(out)
}
