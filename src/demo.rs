//! `passerelle demo`: starts the gateway on the example configuration in a
//! temporary data folder, uploads a sample list as DDETS, pulls and decrypts
//! CAF's file as CAF, and prints what happened.

use crate::app::App;
use crate::client::GatewayClient;
use crate::config::{Config, Overrides};
use std::path::{Path, PathBuf};

/// The sample list used when none is given (invented data, Excel-French CSV).
pub const SAMPLE_LIST: &[u8] = include_bytes!("../tests/samples/liste-2026-10-excel-fr.csv");

/// The sample EXPLOC export sent after the month (invented data: events
/// of households of the sample list, and two the circuit never had).
pub const SAMPLE_PROCEDURES: &[u8] =
    include_bytes!("../tests/samples/procedures-2026-12-exploc.csv");

/// Demo failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Start-up.
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
    /// A client call.
    #[error(transparent)]
    Client(#[from] crate::client::ClientError),
    /// Local files.
    #[error("{0}")]
    Io(String),
    /// The circuit did not behave as expected.
    #[error("unexpected: {0}")]
    Unexpected(String),
}

fn read(p: &Path) -> Result<Vec<u8>, DemoError> {
    std::fs::read(p).map_err(|e| DemoError::Io(format!("{}: {e}", p.display())))
}

fn client(base: &str, certs: &Path, id: &str) -> Result<GatewayClient, DemoError> {
    Ok(GatewayClient::new(
        base,
        &read(&certs.join("ca.crt"))?,
        Some(&read(&certs.join(format!("{id}.crt")))?),
        Some(&read(&certs.join(format!("{id}.key")))?),
    )?)
}

/// How `demo --keep-running` stays up after the month.
pub struct KeepRunning {
    /// The console's address, over the configuration's.
    pub console_listen: Option<std::net::SocketAddr>,
    /// Resolves when the gateway should stop (Ctrl-C).
    pub stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

impl std::fmt::Debug for KeepRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeepRunning")
            .field("console_listen", &self.console_listen)
            .finish_non_exhaustive()
    }
}

/// Runs the demo, printing each step to `out`.
///
/// With `keep_running`, the gateway and its console stay up on the month
/// just played (the console on the configuration's `[console] listen`,
/// else `127.0.0.1:8444`) until `stop` resolves (Ctrl-C for the command),
/// after printing the console's address and how to import a person's
/// certificate into a browser.
pub async fn run(
    config_path: &Path,
    list: Option<(PathBuf, String)>,
    keep_running: Option<KeepRunning>,
    out: &mut impl std::io::Write,
) -> Result<(), DemoError> {
    let data = tempfile::tempdir().map_err(|e| DemoError::Io(e.to_string()))?;
    let overrides = Overrides {
        listen: Some(([127, 0, 0, 1], 0).into()),
        data: Some(data.path().to_path_buf()),
        database_url: None,
        // Kept running: the configuration's console address, for the
        // browser; else port 0 (two demos do not collide).
        console_listen: match &keep_running {
            Some(k) => k.console_listen,
            None => Some(([127, 0, 0, 1], 0).into()),
        },
    };
    let mut config =
        Config::load(config_path, &overrides).map_err(|e| DemoError::Start(e.into()))?;
    if keep_running.is_some() && config.gateway.console.listen.is_none() {
        config.gateway.console.listen = Some(([127, 0, 0, 1], 8444).into());
    }
    let certs = config
        .gateway
        .tls
        .ca
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let app = App::open(config).await?;
    let server = crate::http::start(app.clone()).await?;
    let base = format!("https://127.0.0.1:{}", server.addr.port());
    let say = |out: &mut dyn std::io::Write, s: String| {
        let _ = writeln!(out, "{s}");
    };
    say(
        out,
        format!(
            "gateway listening on {base} (mutual TLS), data in {}",
            data.path().display()
        ),
    );

    let (bytes, period) = match list {
        Some((p, period)) => (read(&p)?, period),
        None => (SAMPLE_LIST.to_vec(), "2026-10".to_owned()),
    };
    let ddets = client(&base, &certs, "ddets")?;
    let (status, receipt) = ddets.push_list(&period, "text/csv", bytes.clone()).await?;
    if status != 201 {
        return Err(DemoError::Unexpected(format!(
            "upload answered {status}: {receipt}"
        )));
    }
    say(
        out,
        format!(
            "ddets: uploaded the {period} list: {} rows accepted as {} (sha256 {})",
            receipt["rows"], receipt["list_id"], receipt["sha256"]
        ),
    );
    let (status, again) = ddets.push_list(&period, "text/csv", bytes).await?;
    say(
        out,
        format!(
            "ddets: the same file again: HTTP {status}, same list {} — nothing duplicated",
            again["list_id"]
        ),
    );

    let caf = client(&base, &certs, "caf")?;
    let files = caf.outbox().await?;
    say(out, format!("caf: {} file(s) waiting", files.len()));
    let identity_text = String::from_utf8(read(&certs.join("caf.agekey"))?)
        .map_err(|e| DemoError::Io(e.to_string()))?;
    let identity = crate::config::secrets::parse_age_identity(&identity_text)
        .ok_or_else(|| DemoError::Io("caf.agekey holds no identity".into()))?;
    let mut enrichment: Vec<Vec<u8>> = Vec::new();
    for f in &files {
        let ct = caf.download(&f.file_id).await?;
        let plain = crate::ingest::envelope::open(&ct, &identity, 1 << 30)
            .map_err(|e| DemoError::Unexpected(e.to_string()))?;
        let text = String::from_utf8_lossy(&plain).into_owned();
        let header = text.lines().next().unwrap_or_default().to_owned();
        say(
            out,
            format!(
                "caf: downloaded {} ({} kind, {} rows, {} bytes of age ciphertext), decrypted with caf.agekey",
                f.file_id, f.kind, f.rows, f.size
            ),
        );
        say(out, format!("caf: columns received: {header}"));
        say(out, "caf: (no phone, e-mail, debt, rent, landlord, bailiff or DDETS reference: not needed to find the household)".to_owned());
        let mdsf = client(&base, &certs, "mdsf")?;
        match mdsf.download(&f.file_id).await {
            Err(crate::client::ClientError::Refused { status, .. }) => say(
                out,
                format!(
                    "mdsf: tried to fetch CAF's file: HTTP {status} — a partner never sees another's file"
                ),
            ),
            other => {
                return Err(DemoError::Unexpected(format!(
                    "mdsf fetched CAF's file: {other:?}"
                )));
            }
        }
        caf.ack(&f.file_id).await?;
        say(
            out,
            format!("caf: acknowledged {}; it leaves the outbox", f.file_id),
        );
        enrichment.push(plain);
    }
    let left = caf.outbox().await?.len();
    say(
        out,
        format!("caf: {left} file(s) waiting after acknowledgement"),
    );
    enrich(&caf, &enrichment, out).await?;
    month(&base, &certs, out).await?;
    let entries = async {
        let mut conn = app.store.pool().acquire().await?;
        crate::audit::count(&mut conn).await
    }
    .await
    .map_err(|e| DemoError::Unexpected(e.to_string()))?;
    say(
        out,
        format!(
            "audit: {entries} entries written, one per request and per file produced, downloaded or acknowledged"
        ),
    );
    if let Some(KeepRunning { stop, .. }) = keep_running {
        let console = server
            .console_addr
            .map(|a| format!("https://localhost:{}/", a.port()))
            .unwrap_or_default();
        say(
            out,
            format!(
                "\nThe gateway keeps running on this month: API {base}, console {console}\n\
                 To open the console in a browser (development PKI, never in production):\n\
                 \x20 1. trust {ca} as a certificate authority (Firefox: Settings > Privacy & Security > \
                 Certificates > View Certificates > Authorities > Import; Chromium: chrome://certificate-manager);\n\
                 \x20 2. import a person's certificate, e.g. the CCAPEX secretariat's {p12} \
                 (password: {password}) under \"Your certificates\";\n\
                 \x20 3. open {console} and choose the certificate when the browser asks.\n\
                 People: person-sec-ddets (secretariat and lists), person-cesf-vh (a landlord's member), \
                 person-dpo (figures). Ctrl-C stops the gateway (the demo's data goes with it).",
                ca = certs.join("ca.crt").display(),
                p12 = certs.join("person-sec-ddets.p12").display(),
                password = crate::tls::devpki::P12_PASSWORD,
            ),
        );
        let _ = out.flush();
        stop.await;
    }
    server.shutdown(std::time::Duration::from_secs(5)).await;
    app.store.close().await;
    Ok(())
}

/// A decrypted file: header and rows.
type Table = (Vec<String>, Vec<Vec<String>>);

fn table(plain: &[u8]) -> Result<Table, DemoError> {
    let t = crate::ingest::read_table(plain, &crate::ingest::Limits::default())
        .map_err(|e| DemoError::Unexpected(e.to_string()))?;
    let rows = t
        .rows()
        .map(|r| {
            r.map(|r| r.cells().iter().map(|c| c.text.clone()).collect())
                .map_err(|e| DemoError::Unexpected(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    Ok((t.headers().to_vec(), rows))
}

fn column(header: &[String], name: &str) -> Result<usize, DemoError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| DemoError::Unexpected(format!("no column {name}")))
}

/// Encrypts a return to the gateway's recipient (fetched as a partner would)
/// and sends it.
async fn push(c: &GatewayClient, kind: &str, csv: String) -> Result<serde_json::Value, DemoError> {
    let recipient: age::x25519::Recipient = c
        .recipient()
        .await?
        .parse()
        .map_err(|e: &str| DemoError::Unexpected(e.to_owned()))?;
    let ct = crate::export::envelope::seal(csv.as_bytes(), &[recipient])
        .map_err(|e| DemoError::Unexpected(e.to_string()))?;
    let (status, r) = c.push_return(kind, ct).await?;
    if status != 201 {
        return Err(DemoError::Unexpected(format!(
            "{kind} return answered {status}: {r}"
        )));
    }
    Ok(r)
}

/// CAF completes every case (invented facts, varied so that every
/// attribution rule shows).
async fn enrich(
    caf: &GatewayClient,
    files: &[Vec<u8>],
    out: &mut impl std::io::Write,
) -> Result<(), DemoError> {
    let mut csv = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    let mut n = 0;
    for plain in files {
        let (h, rows) = table(plain)?;
        let tok = column(&h, "token")?;
        for (i, r) in rows.iter().enumerate() {
            let (birth, ages, alf) = match i % 4 {
                0 => ("1958-04-12", "", "non"),
                1 => ("1984-03-12", "4;9", "oui"),
                2 => ("1990-11-02", "", "non"),
                _ => ("", "15", "non"),
            };
            let nb = if ages.is_empty() {
                0
            } else {
                ages.split(';').count()
            };
            csv.push_str(&format!("{},oui,{birth},1,{nb},{ages},{alf},non\n", r[tok]));
            n += 1;
        }
    }
    let r = push(caf, "enrichment", csv).await?;
    let _ = writeln!(
        out,
        "caf: enrichment return {} applied to {n} cases; concertation files routed to the members: {}",
        r["return_id"],
        r["routed"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

/// The rest of the month: members' answers, the concertation, decisions,
/// dossiers, follow-ups, figures.
async fn month(base: &str, certs: &Path, out: &mut impl std::io::Write) -> Result<(), DemoError> {
    let identity = |id: &str| -> Result<age::x25519::Identity, DemoError> {
        let text = String::from_utf8(read(&certs.join(format!("{id}.agekey")))?)
            .map_err(|e| DemoError::Io(e.to_string()))?;
        crate::config::secrets::parse_age_identity(&text)
            .ok_or_else(|| DemoError::Io(format!("{id}.agekey holds no identity")))
    };
    let pull = async |id: &str, kind: &str| -> Result<Vec<Table>, DemoError> {
        let c = client(base, certs, id)?;
        let key = identity(id)?;
        let mut files = Vec::new();
        for f in c.outbox().await?.into_iter().filter(|f| f.kind == kind) {
            let plain =
                crate::ingest::envelope::open(&c.download(&f.file_id).await?, &key, 1 << 30)
                    .map_err(|e| DemoError::Unexpected(e.to_string()))?;
            files.push(table(&plain)?);
            c.ack(&f.file_id).await?;
        }
        Ok(files)
    };
    for member in [
        "caf",
        "mdsf",
        "ccas-sables",
        "vendee-habitat",
        "vendee-logement",
    ] {
        let files = pull(member, "concertation").await?;
        let mut csv = String::from("token,referent_connu,organisme,nom_referent\n");
        let mut n = 0;
        for (h, rows) in &files {
            let tok = column(h, "token")?;
            for r in rows {
                // The MDSF already follows the first household of its file.
                let known = member == "mdsf" && n == 0;
                csv.push_str(&format!(
                    "{},{},{},\n",
                    r[tok],
                    if known { "oui" } else { "non" },
                    if known { "mdsf" } else { "" }
                ));
                n += 1;
            }
        }
        let _ = writeln!(
            out,
            "{member}: concertation file with {n} case(s) of its scope"
        );
        if n > 0 {
            push(&client(base, certs, member)?, "referent", csv).await?;
        }
    }
    let ddets = client(base, certs, "ddets")?;
    let (status, c) = ddets
        .post_json(
            "/v1/concertations",
            &serde_json::json!({"date": "2026-11-05"}),
        )
        .await?;
    if status != 201 {
        return Err(DemoError::Unexpected(format!(
            "concertation answered {status}: {c}"
        )));
    }
    let agenda = c["agenda"].as_array().cloned().unwrap_or_default();
    let mut proposals: std::collections::BTreeMap<String, usize> = Default::default();
    let mut explicit = Vec::new();
    for e in &agenda {
        let key = match (&e["proposal"]["organisme"], &e["proposal"]["non_traite"]) {
            (serde_json::Value::String(o), _) => o.clone(),
            (_, serde_json::Value::String(m)) => format!("non traité ({m})"),
            _ => {
                explicit.push(serde_json::json!({"token": e["token"], "organisme": "mdsf"}));
                "no proposal (decided: mdsf)".to_owned()
            }
        };
        *proposals.entry(key).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "ddets: concertation {} opened, {} case(s) on the agenda; proposals: {proposals:?}",
        c["concertation_id"],
        agenda.len()
    );
    let id = c["concertation_id"].as_str().unwrap_or_default();
    let (status, d) = ddets
        .post_json(
            &format!("/v1/concertations/{id}/decisions"),
            &serde_json::json!({"accept_proposals": true, "decisions": explicit}),
        )
        .await?;
    if status != 200 {
        return Err(DemoError::Unexpected(format!(
            "decisions answered {status}: {d}"
        )));
    }
    let _ = writeln!(
        out,
        "ddets: {} decision(s) recorded; dossier files routed to the referents: {}",
        d["decided"].as_array().map_or(0, Vec::len),
        d["files"].as_array().map_or(0, Vec::len)
    );
    for referent in ["mdsf", "ccas-sables", "caf"] {
        let mut csv = String::from("token,date,evenement,motif,detail\n");
        let mut n = 0;
        for (h, rows) in pull(referent, "dossier").await? {
            let (tok, date) = (column(&h, "token")?, column(&h, "date_cdp")?);
            for r in rows {
                let d = crate::domain::parse_date(&r[date]).map_err(DemoError::Unexpected)?;
                csv.push_str(&format!(
                    "{},{},appel_reussi,,\n",
                    r[tok],
                    d + time::Duration::days(6)
                ));
                n += 1;
            }
        }
        if n > 0 {
            push(&client(base, certs, referent)?, "followup", csv).await?;
        }
        let _ = writeln!(
            out,
            "{referent}: dossier with {n} case(s) received; each household phoned (follow-up return sent)"
        );
    }
    let (_, s) = ddets
        .get_json("/v1/stats?from=2026-10-01&to=2026-10-31")
        .await?;
    let _ = writeln!(out, "figures for October 2026 ({} CDPs):", s["total_cdp"]);
    for a in s["attributions"].as_array().cloned().unwrap_or_default() {
        let _ = writeln!(
            out,
            "  {:<14} {:>3} cases {:>3} %  new {:>3}  median days to first contact {}",
            a["organisme"].as_str().unwrap_or_default(),
            a["total"],
            a["pct"],
            a["nouvelles"],
            a["delai_premier_contact_median_jours"]
        );
    }
    let _ = writeln!(
        out,
        "  {:<14} {:>3} cases {:>3} %  {}",
        "not processed",
        s["non_traites"]["total"],
        s["non_traites"]["pct"],
        s["non_traites"]["motifs"]
    );
    procedures(base, certs, out).await
}

/// December: EXPLOC's export of procedure events, linked to October's
/// households; the judicialisation table per parcours.
async fn procedures(
    base: &str,
    certs: &Path,
    out: &mut impl std::io::Write,
) -> Result<(), DemoError> {
    let ddets = client(base, certs, "ddets")?;
    let (status, r) = ddets
        .push_procedures("2026-12", "text/csv", SAMPLE_PROCEDURES.to_vec())
        .await?;
    if status != 201 {
        return Err(DemoError::Unexpected(format!(
            "procedure events answered {status}: {r}"
        )));
    }
    let _ = writeln!(
        out,
        "ddets: EXPLOC's December export: {} events, {} linked to a CDP of the circuit, {} outside it (hors_circuit), {} already received",
        r["rows"], r["linked"], r["unlinked"], r["repeated"]
    );
    for referent in ["mdsf", "ccas-sables", "caf"] {
        let n: u64 = client(base, certs, referent)?
            .outbox()
            .await?
            .iter()
            .filter(|f| f.kind == "procedure")
            .map(|f| f.rows)
            .sum();
        if n > 0 {
            let _ = writeln!(
                out,
                "{referent}: a procedure file with {n} step(s) of its households' procedures (no name: it holds the dossier)"
            );
        }
    }
    let (_, s) = ddets
        .get_json("/v1/stats?from=2026-10-01&to=2026-10-31")
        .await?;
    let _ = writeln!(
        out,
        "judicialisation of October's CDPs (do the households the circuit reaches go to court less?):"
    );
    for l in s["judiciarisation"]["parcours"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let n = |k: &str| l[k].as_u64().unwrap_or(0);
        let or_dash = |k: &str| l[k].as_u64().map_or("–".to_owned(), |v| v.to_string());
        let _ = writeln!(
            out,
            "  {:<20} {:>3} CDP  summoned {:>3} ({:>3} %)  lease terminated {:>2}  median days to summons {:>3}",
            l["parcours"].as_str().unwrap_or_default(),
            n("cdp"),
            n("assignation"),
            or_dash("pct_assignation"),
            n("jugement_resiliation"),
            or_dash("delai_assignation_median_jours")
        );
    }
    let hors = &s["judiciarisation"]["hors_circuit"];
    let _ = writeln!(
        out,
        "  events outside the circuit dated in October: {}",
        if hors.as_object().is_some_and(|o| !o.is_empty()) {
            hors.to_string()
        } else {
            "none".to_owned()
        }
    );
    Ok(())
}
