//! Building a view's file for one partner and putting it in its outbox:
//! rows projected per the policy, the partner's own tokens, age-encrypted
//! to its recipients, tokens and production audited in the caller's
//! transaction.

use super::cases::Case;
use super::{Actor, CircuitError};
use crate::app::App;
use crate::audit::{self, Outcome};
use crate::config::{Partner, View, ViewRows};
use crate::domain::Period;
use crate::export::{TableWriter, envelope};
use crate::ingest::CdpRow;
use crate::ingest::returns::Enrichment;
use crate::store::{Tx, outbox};
use crate::util::new_id;
use std::sync::Arc;

/// A file being built for one partner.
#[derive(Debug)]
pub struct Route {
    /// The recipient.
    pub partner: Arc<Partner>,
    keys: std::collections::BTreeMap<u32, crate::pseudo::CaseTokens>,
    writer: TableWriter,
    fields: Vec<String>,
    tokens: Vec<(String, String)>,
    subjects: Vec<String>,
}

impl Route {
    /// Starts a file with the view's columns, in the partner's format.
    pub fn new(partner: Arc<Partner>, columns: &[&str]) -> Result<Route, CircuitError> {
        Ok(Route {
            writer: TableWriter::new(partner.format, columns)?,
            fields: columns.iter().map(|c| (*c).to_owned()).collect(),
            partner,
            keys: Default::default(),
            tokens: Vec::new(),
            subjects: Vec::new(),
        })
    }

    /// Adds a case (of pseudonymisation key `version`) under the
    /// partner's token.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        app: &App,
        view: &View,
        row: &CdpRow,
        enrichment: Option<&Enrichment>,
        case_id: &str,
        version: u32,
        subject: &str,
    ) -> Result<(), CircuitError> {
        let partner = &self.partner.id;
        let token = self
            .keys
            .entry(version)
            .or_insert_with(|| app.pseudo.case_tokens_for(version, partner))
            .token(case_id);
        let cells: Vec<String> = view
            .fields
            .iter()
            .map(|f| crate::policy::cell(row, enrichment, &token, f))
            .collect();
        self.writer.write_row(cells.iter().map(String::as_str))?;
        self.tokens.push((token, case_id.to_owned()));
        self.subjects.push(subject.to_owned());
        Ok(())
    }

    /// Rows added.
    pub fn rows(&self) -> usize {
        self.writer.rows()
    }

    /// Encrypts the file to its partner, stores it with its tokens and
    /// audits its production; returns the file id.
    pub async fn emit(
        self,
        tx: &mut Tx,
        kind: &str,
        period: Period,
        list_id: Option<&str>,
        actor: &Actor,
        at: i64,
    ) -> Result<String, CircuitError> {
        let rows = self.writer.rows();
        let plain = self.writer.finish()?;
        let body = envelope::seal(&plain, &self.partner.recipients)?;
        let file_id = new_id("fil");
        outbox::insert(
            tx,
            &outbox::NewFile {
                file_id: file_id.clone(),
                partner: self.partner.id.clone(),
                kind: kind.to_owned(),
                period: period.to_string(),
                list_id: list_id.map(str::to_owned),
                rows: rows as i64,
                format: self.partner.format.as_str().to_owned(),
                fields: self.fields.clone(),
                body,
                subjects: self.subjects.clone(),
            },
            at,
        )
        .await?;
        outbox::insert_tokens(tx, &self.partner.id, &self.tokens, at).await?;
        let mut rec = actor.record("file.produce", Outcome::Ok);
        rec.objects = vec![
            format!("file:{file_id}"),
            format!("to:{}", self.partner.id),
            format!("kind:{kind}"),
        ];
        if let Some(l) = list_id {
            rec.objects.push(format!("list:{l}"));
        }
        rec.fields = self.fields;
        rec.rows = Some(rows as u64);
        rec.subjects = self.subjects;
        audit::append(tx, &rec).await?;
        Ok(file_id)
    }
}

/// Routes `cases` through the view `kind` to `recipients` (each gets the
/// cases in its scope when the view says so; nobody gets an empty file).
#[allow(clippy::too_many_arguments)]
pub async fn route_cases(
    app: &App,
    tx: &mut Tx,
    kind: &str,
    cases: &[Case],
    recipients: &[Arc<Partner>],
    actor: &Actor,
    at: i64,
) -> Result<Vec<String>, CircuitError> {
    let Some(view) = app.config.policy.view(kind) else {
        return Ok(Vec::new());
    };
    let columns = view.columns();
    let mut files = Vec::new();
    for partner in recipients {
        let mut route = Route::new(partner.clone(), &columns)?;
        let mut period: Option<Period> = None;
        let mut list: Option<&str> = None;
        for c in cases {
            if view.rows == ViewRows::Scope
                && !crate::policy::in_scope(&app.config.policy, partner, &c.row)
            {
                continue;
            }
            route.add(
                app,
                view,
                &c.row,
                c.enrichment.as_ref(),
                &c.case_id,
                c.key_version,
                &c.subject,
            )?;
            let p = Period::parse(&c.row.date_cdp.to_string()[..7])
                .expect("a date's month is a period");
            period = Some(period.map_or(p, |q| q.max(p)));
            list = Some(list.map_or(c.list_id.as_str(), |l| if l == c.list_id { l } else { "" }));
        }
        if route.rows() == 0 {
            continue;
        }
        let period = period.expect("rows imply a period");
        let list = list.filter(|l| !l.is_empty());
        files.push(route.emit(tx, kind, period, list, actor, at).await?);
    }
    Ok(files)
}
