//! The DPO's report on the access log: one self-contained HTML page (inline
//! CSS and SVG, no script, no external resource) for a window of days in Europe/Paris.
//!
//! It shows whether the log verified, the accesses per partner per day (a
//! stacked bar chart and the same figures as a table), the refused and failed
//! requests, and the unusual patterns found by [`anomalies`]. Everything is
//! pure: the caller loads the entries and verifies the log
//! ([`super::reporting`]). The log holds no personal data, and neither does
//! the page.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::html::escape;

use serde::Serialize;
use time::{Date, OffsetDateTime, Weekday};

/// One access, as the report needs it (no personal data exists in the log).
#[derive(Debug, Clone)]
pub struct ReportEntry {
    pub seq: i64,
    pub at_ms: i64,
    pub partner: Option<String>,
    /// The person who acted on the console (their id in `people.toml`);
    /// `None` for the API's machines.
    pub person: Option<String>,
    pub action: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub route: Option<String>,
    pub rows: Option<u64>,
}

/// What the log's verification concluded.
#[derive(Debug, Clone)]
pub struct Verification {
    pub ok: bool,
    pub message: String,
    pub entries: u64,
    pub checkpoint_size: Option<u64>,
    pub checkpoint_root: Option<String>,
    pub checkpoint_note: Option<String>,
}

/// An unusual pattern in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// `"off_hours"`, `"volume_spike"` or `"refusal_burst"`.
    pub kind: &'static str,
    /// The partner, or [`NO_PARTNER`] for refusals without a certificate partner.
    pub partner: String,
    /// A day in Paris (`2026-03-04`) or, for a burst, its start (`2026-03-04 02:10:00`).
    pub when: String,
    pub detail: String,
}

/// How entries without a certificate partner (e.g. TLS refusals) are shown.
pub const NO_PARTNER: &str = "(sans certificat de partenaire)";

/// At most this many rows in the refusals table.
pub const MAX_REFUSAL_ROWS: usize = 500;

/// Working hours, Europe/Paris: an `ok` access outside `[START, END)` on a weekday,
/// or any on Saturday/Sunday, is off-hours.
const WORK_START_HOUR: u8 = 6;
const WORK_END_HOUR: u8 = 20;
/// A partner-day is a spike above `SPIKE_FACTOR ×` the partner's median
/// daily count, and only from `SPIKE_MIN` accesses.
const SPIKE_FACTOR: f64 = 3.0;
const SPIKE_MIN: u64 = 20;
/// A burst: at least `BURST_MIN` refusals spanning less than `BURST_WINDOW_MS`.
const BURST_MIN: usize = 5;
const BURST_WINDOW_MS: i64 = 10 * 60 * 1000;

/// Series colours, one per partner, in name order (cycled past nine).
const PALETTE: [&str; 9] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f",
];
/// The colour of the entries without a certificate partner.
const NO_PARTNER_COLOUR: &str = "#6b6b6b";

/// An entry's time in Europe/Paris, the time its readers live in: the
/// days, the working hours and every time shown are Paris's.
fn datetime(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(crate::util::paris)
}

/// `2026-03-04 02:10:00` (Paris time), or the raw milliseconds if out of range.
fn fmt_time(ms: i64) -> String {
    match datetime(ms) {
        Some(t) => format!("{} {}", t.date(), hms(t)),
        None => format!("@{ms} ms"),
    }
}

fn hms(t: OffsetDateTime) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// The French plural mark: none for 0 and 1 (`0 entrée`, `2 entrées`).
fn pl(n: usize) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// `lun`, `mar`, … `dim`.
fn weekday_short(d: Date) -> &'static str {
    let name = crate::util::weekday_fr(d.weekday());
    name.get(..3).unwrap_or(name)
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn partner_label(p: &Option<String>) -> &str {
    p.as_deref().unwrap_or(NO_PARTNER)
}

fn median(values: &mut [u64]) -> f64 {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2] as f64,
        _ => (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0,
    }
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "off_hours" => 0,
        "volume_spike" => 1,
        _ => 2,
    }
}

/// The unusual patterns in `entries` (in any order), sorted by time, then
/// kind, then partner:
///
/// - `off_hours`: `ok` accesses by a partner at a Paris hour outside
///   06:00–19:59, or on a Saturday or Sunday; one anomaly per partner per day;
/// - `volume_spike`: a partner's count of entries (any outcome) on a day is
///   above 3 × its median daily count over the days it was active, and at
///   least 20;
/// - `refusal_burst`: at least 5 `refused` entries for the same partner (or
///   for no partner) spanning less than 10 minutes; overlapping windows are
///   merged, so each burst is reported once, with its start and count.
pub fn anomalies(entries: &[ReportEntry]) -> Vec<Anomaly> {
    let mut out = Vec::new();

    // Off-hours, per partner per day: (count, first, last, weekend).
    let mut off: BTreeMap<(&str, Date), (u64, i64, i64)> = BTreeMap::new();
    // All entries per partner per day, for spikes.
    let mut daily: BTreeMap<&str, BTreeMap<Date, u64>> = BTreeMap::new();
    // Refusal times per partner (None included).
    let mut refused: BTreeMap<Option<&str>, Vec<(i64, Option<&str>)>> = BTreeMap::new();

    for e in entries {
        let Some(t) = datetime(e.at_ms) else { continue };
        if let Some(p) = e.partner.as_deref() {
            *daily.entry(p).or_default().entry(t.date()).or_default() += 1;
            let outside = t.hour() < WORK_START_HOUR || t.hour() >= WORK_END_HOUR;
            if e.outcome == "ok" && (outside || is_weekend(t.date())) {
                let slot = off.entry((p, t.date())).or_insert((0, e.at_ms, e.at_ms));
                slot.0 += 1;
                slot.1 = slot.1.min(e.at_ms);
                slot.2 = slot.2.max(e.at_ms);
            }
        }
        if e.outcome == "refused" {
            refused
                .entry(e.partner.as_deref())
                .or_default()
                .push((e.at_ms, e.reason.as_deref()));
        }
    }

    for ((p, day), (n, first, last)) in off {
        let span = match (datetime(first), datetime(last)) {
            (Some(a), Some(b)) if n > 1 => format!(", de {} à {}", hms(a), hms(b)),
            (Some(a), _) => format!(", à {}", hms(a)),
            _ => String::new(),
        };
        let detail = if is_weekend(day) {
            format!(
                "{n} accès un {}{span}",
                crate::util::weekday_fr(day.weekday())
            )
        } else {
            format!("{n} accès hors de 06:00–19:59 (heure de Paris){span}")
        };
        out.push(Anomaly {
            kind: "off_hours",
            partner: p.to_owned(),
            when: day.to_string(),
            detail,
        });
    }

    for (p, days) in &daily {
        let mut counts: Vec<u64> = days.values().copied().collect();
        let med = median(&mut counts);
        for (day, &n) in days {
            if n >= SPIKE_MIN && n as f64 > SPIKE_FACTOR * med {
                out.push(Anomaly {
                    kind: "volume_spike",
                    partner: (*p).to_owned(),
                    when: day.to_string(),
                    detail: format!(
                        "{n} accès, pour une médiane de {} par jour d'activité ({} jours d'activité)",
                        med.to_string().replace('.', ","),
                        days.len()
                    ),
                });
            }
        }
    }

    for (p, mut times) in refused {
        times.sort_by_key(|&(at, _)| at);
        for (start, end) in bursts(&times) {
            let burst = &times[start..=end];
            let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
            for (_, r) in burst {
                *reasons.entry(r.unwrap_or("sans motif")).or_default() += 1;
            }
            let mut reasons: Vec<(&str, usize)> = reasons.into_iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let top: Vec<String> = reasons
                .iter()
                .take(3)
                .map(|(r, n)| format!("{r} ×{n}"))
                .collect();
            let more = if reasons.len() > 3 { ", …" } else { "" };
            let last = datetime(burst[burst.len() - 1].0)
                .map(hms)
                .unwrap_or_default();
            out.push(Anomaly {
                kind: "refusal_burst",
                partner: p.unwrap_or(NO_PARTNER).to_owned(),
                when: fmt_time(burst[0].0),
                detail: format!(
                    "{} refus jusqu'à {last} ({}{more})",
                    burst.len(),
                    top.join(", ")
                ),
            });
        }
    }

    out.sort_by(|a, b| {
        (&a.when, kind_rank(a.kind), &a.partner, &a.detail).cmp(&(
            &b.when,
            kind_rank(b.kind),
            &b.partner,
            &b.detail,
        ))
    });
    out
}

/// The bursts in sorted `times`, as inclusive index ranges: the union of the
/// overlapping runs of at least [`BURST_MIN`] entries spanning less than
/// [`BURST_WINDOW_MS`].
fn bursts<T>(times: &[(i64, T)]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut j = 0;
    for i in 0..times.len() {
        j = j.max(i);
        while j + 1 < times.len() && times[j + 1].0 - times[i].0 < BURST_WINDOW_MS {
            j += 1;
        }
        if j + 1 - i >= BURST_MIN {
            match out.last_mut() {
                Some(last) if i <= last.1 => last.1 = last.1.max(j),
                _ => out.push((i, j)),
            }
        }
    }
    out
}

/// The report for `entries` over the days `from..=to` (Europe/Paris), generated now.
pub fn render(
    title: &str,
    from: Date,
    to: Date,
    entries: &[ReportEntry],
    verification: &Verification,
) -> String {
    render_at(
        title,
        from,
        to,
        entries,
        verification,
        OffsetDateTime::now_utc(),
    )
}

/// [`render`] with a given generation time (for reproducible pages).
pub fn render_at(
    title: &str,
    from: Date,
    to: Date,
    entries: &[ReportEntry],
    verification: &Verification,
    generated: OffsetDateTime,
) -> String {
    let days: Vec<Date> = if to < from {
        Vec::new()
    } else {
        let n = (to - from).whole_days();
        (0..=n)
            .filter_map(|i| from.checked_add(time::Duration::days(i)))
            .collect()
    };
    let in_window: Vec<&ReportEntry> = entries
        .iter()
        .filter(|e| datetime(e.at_ms).is_some_and(|t| t.date() >= from && t.date() <= to))
        .collect();
    let ignored = entries.len() - in_window.len();
    let counts = Counts::new(&days, &in_window);
    let owned: Vec<ReportEntry> = in_window.iter().map(|e| (*e).clone()).collect();
    let found = anomalies(&owned);

    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>{}</title>", escape(title));
    let _ = writeln!(h, "<style>{CSS}</style>\n</head>\n<body>");

    header(
        &mut h, title, from, to, &days, &in_window, ignored, generated,
    );
    summary(&mut h, &in_window, &found, verification);
    verification_section(&mut h, verification);

    h.push_str("<section id=\"accesses\">\n<h2>Accès par partenaire et par jour</h2>\n");
    chart(&mut h, &days, &counts);
    access_table(&mut h, &days, &counts);
    h.push_str("</section>\n");

    persons(&mut h, &in_window);
    refusals(&mut h, &in_window);
    anomaly_section(&mut h, &found);

    h.push_str(
        "<footer>Heures de Paris (Europe/Paris, CET/CEST). Le journal des accès enregistre qui a accédé à quoi, quand et avec quel résultat — jamais les données personnelles elles-mêmes.</footer>\n</body>\n</html>\n",
    );
    h
}

/// Entries per series (partner, then the entries without one) per day.
struct Counts {
    /// Series labels, partners by name then [`NO_PARTNER`] if any.
    series: Vec<String>,
    colours: Vec<&'static str>,
    /// `(series, day)` → (entries, refused or error).
    cells: BTreeMap<(usize, usize), (u64, u64)>,
    day_totals: Vec<u64>,
}

impl Counts {
    fn new(days: &[Date], entries: &[&ReportEntry]) -> Self {
        let partners: BTreeSet<&str> = entries
            .iter()
            .filter_map(|e| e.partner.as_deref())
            .collect();
        let mut series: Vec<String> = partners.iter().map(|p| (*p).to_owned()).collect();
        let mut colours: Vec<&'static str> = (0..series.len())
            .map(|i| PALETTE[i % PALETTE.len()])
            .collect();
        if entries.iter().any(|e| e.partner.is_none()) {
            series.push(NO_PARTNER.to_owned());
            colours.push(NO_PARTNER_COLOUR);
        }
        let index: BTreeMap<&str, usize> =
            partners.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        let mut cells: BTreeMap<(usize, usize), (u64, u64)> = BTreeMap::new();
        let mut day_totals = vec![0u64; days.len()];
        for e in entries {
            let Some(t) = datetime(e.at_ms) else { continue };
            let Some(first) = days.first() else { continue };
            let Ok(d) = usize::try_from((t.date() - *first).whole_days()) else {
                continue;
            };
            if d >= days.len() {
                continue;
            }
            let s = match e.partner.as_deref() {
                Some(p) => index[p],
                None => series.len() - 1,
            };
            let cell = cells.entry((s, d)).or_default();
            cell.0 += 1;
            if e.outcome != "ok" {
                cell.1 += 1;
            }
            day_totals[d] += 1;
        }
        Counts {
            series,
            colours,
            cells,
            day_totals,
        }
    }

    fn get(&self, s: usize, d: usize) -> (u64, u64) {
        self.cells.get(&(s, d)).copied().unwrap_or((0, 0))
    }
}

#[allow(clippy::too_many_arguments)]
fn header(
    h: &mut String,
    title: &str,
    from: Date,
    to: Date,
    days: &[Date],
    entries: &[&ReportEntry],
    ignored: usize,
    generated: OffsetDateTime,
) {
    let refused = entries.iter().filter(|e| e.outcome == "refused").count();
    let errors = entries.iter().filter(|e| e.outcome == "error").count();
    let partners: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e.partner.as_deref())
        .collect();
    let generated = crate::util::paris(generated);
    let _ = writeln!(
        h,
        "<header>\n<h1>{}</h1>\n<dl class=\"facts\">",
        escape(title)
    );
    let _ = writeln!(
        h,
        "<dt>Période</dt><dd>du {from} au {to} (heure de Paris, {} jour{})</dd>",
        days.len(),
        pl(days.len())
    );
    let _ = writeln!(
        h,
        "<dt>Établi le</dt><dd>{} à {} (heure de Paris)</dd>",
        generated.date(),
        hms(generated)
    );
    let _ = writeln!(
        h,
        "<dt>Entrées</dt><dd id=\"entry-count\">{} ({} refusée{}, {} en erreur) de {} partenaire{}</dd>",
        entries.len(),
        refused,
        pl(refused),
        errors,
        partners.len(),
        pl(partners.len())
    );
    if ignored > 0 {
        let _ = writeln!(
            h,
            "<dt>Écartées</dt><dd>{ignored} entrée{} hors de la période</dd>",
            pl(ignored)
        );
    }
    h.push_str("</dl>\n");
    if entries.is_empty() {
        h.push_str("<p class=\"empty\">Aucun accès pendant cette période.</p>\n");
    }
    h.push_str("</header>\n");
}

/// What the reader needs first, before any hash: per partner, the
/// files it received (downloads) and their rows, its refusals; the
/// anomalies found; whether the log verifies.
fn summary(h: &mut String, entries: &[&ReportEntry], found: &[Anomaly], v: &Verification) {
    #[derive(Default)]
    struct Row {
        files: u64,
        rows: u64,
        refused: u64,
        entries: u64,
    }
    let mut by: BTreeMap<String, Row> = BTreeMap::new();
    for e in entries {
        let r = by.entry(partner_label(&e.partner).to_owned()).or_default();
        r.entries += 1;
        if e.outcome == "refused" {
            r.refused += 1;
        }
        if e.action == "outbox.download" && e.outcome == "ok" {
            r.files += 1;
            r.rows += e.rows.unwrap_or(0);
        }
    }
    let refused = by.values().map(|r| r.refused).sum::<u64>() as usize;
    h.push_str("<section id=\"summary\">\n<h2>Synthèse</h2>\n");
    let _ = writeln!(
        h,
        "<p>Le journal {} ; {} anomalie{} relevée{} ; {} demande{} refusée{}.</p>",
        if v.ok {
            "est intègre"
        } else {
            "<strong>n'est PAS intègre</strong> (voir plus bas)"
        },
        found.len(),
        pl(found.len()),
        pl(found.len()),
        refused,
        pl(refused),
        pl(refused),
    );
    if !by.is_empty() {
        h.push_str("<table id=\"table-summary\">\n<thead><tr><th>Partenaire</th><th>Fichiers reçus</th><th>Lignes</th><th>Refus</th><th>Entrées</th></tr></thead>\n<tbody>\n");
        for (p, r) in &by {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(p),
                r.files,
                r.rows,
                r.refused,
                r.entries
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn verification_section(h: &mut String, v: &Verification) {
    h.push_str("<section id=\"verification\">\n<h2>Vérification du journal</h2>\n");
    let (class, label) = if v.ok {
        ("ok", "vérifié")
    } else {
        ("bad", "NON VÉRIFIÉ")
    };
    let _ = writeln!(
        h,
        "<div class=\"status {class}\"><strong class=\"verdict\">{label}</strong><p class=\"msg\">{}</p></div>",
        escape(&v.message)
    );
    let _ = writeln!(
        h,
        "<dl class=\"facts\">\n<dt>Entrées du journal</dt><dd>{}</dd>",
        v.entries
    );
    match (v.checkpoint_size, &v.checkpoint_root) {
        (Some(size), root) => {
            let _ = writeln!(h, "<dt>Taille du point de contrôle</dt><dd>{size}</dd>");
            if let Some(root) = root {
                let _ = writeln!(
                    h,
                    "<dt>Racine du point de contrôle</dt><dd><code>{}</code></dd>",
                    escape(root)
                );
            }
        }
        (None, Some(root)) => {
            let _ = writeln!(
                h,
                "<dt>Racine du point de contrôle</dt><dd><code>{}</code></dd>",
                escape(root)
            );
        }
        (None, None) => {
            h.push_str("<dt>Point de contrôle</dt><dd>aucun point de contrôle signé : la vérification repose sur les seules empreintes recalculées des entrées</dd>\n");
        }
    }
    h.push_str("</dl>\n");
    if let Some(note) = &v.checkpoint_note {
        let _ = writeln!(
            h,
            "<h3>Note signée du point de contrôle</h3>\n<pre class=\"note\">{}</pre>",
            escape(note)
        );
    }
    h.push_str("</section>\n");
}

/// A round step for about `max / 4`: 1, 2 or 5 × 10ⁿ, at least 1.
fn nice_step(max: u64) -> u64 {
    let rough = (max as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * mag);
    (step.round() as u64).max(1)
}

fn chart(h: &mut String, days: &[Date], c: &Counts) {
    const W: f64 = 1100.0;
    const ML: f64 = 56.0;
    const MR: f64 = 16.0;
    const MT: f64 = 16.0;
    const PH: f64 = 300.0;
    let pw = W - ML - MR;
    let n = days.len().max(1);
    let band = pw / n as f64;
    let bar = (band * 0.72).max(0.5);
    let max = c.day_totals.iter().copied().max().unwrap_or(0);
    let step = nice_step(max);
    let top = (max.div_ceil(step) * step).max(step);
    let y = |v: u64| MT + PH - v as f64 / top as f64 * PH;

    // Legend geometry.
    let longest = c
        .series
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0);
    let item_w = (longest as f64 * 7.2 + 30.0).clamp(120.0, 360.0);
    let per_row = ((pw / item_w).floor() as usize).max(1);
    let legend_rows = c.series.len().div_ceil(per_row);
    let axis_h = if days.len() <= 31 { 44.0 } else { 28.0 };
    let legend_top = MT + PH + axis_h;
    let height = legend_top + legend_rows as f64 * 22.0 + 8.0;

    let _ = writeln!(
        h,
        "<svg id=\"chart-accesses\" viewBox=\"0 0 {W} {height:.0}\" width=\"100%\" role=\"img\" aria-labelledby=\"chart-accesses-title\" font-family=\"system-ui, sans-serif\" font-size=\"12\">"
    );
    h.push_str(
        "<title id=\"chart-accesses-title\">Accès par partenaire et par jour (empilés)</title>\n",
    );

    // Weekends shaded.
    for (i, d) in days.iter().enumerate() {
        if is_weekend(*d) {
            let _ = writeln!(
                h,
                "<rect class=\"weekend\" x=\"{:.1}\" y=\"{MT}\" width=\"{band:.1}\" height=\"{PH}\" fill=\"#f1f1f1\"/>",
                ML + i as f64 * band
            );
        }
    }
    // Y axis ticks and gridlines.
    let mut v = 0;
    while v <= top {
        let yy = y(v);
        let _ = writeln!(
            h,
            "<line x1=\"{ML}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#333\">{v}</text>",
            ML + pw,
            if v == 0 { "#333" } else { "#ddd" },
            ML - 6.0,
            yy + 4.0
        );
        v += step;
    }
    // Bars, stacked in series order.
    for (d, day) in days.iter().enumerate() {
        let x = ML + d as f64 * band + (band - bar) / 2.0;
        let mut acc = 0;
        for s in 0..c.series.len() {
            let (count, failed) = c.get(s, d);
            if count == 0 {
                continue;
            }
            let y0 = y(acc);
            acc += count;
            let y1 = y(acc);
            let height = (y0 - y1).max(1.0);
            let failed = if failed > 0 {
                format!(
                    " (dont {failed} refusée{} ou en erreur)",
                    pl(failed as usize)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                h,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{height:.1}\" fill=\"{}\"><title>{} — {day} : {count} entrée{}{failed}</title></rect>",
                y0 - height,
                c.colours[s],
                escape(&c.series[s]),
                pl(count as usize)
            );
        }
    }
    // X axis labels, thinned so they do not overlap.
    let every = ((44.0 / band).ceil() as usize).max(1);
    for (i, d) in days.iter().enumerate().step_by(every) {
        let x = ML + (i as f64 + 0.5) * band;
        let _ = write!(
            h,
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{:02}-{:02}",
            MT + PH + 16.0,
            u8::from(d.month()),
            d.day()
        );
        if days.len() <= 31 {
            let _ = write!(
                h,
                "<tspan x=\"{x:.1}\" dy=\"14\" fill=\"#777\">{}</tspan>",
                weekday_short(*d)
            );
        }
        h.push_str("</text>\n");
    }
    if c.series.is_empty() {
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#777\" font-size=\"16\">aucun accès pendant cette période</text>",
            ML + pw / 2.0,
            MT + PH / 2.0
        );
    }
    // Legend.
    h.push_str("<g class=\"legend\">\n");
    for (i, s) in c.series.iter().enumerate() {
        let lx = ML + (i % per_row) as f64 * item_w;
        let ly = legend_top + (i / per_row) as f64 * 22.0;
        let _ = writeln!(
            h,
            "<rect class=\"swatch\" x=\"{lx:.1}\" y=\"{ly:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222\">{}</text>",
            c.colours[i],
            lx + 18.0,
            ly + 10.5,
            escape(s)
        );
    }
    h.push_str("</g>\n</svg>\n");
}

fn access_table(h: &mut String, days: &[Date], c: &Counts) {
    h.push_str("<table id=\"table-accesses\">\n<thead><tr><th>Jour (Paris)</th>");
    for (i, s) in c.series.iter().enumerate() {
        let _ = write!(
            h,
            "<th><span class=\"sw\" style=\"background:{}\"></span>{}</th>",
            c.colours[i],
            escape(s)
        );
    }
    h.push_str("<th>Total</th></tr></thead>\n<tbody>\n");
    let mut d = 0;
    while d < days.len() {
        let day = &days[d];
        // Two or more days in a row without any entry: one folded row.
        let quiet = days[d..]
            .iter()
            .enumerate()
            .take_while(|(i, _)| c.day_totals[d + i] == 0)
            .count();
        if quiet >= 2 {
            let last = days[d + quiet - 1];
            let _ = writeln!(
                h,
                "<tr class=\"folded\"><th>{day} – {last}</th><td colspan=\"{}\">aucune activité ({quiet} jours)</td></tr>",
                c.series.len() + 1
            );
            d += quiet;
            continue;
        }
        let class = if is_weekend(*day) {
            " class=\"weekend\""
        } else {
            ""
        };
        let _ = write!(h, "<tr{class}><th>{day} {}</th>", weekday_short(*day));
        for s in 0..c.series.len() {
            let (n, _) = c.get(s, d);
            if n == 0 {
                h.push_str("<td class=\"zero\">0</td>");
            } else {
                let _ = write!(h, "<td>{n}</td>");
            }
        }
        let _ = writeln!(h, "<td class=\"total\">{}</td></tr>", c.day_totals[d]);
        d += 1;
    }
    h.push_str("</tbody>\n<tfoot><tr><th>Total</th>");
    for s in 0..c.series.len() {
        let total: u64 = (0..days.len()).map(|d| c.get(s, d).0).sum();
        let _ = write!(h, "<td>{total}</td>");
    }
    let _ = writeln!(
        h,
        "<td class=\"total\">{}</td></tr></tfoot>\n</table>",
        c.day_totals.iter().sum::<u64>()
    );
}

/// The console's accesses per person: who, for which partner, how many
/// entries, how many refused, the first and the last.
fn persons(h: &mut String, entries: &[&ReportEntry]) {
    // (person, partner) → (entries, refused, first, last)
    let mut per: BTreeMap<(&str, &str), (u64, u64, i64, i64)> = BTreeMap::new();
    for e in entries {
        let Some(person) = e.person.as_deref() else {
            continue;
        };
        let slot = per
            .entry((person, partner_label(&e.partner)))
            .or_insert((0, 0, e.at_ms, e.at_ms));
        slot.0 += 1;
        slot.1 += u64::from(e.outcome == "refused");
        slot.2 = slot.2.min(e.at_ms);
        slot.3 = slot.3.max(e.at_ms);
    }
    h.push_str("<section id=\"persons\">\n<h2>Accès par personne (console)</h2>\n");
    if per.is_empty() {
        h.push_str("<p class=\"empty\">aucun accès par la console</p>\n</section>\n");
        return;
    }
    h.push_str("<table id=\"table-persons\">\n<thead><tr><th>Personne</th><th>Partenaire</th><th>Entrées</th><th>Refus</th><th>Premier (Paris)</th><th>Dernier (Paris)</th></tr></thead>\n<tbody>\n");
    for ((person, partner), (n, refused, first, last)) in per {
        let _ = writeln!(
            h,
            "<tr class=\"person\" data-person=\"{}\"><td>{}</td><td>{}</td><td>{n}</td><td>{refused}</td><td>{}</td><td>{}</td></tr>",
            escape(person),
            escape(person),
            escape(partner),
            fmt_time(first),
            fmt_time(last)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn refusals(h: &mut String, entries: &[&ReportEntry]) {
    let mut bad: Vec<&ReportEntry> = entries
        .iter()
        .copied()
        .filter(|e| e.outcome == "refused" || e.outcome == "error")
        .collect();
    bad.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then(b.seq.cmp(&a.seq)));
    h.push_str("<section id=\"refusals\">\n<h2>Demandes refusées ou en erreur</h2>\n");
    if bad.is_empty() {
        h.push_str("<p class=\"empty\">aucune</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<p>{} pendant la période, les plus récentes d'abord.</p>",
        bad.len()
    );
    h.push_str("<table id=\"table-refusals\">\n<thead><tr><th>Heure (Paris)</th><th>N°</th><th>Partenaire</th><th>Personne</th><th>Action</th><th>Résultat</th><th>Route</th><th>Motif</th></tr></thead>\n<tbody>\n");
    for e in bad.iter().take(MAX_REFUSAL_ROWS) {
        let _ = writeln!(
            h,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if e.outcome == "error" {
                "error"
            } else {
                "refused"
            },
            fmt_time(e.at_ms),
            e.seq,
            escape(partner_label(&e.partner)),
            escape(e.person.as_deref().unwrap_or("")),
            escape(&e.action),
            if e.outcome == "error" {
                "erreur"
            } else {
                "refusée"
            },
            escape(e.route.as_deref().unwrap_or("")),
            escape(e.reason.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</tbody>\n</table>\n");
    if bad.len() > MAX_REFUSAL_ROWS {
        let _ = writeln!(
            h,
            "<p class=\"more\">… et {} de plus</p>",
            bad.len() - MAX_REFUSAL_ROWS
        );
    }
    h.push_str("</section>\n");
}

fn anomaly_section(h: &mut String, found: &[Anomaly]) {
    h.push_str("<section id=\"anomalies\">\n<h2>Comportements inhabituels</h2>\n");
    h.push_str("<p class=\"hint\">Hors horaires : des accès en dehors de 06:00–19:59 (heure de Paris) ou le week-end. Pic de volume : un jour au-delà de 3 × la médiane quotidienne du partenaire, et d'au moins 20 accès. Rafale de refus : 5 refus ou plus en moins de 10 minutes.</p>\n");
    if found.is_empty() {
        h.push_str("<p class=\"empty\">aucun relevé</p>\n</section>\n");
        return;
    }
    h.push_str("<table id=\"table-anomalies\">\n<thead><tr><th>Type</th><th>Partenaire</th><th>Quand (Paris)</th><th>Détail</th></tr></thead>\n<tbody>\n");
    for a in found {
        let label = match a.kind {
            "off_hours" => "hors horaires",
            "volume_spike" => "pic de volume",
            "refusal_burst" => "rafale de refus",
            k => k,
        };
        let _ = writeln!(
            h,
            "<tr class=\"anomaly\" data-kind=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(a.kind),
            escape(label),
            escape(&a.partner),
            escape(&a.when),
            escape(&a.detail)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

const CSS: &str = "
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f;max-width:1180px;margin:0 auto;padding:24px;line-height:1.45}
h1{font-size:1.6em;margin:0 0 .4em}
h2{font-size:1.25em;margin:1.6em 0 .6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1em;margin:1em 0 .4em}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.4em 0}
dl.facts dt{font-weight:600;color:#555}
dl.facts dd{margin:0}
code,pre{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.9em}
code{word-break:break-all}
pre.note{background:#f6f6f6;border:1px solid #ddd;padding:.8em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.status{border-radius:6px;padding:.8em 1em;margin:.6em 0;border:2px solid}
.status.ok{background:#e8f5e9;border-color:#2e7d32;color:#1b5e20}
.status.bad{background:#fdecea;border-color:#c62828;color:#8e0000}
.status .verdict{font-size:1.3em;letter-spacing:.02em}
.status .msg{margin:.3em 0 0;white-space:pre-wrap}
svg#chart-accesses{display:block;margin:.5em 0 1em;max-width:100%;height:auto}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
thead th{background:#f3f3f3}
#table-accesses td{text-align:right;font-variant-numeric:tabular-nums}
#table-accesses td.zero{color:#bbb}
#table-accesses td.total,#table-accesses tfoot td{font-weight:600}
tr.weekend th,tr.weekend td{background:#fafafa}
tr.folded th,tr.folded td{color:#555;font-style:italic}
.sw{display:inline-block;width:.8em;height:.8em;margin-right:.4em;vertical-align:baseline;border-radius:2px}
tr.error td{color:#8e0000}
.empty{color:#666;font-style:italic}
.hint{color:#666;font-size:.9em}
.more{font-style:italic}
footer{margin-top:2em;color:#777;font-size:.85em;border-top:1px solid #ddd;padding-top:.6em}
@media print{body{padding:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
";

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    /// 2026-03-02 is a Monday.
    const MONDAY: Date = date!(2026 - 03 - 02);

    fn ms(t: OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// `h:m:s` on `day` in Paris time (the tests' days are all in
    /// winter time, UTC+1).
    fn at(day: Date, h: u8, m: u8, s: u8) -> i64 {
        ms(day
            .with_hms(h, m, s)
            .unwrap()
            .assume_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap()))
    }

    fn entry(seq: i64, at_ms: i64, partner: Option<&str>, outcome: &str) -> ReportEntry {
        ReportEntry {
            seq,
            at_ms,
            partner: partner.map(str::to_owned),
            person: None,
            action: "cases.list".to_owned(),
            outcome: outcome.to_owned(),
            reason: (outcome != "ok").then(|| "route not allowed".to_owned()),
            route: Some("/v1/cases".to_owned()),
            rows: Some(3),
        }
    }

    fn ok_at(seq: i64, at_ms: i64, p: &str) -> ReportEntry {
        entry(seq, at_ms, Some(p), "ok")
    }

    fn of_kind<'a>(a: &'a [Anomaly], kind: &str) -> Vec<&'a Anomaly> {
        a.iter().filter(|x| x.kind == kind).collect()
    }

    fn verified() -> Verification {
        Verification {
            ok: true,
            message: "12 entries recomputed; 1 signed checkpoint(s) verified".to_owned(),
            entries: 12,
            checkpoint_size: Some(12),
            checkpoint_root: Some("ab".repeat(32)),
            checkpoint_note: Some(
                "passerelle.example/log\n12\nq83...=\n\n— passerelle sig".to_owned(),
            ),
        }
    }

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape("<script>alert(\"x\")</script> & 'co'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"
        );
        assert_eq!(escape("Préfecture — 13"), "Préfecture — 13");
    }

    #[test]
    fn partner_names_and_messages_are_escaped_in_the_page() {
        let mut e = ok_at(1, at(MONDAY, 10, 0, 0), "<b>evil</b>");
        e.route = Some("/v1/\"x\"".to_owned());
        let mut r = entry(2, at(MONDAY, 11, 0, 0), Some("<b>evil</b>"), "refused");
        r.reason = Some("<img src=x onerror=alert(1)>".to_owned());
        let mut v = verified();
        v.ok = false;
        v.message = "entry 3: <leaf> mismatch".to_owned();
        v.checkpoint_note = Some("</pre><script>x</script>".to_owned());
        let page = render("T <&>", MONDAY, MONDAY, &[e, r], &v);
        assert!(!page.contains("<b>evil"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("<leaf>"));
        assert!(page.contains("&lt;b&gt;evil&lt;/b&gt;"));
        assert!(page.contains("<title>T &lt;&amp;&gt;</title>"));
        assert!(page.contains("NON VÉRIFIÉ"));
    }

    #[test]
    fn off_hours_accesses_are_grouped_per_partner_per_day() {
        let entries = vec![
            ok_at(1, at(MONDAY, 5, 59, 59), "caf"),
            ok_at(2, at(MONDAY, 2, 0, 0), "caf"),
            ok_at(3, at(MONDAY, 20, 0, 0), "caf"),
            ok_at(4, at(MONDAY, 23, 0, 0), "adil"),
            // Saturday noon.
            ok_at(5, at(date!(2026 - 03 - 07), 12, 0, 0), "caf"),
        ];
        let a = anomalies(&entries);
        let off = of_kind(&a, "off_hours");
        assert_eq!(off.len(), 3, "{a:#?}");
        let caf_monday = off
            .iter()
            .find(|x| x.partner == "caf" && x.when == "2026-03-02")
            .unwrap();
        assert!(
            caf_monday.detail.starts_with("3 accès hors de"),
            "{}",
            caf_monday.detail
        );
        assert!(caf_monday.detail.contains("de 02:00:00 à 20:00:00"));
        let sat = off.iter().find(|x| x.when == "2026-03-07").unwrap();
        assert!(sat.detail.contains("un samedi"), "{}", sat.detail);
    }

    #[test]
    fn working_hours_refusals_and_partnerless_entries_are_not_off_hours() {
        let entries = vec![
            ok_at(1, at(MONDAY, 6, 0, 0), "caf"),
            ok_at(2, at(MONDAY, 19, 59, 59), "caf"),
            entry(3, at(MONDAY, 3, 0, 0), Some("caf"), "refused"),
            entry(4, at(MONDAY, 3, 0, 0), Some("caf"), "error"),
            entry(5, at(MONDAY, 3, 0, 0), None, "ok"),
        ];
        assert!(of_kind(&anomalies(&entries), "off_hours").is_empty());
    }

    /// `per_day` accesses by `p` at 10:00 on consecutive weekdays from Monday.
    fn daily(p: &str, per_day: &[u64]) -> Vec<ReportEntry> {
        let mut out = Vec::new();
        for (d, &n) in per_day.iter().enumerate() {
            let day = MONDAY + time::Duration::days(d as i64);
            for i in 0..n {
                out.push(ok_at(
                    out.len() as i64,
                    at(day, 10, (i / 60) as u8, (i % 60) as u8),
                    p,
                ));
            }
        }
        out
    }

    #[test]
    fn a_day_above_three_times_the_median_is_a_spike() {
        let a = anomalies(&daily("caf", &[10, 10, 10, 10, 31]));
        let spikes = of_kind(&a, "volume_spike");
        assert_eq!(spikes.len(), 1, "{a:#?}");
        assert_eq!(spikes[0].partner, "caf");
        assert_eq!(spikes[0].when, "2026-03-06");
        assert!(
            spikes[0].detail.starts_with("31 accès"),
            "{}",
            spikes[0].detail
        );
        // Median of an even count: the mean of the middle two.
        assert_eq!(
            of_kind(&anomalies(&daily("caf", &[1, 1, 1, 20])), "volume_spike").len(),
            1
        );
    }

    #[test]
    fn just_below_the_spike_thresholds_is_not_a_spike() {
        // Exactly 3 × the median.
        assert!(
            of_kind(
                &anomalies(&daily("caf", &[10, 10, 10, 10, 30])),
                "volume_spike"
            )
            .is_empty()
        );
        // Far above the median but under 20.
        assert!(of_kind(&anomalies(&daily("caf", &[1, 1, 1, 19])), "volume_spike").is_empty());
        // Days without access do not lower the median.
        assert!(
            of_kind(
                &anomalies(&daily("caf", &[10, 0, 0, 0, 0, 25])),
                "volume_spike"
            )
            .is_empty()
        );
    }

    fn refusals_at(p: Option<&str>, start: i64, offsets_s: &[i64]) -> Vec<ReportEntry> {
        offsets_s
            .iter()
            .enumerate()
            .map(|(i, s)| entry(i as i64, start + s * 1000, p, "refused"))
            .collect()
    }

    #[test]
    fn five_refusals_within_ten_minutes_are_a_burst() {
        let t0 = at(MONDAY, 14, 0, 0);
        let a = anomalies(&refusals_at(Some("caf"), t0, &[0, 100, 200, 300, 599]));
        let b = of_kind(&a, "refusal_burst");
        assert_eq!(b.len(), 1, "{a:#?}");
        assert_eq!(b[0].partner, "caf");
        assert_eq!(b[0].when, "2026-03-02 14:00:00");
        assert!(
            b[0].detail.starts_with("5 refus jusqu'à 14:09:59"),
            "{}",
            b[0].detail
        );
        assert!(b[0].detail.contains("route not allowed ×5"));

        // Without a partner (TLS refusals).
        let a = anomalies(&refusals_at(None, t0, &[0, 1, 2, 3, 4]));
        assert_eq!(of_kind(&a, "refusal_burst")[0].partner, NO_PARTNER);
    }

    #[test]
    fn just_below_the_burst_thresholds_is_not_a_burst() {
        let t0 = at(MONDAY, 14, 0, 0);
        // Four refusals.
        assert!(anomalies(&refusals_at(Some("caf"), t0, &[0, 1, 2, 3])).is_empty());
        // Five spanning exactly ten minutes.
        assert!(anomalies(&refusals_at(Some("caf"), t0, &[0, 150, 300, 450, 600])).is_empty());
        // Three and two for different partners.
        let mut e = refusals_at(Some("caf"), t0, &[0, 1, 2]);
        e.extend(refusals_at(Some("adil"), t0, &[3, 4]));
        assert!(anomalies(&e).is_empty());
        // Errors are not refusals.
        let mut e = refusals_at(Some("caf"), t0, &[0, 1, 2, 3, 4]);
        e[0].outcome = "error".to_owned();
        assert!(anomalies(&e).is_empty());
    }

    #[test]
    fn a_long_burst_is_reported_once_and_separate_bursts_twice() {
        let t0 = at(MONDAY, 14, 0, 0);
        // One refusal a minute for 20 minutes.
        let offsets: Vec<i64> = (0..20).map(|i| i * 60).collect();
        let a = anomalies(&refusals_at(Some("caf"), t0, &offsets));
        assert_eq!(a.len(), 1, "{a:#?}");
        assert!(
            a[0].detail.starts_with("20 refus jusqu'à 14:19:00"),
            "{}",
            a[0].detail
        );

        let mut offsets: Vec<i64> = (0..6).collect();
        offsets.extend((0..5).map(|i| 3600 + i));
        let a = anomalies(&refusals_at(Some("caf"), t0, &offsets));
        let whens: Vec<&str> = a.iter().map(|x| x.when.as_str()).collect();
        assert_eq!(whens, ["2026-03-02 14:00:00", "2026-03-02 15:00:00"]);
        assert!(a[0].detail.starts_with("6 refus"));
        assert!(a[1].detail.starts_with("5 refus"));
    }

    #[test]
    fn anomalies_are_sorted_and_serializable() {
        let mut e = refusals_at(None, at(MONDAY, 3, 0, 0), &[0, 1, 2, 3, 4]);
        e.push(ok_at(10, at(MONDAY, 2, 0, 0), "caf"));
        e.push(ok_at(11, at(MONDAY, 1, 0, 0), "adil"));
        e.reverse();
        let a = anomalies(&e);
        let got: Vec<(&str, &str)> = a.iter().map(|x| (x.kind, x.partner.as_str())).collect();
        assert_eq!(
            got,
            [
                ("off_hours", "adil"),
                ("off_hours", "caf"),
                ("refusal_burst", NO_PARTNER)
            ]
        );
        let json = serde_json::to_value(&a[0]).unwrap();
        assert_eq!(json["kind"], "off_hours");
        assert_eq!(json["when"], "2026-03-02");
    }

    #[test]
    fn the_chart_has_one_bar_per_partner_day_with_accesses() {
        let sunday = date!(2026 - 03 - 08);
        let mut e = daily("caf", &[3, 0, 2, 0, 1]);
        e.extend(daily("adil", &[0, 4, 4]));
        e.push(entry(99, at(MONDAY, 9, 0, 0), None, "refused"));
        // Outside the window: ignored.
        e.push(ok_at(100, at(date!(2026 - 03 - 09), 9, 0, 0), "caf"));
        let page = render_at(
            "r",
            MONDAY,
            sunday,
            &e,
            &verified(),
            datetime!(2026-03-09 08:00 UTC),
        );
        // caf: 3 days, adil: 2 days, no partner: 1 day.
        assert_eq!(page.matches("<rect class=\"bar\"").count(), 6);
        assert_eq!(page.matches("<rect class=\"swatch\"").count(), 3);
        assert!(page.contains("<title>caf — 2026-03-02 : 3 entrées</title>"));
        assert!(page.contains(&format!(
            "{NO_PARTNER} — 2026-03-02 : 1 entrée (dont 1 refusée ou en erreur)"
        )));
        assert!(page.contains("<svg id=\"chart-accesses\""));
        assert!(page.contains("<table id=\"table-accesses\""));
        assert!(page.contains("1 entrée hors de la période"));
        // Seven days in the table: the quiet weekend folded into one row.
        assert_eq!(page.matches("<tr class=\"weekend\">").count(), 0);
        assert!(page.contains("<th>2026-03-07 – 2026-03-08</th>"));
        assert!(page.contains("Établi le</dt><dd>2026-03-09 à 09:00:00 (heure de Paris)"));
        assert!(page.contains("class=\"status ok\"><strong class=\"verdict\">vérifié</strong>"));
    }

    #[test]
    fn the_summary_comes_before_any_hash_with_the_files_each_partner_received() {
        let day = MONDAY;
        let mut e = vec![
            ReportEntry {
                action: "outbox.download".to_owned(),
                rows: Some(25),
                ..ok_at(1, at(day, 9, 0, 0), "caf")
            },
            ReportEntry {
                action: "outbox.download".to_owned(),
                rows: Some(4),
                ..ok_at(2, at(day, 9, 5, 0), "caf")
            },
            entry(3, at(day, 10, 0, 0), Some("mdsf"), "refused"),
        ];
        e.push(ok_at(4, at(day, 11, 0, 0), "mdsf"));
        let page = render_at(
            "r",
            day,
            day,
            &e,
            &verified(),
            datetime!(2026-03-03 08:00 UTC),
        );
        let summary = page.find("<section id=\"summary\">").expect("a summary");
        assert!(summary < page.find("<section id=\"verification\">").unwrap());
        assert!(page.contains("Le journal est intègre ; 0 anomalie relevée ; 1 demande refusée."));
        assert!(page.contains(
            "<tr><td>caf</td><td class=\"num\">2</td><td class=\"num\">29</td><td class=\"num\">0</td><td class=\"num\">2</td></tr>"
        ));
        assert!(page.contains(
            "<tr><td>mdsf</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">2</td></tr>"
        ));
    }

    #[test]
    fn days_in_a_row_without_activity_are_folded_into_one_row() {
        // Monday and Friday busy; Tuesday to Thursday quiet; Saturday
        // alone quiet, Sunday busy.
        let e = vec![
            ok_at(1, at(MONDAY, 9, 0, 0), "caf"),
            ok_at(2, at(date!(2026 - 03 - 06), 9, 0, 0), "caf"),
            ok_at(3, at(date!(2026 - 03 - 08), 9, 0, 0), "caf"),
        ];
        let page = render_at(
            "r",
            MONDAY,
            date!(2026 - 03 - 08),
            &e,
            &verified(),
            datetime!(2026-03-09 08:00 UTC),
        );
        assert!(page.contains(
            "<tr class=\"folded\"><th>2026-03-03 – 2026-03-05</th><td colspan=\"2\">aucune activité (3 jours)</td></tr>"
        ));
        assert_eq!(page.matches("class=\"folded\"").count(), 1);
        assert!(
            page.contains("<th>2026-03-07 sam</th>"),
            "a single quiet day stays"
        );
    }

    #[test]
    fn an_empty_window_renders_a_complete_page() {
        let v = Verification {
            ok: true,
            message: "0 entries".to_owned(),
            entries: 0,
            checkpoint_size: None,
            checkpoint_root: None,
            checkpoint_note: None,
        };
        let page = render("Empty", MONDAY, MONDAY + time::Duration::days(6), &[], &v);
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"));
        assert!(page.trim_end().ends_with("</html>"));
        assert!(page.contains("aucun accès pendant cette période"));
        assert!(page.contains("Aucun accès pendant cette période"));
        assert!(page.contains("<svg id=\"chart-accesses\""));
        assert!(!page.contains("<rect class=\"bar\""));
        assert!(page.contains("<section id=\"refusals\">"));
        assert!(page.contains("aucun relevé"));
        assert!(page.contains("aucun point de contrôle signé"));
        // Balanced main elements.
        for tag in ["section", "table", "svg", "dl"] {
            assert_eq!(
                page.matches(&format!("<{tag}")).count(),
                page.matches(&format!("</{tag}>")).count(),
                "{tag}"
            );
        }
        // Reversed window: still a page.
        let page = render("Empty", MONDAY, MONDAY - time::Duration::days(1), &[], &v);
        assert!(page.contains("(heure de Paris, 0 jour)"));
    }

    #[test]
    fn the_console_accesses_are_counted_per_person_and_shown_beside_refusals() {
        let mut e = vec![
            ok_at(1, at(MONDAY, 9, 0, 0), "ddets"),
            ok_at(2, at(MONDAY, 9, 5, 0), "ddets"),
        ];
        e.extend(refusals_at(Some("ddets"), at(MONDAY, 10, 0, 0), &[0]));
        e.push(ok_at(9, at(MONDAY, 11, 0, 0), "caf"));
        for x in &mut e[..3] {
            x.person = Some("agent-<ddets>".to_owned());
        }
        let page = render_at(
            "r",
            MONDAY,
            MONDAY,
            &e,
            &verified(),
            datetime!(2026-03-03 08:00 UTC),
        );
        let section =
            &page[page.find("id=\"persons\"").unwrap()..page.find("id=\"refusals\"").unwrap()];
        assert!(
            section.contains("<td>agent-&lt;ddets&gt;</td><td>ddets</td><td>3</td><td>1</td><td>2026-03-02 09:00:00</td><td>2026-03-02 10:00:00</td>"),
            "{section}"
        );
        assert_eq!(
            section.matches("class=\"person\"").count(),
            1,
            "the API's caf is no person"
        );
        let refused = &page[page.find("id=\"table-refusals\"").unwrap()..];
        assert!(
            refused.contains("<td>ddets</td><td>agent-&lt;ddets&gt;</td>"),
            "{refused}"
        );

        let api_only = render_at(
            "r",
            MONDAY,
            MONDAY,
            &e[3..],
            &verified(),
            datetime!(2026-03-03 08:00 UTC),
        );
        assert!(api_only.contains("aucun accès par la console"));
    }

    #[test]
    fn the_page_is_self_contained() {
        let e = daily("caf", &[5, 5]);
        let page = render(
            "r",
            MONDAY,
            MONDAY + time::Duration::days(1),
            &e,
            &verified(),
        );
        for needle in [
            "http://", "https://", "<script", "<link", "src=", "url(", "@import",
        ] {
            assert!(!page.contains(needle), "{needle}");
        }
        assert!(page.contains("<meta charset=\"utf-8\">"));
    }

    #[test]
    fn refusals_are_most_recent_first_and_capped() {
        let t0 = at(MONDAY, 10, 0, 0);
        let mut e: Vec<ReportEntry> = (0..510)
            .map(|i| entry(i, t0 + i * 1000, Some("caf"), "refused"))
            .collect();
        e.push(entry(1000, t0 - 1000, None, "error"));
        let page = render("r", MONDAY, MONDAY, &e, &verified());
        let section = &page[page.find("<section id=\"refusals\">").unwrap()..];
        let section = &section[..section.find("</section>").unwrap()];
        assert_eq!(section.matches("<tr class=\"refused\">").count(), 500);
        assert!(section.contains("… et 11 de plus"));
        // The most recent (seq 509, at 10:08:29) comes first.
        let first = section.find("<td>509</td>").unwrap();
        assert!(first < section.find("<td>508</td>").unwrap());
        assert!(section.contains("2026-03-02 10:08:29"));
        // The oldest (the partnerless error) is beyond the cap.
        assert!(!section.contains(NO_PARTNER));

        let few = vec![entry(1, t0, None, "error")];
        let page = render("r", MONDAY, MONDAY, &few, &verified());
        assert!(page.contains(&format!("<td>{NO_PARTNER}</td>")));
        assert!(!page.contains("de plus</p>"));
    }
}
