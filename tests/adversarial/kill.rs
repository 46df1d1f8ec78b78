//! The kill loop: the real gateway killed with SIGKILL at random moments of
//! uploads, returns and pulls, fifty times, started again each time. After
//! every kill: `audit verify` passes against the last checkpoint a partner
//! saved; nothing is partial (every list holds
//! all its cases, every waiting file downloads whole and decrypts); nothing
//! acknowledged is lost (receipts and acks the client saw still hold); and
//! retrying the interrupted request gives the same receipt, not a second copy.
//!
//! The seed is printed; `PASSERELLE_KILL_SEED=N` replays a run.

use crate::both;
use crate::helpers::{Db, csv_records, list_csv, sha256_hex};
use crate::process::{Gateway, Site};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Kills per database.
const ITERATIONS: usize = 50;

/// The members that pull files in the loop (CAF pulls through its returns).
const PULLERS: &[&str] = &["caf", "mdsf", "ccas-sables", "vendee-habitat"];

/// What the clients were told, which must survive every kill.
#[derive(Default)]
struct Promised {
    /// list_id → rows, for every 201/200 receipt of a list.
    lists: BTreeMap<String, i64>,
    /// return_id, for every receipt of a return.
    returns: BTreeSet<String>,
    /// (partner, file_id) acknowledged with a 204.
    acks: BTreeSet<(String, String)>,
    /// CAF's enrichment files it has had a receipt for.
    answered: BTreeSet<String>,
}

/// One request of the circuit, built before the kill so that its retry
/// sends the same bytes.
#[derive(Clone)]
enum Op {
    List { period: String, body: Vec<u8> },
    Return { file_id: String, plain: Vec<u8> },
    Pull { partner: String, file_id: String },
}

/// What an op answered, when it answered.
enum Answer {
    List(String, i64),
    Return(String),
    Acked,
}

async fn run_op(
    site: &Site,
    gw: &Gateway,
    op: &Op,
    recipient: &age::x25519::Recipient,
) -> Result<Answer, String> {
    match op {
        Op::List { period, body } => {
            let (status, json) = site
                .client(gw, "ddets")
                .push_list(period, "text/csv", body.clone())
                .await
                .map_err(|e| e.to_string())?;
            if !matches!(status, 200 | 201) {
                return Err(format!("list: {status} {json}"));
            }
            Ok(Answer::List(
                json["list_id"].as_str().unwrap().to_owned(),
                json["rows"].as_i64().unwrap(),
            ))
        }
        Op::Return { plain, .. } => {
            // Sealed afresh on each try, as a partner's client does: the
            // gateway recognises the same plaintext.
            let sealed =
                passerelle::export::envelope::seal(plain, std::slice::from_ref(recipient)).unwrap();
            let (status, json) = site
                .client(gw, "caf")
                .push_return("enrichment", sealed)
                .await
                .map_err(|e| e.to_string())?;
            if !matches!(status, 200 | 201) {
                return Err(format!("return: {status} {json}"));
            }
            Ok(Answer::Return(
                json["return_id"].as_str().unwrap().to_owned(),
            ))
        }
        Op::Pull { partner, file_id } => {
            let c = site.client(gw, partner);
            let listed = c.outbox().await.map_err(|e| e.to_string())?;
            if let Some(entry) = listed.iter().find(|f| &f.file_id == file_id) {
                let ct = c.download(file_id).await.map_err(|e| e.to_string())?;
                assert_eq!(
                    sha256_hex(&ct),
                    entry.sha256,
                    "{file_id}: bytes differ from the listing"
                );
            }
            c.ack(file_id).await.map_err(|e| e.to_string())?;
            Ok(Answer::Acked)
        }
    }
}

fn keep(promised: &mut Promised, op: &Op, answer: &Answer) {
    match (op, answer) {
        (Op::List { .. }, Answer::List(id, rows)) => {
            if let Some(before) = promised.lists.insert(id.clone(), *rows) {
                assert_eq!(before, *rows, "{id}: the receipt's rows changed");
            }
        }
        (Op::Return { file_id, .. }, Answer::Return(id)) => {
            promised.returns.insert(id.clone());
            promised.answered.insert(file_id.clone());
        }
        (Op::Pull { partner, file_id }, Answer::Acked) => {
            promised.acks.insert((partner.clone(), file_id.clone()));
        }
        _ => unreachable!(),
    }
}

/// A new list of 20 to 300 invented households, unique to iteration `i`.
fn new_list(i: usize, rng: &mut StdRng) -> Op {
    let n = rng.gen_range(20..300);
    let refs: Vec<String> = (0..n).map(|k| format!("CDP-K{i:03}-{k:05}")).collect();
    let names: Vec<String> = (0..n).map(|k| format!("Tuer{i}x{k}")).collect();
    let rows: Vec<[&str; 4]> = (0..n)
        .map(|k| [refs[k].as_str(), names[k].as_str(), "Camille", "85100"])
        .collect();
    Op::List {
        period: format!("2026-{:02}", 1 + i % 12),
        body: list_csv(&rows),
    }
}

/// The next op: a list when CAF has nothing to answer, else a return or a
/// pull (both need something waiting).
async fn next_op(i: usize, rng: &mut StdRng, site: &Site, gw: &Gateway, promised: &Promised) -> Op {
    let roll = rng.gen_range(0..3);
    if roll == 1 {
        // CAF answers its oldest enrichment file.
        let caf = site.client(gw, "caf");
        let files = caf.outbox().await.unwrap();
        let unanswered = files
            .iter()
            .find(|f| f.kind == "enrichment" && !promised.answered.contains(&f.file_id));
        if let Some(f) = unanswered {
            let ct = caf.download(&f.file_id).await.unwrap();
            let plain = passerelle::ingest::envelope::open(&ct, &site.identity("caf"), 1 << 30)
                .expect("CAF's file decrypts");
            let mut csv = String::from(
                "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
            );
            for r in csv_records(&plain).into_iter().skip(1) {
                csv.push_str(&format!("{},oui,1984-03-12,1,2,4;9,oui,non\n", r[0]));
            }
            return Op::Return {
                file_id: f.file_id.clone(),
                plain: csv.into_bytes(),
            };
        }
    }
    if roll == 2 {
        for partner in PULLERS {
            let files = site.client(gw, partner).outbox().await.unwrap();
            let waiting = files.iter().find(|f| {
                !promised
                    .acks
                    .contains(&(partner.to_string(), f.file_id.clone()))
            });
            // CAF keeps its enrichment files until it has answered them.
            let answered = |f: &&passerelle::client::OutboxEntry| {
                f.kind != "enrichment" || promised.answered.contains(&f.file_id)
            };
            if let Some(f) = waiting.filter(answered) {
                return Op::Pull {
                    partner: partner.to_string(),
                    file_id: f.file_id.clone(),
                };
            }
        }
    }
    new_list(i, rng)
}

/// Everything that must hold after a kill and a restart.
async fn check(site: &Site, gw: &Gateway, promised: &Promised, when: &str) {
    // Every list whole.
    let db = site.database().await;
    let rows = sqlx::query(
        "SELECT l.list_id, l.rows, (SELECT COUNT(*) FROM cases c WHERE c.list_id = l.list_id) FROM lists l",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut stored = BTreeMap::new();
    for r in &rows {
        let id: String = r.try_get(0).unwrap();
        let declared: i64 = r.try_get(1).unwrap();
        let cases: i64 = r.try_get(2).unwrap();
        assert_eq!(declared, cases, "{when}: list {id} is partial");
        stored.insert(id, declared);
    }
    db.close().await;
    for (id, n) in &promised.lists {
        assert_eq!(
            stored.get(id),
            Some(n),
            "{when}: acknowledged list {id} lost"
        );
    }
    // Every waiting file whole; no acknowledged file back.
    for partner in PULLERS {
        let c = site.client(gw, partner);
        for f in c.outbox().await.unwrap() {
            assert!(
                !promised
                    .acks
                    .contains(&(partner.to_string(), f.file_id.clone())),
                "{when}: {partner}'s acknowledged file {} is listed again",
                f.file_id
            );
            let ct = c.download(&f.file_id).await.unwrap();
            assert_eq!(ct.len() as u64, f.size, "{when}: {} cut short", f.file_id);
            assert_eq!(sha256_hex(&ct), f.sha256, "{when}: {} altered", f.file_id);
            passerelle::ingest::envelope::open(&ct, &site.identity(partner), 1 << 30)
                .unwrap_or_else(|e| panic!("{when}: {} does not decrypt: {e}", f.file_id));
        }
    }
    // Every acknowledged return still there.
    let caf = site.client(gw, "caf");
    for id in &promised.returns {
        let (status, body) = caf.get_json(&format!("/v1/returns/{id}")).await.unwrap();
        assert_eq!(status, 200, "{when}: acknowledged return {id} lost: {body}");
    }
}

async fn killing_the_gateway_fifty_times_mid_request_loses_and_doubles_nothing(db: Db) {
    let Some(mut site) = Site::new(db).await else {
        return;
    };
    let seed: u64 = std::env::var("PASSERELLE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("kill loop on {db:?}: PASSERELLE_KILL_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut gw = site.start("warn");
    let recipient: age::x25519::Recipient = site
        .client(&gw, "ddets")
        .recipient()
        .await
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    site.save_checkpoint(&gw).await;
    let mut promised = Promised::default();
    // How long the last uninterrupted request took: kills land within it.
    let mut span = Duration::from_millis(300);
    let mut interrupted = 0;
    for i in 0..ITERATIONS {
        let op = next_op(i, &mut rng, &site, &gw, &promised).await;
        let delay = span.mul_f64(rng.gen_range(0.0..1.2));
        let answer = {
            let request = run_op(&site, &gw, &op, &recipient);
            tokio::pin!(request);
            tokio::select! {
                a = &mut request => Some(a),
                _ = tokio::time::sleep(delay) => None,
            }
        };
        gw.kill();
        match &answer {
            Some(Ok(a)) => keep(&mut promised, &op, a),
            _ => interrupted += 1,
        }
        let when = format!("iteration {i} (seed {seed})");
        let (ok, text) = site.audit_verify();
        assert!(ok, "{when}: audit verify after the kill: {text}");
        gw = site.start("warn");
        // The client retries what it did not see answered, and what it
        // did: either way the answer is the first one.
        let started = Instant::now();
        let retried = run_op(&site, &gw, &op, &recipient)
            .await
            .unwrap_or_else(|e| panic!("{when}: the retry failed: {e}"));
        span = started.elapsed();
        match (&answer, &retried) {
            (Some(Ok(Answer::List(a, _))), Answer::List(b, _)) => {
                assert_eq!(a, b, "{when}: the list was stored twice")
            }
            (Some(Ok(Answer::Return(a))), Answer::Return(b)) => {
                assert_eq!(a, b, "{when}: the return was applied twice")
            }
            _ => {}
        }
        keep(&mut promised, &op, &retried);
        check(&site, &gw, &promised, &when).await;
        site.save_checkpoint(&gw).await;
    }
    gw.kill();
    let (ok, text) = site.audit_verify();
    assert!(ok, "after the loop: {text}");
    eprintln!(
        "kill loop on {db:?}: {ITERATIONS} kills, {interrupted} mid-request, {} lists, {} returns, {} acks",
        promised.lists.len(),
        promised.returns.len(),
        promised.acks.len()
    );
    assert!(
        interrupted >= ITERATIONS / 5,
        "only {interrupted} kills landed mid-request: the loop tests too little"
    );
}
both!(killing_the_gateway_fifty_times_mid_request_loses_and_doubles_nothing);
