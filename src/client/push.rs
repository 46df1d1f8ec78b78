//! `push-list`, `push-procedures` and `push-return`: encrypt to the pinned gateway recipient,
//! send, report the receipt or the gateway's line errors.

use super::{ClientConfig, ClientError, pinned_recipient};
use serde::Serialize;
use std::path::Path;

/// What a push did.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// HTTP status (200: already received, 201: new).
    pub status: u16,
    /// The gateway's answer.
    pub answer: serde_json::Value,
    /// Whether the gateway's recipient was pinned by this call.
    pub pinned_now: bool,
}

/// Where a push goes.
enum Target<'a> {
    /// `POST /v1/lists?period=…`.
    List(&'a str),
    /// `POST /v1/procedures?period=…`.
    Procedures(&'a str),
    /// `POST /v1/returns?kind=…`.
    Return(&'a str),
}

async fn send(
    cfg: &ClientConfig,
    file: &Path,
    target: Target<'_>,
) -> Result<PushReport, ClientError> {
    let bytes =
        std::fs::read(file).map_err(|e| ClientError::Local(format!("{}: {e}", file.display())))?;
    let client = cfg.connect()?;
    super::witness::check(cfg, &client).await?;
    let (recipient, pinned_now) = pinned_recipient(cfg, &client).await?;
    let ct = crate::export::envelope::seal(&bytes, &[recipient])
        .map_err(|e| ClientError::Local(e.to_string()))?;
    let (status, answer) = match target {
        Target::List(period) => client.push_list(period, "application/age", ct).await?,
        Target::Procedures(period) => {
            client
                .push_procedures(period, "application/age", ct)
                .await?
        }
        Target::Return(kind) => client.push_return(kind, ct).await?,
    };
    if !(200..300).contains(&status) {
        let body = match answer {
            serde_json::Value::String(text) => text,
            json => json.to_string(),
        };
        return Err(ClientError::Refused { status, body });
    }
    super::status::record_success(cfg, "push")?;
    Ok(PushReport {
        status,
        answer,
        pinned_now,
    })
}

/// Sends the month's list (`source` role).
pub async fn push_list(
    cfg: &ClientConfig,
    file: &Path,
    period: &str,
) -> Result<PushReport, ClientError> {
    crate::domain::Period::parse(period).map_err(ClientError::Config)?;
    send(cfg, file, Target::List(period)).await
}

/// Sends the month's procedure events exported from EXPLOC (`source` role).
pub async fn push_procedures(
    cfg: &ClientConfig,
    file: &Path,
    period: &str,
) -> Result<PushReport, ClientError> {
    crate::domain::Period::parse(period).map_err(ClientError::Config)?;
    send(cfg, file, Target::Procedures(period)).await
}

/// Sends a return of `kind`.
pub async fn push_return(
    cfg: &ClientConfig,
    kind: &str,
    file: &Path,
) -> Result<PushReport, ClientError> {
    let kind: crate::ingest::returns::ReturnKind = kind.parse().map_err(ClientError::Config)?;
    send(cfg, file, Target::Return(kind.as_str())).await
}

/// What a file dropped in the outbox is, by its name: `enrichment…`,
/// `referent…`, `followup…` (a return), `liste-AAAA-MM…` (a list) or
/// `procedures-AAAA-MM…` (EXPLOC's procedure events).
pub async fn push_file(cfg: &ClientConfig, file: &Path) -> Result<PushReport, ClientError> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_lowercase();
    for kind in ["enrichment", "referent", "followup"] {
        if name.starts_with(kind) {
            return push_return(cfg, kind, file).await;
        }
    }
    if let Some(rest) = name
        .strip_prefix("liste-")
        .or_else(|| name.strip_prefix("list-"))
        // `get`, not an index: the seventh byte may fall inside a
        // character of a name like `liste-2026-1é.csv`.
        && let Some(period) = rest.get(..7)
        && crate::domain::Period::parse(period).is_ok()
    {
        return push_list(cfg, file, period).await;
    }
    if let Some(rest) = name.strip_prefix("procedures-")
        && let Some(period) = rest.get(..7)
        && crate::domain::Period::parse(period).is_ok()
    {
        return push_procedures(cfg, file, period).await;
    }
    Err(ClientError::Refused {
        status: 0,
        body: serde_json::json!({"error": {"code": "unknown_file_name", "message":
            "name the file enrichment…, referent…, followup… (a return), liste-AAAA-MM… (a list) or procedures-AAAA-MM… (procedure events)"}})
        .to_string(),
    })
}
