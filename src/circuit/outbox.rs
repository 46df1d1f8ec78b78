//! A partner lists, fetches and acknowledges its files. A partner never
//! sees another partner's file: someone else's id answers "not found",
//! exactly like an id that does not exist.

use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::store::outbox::{self, FileMeta};
use crate::util::now_ms;

/// The caller's waiting files.
pub async fn waiting(app: &App, actor: &Actor) -> Result<Vec<FileMeta>, CircuitError> {
    let files = outbox::waiting(app.store.pool(), actor.partner_id()).await?;
    let mut tx = app.store.begin().await?;
    let mut rec = actor.record("outbox.list", Outcome::Ok);
    rec.objects = files
        .iter()
        .map(|f| format!("file:{}", f.file_id))
        .collect();
    rec.rows = Some(files.len() as u64);
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(files)
}

async fn owned(
    tx: &mut crate::store::Tx,
    actor: &Actor,
    file_id: &str,
) -> Result<FileMeta, CircuitError> {
    match outbox::get(tx, file_id).await? {
        Some(f) if f.partner == actor.partner_id() => Ok(f),
        _ => Err(CircuitError::NotFound),
    }
}

/// A file for its owner: its metadata, once the download is audited with
/// the fields and households it discloses; the bytes then come from
/// [`body`], chunk by chunk.
pub async fn download(app: &App, actor: &Actor, file_id: &str) -> Result<FileMeta, CircuitError> {
    let mut tx = app.store.begin().await?;
    let meta = owned(&mut tx, actor, file_id).await?;
    let mut rec = actor.record("outbox.download", Outcome::Ok);
    rec.objects = vec![format!("file:{file_id}"), format!("kind:{}", meta.kind)];
    rec.fields = meta.fields.split(',').map(String::from).collect();
    rec.rows = Some(meta.rows as u64);
    // The households are those of the file's production: its entry's set.
    let subjects = match meta.produce_seq {
        Some(produced) => audit::subjects_of(&mut tx, produced).await?,
        None => None,
    };
    let seq = audit::reserve(&mut tx, 1).await?;
    audit::write_reserved(&mut tx, seq, &rec, subjects.as_ref()).await?;
    tx.commit().await?;
    Ok(meta)
}

/// The ciphertext of a file whose download [`download`] authorised and
/// audited, as a stream of its stored pieces (a download holds one piece,
/// not the file).
pub fn body(
    app: &App,
    file_id: String,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, sqlx::Error>> + Send + 'static {
    outbox::body_stream(app.store.pool().clone(), file_id)
}

/// Acknowledges a file (idempotent).
pub async fn ack(app: &App, actor: &Actor, file_id: &str) -> Result<(), CircuitError> {
    let mut tx = app.store.begin().await?;
    let meta = owned(&mut tx, actor, file_id).await?;
    outbox::ack(&mut tx, file_id, now_ms()).await?;
    let mut rec = actor.record("outbox.ack", Outcome::Ok);
    rec.objects = vec![format!("file:{file_id}")];
    if meta.acked {
        rec.reason = Some("already_acknowledged".into());
    }
    audit::append(&mut tx, &rec).await?;
    tx.commit().await?;
    Ok(())
}
