//! `POST /v1/lists`, `GET /v1/lists` and the enrichment file routed to CAF.

use crate::both;
use crate::helpers::{
    Db, age_cli, code, csv_records, decrypt, edit, list_csv, sample, spawn_app, spawn_app_with,
    status_json,
};
use std::collections::BTreeSet;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The columns CAF's enrichment file holds, exactly.
const CAF_COLUMNS: &str = "token,nom,prenom,adresse,code_postal,commune";

async fn the_clean_sample_is_accepted_and_routed_to_caf(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, receipt) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["rows"], 25);
    let caf = app.client("caf");
    let files = caf.outbox().await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].kind, "enrichment");
    let plain = decrypt(
        &caf.download(&files[0].file_id).await.unwrap(),
        &app.identity("caf"),
    );
    let text = String::from_utf8(plain).unwrap();
    assert_eq!(text.lines().next().unwrap(), CAF_COLUMNS);
    assert_eq!(text.lines().count(), 26);
    app.stop().await;
}
both!(the_clean_sample_is_accepted_and_routed_to_caf);

/// Uploads a sample and checks it is accepted whole, and CAF gets its 25 rows.
async fn accepts_sample(db: Db, file: &str, content_type: &str, period: &str) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, receipt) = app.push_list(period, content_type, sample(file)).await;
    assert_eq!(status, 201, "{file}: {receipt}");
    assert_eq!(receipt["rows"], 25, "{file}");
    assert_eq!(receipt["period"], period);
    assert!(receipt["list_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(receipt["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 25);
    let (_, _, plain) = app.caf_file().await;
    let records = csv_records(&plain);
    assert_eq!(records[0].join(","), CAF_COLUMNS);
    assert_eq!(records.len(), 26, "{file}: header and 25 rows");
    for r in &records[1..] {
        assert!(
            r[4].len() == 5 && r[4].chars().all(|c| c.is_ascii_digit()),
            "{file}: postal code {:?}",
            r[4]
        );
        assert!(
            r[0].len() > 10 && !r[1].is_empty() && !r[5].is_empty(),
            "{file}: {r:?}"
        );
    }
    app.stop().await;
}

async fn the_excel_french_sample_is_accepted_with_its_25_rows(db: Db) {
    accepts_sample(db, "liste-2026-10-excel-fr.csv", "text/csv", "2026-10").await;
}
both!(the_excel_french_sample_is_accepted_with_its_25_rows);

async fn the_windows_1252_sample_is_accepted_with_its_25_rows(db: Db) {
    accepts_sample(db, "liste-2026-10-windows-1252.csv", "text/csv", "2026-10").await;
}
both!(the_windows_1252_sample_is_accepted_with_its_25_rows);

async fn the_xlsx_sample_is_accepted_with_its_25_rows(db: Db) {
    accepts_sample(db, "liste-2026-11.xlsx", XLSX, "2026-11").await;
}
both!(the_xlsx_sample_is_accepted_with_its_25_rows);

async fn the_windows_1252_sample_reaches_caf_with_its_accents_intact(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let bytes = sample("liste-2026-10-windows-1252.csv");
    let (status, _) = app.push_list("2026-10", "text/csv", bytes.clone()).await;
    assert_eq!(status, 201);
    // The file as a Windows-1252 reader sees it: `;`-separated, headers
    // `Nom`, `Prénom`, `Commune`.
    let (text, _, bad) = encoding_rs::WINDOWS_1252.decode(&bytes);
    assert!(!bad);
    let src: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(b';')
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(|c| c.trim().to_owned()).collect())
        .collect();
    let col = |name: &str| {
        src[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", src[0]))
    };
    let expected: BTreeSet<(String, String, String)> = src[1..]
        .iter()
        .map(|r| {
            (
                r[col("Nom")].clone(),
                r[col("Prénom")].clone(),
                r[col("Commune")].clone(),
            )
        })
        .collect();
    let (_, _, plain) = app.caf_file().await;
    let got: BTreeSet<(String, String, String)> = csv_records(&plain)[1..]
        .iter()
        .map(|r| (r[1].clone(), r[2].clone(), r[5].clone()))
        .collect();
    assert_eq!(
        got, expected,
        "Windows-1252 text reaches CAF as the same UTF-8 text"
    );
    assert!(
        got.iter()
            .any(|(n, p, c)| (n.to_owned() + p + c).contains(['é', 'è', 'ë', 'Î', 'ç']))
    );
    app.stop().await;
}
both!(the_windows_1252_sample_reaches_caf_with_its_accents_intact);

async fn an_age_encrypted_list_is_accepted(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let body = passerelle::export::envelope::seal(
        &sample("liste-2026-09-clean.csv"),
        &[app.gateway_recipient()],
    )
    .unwrap();
    let (status, receipt) = app.push_list("2026-09", "application/age", body).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["rows"], 25);
    app.stop().await;
}
both!(an_age_encrypted_list_is_accepted);

async fn the_invalid_sample_is_refused_with_every_bad_line_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, body) = app
        .push_list("2026-10", "text/csv", sample("liste-invalide.csv"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "invalid_rows");
    let details = body["error"]["details"].as_array().expect("details");
    let found: BTreeSet<(u64, String)> = details
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["column"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (line, column) in [
        (2, "date_cdp"),
        (3, "code_postal"),
        (4, "nom"),
        (5, "bailleur_type"),
        (6, "montant_dette"),
        (6, "telephone"),
        (7, "ref_cdp"),
    ] {
        assert!(
            found.contains(&(line, column.to_owned())),
            "line {line} column {column} missing from {body}"
        );
    }
    let lines: BTreeSet<u64> = found.iter().map(|(l, _)| *l).collect();
    assert_eq!(
        lines,
        (2..=7).collect::<BTreeSet<u64>>(),
        "line 8 is valid: {body}"
    );
    for d in details {
        assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()), "{d}");
    }
    // The messages quote no name.
    for name in [
        "Martin",
        "Anaïs",
        "Loïc",
        "Roux",
        "Moreau",
        "Girard",
        "HYPERLINK",
    ] {
        assert!(!body.to_string().contains(name), "{name} in {body}");
    }
    for table in [
        "SELECT COUNT(*) FROM lists",
        "SELECT COUNT(*) FROM cases",
        "SELECT COUNT(*) FROM outbox",
        "SELECT COUNT(*) FROM case_tokens",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    assert!(app.client("caf").outbox().await.unwrap().is_empty());
    app.stop().await;
}
both!(the_invalid_sample_is_refused_with_every_bad_line_and_nothing_is_stored);

async fn the_same_bytes_again_give_the_same_list_and_duplicate_nothing(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let bytes = sample("liste-2026-09-clean.csv");
    let (status, first) = app.push_list("2026-09", "text/csv", bytes.clone()).await;
    assert_eq!(status, 201, "{first}");
    let cases = app.count("SELECT COUNT(*) FROM cases").await;
    let outbox = app.count("SELECT COUNT(*) FROM outbox").await;
    let tokens = app.count("SELECT COUNT(*) FROM case_tokens").await;
    let (status, again) = app.push_list("2026-09", "text/csv", bytes).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["list_id"], first["list_id"]);
    assert_eq!(again["rows"], 25);
    assert_eq!(again["sha256"], first["sha256"]);
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, cases);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, outbox);
    assert_eq!(app.count("SELECT COUNT(*) FROM case_tokens").await, tokens);
    assert_eq!(app.client("caf").outbox().await.unwrap().len(), 1);
    app.stop().await;
}
both!(the_same_bytes_again_give_the_same_list_and_duplicate_nothing);

async fn the_same_bytes_for_another_period_are_a_conflict(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let bytes = sample("liste-2026-09-clean.csv");
    let (status, _) = app.push_list("2026-09", "text/csv", bytes.clone()).await;
    assert_eq!(status, 201);
    let (status, body) = app.push_list("2026-10", "text/csv", bytes).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(code(&body), "conflict");
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 25);
    app.stop().await;
}
both!(the_same_bytes_for_another_period_are_a_conflict);

async fn formula_cells_are_accepted_and_reach_caf_as_inert_text(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let formulas = [
        r#"=HYPERLINK("http://x","y")"#,
        "+33 Dupont",
        "-Durand",
        "@SUM(A1)",
    ];
    let rows: Vec<[&str; 4]> = vec![
        ["CDP-F-1", formulas[0], "Paul", "85100"],
        ["CDP-F-2", formulas[1], "Anne", "85100"],
        ["CDP-F-3", formulas[2], "Marc", "85100"],
        ["CDP-F-4", formulas[3], "Lise", "85100"],
        ["CDP-F-5", "Martin", "=1+1", "85100"],
    ];
    let (status, receipt) = app.push_list("2026-10", "text/csv", list_csv(&rows)).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["rows"], 5);
    let (_, _, plain) = app.caf_file().await;
    let records = csv_records(&plain);
    assert_eq!(records[0].join(","), CAF_COLUMNS);
    let noms: BTreeSet<&str> = records[1..].iter().map(|r| r[1].as_str()).collect();
    for f in formulas {
        let inert = format!("'{f}");
        assert!(noms.contains(inert.as_str()), "{inert} not in {noms:?}");
    }
    assert!(records[1..].iter().any(|r| r[2] == "'=1+1"), "{records:?}");
    for cell in records.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "live cell {cell:?} in CAF's file"
        );
    }
    app.stop().await;
}
both!(formula_cells_are_accepted_and_reach_caf_as_inert_text);

async fn cafs_file_holds_only_the_minimised_columns(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let source = sample("liste-2026-09-clean.csv");
    let (status, _) = app.push_list("2026-09", "text/csv", source.clone()).await;
    assert_eq!(status, 201);
    let (_, _, plain) = app.caf_file().await;
    let text = String::from_utf8(plain.clone()).unwrap();
    let records = csv_records(&plain);
    assert_eq!(records[0].join(","), CAF_COLUMNS);
    assert!(records.iter().all(|r| r.len() == 6));
    let src = csv_records(&source);
    let col = |name: &str| src[0].iter().position(|h| h == name).unwrap();
    // What CAF receives: the identity and address of each case.
    for row in &src[1..] {
        assert!(
            records[1..].iter().any(|r| r[1] == row[col("nom")]
                && r[2] == row[col("prenom")]
                && r[3] == row[col("adresse")]
                && r[4] == row[col("code_postal")]
                && r[5] == row[col("commune")]),
            "the case {} is missing from CAF's file",
            row[col("ref_cdp")]
        );
    }
    // What CAF never receives.
    let mut withheld = 0;
    for name in [
        "ref_cdp",
        "telephone",
        "courriel",
        "montant_dette",
        "loyer_mensuel",
        "bailleur_nom",
        "commissaire_justice",
    ] {
        for row in &src[1..] {
            let value = row[col(name)].trim();
            if value.is_empty() {
                continue;
            }
            withheld += 1;
            assert!(
                !text.contains(value),
                "{name} value {value:?} is in CAF's file"
            );
            if name == "telephone" {
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                assert!(
                    !text.contains(&digits),
                    "a phone number ({digits}) is in CAF's file"
                );
                let national = format!(
                    "0{}",
                    digits
                        .strip_prefix("33")
                        .unwrap_or(&digits)
                        .trim_start_matches('0')
                );
                assert!(
                    !text.contains(&national),
                    "a phone number ({national}) is in CAF's file"
                );
            }
        }
    }
    assert!(withheld > 100, "the sample has values to withhold");
    assert!(!text.contains('@'), "an e-mail is in CAF's file");
    app.stop().await;
}
both!(cafs_file_holds_only_the_minimised_columns);

async fn cafs_file_decrypts_with_the_age_cli(db: Db) {
    if !age_cli() {
        return;
    }
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, _) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201);
    let (file_id, ct, plain) = app.caf_file().await;
    let path = app.dir.path().join(format!("{file_id}.csv.age"));
    std::fs::write(&path, &ct).unwrap();
    let out = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(app.identity_path("caf"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout, plain,
        "the age CLI and the age crate read the same file"
    );
    assert!(out.stdout.starts_with(CAF_COLUMNS.as_bytes()));
    // Another partner's identity cannot read it.
    let out = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(app.identity_path("mdsf"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "mdsf's key decrypted CAF's file");
    app.stop().await;
}
both!(cafs_file_decrypts_with_the_age_cli);

async fn a_list_encrypted_with_the_age_cli_is_accepted(db: Db) {
    if !age_cli() {
        return;
    }
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let plain = app.dir.path().join("liste.csv");
    let sealed = app.dir.path().join("liste.csv.age");
    std::fs::write(&plain, sample("liste-2026-09-clean.csv")).unwrap();
    let out = std::process::Command::new("age")
        .arg("-r")
        .arg(app.gateway_recipient().to_string())
        .arg("-o")
        .arg(&sealed)
        .arg(&plain)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -r failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, receipt) = app
        .push_list(
            "2026-09",
            "application/age",
            std::fs::read(&sealed).unwrap(),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["rows"], 25);
    // Armoured too.
    let armoured = app.dir.path().join("liste.csv.asc");
    std::fs::write(&plain, sample("liste-2026-10-excel-fr.csv")).unwrap();
    let out = std::process::Command::new("age")
        .arg("-a")
        .arg("-r")
        .arg(app.gateway_recipient().to_string())
        .arg("-o")
        .arg(&armoured)
        .arg(&plain)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (status, receipt) = app
        .push_list(
            "2026-10",
            "application/age",
            std::fs::read(&armoured).unwrap(),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    app.stop().await;
}
both!(a_list_encrypted_with_the_age_cli_is_accepted);

async fn a_list_encrypted_to_someone_else_is_refused(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let body = passerelle::export::envelope::seal(
        &sample("liste-2026-09-clean.csv"),
        &[app.identity("caf").to_public()],
    )
    .unwrap();
    let (status, resp) = app.push_list("2026-09", "application/age", body).await;
    assert!((400..500).contains(&status), "{status} {resp}");
    assert!(!code(&resp).is_empty(), "{resp}");
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 0);
    app.stop().await;
}
both!(a_list_encrypted_to_someone_else_is_refused);

async fn a_plain_text_content_type_is_refused_with_415(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, body) = app
        .push_list("2026-09", "text/plain", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(code(&body), "unsupported_media_type");
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 0);
    app.stop().await;
}
both!(a_plain_text_content_type_is_refused_with_415);

async fn a_body_over_the_size_limit_is_refused_with_413(db: Db) {
    let Some(app) = spawn_app_with(db, |dir| {
        edit(
            &dir.join("config/passerelle.toml"),
            "max_body_bytes = 67108864",
            "max_body_bytes = 1000",
        );
    })
    .await
    else {
        return;
    };
    let config = std::fs::read_to_string(app.config_path()).unwrap();
    assert!(config.contains("max_body_bytes = 1000"));
    let body = sample("liste-2026-09-clean.csv");
    assert!(body.len() > 1000);
    let (status, resp) = app.push_list("2026-09", "text/csv", body).await;
    assert_eq!(status, 413, "{resp}");
    assert_eq!(code(&resp), "too_large");
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 0);
    // A small list still goes through.
    let (status, resp) = app
        .push_list(
            "2026-10",
            "text/csv",
            list_csv(&[["CDP-S-1", "Martin", "Paul", "85100"]]),
        )
        .await;
    assert_eq!(status, 201, "{resp}");
    app.stop().await;
}
both!(a_body_over_the_size_limit_is_refused_with_413);

async fn more_rows_than_allowed_are_refused_with_413(db: Db) {
    let Some(app) = spawn_app_with(db, |dir| {
        edit(
            &dir.join("config/passerelle.toml"),
            "max_rows = 200000",
            "max_rows = 10",
        );
    })
    .await
    else {
        return;
    };
    let (status, resp) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 413, "{resp}");
    assert_eq!(code(&resp), "too_large");
    for table in [
        "SELECT COUNT(*) FROM lists",
        "SELECT COUNT(*) FROM cases",
        "SELECT COUNT(*) FROM outbox",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    app.stop().await;
}
both!(more_rows_than_allowed_are_refused_with_413);

/// One sheet part of 300 MB of zeros: about 300 KB compressed.
fn zip_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        w.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            w.write_all(&zeros).unwrap();
        }
        w.finish().unwrap().into_inner()
    })
}

async fn an_xlsx_zip_bomb_is_refused_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let bomb = tokio::task::spawn_blocking(|| zip_bomb().to_vec())
        .await
        .unwrap();
    assert!(
        bomb.len() < 2 << 20,
        "the bomb is small: {} bytes",
        bomb.len()
    );
    let (status, resp) = app.push_list("2026-11", XLSX, bomb).await;
    assert!((400..500).contains(&status), "{status} {resp}");
    assert_eq!(status, 413, "{resp}");
    assert_eq!(code(&resp), "too_large");
    assert!(
        resp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("decompressed"),
        "{resp}"
    );
    for table in [
        "SELECT COUNT(*) FROM lists",
        "SELECT COUNT(*) FROM cases",
        "SELECT COUNT(*) FROM outbox",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
    // The gateway still answers.
    assert_eq!(app.get("ddets", "/healthz").await.status(), 200);
    app.stop().await;
}
both!(an_xlsx_zip_bomb_is_refused_and_nothing_is_stored);

async fn a_missing_or_impossible_period_is_refused_with_400(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ddets = app.client("ddets");
    let resp = ddets
        .http()
        .post(ddets.url("/v1/lists"))
        .header("content-type", "text/csv")
        .body(sample("liste-2026-09-clean.csv"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "bad_request");
    for period in ["2026-13", "2026-00", "26-09", "septembre"] {
        let (status, body) = app
            .push_list(period, "text/csv", sample("liste-2026-09-clean.csv"))
            .await;
        assert_eq!(status, 400, "{period}: {body}");
        assert_eq!(code(&body), "bad_request");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 0);
    app.stop().await;
}
both!(a_missing_or_impossible_period_is_refused_with_400);

async fn the_same_household_is_recognised_across_months(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let september = list_csv(&[
        ["CDP-H-0901", "De La Fontaine", "Hélène", "85100"],
        ["CDP-H-0902", "Martin", "Paul", "85100"],
    ]);
    let october = list_csv(&[
        ["CDP-H-1001", "DE LA  FONTAINE", "helene", "85100"],
        ["CDP-H-1002", "Durand", "Paul", "85100"],
        ["CDP-H-1003", "de la fontaine", "Hélène", "85180"],
    ]);
    let (status, sep) = app.push_list("2026-09", "text/csv", september).await;
    assert_eq!(status, 201, "{sep}");
    let (status, oct) = app.push_list("2026-10", "text/csv", october).await;
    assert_eq!(status, 201, "{oct}");
    let rows = app
        .texts("SELECT l.period, CAST(c.line AS TEXT), c.household FROM cases c JOIN lists l ON l.list_id = c.list_id")
        .await;
    let household = |period: &str, line: &str| -> String {
        rows.iter()
            .find(|r| r[0] == period && r[1] == line)
            .unwrap_or_else(|| panic!("no case {period} line {line} in {rows:?}"))[2]
            .clone()
    };
    let helene_sep = household("2026-09", "2");
    assert_eq!(
        helene_sep,
        household("2026-10", "2"),
        "same household, written differently"
    );
    assert_ne!(helene_sep, household("2026-09", "3"), "another person");
    assert_ne!(helene_sep, household("2026-10", "3"), "another person");
    assert_ne!(
        helene_sep,
        household("2026-10", "4"),
        "same names, another postal code"
    );
    // The household token is keyed: it is not the name.
    assert!(!helene_sep.to_lowercase().contains("fontaine"));
    app.stop().await;
}
both!(the_same_household_is_recognised_across_months);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_files_hold_no_personal_data_in_clear() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let source = sample("liste-2026-09-clean.csv");
    let (status, _) = app.push_list("2026-09", "text/csv", source.clone()).await;
    assert_eq!(status, 201);
    let src = csv_records(&source);
    let col = |name: &str| src[0].iter().position(|h| h == name).unwrap();
    let mut needles: Vec<String> = Vec::new();
    for row in &src[1..6] {
        for name in [
            "nom",
            "prenom",
            "adresse",
            "courriel",
            "telephone",
            "montant_dette",
            "loyer_mensuel",
            "bailleur_nom",
            "commissaire_justice",
            "ref_cdp",
        ] {
            let v = row[col(name)].trim();
            if v.len() >= 5 {
                needles.push(v.to_owned());
            }
        }
    }
    // Streets alone, and amounts as they may be re-written.
    needles.extend(
        [
            "rue de l'Église",
            "avenue François Mitterrand",
            "1871.95",
            "187195",
            "6545.81",
            "zoe.petit82",
            "0643217853",
        ]
        .map(String::from),
    );
    let data = app.dir.path().join("data");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files.push(path);
        }
    }
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "passerelle.db"), "{names:?}");
    assert!(
        names.iter().any(|n| n == "passerelle.db-wal"),
        "WAL mode: {names:?}"
    );
    let mut bytes_seen = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        bytes_seen += bytes.len();
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle:?} is in clear in {}",
                path.display()
            );
        }
    }
    assert!(bytes_seen > 10_000, "the data folder holds the list");
    let key = data.join("pseudonymisation.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "pseudonymisation.key mode {mode:o}");
    app.stop().await;
}

async fn the_list_index_shows_metadata_only_to_ddets_and_refuses_caf(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (status, receipt) = app
        .push_list("2026-09", "text/csv", sample("liste-2026-09-clean.csv"))
        .await;
    assert_eq!(status, 201);
    let (status, body) = status_json(app.get("ddets", "/v1/lists").await).await;
    assert_eq!(status, 200, "{body}");
    let lists = body.as_array().expect("an array");
    assert_eq!(lists.len(), 1);
    let l = &lists[0];
    assert_eq!(l["list_id"], receipt["list_id"]);
    assert_eq!(l["period"], "2026-09");
    assert_eq!(l["rows"], 25);
    assert_eq!(l["sha256"], receipt["sha256"]);
    let text = body.to_string();
    for personal in [
        "Petit",
        "Zoé",
        "Jard-sur-Mer",
        "85520",
        "1871.95",
        "CDP-202609",
        "Vendée Habitat",
    ] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    let (status, body) = status_json(app.get("caf", "/v1/lists").await).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(code(&body), "forbidden");
    app.stop().await;
}
both!(the_list_index_shows_metadata_only_to_ddets_and_refuses_caf);

async fn the_same_list_sent_twice_at_once_is_stored_once_without_error(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // A client retrying while its first upload is still running: three
    // rounds, so that a race shows up reliably.
    let rounds = [
        ("liste-2026-09-clean.csv", "2026-09"),
        ("liste-2026-10-excel-fr.csv", "2026-10"),
        ("liste-2026-10-windows-1252.csv", "2026-10"),
    ];
    for (file, period) in rounds {
        let bytes = sample(file);
        let (a, b) = tokio::join!(
            app.push_list(period, "text/csv", bytes.clone()),
            app.push_list(period, "text/csv", bytes.clone()),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 201],
            "{file}: a retry racing the first upload: {} / {}",
            a.1,
            b.1
        );
        assert_eq!(a.1["list_id"], b.1["list_id"]);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 75);
    app.stop().await;
}
both!(the_same_list_sent_twice_at_once_is_stored_once_without_error);

async fn an_overlong_cell_is_refused_clearly_and_nothing_is_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let long = "A".repeat(2001);
    let body = list_csv(&[
        ["CDP-L-1", "Martin", "Paul", "85100"],
        ["CDP-L-2", &long, "Anne", "85100"],
    ]);
    let (status, resp) = app.push_list("2026-10", "text/csv", body).await;
    assert!((400..500).contains(&status), "{status} {resp}");
    assert!(!code(&resp).is_empty(), "{resp}");
    assert!(
        resp.to_string().contains("2000"),
        "the message gives the limit: {resp}"
    );
    assert!(
        !resp.to_string().contains("AAAAAAAAAA"),
        "the cell is not echoed"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 0);
    app.stop().await;
}
both!(an_overlong_cell_is_refused_clearly_and_nothing_is_stored);
