//! The secretariat's deadline alerts: cases whose household has not been
//! reached yet, with the days left before the legal delay runs out; and
//! the cases summoned to a hearing in the next six weeks (EXPLOC's
//! `assignation` events), so that the social and financial diagnosis
//! reaches the judge in time.

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
pub const ALERT_FIELDS: [&str; 5] = ["token", "date_cdp", "state", "referent", "audience"];

/// A hearing shows in the alerts from this many days before it: the
/// summons reaches the préfet six weeks before the hearing.
pub const HEARING_NOTICE_DAYS: i64 = 42;

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
    /// The caller's token for the case.
    pub token: Token,
    /// The hearing the household is summoned to, if one is coming.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Days before that hearing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jours_avant_audience: Option<i64>,
    /// The household has not been reached yet (else the alert is only for
    /// its hearing).
    #[serde(skip)]
    pub unreached: bool,
}

/// The hearings coming in the next [`HEARING_NOTICE_DAYS`] for the cases
/// `actor` is shown (all for the `secretariat`, a `referent`'s own
/// otherwise), hearing first, with the days before each.
pub(super) async fn hearings(
    tx: &mut Tx,
    actor: &Actor,
    today: time::Date,
) -> Result<Vec<(crate::store::procedures::Hearing, i64)>, CircuitError> {
    let only_mine = !actor.has(Role::Secretariat);
    let last = today + time::Duration::days(HEARING_NOTICE_DAYS);
    let mut out = Vec::new();
    for h in crate::store::procedures::hearings_between(tx, &today.to_string(), &last.to_string())
        .await?
    {
        if only_mine && h.referent.as_deref() != Some(actor.partner_id()) {
            continue;
        }
        let d = crate::domain::parse_date(&h.date_audience).map_err(CircuitError::BadRequest)?;
        let days = (d - today).whole_days();
        out.push((h, days));
    }
    Ok(out)
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
/// order, then the cases reached but summoned to a hearing coming (each
/// alert names its hearing when one is coming): all of them for the
/// `secretariat`, a `referent`'s own otherwise.
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
            audience: None,
            jours_avant_audience: None,
            unreached: true,
        });
    }
    for (h, days) in hearings(&mut tx, actor, today).await? {
        let token = Token::new(app.pseudo.case_token(
            h.key_version,
            actor.partner_id(),
            h.case_id.as_str(),
        ));
        if let Some(a) = out.iter_mut().find(|a| a.token == token) {
            a.audience = Some(h.date_audience);
            a.jours_avant_audience = Some(days);
            continue;
        }
        let d = crate::domain::parse_date(&h.date_cdp).map_err(CircuitError::BadRequest)?;
        shown.push((token.clone(), h.case_id));
        out.push(Alert {
            date_cdp: h.date_cdp,
            jours_restants: super::concertation::days_left(app, d, today),
            referent: h.referent,
            state: h.state,
            token,
            audience: Some(h.date_audience),
            jours_avant_audience: Some(days),
            unreached: false,
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
