//! "What waits for me": for a person, the work the circuit expects of
//! their roles this month, as counts (the home page links each to its
//! page). Only counts leave this module: nothing is disclosed, so nothing
//! beyond the page's own entry is audited.

use super::{Actor, CircuitError, desk};
use crate::app::App;
use crate::config::Role;
use crate::domain::FileKind;
use crate::store::{cases, member_answers, outbox};

/// Households within this many days of the legal delay are urgent.
pub const URGENT_DAYS: i64 = 15;

/// The work waiting, by role; `None` where the person's roles ask nothing
/// of that kind.
#[derive(Debug, Clone, Default)]
pub struct Waiting {
    /// `source`: no list received this calendar month (`AAAA-MM`).
    pub list_missing: Option<String>,
    /// `secretariat`: households without a decision yet.
    pub to_decide: Option<u64>,
    /// `member`: households of the scope awaiting the concertation that
    /// the member has not answered about.
    pub to_answer: Option<u64>,
    /// `referent` (its own households) or `secretariat` (all): not
    /// reached yet, and how many of them are urgent.
    pub to_reach: Option<(u64, u64)>,
    /// The partner's files waiting in its outbox (its machine pulls them).
    pub files: Option<u64>,
    /// `dpo`: anomalies of the last 30 days, and whether the log verifies.
    pub anomalies: Option<(u64, bool)>,
}

/// What waits for `actor` on `today`.
pub async fn waiting(app: &App, actor: &Actor, today: time::Date) -> Result<Waiting, CircuitError> {
    let mut w = Waiting::default();
    let pool = app.store.pool();
    if actor.has(Role::Source) {
        let month = format!("{:04}-{:02}", today.year(), u8::from(today.month()));
        let received = crate::store::lists::all(pool)
            .await?
            .iter()
            .any(|l| l.created_at.starts_with(&month));
        w.list_missing = (!received).then_some(month);
    }
    let mut tx = app.store.begin().await?;
    if actor.has(Role::Secretariat) {
        w.to_decide = Some(cases::awaiting_decision(&mut tx).await?.len() as u64);
    }
    if actor.has(Role::Member)
        && let Ok(view) = desk::view(app, FileKind::Concertation)
    {
        let mut n = 0;
        for c in desk::scope_cases(app, &mut tx, actor, view).await? {
            if member_answers::of_partner(&mut tx, &c.case_id, actor.partner_id())
                .await?
                .is_none()
            {
                n += 1;
            }
        }
        w.to_answer = Some(n);
    }
    if actor.has(Role::Referent) || actor.has(Role::Secretariat) {
        let cases = super::alerts::unreached(app, &mut tx, actor, today).await?;
        let urgent = cases.iter().filter(|(_, left)| *left < URGENT_DAYS).count();
        w.to_reach = Some((cases.len() as u64, urgent as u64));
    }
    tx.commit().await?;
    if [Role::Enricher, Role::Member, Role::Referent]
        .iter()
        .any(|r| actor.has(*r))
    {
        w.files = Some(outbox::waiting(pool, actor.partner_id()).await?.len() as u64);
    }
    if actor.has(Role::Dpo) {
        let r = super::dpo::review(app, actor, today - time::Duration::days(30), today).await?;
        w.anomalies = Some((r.anomalies.len() as u64, r.verification.ok()));
    }
    Ok(w)
}
