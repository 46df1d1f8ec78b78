//! The secretariat's deadline alerts: cases whose household has not been
//! reached yet, with the days left before the legal delay runs out.

use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::Role;
use crate::domain::followup::FollowupEvent;
use crate::domain::{CaseState, Token};
use crate::store::Tx;
use crate::store::cases::Unreached;
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

/// The cases not reached yet that `actor` is shown, in CDP date order,
/// with the days left on `today`: all of them for the `secretariat`, a
/// `referent`'s own otherwise.
pub(super) async fn unreached(
    app: &App,
    tx: &mut Tx,
    actor: &Actor,
    today: time::Date,
) -> Result<Vec<(Unreached, i64)>, CircuitError> {
    let only_mine = !actor.has(Role::Secretariat);
    let contacts: Vec<&str> = FollowupEvent::CONTACTS.iter().map(|e| e.as_str()).collect();
    let mut out = Vec::new();
    for c in crate::store::cases::unreached(tx, &contacts).await? {
        if only_mine && c.referent.as_deref() != Some(actor.partner_id()) {
            continue;
        }
        let d = crate::domain::parse_date(&c.date_cdp).map_err(CircuitError::BadRequest)?;
        let left = super::concertation::days_left(app, d, today);
        out.push((c, left));
    }
    Ok(out)
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
    let mut tx = app.store.begin().await?;
    let mut out = Vec::new();
    let mut shown = Vec::new();
    for (c, jours_restants) in unreached(app, &mut tx, actor, today).await? {
        let token = Token::new(app.pseudo.case_token(
            c.key_version,
            actor.partner_id(),
            c.case_id.as_str(),
        ));
        shown.push((token.clone(), c.case_id));
        out.push(Alert {
            date_cdp: c.date_cdp,
            jours_restants,
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
