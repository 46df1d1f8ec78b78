//! Attacks on input, faults and withdrawal: half-broken encodings, floods
//! of bad rows, XLSX files that expand in memory, symlinks planted in the
//! data folder, a full disk, a database that goes away, and lists sent by
//! mistake (withdrawal).

use crate::helpers::{Db, code, list_csv, spawn_app};
use crate::state;

/// A valid UTF-8 list (`Zoé`, `Léa`) with one Windows-1252 byte (`\xE9`)
/// on line 3: before, it was silently reread as Windows-1252 and every
/// accent garbled (`Zoé` → `ZoÃ©`), yet accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_with_one_bad_byte_is_refused_naming_line_and_byte() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let good = list_csv(&[
        ["CDP-1", "Zoé", "Ana", "85100"],
        ["CDP-2", "Durand", "Léa", "85100"],
    ]);
    let text = String::from_utf8(good.clone()).unwrap();
    // Line 3 (header = 1): "Léa" written in Windows-1252.
    let mut bytes = Vec::new();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i == 2 {
            bytes.extend_from_slice(&line.as_bytes()[..line.find("Léa").unwrap()]);
            bytes.extend_from_slice(b"L\xE9a");
            bytes.extend_from_slice(&line.as_bytes()[line.find("Léa").unwrap() + "Léa".len()..]);
        } else {
            bytes.extend_from_slice(line.as_bytes());
        }
    }
    let before = state::snapshot(&app).await;
    let (status, body) = app.push_list("2026-10", "text/csv", bytes).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "unreadable_file", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ligne 3, octet 0xE9"),
        "the refusal names the line and the byte: {message}"
    );
    assert_eq!(body["error"]["details"][0]["line"], 3, "{body}");
    state::assert_unchanged(&app, &before, "UTF-8 with one bad byte").await;

    // Genuine Windows-1252 (no UTF-8 sequence anywhere) is still accepted.
    let latin1: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let (status, body) = app.push_list("2026-10", "text/csv", latin1).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["rows"], 2);
    app.stop().await;
}

/// 200,000 bad rows once made a 205 MB answer (and held every error in
/// memory): the answer lists the first errors and counts the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_bad_rows_get_a_bounded_answer() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let mut body = crate::helpers::LIST_HEADER.as_bytes().to_vec();
    body.push(b'\n');
    for i in 0..200_000 {
        // One field where the header has fourteen: an error of its line.
        body.extend_from_slice(format!("CDP-{i}\n").as_bytes());
    }
    let before = state::snapshot(&app).await;
    let c = app.client("ddets");
    let resp = c
        .http()
        .post(c.url("/v1/lists?period=2026-10"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let text = resp.bytes().await.unwrap();
    assert!(
        text.len() < 64 * 1024,
        "the answer is bounded, not {} bytes",
        text.len()
    );
    let body: serde_json::Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(code(&body), "invalid_rows", "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), passerelle::ingest::MAX_ERROR_DETAILS);
    assert_eq!(details[0]["line"], 2, "the first errors, by line");
    assert_eq!(body["error"]["details_truncated"], true, "{body}");
    assert_eq!(body["error"]["details_total"], 200_000, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("200000 rows are invalid"), "{message}");
    state::assert_unchanged(&app, &before, "200,000 bad rows").await;
    app.stop().await;
}
