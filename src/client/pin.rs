//! The gateway's age recipient, pinned: fetched once (or set by the
//! operator in `client.toml`), kept in the state folder, and compared with
//! what the gateway serves before every push. A changed key is refused
//! until the operator accepts it: a hostile network that swapped the key
//! would otherwise receive the partner's returns.

use super::{ClientConfig, ClientError, GatewayClient, write_atomic};

fn pin_file(cfg: &ClientConfig) -> std::path::PathBuf {
    cfg.state.join("gateway.recipient")
}

/// The recipient to encrypt to, after checking the gateway still serves it.
/// `Ok((recipient, newly_pinned))`.
pub async fn pinned_recipient(
    cfg: &ClientConfig,
    client: &GatewayClient,
) -> Result<(age::x25519::Recipient, bool), ClientError> {
    let served = client.recipient().await?;
    let pinned = match &cfg.gateway_recipient {
        Some(r) => Some(r.clone()),
        None => std::fs::read_to_string(pin_file(cfg))
            .ok()
            .map(|s| s.trim().to_owned()),
    };
    let (text, new) = match pinned {
        Some(p) if p == served => (p, false),
        Some(p) => {
            return Err(ClientError::RecipientChanged { pinned: p, served });
        }
        None => {
            write_atomic(&pin_file(cfg), format!("{served}\n").as_bytes())?;
            (served, true)
        }
    };
    let r = text.parse().map_err(|e: &str| ClientError::Refused {
        status: 200,
        body: format!("the gateway's recipient is not an age X25519 recipient: {e}"),
    })?;
    Ok((r, new))
}

/// Pins what the gateway serves now; returns `(previous, new)`.
pub async fn accept_recipient(cfg: &ClientConfig) -> Result<(Option<String>, String), ClientError> {
    let client = cfg.connect()?;
    let served = client.recipient().await?;
    let _: age::x25519::Recipient = served.parse().map_err(|e: &str| ClientError::Refused {
        status: 200,
        body: format!("the gateway's recipient is not an age X25519 recipient: {e}"),
    })?;
    let previous = std::fs::read_to_string(pin_file(cfg))
        .ok()
        .map(|s| s.trim().to_owned());
    write_atomic(&pin_file(cfg), format!("{served}\n").as_bytes())?;
    Ok((previous, served))
}
