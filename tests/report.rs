//! The DPO's HTML report, rendered by a real browser: headless Chromium
//! loads the page from disk, dumps its DOM and takes a screenshot.
//!
//! Without Chromium the test is skipped, unless `PASSERELLE_REQUIRE_CHROMIUM=1`.
//! With `PASSERELLE_REPORT_KEEP=<dir>`, the pages and screenshots are copied
//! there for a look.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use passerelle::audit::report::{ReportEntry, Verification, render};
use time::macros::date;
use time::{Date, OffsetDateTime};

const TIMEOUT: Duration = Duration::from_secs(60);

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs Chromium headless on `page` with `extra` arguments, stdout to
/// `stdout`; kills it after [`TIMEOUT`].
fn run_chromium(bin: &Path, work: &Path, page: &Path, extra: &[String], stdout: &Path) {
    let profile = tempfile::tempdir_in(work).unwrap();
    let err_path = work.join("chromium.stderr");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("spawn chromium");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium timed out after {TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "chromium failed ({status}); stderr:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
}

/// `h:m:s` on `day` in Paris time (early March: winter time, UTC+1), the
/// time the report shows.
fn ms(day: Date, h: u8, m: u8, s: u8) -> i64 {
    (day.with_hms(h, m, s)
        .unwrap()
        .assume_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap())
        .unix_timestamp_nanos()
        / 1_000_000) as i64
}

/// Seven days (Monday 2 to Sunday 8 March 2026) of four partners' traffic,
/// scattered refusals, a TLS refusal burst, a night burst of accesses and a
/// volume spike.
fn entries() -> Vec<ReportEntry> {
    let partners = [
        ("caf-13", 14u64),
        ("bailleur-sud", 8),
        ("adil-13", 5),
        ("dupont & fils", 3),
    ];
    let mut out: Vec<ReportEntry> = Vec::new();
    let mut rng: u64 = 0x5eed;
    let mut next = |n: u64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % n
    };
    let push = |out: &mut Vec<ReportEntry>,
                at_ms: i64,
                partner: Option<&str>,
                action: &str,
                outcome: &str,
                reason: Option<&str>| {
        out.push(ReportEntry {
            seq: out.len() as i64 + 1,
            at_ms,
            partner: partner.map(str::to_owned),
            person: None,
            action: action.to_owned(),
            outcome: outcome.to_owned(),
            reason: reason.map(str::to_owned),
            route: partner.map(|_| "/v1/cases".to_owned()),
            rows: (outcome == "ok").then_some(12),
        });
    };
    for d in 0..7 {
        let day = date!(2026 - 03 - 02) + time::Duration::days(d);
        let weekend = d >= 5;
        for (p, base) in partners {
            let mut n = if weekend {
                0
            } else {
                base + next(base / 2 + 1)
            };
            if p == "caf-13" && d == 3 {
                n = 90; // Thursday: a spike.
            }
            for _ in 0..n {
                let at = ms(day, 8 + next(10) as u8, next(60) as u8, next(60) as u8);
                if next(25) == 0 {
                    push(
                        &mut out,
                        at,
                        Some(p),
                        "cases.list",
                        "refused",
                        Some("rate limited"),
                    );
                } else {
                    push(&mut out, at, Some(p), "cases.list", "ok", None);
                }
            }
        }
    }
    // Wednesday night: bailleur-sud downloads at 02:xx.
    let wed = date!(2026 - 03 - 04);
    for i in 0..8 {
        push(
            &mut out,
            ms(wed, 2, 5 + i * 3, 17),
            Some("bailleur-sud"),
            "files.download",
            "ok",
            None,
        );
    }
    // Tuesday: a client without a valid certificate, refused at TLS.
    let tue = date!(2026 - 03 - 03);
    for i in 0..7 {
        push(
            &mut out,
            ms(tue, 15, 30 + i / 3, (i % 3) * 20),
            None,
            "tls.handshake",
            "refused",
            Some("certificate revoked"),
        );
    }
    // Friday: an error.
    push(
        &mut out,
        ms(date!(2026 - 03 - 06), 11, 12, 13),
        Some("adil-13"),
        "files.ack",
        "error",
        Some("store unavailable"),
    );
    out.sort_by_key(|e| e.at_ms);
    for (i, e) in out.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
    }
    out
}

fn verification(ok: bool, entries: u64) -> Verification {
    Verification {
        ok,
        message: if ok {
            format!(
                "{entries} entrée(s) recalculée(s) ; 3 point(s) de contrôle signé(s) vérifié(s)"
            )
        } else {
            "entry 42: leaf_mismatch — stored leaf hash differs from the recomputed one".to_owned()
        },
        entries,
        checkpoint_size: Some(entries),
        checkpoint_root: Some("3f".repeat(32)),
        checkpoint_note: Some(format!(
            "passerelle.example/audit\n{entries}\nPz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8/Pz8=\n\n— passerelle Az3b1Q==\n"
        )),
    }
}

#[test]
fn chromium_renders_the_report() {
    let Some(bin) = chromium() else {
        if std::env::var("PASSERELLE_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("PASSERELLE_REQUIRE_CHROMIUM=1 but chromium is not on PATH");
        }
        println!("SKIPPED (Chromium): install the chromium package to render the report");
        return;
    };
    let keep = std::env::var_os("PASSERELLE_REPORT_KEEP").map(PathBuf::from);
    let entries = entries();
    let (from, to) = (date!(2026 - 03 - 02), date!(2026 - 03 - 08));
    let started = OffsetDateTime::now_utc();

    for ok in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("report.html");
        let html = render(
            "passerelle — rapport du journal des accès",
            from,
            to,
            &entries,
            &verification(ok, entries.len() as u64),
        );
        std::fs::write(&page, &html).unwrap();

        let dom_path = dir.path().join("dom.html");
        run_chromium(
            &bin,
            dir.path(),
            &page,
            &["--dump-dom".to_owned()],
            &dom_path,
        );
        let dom = std::fs::read_to_string(&dom_path).unwrap();
        assert!(
            dom.contains("<svg id=\"chart-accesses\""),
            "no chart in the DOM:\n{dom}"
        );
        let svg = &dom[dom.find("<svg id=\"chart-accesses\"").unwrap()..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        let legend = &svg[svg.find("class=\"legend\"").expect("a legend")..];
        for name in [
            "caf-13",
            "bailleur-sud",
            "adil-13",
            "dupont &amp; fils",
            "(sans certificat de partenaire)",
        ] {
            assert!(
                legend.contains(&format!(">{name}</text>")),
                "{name} not in the legend"
            );
        }
        assert!(svg.matches("<rect class=\"bar\"").count() >= 20);
        assert!(dom.contains("id=\"table-accesses\""));
        // Refusals: the TLS ones, the rate limits, the error.
        let refusals = &dom[dom
            .find("<section id=\"refusals\"")
            .expect("refusals section")..];
        assert!(refusals.contains("id=\"table-refusals\""));
        assert!(refusals.contains("certificate revoked"));
        assert!(refusals.contains("rate limited"));
        assert!(refusals.contains("store unavailable"));
        // Anomalies: the night downloads, Thursday's spike, the TLS burst.
        let anomalies = &dom[dom
            .find("<section id=\"anomalies\"")
            .expect("anomalies section")..];
        for (kind, partner, when) in [
            ("off_hours", "bailleur-sud", "2026-03-04"),
            ("volume_spike", "caf-13", "2026-03-05"),
            (
                "refusal_burst",
                "(sans certificat de partenaire)",
                "2026-03-03 15:30:00",
            ),
        ] {
            let row = format!("<tr class=\"anomaly\" data-kind=\"{kind}\"><td>");
            let at = anomalies
                .find(&row)
                .unwrap_or_else(|| panic!("no {kind} row"));
            let row = &anomalies[at..at + anomalies[at..].find("</tr>").unwrap()];
            assert!(row.contains(partner) && row.contains(when), "{row}");
        }
        assert!(anomalies.contains("8 accès hors de 06:00–19:59 (heure de Paris)"));
        if ok {
            assert!(dom.contains("class=\"status ok\""));
            assert!(!dom.contains("NON VÉRIFIÉ"));
        } else {
            assert!(dom.contains("class=\"status bad\""));
            assert!(dom.contains("NON VÉRIFIÉ"));
            assert!(dom.contains("leaf_mismatch"));
        }

        let shot = dir.path().join("shot.png");
        run_chromium(
            &bin,
            dir.path(),
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1280,2000".to_owned(),
            ],
            &dir.path().join("shot.stdout"),
        );
        let png = std::fs::read(&shot).expect("a screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        assert!(png.len() > 10 * 1024, "screenshot only {} bytes", png.len());

        if let Some(keep) = &keep {
            let tag = if ok { "verified" } else { "failed" };
            std::fs::create_dir_all(keep).unwrap();
            std::fs::copy(&page, keep.join(format!("report-{tag}.html"))).unwrap();
            std::fs::copy(&shot, keep.join(format!("shot-{tag}.png"))).unwrap();
        }
    }
    println!("rendered in {:?}", OffsetDateTime::now_utc() - started);
}
