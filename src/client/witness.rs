//! The partner as a witness of the gateway's access log: each run fetches
//! the latest signed checkpoint, verifies its signature with the pinned
//! audit key, and checks that the log it describes extends the one seen
//! last time (RFC 6962 consistency proof). A fork or a rollback fails
//! loudly; nothing else is done on that run.

use super::{ClientConfig, ClientError, GatewayClient, write_atomic};
use crate::audit::{checkpoint, merkle};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// What the check saw: `(previous size, current size)`.
pub type Seen = (u64, u64);

/// Fetches, verifies and records the gateway's latest checkpoint.
pub async fn check(cfg: &ClientConfig, client: &GatewayClient) -> Result<Seen, ClientError> {
    let (status, v) = client.get_json("/v1/audit/checkpoint").await?;
    if status != 200 {
        return Err(ClientError::Refused {
            status,
            body: v.to_string(),
        });
    }
    let note = v["checkpoint"].as_str().unwrap_or_default().to_owned();
    let served_key = v["verifier_key"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let key_file = cfg.state.join("audit.pub");
    let pinned = std::fs::read_to_string(&key_file)
        .ok()
        .map(|s| s.trim().to_owned());
    let key = match pinned {
        Some(k) => k,
        None => {
            write_atomic(&key_file, format!("{served_key}\n").as_bytes())?;
            served_key
        }
    };
    let fail = |m: String| ClientError::LogInconsistent(m);
    let new = checkpoint::verify(&note, &key).map_err(|e| {
        fail(format!(
            "the gateway's checkpoint does not verify with the pinned audit key: {e}"
        ))
    })?;
    let last_file = cfg.state.join("checkpoint");
    let old = std::fs::read_to_string(&last_file)
        .ok()
        .and_then(|n| checkpoint::verify(&n, &key).ok());
    let previous = old.as_ref().map_or(0, |o| o.size);
    if let Some(old) = &old {
        if new.size < old.size {
            return Err(fail(format!(
                "ROLLBACK: the gateway's log has {} entries, but it had {} when last seen",
                new.size, old.size
            )));
        }
        if new.size == old.size && new.root != old.root {
            return Err(fail(format!(
                "FORK: two different logs of {} entries",
                new.size
            )));
        }
        if new.size > old.size {
            let (status, p) = client
                .get_json(&format!(
                    "/v1/audit/proof/consistency?from={}&to={}",
                    old.size, new.size
                ))
                .await?;
            if status != 200 {
                return Err(fail(format!(
                    "no consistency proof from {} to {}: {p}",
                    old.size, new.size
                )));
            }
            let proof: Vec<merkle::Hash> = p["hashes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| h.as_str())
                .filter_map(|h| B64.decode(h).ok())
                .filter_map(|h| h.try_into().ok())
                .collect();
            if !merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof) {
                return Err(fail(format!(
                    "FORK: the log of {} entries does not extend the one of {} seen before",
                    new.size, old.size
                )));
            }
        }
    }
    write_atomic(&last_file, note.as_bytes())?;
    Ok((previous, new.size))
}
