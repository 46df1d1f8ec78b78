//! The CCAPEX's figures for a window of CDP dates (`secretariat`, `dpo`):
//! read from the store, computed by [`crate::stats`].

use super::{Actor, CircuitError};
use crate::app::App;
use crate::config::Role;
pub use crate::stats::judiciarisation::{
    Judiciarisation, ParcoursLine, to_csv as judiciarisation_csv,
};
pub use crate::stats::{Stats, to_csv};

/// The figures for CDPs dated `from..=to`; by default from 2000-01-01 to
/// today (UTC).
pub async fn stats(
    app: &App,
    actor: &Actor,
    from: Option<time::Date>,
    to: Option<time::Date>,
) -> Result<Stats, CircuitError> {
    may_read(actor)?;
    let from = from.unwrap_or(time::macros::date!(2000 - 01 - 01));
    let to = to.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let (f, t) = (from.to_string(), to.to_string());
    let pool = app.store.pool();
    let cases = crate::store::cases::dated_between(pool, &f, &t).await?;
    let events = crate::store::events::of_cases_dated_between(pool, &f, &t).await?;
    let procedures = crate::store::procedures::of_cases_dated_between(pool, &f, &t).await?;
    let hors = crate::store::procedures::unlinked_between(pool, &f, &t).await?;
    Ok(crate::stats::compute(
        from,
        to,
        &cases,
        &events,
        &procedures,
        &hors,
    ))
}

/// Refuses unless the actor may read the figures (`secretariat`, `dpo`).
/// [`stats`] checks it; an adapter may check it before parsing the
/// request.
pub fn may_read(actor: &Actor) -> Result<(), CircuitError> {
    actor.require_any(&[Role::Secretariat, Role::Dpo])
}
