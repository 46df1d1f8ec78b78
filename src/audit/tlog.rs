//! The audit log as a transparency log, on the store: leaf hashes in order
//! (those of entries removed by retention kept in `audit_pruned`), signed
//! checkpoints, proofs, and the offline verification the DPO runs.

use super::checkpoint::{self, Signer};
use super::merkle::{self, Hash};
use sqlx::{AnyConnection, Row};

/// A store or verification failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlogError {
    /// The database.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A bad request (size beyond the log…).
    #[error("{0}")]
    Bad(String),
}

fn hash(hexed: &str) -> Option<Hash> {
    hex::decode(hexed).ok()?.try_into().ok()
}

/// The stored leaf hashes, in order (pruned ones first).
pub async fn leaves(conn: &mut AnyConnection) -> Result<Vec<Hash>, TlogError> {
    let mut out = Vec::new();
    for sql in [
        "SELECT seq, leaf_hash FROM audit_pruned ORDER BY seq",
        "SELECT seq, leaf_hash FROM audit_log ORDER BY seq",
    ] {
        for r in sqlx::query(sql).fetch_all(&mut *conn).await? {
            let h: String = r.try_get(1)?;
            out.push(hash(&h).ok_or_else(|| {
                TlogError::Bad("a stored leaf hash is not 32 bytes of hex".into())
            })?);
        }
    }
    Ok(out)
}

/// When the checkpoint covering `size` entries was signed (epoch ms).
pub async fn checkpoint_signed_at(
    conn: &mut AnyConnection,
    size: u64,
) -> Result<Option<i64>, TlogError> {
    let at = sqlx::query("SELECT created_at FROM audit_checkpoints WHERE size = $1")
        .bind(size as i64)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match at {
        Some(r) => Some(r.try_get::<i64, _>(0)?),
        None => None,
    })
}

/// Signs a checkpoint of the log as it is now and returns the latest
/// `(size, note)` — unless the log did not grow, or (with `min_age_ms`) the
/// latest checkpoint is younger than that: then the latest is returned.
pub async fn sign_checkpoint(
    conn: &mut AnyConnection,
    signer: &Signer,
    min_age_ms: Option<i64>,
) -> Result<(u64, String), TlogError> {
    let newest = sqlx::query(
        "SELECT size, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let newest = match newest {
        Some(r) => Some((
            r.try_get::<i64, _>(0)? as u64,
            r.try_get::<String, _>(1)?,
            r.try_get::<i64, _>(2)?,
        )),
        None => None,
    };
    if let (Some((size, note, at)), Some(min_age)) = (&newest, min_age_ms)
        && crate::util::now_ms() - at < min_age
    {
        return Ok((*size, note.clone()));
    }
    let leaves = leaves(conn).await?;
    let size = leaves.len() as u64;
    if let Some((latest, note, _)) = newest
        && latest >= size
    {
        return Ok((latest, note));
    }
    let root = merkle::root(&leaves);
    let note = signer.sign(size, &root);
    sqlx::query(
        "INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
    )
    .bind(size as i64)
    .bind(hex::encode(root))
    .bind(note.clone())
    .bind(crate::util::now_ms())
    .execute(&mut *conn)
    .await?;
    Ok((size, note))
}

/// Inclusion proof of leaf `index` in the tree of `size` leaves.
pub async fn inclusion(
    conn: &mut AnyConnection,
    index: u64,
    size: u64,
) -> Result<(Hash, Vec<Hash>), TlogError> {
    let leaves = leaves(conn).await?;
    if size == 0 || size > leaves.len() as u64 || index >= size {
        return Err(TlogError::Bad(format!(
            "no leaf {index} in a tree of {size} (the log has {})",
            leaves.len()
        )));
    }
    let l = &leaves[..size as usize];
    Ok((
        l[index as usize],
        merkle::inclusion_proof(index as usize, l),
    ))
}

/// Consistency proof between the trees of `first` and `second` leaves.
pub async fn consistency(
    conn: &mut AnyConnection,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, TlogError> {
    let leaves = leaves(conn).await?;
    if first > second || second > leaves.len() as u64 {
        return Err(TlogError::Bad(format!(
            "cannot prove {first} → {second}: the log has {} entries",
            leaves.len()
        )));
    }
    Ok(merkle::consistency_proof(
        first as usize,
        &leaves[..second as usize],
    ))
}

/// One thing wrong with the stored log.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Fault {
    /// The entry position (sequence number) concerned.
    pub position: u64,
    /// `modified`, `deleted`, `inserted`, `reordered`, `truncated`,
    /// `checkpoint`, `column` (a column the DPO's queries read disagrees
    /// with the hashed entry), `subjects` (an entry's household set no
    /// longer matches the count and digest in the entry).
    pub kind: &'static str,
    /// In words.
    pub message: String,
}

impl Fault {
    /// What kind of fault, in French, for the DPO's pages (the message
    /// stays technical: positions, hashes, columns).
    pub fn label_fr(&self) -> &'static str {
        match self.kind {
            "modified" => "entrée modifiée",
            "deleted" => "entrée supprimée",
            "inserted" => "entrée insérée",
            "reordered" => "entrées réordonnées",
            "truncated" => "journal tronqué",
            "checkpoint" => "point de contrôle invalide",
            "column" => "colonne altérée",
            "subjects" => "ménages concernés altérés",
            _ => "anomalie",
        }
    }
}

/// What `audit verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verification {
    /// Entries present (including pruned leaves).
    pub entries: u64,
    /// Checkpoints whose signature and root were checked.
    pub checkpoints_checked: u64,
    /// The latest good checkpoint `(size, root hex)`.
    pub latest_checkpoint: Option<(u64, String)>,
    /// Its note.
    pub latest_note: Option<String>,
    /// The size of the saved checkpoint (`--checkpoint`) the log was found
    /// consistent with.
    pub saved_checkpoint: Option<u64>,
    /// Household sets checked against their entries' count and digest.
    pub subject_sets_checked: u64,
    /// Faults, first first.
    pub faults: Vec<Fault>,
}

impl Verification {
    /// No fault.
    pub fn ok(&self) -> bool {
        self.faults.is_empty()
    }

    /// Whether a signed checkpoint (stored or saved) vouched for the log:
    /// without one, only its internal consistency was checked, which a
    /// log cut or rewritten whole (with its head and checkpoints) passes.
    pub fn anchored(&self) -> bool {
        self.checkpoints_checked > 0 || self.saved_checkpoint.is_some()
    }
}

/// Recomputes the whole log from the stored entries and checks it against
/// itself (sequence, leaf hashes, hash chain, counter, the columns the
/// DPO's queries read, each household set) and against every stored signed
/// checkpoint (signature with `vkey`, root, size).
pub async fn verify(conn: &mut AnyConnection, vkey: &str) -> Result<Verification, TlogError> {
    verify_with(conn, vkey, None).await
}

/// The stored columns of an entry that queries read, and the set it names.
struct Columns {
    at: i64,
    partner: Option<String>,
    action: String,
    outcome: String,
    subjects_set: Option<i64>,
}

/// Epoch milliseconds of an entry's `at` (RFC 3339).
fn at_ms(at: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// What differs between the stored columns and the hashed entry.
fn column_fault(seq: i64, entry: &super::StoredEntry, c: &Columns) -> Option<Fault> {
    let outcome = entry.outcome.map(|o| o.as_str()).unwrap_or_default();
    let differs = if at_ms(&entry.at) != Some(c.at) {
        Some(("at", c.at.to_string(), entry.at.clone()))
    } else if entry.partner != c.partner {
        Some((
            "partner",
            format!("{:?}", c.partner),
            format!("{:?}", entry.partner),
        ))
    } else if entry.action != c.action {
        Some(("action", c.action.clone(), entry.action.clone()))
    } else if outcome != c.outcome {
        Some(("outcome", c.outcome.clone(), outcome.to_owned()))
    } else {
        None
    };
    differs.map(|(column, stored, hashed)| Fault {
        position: seq as u64,
        kind: "column",
        message: format!(
            "entry {seq}'s {column} column was altered: it holds {stored} but the signed entry says {hashed}"
        ),
    })
}

/// Count and digest of the stored set `set`, read in pages.
async fn set_digest(conn: &mut AnyConnection, set: i64) -> Result<(u64, String), TlogError> {
    let mut d = super::SubjectsDigest::new();
    let mut from = i64::MIN;
    loop {
        let rows = sqlx::query(
            "SELECT n, subject FROM audit_subjects WHERE set_id = $1 AND n > $2 ORDER BY n LIMIT 10000",
        )
        .bind(set)
        .bind(from)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            from = r.try_get(0)?;
            d.add(&r.try_get::<String, _>(1)?);
        }
        if rows.len() < 10_000 {
            break;
        }
    }
    let s = d.finish(set);
    Ok((s.count, s.sha256))
}

/// [`verify`], and with `saved` (a signed checkpoint a partner kept, as
/// the client stores it in `state/checkpoint`) also that the log is the
/// tree of that checkpoint or an extension of it: a log cut, or rewritten
/// with its checkpoints table, after that checkpoint is caught.
pub async fn verify_with(
    conn: &mut AnyConnection,
    vkey: &str,
    saved: Option<&str>,
) -> Result<Verification, TlogError> {
    let mut faults = Vec::new();
    let mut content_faults = Vec::new();
    let mut leaves: Vec<Hash> = Vec::new();
    let pruned = sqlx::query("SELECT seq, leaf_hash FROM audit_pruned ORDER BY seq")
        .fetch_all(&mut *conn)
        .await?;
    for r in &pruned {
        let seq: i64 = r.try_get(0)?;
        if seq as usize != leaves.len() {
            faults.push(Fault {
                position: leaves.len() as u64,
                kind: "deleted",
                message: format!("pruned leaf {} is missing", leaves.len()),
            });
            break;
        }
        leaves.push(hash(&r.try_get::<String, _>(1)?).unwrap_or([0; 32]));
    }
    let head: i64 = sqlx::query("SELECT next_seq FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let rows = sqlx::query(
        "SELECT seq, entry, leaf_hash, at, partner, action, outcome, subjects_set FROM audit_log ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut sets: std::collections::HashMap<i64, (u64, String)> = Default::default();
    let empty_set = super::SubjectsDigest::new().finish(0).sha256;
    for r in &rows {
        let seq: i64 = r.try_get(0)?;
        let entry: String = r.try_get(1)?;
        let stored: String = r.try_get(2)?;
        let columns = Columns {
            at: r.try_get(3)?,
            partner: r.try_get(4)?,
            action: r.try_get(5)?,
            outcome: r.try_get(6)?,
            subjects_set: r.try_get(7)?,
        };
        let expected = leaves.len() as u64;
        if faults.iter().any(|f| f.kind != "checkpoint") {
            break; // the first fault is the one that matters; later positions shift
        }
        if (seq as u64) > expected {
            faults.push(Fault {
                position: expected,
                kind: "deleted",
                message: format!("entry {expected} is missing (the next stored entry is {seq})"),
            });
            break;
        }
        if seq >= head {
            faults.push(Fault {
                position: seq as u64,
                kind: "inserted",
                message: format!(
                    "entry {seq} was added outside the gateway (only {head} were written)"
                ),
            });
            break;
        }
        if (seq as u64) < expected {
            faults.push(Fault {
                position: seq as u64,
                kind: "inserted",
                message: format!("entry {seq} appears twice"),
            });
            break;
        }
        let parsed: serde_json::Value =
            serde_json::from_str(&entry).unwrap_or(serde_json::Value::Null);
        let recomputed = super::leaf_hash(entry.as_bytes());
        if hex::encode(recomputed) != stored {
            faults.push(Fault {
                position: expected,
                kind: "modified",
                message: format!(
                    "entry {expected} was modified: its content no longer hashes to its leaf"
                ),
            });
            break;
        }
        if parsed["seq"].as_i64() != Some(seq) {
            faults.push(Fault {
                position: expected,
                kind: "reordered",
                message: format!(
                    "entry {expected} holds the content of entry {} (reordered or inserted)",
                    parsed["seq"]
                ),
            });
            break;
        }
        let prev = leaves.last().map(hex::encode).unwrap_or_default();
        if parsed["prev"].as_str() != Some(prev.as_str()) {
            let position = expected.saturating_sub(1);
            faults.push(Fault {
                position,
                kind: "modified",
                message: format!(
                    "entry {position} was modified or replaced: entry {expected} links to another hash"
                ),
            });
            break;
        }
        // What the DPO's queries read must be what the entry says.
        let typed = super::StoredEntry::parse(&entry).unwrap_or_default();
        if let Some(f) = column_fault(seq, &typed, &columns) {
            content_faults.push(f);
        }
        let (count, sha) = match columns.subjects_set {
            None => (0, empty_set.clone()),
            Some(set) => match sets.get(&set) {
                Some(d) => d.clone(),
                None => {
                    let d = set_digest(conn, set).await?;
                    sets.insert(set, d.clone());
                    d
                }
            },
        };
        // An entry of a release that named no households carries no digest.
        let committed = if typed.subjects == 0 && typed.subjects_sha256.is_empty() {
            empty_set.clone()
        } else {
            typed.subjects_sha256.clone()
        };
        if count != typed.subjects || sha != committed {
            content_faults.push(Fault {
                position: seq as u64,
                kind: "subjects",
                message: format!(
                    "entry {seq}'s households were altered: the entry names {} household(s) but its stored set holds {count}{}",
                    typed.subjects,
                    if count == typed.subjects { " different ones" } else { "" }
                ),
            });
        }
        leaves.push(recomputed);
    }
    let n = leaves.len() as u64;
    if faults.is_empty() && (head as u64) > n {
        faults.push(Fault {
            position: n,
            kind: "truncated",
            message: format!(
                "the log ends at entry {n} but {head} were written: entries {n}… were removed"
            ),
        });
    }
    if faults.is_empty() && (head as u64) < n {
        faults.push(Fault {
            position: head as u64,
            kind: "inserted",
            message: format!(
                "entries from {head} on were added outside the gateway (the counter says {head})"
            ),
        });
    }
    let mut checked = 0;
    let mut latest = None;
    let mut latest_note = None;
    let cps = sqlx::query("SELECT size, note FROM audit_checkpoints ORDER BY size")
        .fetch_all(&mut *conn)
        .await?;
    for r in &cps {
        let size = r.try_get::<i64, _>(0)? as u64;
        let note: String = r.try_get(1)?;
        match checkpoint::verify(&note, vkey) {
            Err(e) => faults.push(Fault {
                position: size,
                kind: "checkpoint",
                message: format!("checkpoint of size {size}: {e}"),
            }),
            Ok(c) if c.size != size => faults.push(Fault {
                position: size,
                kind: "checkpoint",
                message: format!("checkpoint stored as size {size} says {}", c.size),
            }),
            Ok(_) if size > n => faults.push(Fault {
                position: n,
                kind: "truncated",
                message: format!("a signed checkpoint covers {size} entries but the log has {n}: entries {n}… were removed"),
            }),
            Ok(c) => {
                if merkle::root(&leaves[..size as usize]) != c.root {
                    faults.push(Fault {
                        position: size,
                        kind: "checkpoint",
                        message: format!("the first {size} entries no longer match the signed checkpoint of that size"),
                    });
                } else {
                    checked += 1;
                    latest = Some((size, hex::encode(c.root)));
                    latest_note = Some(note.clone());
                }
            }
        }
    }
    let mut saved_checkpoint = None;
    if let Some(note) = saved {
        match checkpoint::verify(note, vkey) {
            Err(e) => faults.push(Fault {
                position: 0,
                kind: "checkpoint",
                message: format!("the saved checkpoint: {e}"),
            }),
            Ok(c) if c.size > n => faults.push(Fault {
                position: n,
                kind: "truncated",
                message: format!(
                    "the saved checkpoint covers {} entries but the log has {n}: entries {n}… were removed",
                    c.size
                ),
            }),
            Ok(c) if merkle::root(&leaves[..c.size as usize]) != c.root => faults.push(Fault {
                position: c.size,
                kind: "checkpoint",
                message: format!(
                    "the first {} entries are not the log the saved checkpoint of that size signed (rewritten or forked)",
                    c.size
                ),
            }),
            Ok(c) => saved_checkpoint = Some(c.size),
        }
    }
    faults.extend(content_faults);
    faults.sort_by_key(|f| f.position);
    Ok(Verification {
        entries: n,
        checkpoints_checked: checked,
        latest_checkpoint: latest,
        latest_note,
        saved_checkpoint,
        subject_sets_checked: sets.len() as u64,
        faults,
    })
}
