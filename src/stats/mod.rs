//! The CCAPEX's figures (docs/convention.md "Statistics"): cases by referent,
//! new attributions, cases without follow-up, not processed, shares by the
//! largest-remainder method; plus what the CCAPEX says it lacks: delay from
//! CDP to first contact, accompaniment axes, court events.

pub mod judiciarisation;

use crate::domain::followup::{ClosingMotif, FollowupEvent};
use crate::store::cases::Decided;
use crate::store::events::Event;
use serde::Serialize;
use std::collections::BTreeMap;

/// Whole-percent shares of `counts` in `total`, adding up to exactly 100
/// (when `total > 0`): floor every share, then give the missing points to
/// the largest remainders, ties to the larger count.
pub fn largest_remainder(counts: &[u64], total: u64) -> Vec<u64> {
    if total == 0 {
        return vec![0; counts.len()];
    }
    let mut pct: Vec<u64> = counts.iter().map(|c| c * 100 / total).collect();
    let given: u64 = pct.iter().sum();
    let target = if counts.iter().sum::<u64>() == total {
        100
    } else {
        given
    };
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = counts[a] * 100 % total;
        let rb = counts[b] * 100 % total;
        rb.cmp(&ra).then(counts[b].cmp(&counts[a])).then(a.cmp(&b))
    });
    for &i in order.iter().take((target - given) as usize) {
        pct[i] += 1;
    }
    pct
}

/// One referent's line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attribution {
    /// The referent.
    pub organisme: String,
    /// Cases attributed.
    pub total: u64,
    /// Share of `total_cdp`, whole percent.
    pub pct: u64,
    /// Attributions to a household no member already followed.
    pub nouvelles: u64,
    /// Cases closed with motif `sans_suite`.
    pub sans_suite: u64,
    /// Median days from the CDP to the first successful contact.
    pub delai_premier_contact_median_jours: Option<f64>,
}

/// The not-processed line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NonTraites {
    /// Cases.
    pub total: u64,
    /// Share.
    pub pct: u64,
    /// By motif.
    pub motifs: BTreeMap<String, u64>,
}

/// Cases still awaiting a decision.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EnAttente {
    /// Cases.
    pub total: u64,
    /// Share.
    pub pct: u64,
}

/// The figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Stats {
    /// Window start (CDP date).
    pub from: String,
    /// Window end.
    pub to: String,
    /// CDPs in the window.
    pub total_cdp: u64,
    /// By referent, largest first.
    pub attributions: Vec<Attribution>,
    /// Not processed.
    pub non_traites: NonTraites,
    /// Awaiting a decision.
    pub en_attente: EnAttente,
    /// Median days from CDP to first contact, all referents.
    pub delai_premier_contact_median_jours: Option<f64>,
    /// Accompaniment axes used (cases per axis).
    pub axes: BTreeMap<String, u64>,
    /// Court events on these cases as their referents reported them
    /// (cases per event).
    pub judiciaire: BTreeMap<String, u64>,
    /// What happened in court to these cases, per parcours, from EXPLOC's
    /// procedure events.
    pub judiciarisation: judiciarisation::Judiciarisation,
}

/// One referent's counts while computing.
#[derive(Default)]
struct Line {
    total: u64,
    nouvelles: u64,
    sans_suite: u64,
    delays: Vec<i64>,
}

fn median(mut v: Vec<i64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    })
}

/// Computes the figures for CDPs dated `from..=to` from those cases
/// (`rows`, with their decisions), their `events`, their linked procedure
/// events (`procedures`) and the window's unlinked ones (`hors`, per step).
pub fn compute(
    from: time::Date,
    to: time::Date,
    rows: &[Decided],
    events: &[Event],
    procedures: &[crate::store::procedures::Linked],
    hors: &[(String, i64)],
) -> Stats {
    let (f, t) = (from.to_string(), to.to_string());
    let mut first_contact: BTreeMap<String, String> = BTreeMap::new();
    let mut sans_suite = std::collections::BTreeSet::new();
    let mut axes: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut court: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for e in events {
        let case_id = e.case_id.as_str().to_owned();
        let date = e.date.clone();
        let ev = e.evenement.clone();
        let motif = e.motif.clone();
        // Stored as the contract's codes; a code this version does not
        // know counts in none of the figures below.
        let event = FollowupEvent::parse(&ev).ok();
        if event.is_some_and(FollowupEvent::is_contact) {
            let slot = first_contact.entry(case_id.clone()).or_insert(date.clone());
            if date < *slot {
                *slot = date.clone();
            }
        }
        if event == Some(FollowupEvent::Cloture)
            && motif.as_deref().and_then(|m| ClosingMotif::parse(m).ok())
                == Some(ClosingMotif::SansSuite)
        {
            sans_suite.insert(case_id.clone());
        }
        if event.is_some_and(FollowupEvent::is_axis) {
            axes.entry(ev.clone()).or_default().insert(case_id.clone());
        }
        if event.is_some_and(FollowupEvent::is_court) {
            court.entry(ev.clone()).or_default().insert(case_id.clone());
        }
    }
    let mut by_org: BTreeMap<String, Line> = BTreeMap::new();
    let mut nt = NonTraites {
        total: 0,
        pct: 0,
        motifs: BTreeMap::new(),
    };
    let mut waiting = 0u64;
    let mut all_delays = Vec::new();
    for r in rows {
        let case_id = r.case_id.as_str().to_owned();
        let date_cdp = &r.date_cdp;
        if let Some(o) = r.organisme.clone() {
            let line = by_org.entry(o).or_default();
            line.total += 1;
            line.nouvelles += u64::from(r.nouvelle);
            line.sans_suite += u64::from(sans_suite.contains(&case_id));
            if let (Some(fc), Ok(d0)) = (
                first_contact.get(&case_id),
                crate::domain::parse_date(date_cdp),
            ) && let Ok(d1) = crate::domain::parse_date(fc)
            {
                let days = (d1 - d0).whole_days();
                line.delays.push(days);
                all_delays.push(days);
            }
        } else if let Some(m) = r.non_traite.clone() {
            nt.total += 1;
            *nt.motifs.entry(m).or_default() += 1;
        } else {
            waiting += 1;
        }
    }
    let total = rows.len() as u64;
    let mut lines: Vec<(String, Line)> = by_org.into_iter().collect();
    lines.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(&b.0)));
    let mut counts: Vec<u64> = lines.iter().map(|l| l.1.total).collect();
    counts.push(nt.total);
    counts.push(waiting);
    let pct = largest_remainder(&counts, total);
    nt.pct = pct[lines.len()];
    let en_attente = EnAttente {
        total: waiting,
        pct: pct[lines.len() + 1],
    };
    let attributions = lines
        .into_iter()
        .zip(pct.iter())
        .map(|((organisme, line), pct)| Attribution {
            organisme,
            total: line.total,
            pct: *pct,
            nouvelles: line.nouvelles,
            sans_suite: line.sans_suite,
            delai_premier_contact_median_jours: median(line.delays),
        })
        .collect();
    Stats {
        from: f,
        to: t,
        total_cdp: total,
        attributions,
        non_traites: nt,
        en_attente,
        delai_premier_contact_median_jours: median(all_delays),
        axes: axes.into_iter().map(|(k, v)| (k, v.len() as u64)).collect(),
        judiciaire: court
            .into_iter()
            .map(|(k, v)| (k, v.len() as u64))
            .collect(),
        judiciarisation: judiciarisation::compute(rows, events, procedures, hors),
    }
}

/// The figures as CSV (one line per referent, then not processed and
/// awaiting), for a spreadsheet.
pub fn to_csv(s: &Stats) -> Vec<u8> {
    let mut w = crate::export::TableWriter::new(
        crate::export::FileFormat::Csv,
        &[
            "ligne",
            "total",
            "pct",
            "nouvelles",
            "sans_suite",
            "delai_premier_contact_median_jours",
        ],
    )
    .expect("CSV writer");
    for a in &s.attributions {
        let cells = [
            a.organisme.clone(),
            a.total.to_string(),
            a.pct.to_string(),
            a.nouvelles.to_string(),
            a.sans_suite.to_string(),
            a.delai_premier_contact_median_jours
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ];
        w.write_row(cells.iter().map(String::as_str))
            .expect("CSV row");
    }
    for (name, total, pct) in [
        ("non_traites", s.non_traites.total, s.non_traites.pct),
        ("en_attente", s.en_attente.total, s.en_attente.pct),
    ] {
        let cells = [
            name.to_owned(),
            total.to_string(),
            pct.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ];
        w.write_row(cells.iter().map(String::as_str))
            .expect("CSV row");
    }
    let cells = [
        "total_cdp".to_owned(),
        s.total_cdp.to_string(),
        "100".to_owned(),
        String::new(),
        String::new(),
        String::new(),
    ];
    w.write_row(cells.iter().map(String::as_str))
        .expect("CSV row");
    w.finish().expect("CSV")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ccapex_table_adds_up_to_100() {
        assert_eq!(
            largest_remainder(&[164, 52, 13, 14], 243),
            vec![68, 21, 5, 6]
        );
        assert_eq!(largest_remainder(&[1, 1, 1], 3), vec![34, 33, 33]);
        assert_eq!(largest_remainder(&[0, 0], 0), vec![0, 0]);
        assert_eq!(largest_remainder(&[2, 1, 0], 3), vec![67, 33, 0]);
    }
}
