//! The console driven as a browser drives it: HTTPS with a person's
//! certificate, the session cookie kept between requests, the `csrf` of
//! each form read from the page, multipart uploads; and the API checked
//! behind it (docs/convention.md "The console").

use crate::both;
use crate::helpers::{Db, TestApp, sample, spawn_app};
use reqwest::StatusCode;

/// A browser: a person's certificate (or none), one session cookie, no
/// automatic redirects (tests look at them).
pub struct Browser {
    http: reqwest::Client,
    base: String,
    /// The `__Host-passerelle` cookie, as last set.
    pub cookie: Option<String>,
    /// Every `Set-Cookie` received, verbatim.
    pub set_cookies: Vec<String>,
    /// The other cookies of the console (an OpenID sign-in's), by name.
    pub others: std::collections::BTreeMap<String, String>,
}

/// A page as received.
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` input.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no csrf input in:\n{}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The tail of the first `name="<prefix>…"` after `text` (in the same
    /// table row, for an agenda).
    pub fn name_after(&self, text: &str, prefix: &str) -> String {
        let at = self
            .body
            .find(text)
            .unwrap_or_else(|| panic!("no {text:?}"));
        let needle = format!(r#"name="{prefix}"#);
        let rest = &self.body[at..];
        let rest = &rest[rest.find(&needle).unwrap() + needle.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    /// Every value of `name="<prefix>…"` in the page: the names' tails.
    pub fn names_after(&self, prefix: &str) -> Vec<String> {
        let needle = format!(r#"name="{prefix}"#);
        self.body
            .match_indices(&needle)
            .map(|(i, _)| {
                let rest = &self.body[i + needle.len()..];
                rest[..rest.find('"').unwrap()].to_owned()
            })
            .collect()
    }
}

impl Browser {
    /// A browser presenting `person`'s certificate (`person-<id>`), or
    /// none.
    pub fn new(app: &TestApp, person: Option<&str>) -> Browser {
        let certs = app.certs();
        let read = |n: &str| std::fs::read(certs.join(n)).unwrap();
        let (cert, key) = match person {
            Some(p) => (
                Some(read(&format!("person-{p}.crt"))),
                Some(read(&format!("person-{p}.key"))),
            ),
            None => (None, None),
        };
        passerelle::tls::install_crypto_provider();
        let tls = passerelle::tls::client_config(&read("ca.crt"), cert.as_deref(), key.as_deref())
            .unwrap();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            base: app.console.clone(),
            cookie: None,
            set_cookies: Vec::new(),
            others: Default::default(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let session = self
            .cookie
            .iter()
            .map(|c| format!("{}={c}", passerelle::console::COOKIE));
        let others = self.others.iter().map(|(k, v)| format!("{k}={v}"));
        let all: Vec<String> = session.chain(others).collect();
        let req = if all.is_empty() {
            req
        } else {
            req.header(reqwest::header::COOKIE, all.join("; "))
        };
        let resp = req.send().await.unwrap();
        for v in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap().to_owned();
            let (name, value) = v
                .split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .unwrap_or_default();
            let kept = (!value.is_empty() && !v.contains("Max-Age=0")).then_some(value);
            if name == passerelle::console::COOKIE {
                self.cookie = kept;
            } else if let Some(value) = kept {
                self.others.insert(name, value);
            } else {
                self.others.remove(&name);
            }
            self.set_cookies.push(v);
        }
        Page {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// `POST path` with an url-encoded form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.send(req).await
    }

    /// `POST /listes` as the form sends it: `csrf`, `periode`, `fichier`.
    pub async fn upload_list(
        &mut self,
        csrf: &str,
        period: &str,
        name: &str,
        file: Vec<u8>,
    ) -> Page {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .text("periode", period.to_owned())
            .part(
                "fichier",
                reqwest::multipart::Part::bytes(file)
                    .file_name(name.to_owned())
                    .mime_str("text/csv")
                    .unwrap(),
            );
        let req = self
            .http
            .post(format!("{}/listes", self.base))
            .multipart(form);
        self.send(req).await
    }
}

/// The audit entries of `action`, parsed.
pub async fn entries(app: &TestApp, action: &'static str) -> Vec<serde_json::Value> {
    app.texts("SELECT action, entry FROM audit_log ORDER BY seq")
        .await
        .into_iter()
        .filter(|r| r[0] == action)
        .map(|r| serde_json::from_str(&r[1]).unwrap())
        .collect()
}

async fn a_secretariat_runs_a_whole_month_in_the_console(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let mut camille = Browser::new(&app, Some("sec-ddets"));

    // Signed in by the certificate at the first page; the cookie is a
    // session cookie the page's scripts cannot read.
    let home = camille.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Camille Roux"), "{}", home.body);
    let set = &camille.set_cookies[0];
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(!home.body.contains("<script"), "no script at all");
    assert_eq!(
        entries(&app, "console.sign_in").await[0]["person"],
        "sec-ddets"
    );

    // The DDETS agent sends the month's list.
    let listes = camille.get("/listes").await;
    assert_eq!(listes.status, 200, "{}", listes.body);
    let csv = sample("liste-2026-09-clean.csv");
    let rows = csv.iter().filter(|b| **b == b'\n').count() as i64 - 1;
    let sent = camille
        .upload_list(&listes.csrf(), "2026-09", "liste.csv", csv.clone())
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert!(sent.body.contains("Liste acceptée"), "{}", sent.body);
    assert!(
        sent.body.contains(&format!("{rows} lignes enregistrées")),
        "{}",
        sent.body
    );
    // Sent again: nothing changes, and the page says so.
    let again = camille
        .upload_list(&sent.csrf(), "2026-09", "liste.csv", csv)
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(
        again.body.contains("avait déjà été reçue"),
        "{}",
        again.body
    );

    // The API sees the same list, uploaded by the person.
    let (status, lists) = app.client("ddets").get_json("/v1/lists").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(lists.as_array().unwrap().len(), 1, "{lists}");
    assert_eq!(lists[0]["rows"], rows);
    assert_eq!(lists[0]["period"], "2026-09");
    let upload = &entries(&app, "list.upload").await[0];
    assert_eq!(upload["person"], "sec-ddets");
    assert_eq!(upload["partner"], "ddets");

    // The list's progress: not yet enriched by CAF; then CAF returns the
    // enrichment of three households, and the page says so.
    let listes = camille.get("/listes").await;
    assert!(
        listes.body.contains(&format!("0 / {rows}")),
        "{}",
        listes.body
    );
    let (_, _, plain) = app.caf_file().await;
    let mut ret = String::from(
        "token,allocataire,date_naissance,nb_adultes,nb_enfants,ages_enfants,beneficiaire_alf,beneficiaire_apl\n",
    );
    for r in crate::helpers::csv_records(&plain).iter().skip(1).take(3) {
        ret.push_str(&format!("{},oui,1984-03-12,1,2,4;9,oui,non\n", r[0]));
    }
    let (status, body) = crate::circuit::push_return(&app, "caf", "enrichment", &ret).await;
    assert_eq!(status, 201, "{body}");
    let listes = camille.get("/listes").await;
    assert!(
        listes.body.contains(&format!("3 / {rows}")),
        "{}",
        listes.body
    );

    // The secretariat opens the concertation (CAF has not answered: the
    // agenda holds every household, some without a proposal).
    let index = camille.get("/concertations").await;
    assert_eq!(index.status, 200, "{}", index.body);
    let opened = camille
        .post(
            "/concertations",
            &[("csrf", &index.csrf()), ("date", "2026-10-05")],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let location = opened.location().to_owned();
    assert!(location.starts_with("/concertations/cct_"), "{location}");
    let agenda = camille.get(&location).await;
    assert_eq!(agenda.status, 200, "{}", agenda.body);
    assert!(
        agenda.body.contains("Concertation du 05/10/2026"),
        "{}",
        agenda.body
    );
    assert!(agenda.body.contains("Petit Zoé"), "the household by name");
    assert!(
        agenda.body.contains("19/09/2026"),
        "the CDP date as JJ/MM/AAAA"
    );
    let tokens = agenda.names_after("decision.");
    assert_eq!(tokens.len() as i64, rows, "one decision per household");

    // Case by case for two households (Zoé Petit to the CCAS), the
    // proposals for the rest.
    let zoe = agenda.name_after("Petit Zoé", "decision.");
    let other = tokens.iter().find(|t| **t != zoe).unwrap().clone();
    let tokens = [zoe, other];
    let id = location.trim_start_matches("/concertations/").to_owned();
    let decided = camille
        .post(
            &format!("{location}/decisions"),
            &[
                ("csrf", &agenda.csrf()),
                (&format!("decision.{}", tokens[0]), "org:ccas-sables"),
                (&format!("decision.{}", tokens[1]), "nt:demenagement"),
                ("accepter", "oui"),
            ],
        )
        .await;
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert!(
        decided.body.contains("décision(s) enregistrée(s)"),
        "{}",
        decided.body
    );

    // The API sees the same decisions, under the same tokens.
    let ddets = app.client("ddets");
    let (status, api) = ddets
        .get_json(&format!("/v1/concertations/{id}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{api}");
    let by_token = |t: &str| {
        api["agenda"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["token"] == t)
            .cloned()
            .unwrap_or_else(|| panic!("{t} not in {api}"))
    };
    assert_eq!(by_token(&tokens[0])["decision"]["organisme"], "ccas-sables");
    assert_eq!(
        by_token(&tokens[1])["decision"]["non_traite"],
        "demenagement"
    );
    let decided_in_api = api["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["decision"].is_null())
        .count();
    let proposals = api["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e["token"] != tokens[0].as_str()
                && e["token"] != tokens[1].as_str()
                && !e["proposal"].is_null()
        })
        .count();
    assert_eq!(decided_in_api, 2 + proposals);
    let summary = format!("{decided_in_api} décision(s) enregistrée(s)");
    assert!(decided.body.contains(&summary), "{}", decided.body);

    // The dossier routed to the CCAS is in its outbox, and the page lists
    // the dossiers per referent.
    let files = app.client("ccas-sables").outbox().await.unwrap();
    assert!(
        files.iter().any(|f| f.kind == "dossier"),
        "CCAS received its dossier"
    );
    assert!(decided.body.contains("Dossiers transmis à chaque référent"));
    assert!(
        decided.body.contains("(ccas-sables) : "),
        "{}",
        decided.body
    );

    // Accountability: the decision names the person; the DPO's answer to
    // "who saw Zoé Petit's file?" names her.
    let decide = &entries(&app, "concertation.decide").await[0];
    assert_eq!(decide["person"], "sec-ddets");
    let (status, r) = app
        .client("dpo")
        .post_json(
            "/v1/audit/subject",
            &serde_json::json!({"nom": "Petit", "prenom": "Zoé", "code_postal": "85520"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{r}");
    let by_person: Vec<_> = r["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["person"]["id"] == "sec-ddets")
        .map(|a| a["action"].as_str().unwrap().to_owned())
        .collect();
    for action in ["list.upload", "concertation.open", "concertation.decide"] {
        assert!(by_person.iter().any(|a| a == action), "{action} in {r}");
    }
    assert_eq!(
        r["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["person"]["id"] == "sec-ddets")
            .unwrap()["person"]["name"],
        "Camille Roux"
    );

    // The alerts and the figures of the period, with the CSV.
    let alertes = camille.get("/alertes").await;
    assert_eq!(alertes.status, 200, "{}", alertes.body);
    assert!(
        alertes.body.contains("pas encore joint"),
        "{}",
        alertes.body
    );
    let chiffres = camille.get("/chiffres?du=2026-09-01&au=2026-09-30").await;
    assert_eq!(chiffres.status, 200, "{}", chiffres.body);
    assert!(
        chiffres
            .body
            .contains(&format!("<strong>{rows}</strong> commandement(s)")),
        "{}",
        chiffres.body
    );
    assert!(chiffres.body.contains("<svg"), "a chart");
    assert!(chiffres.body.contains("ccas-sables"));
    let csv = camille
        .get("/chiffres.csv?du=2026-09-01&au=2026-09-30")
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let (_, api_csv) = {
        let r = ddets
            .http()
            .get(ddets.url("/v1/stats?from=2026-09-01&to=2026-09-30"))
            .header("accept", "text/csv")
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(csv.body, api_csv, "the console's CSV is the API's");

    // Each page was audited with the person beside the partner.
    let pages = entries(&app, "console.request").await;
    assert!(
        pages
            .iter()
            .any(|e| e["route"] == "GET /chiffres" && e["person"] == "sec-ddets")
    );

    // Sign-out ends the session: the cookie no longer opens anything.
    let home = camille.get("/").await;
    let out = camille
        .post("/deconnexion", &[("csrf", &home.csrf())])
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(camille.cookie.is_none(), "the cookie is cleared");
    assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions").await, 0);
    assert_eq!(
        entries(&app, "console.sign_out").await[0]["person"],
        "sec-ddets"
    );

    // The DPO's report counts her accesses under her id, beside CCAS's.
    let (code, stderr, report) = app.dpo_report().await;
    assert_eq!(code, Some(0), "{stderr}");
    let persons = &report[report.find("id=\"persons\"").unwrap()..];
    assert!(
        persons.contains("data-person=\"sec-ddets\"><td>sec-ddets</td><td>ddets</td>"),
        "{persons}"
    );
    app.stop().await;
}
both!(a_secretariat_runs_a_whole_month_in_the_console);

async fn the_console_refuses_strangers_wrong_roles_and_forged_forms(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // No certificate and no session: sent to the sign-in page; a form is
    // refused.
    let mut nobody = Browser::new(&app, None);
    let home = nobody.get("/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), "/connexion");
    let connexion = nobody.get("/connexion").await;
    assert_eq!(connexion.status, 200);
    assert!(connexion.body.contains("certificat personnel"));
    let post = nobody
        .post("/concertations", &[("date", "2026-10-05")])
        .await;
    assert_eq!(post.status, 403, "{}", post.body);

    // A valid certificate of the CA for somebody not in people.toml.
    passerelle::tls::devpki::issue_people(&app.certs(), &["inconnu"]).unwrap();
    let mut stranger = Browser::new(&app, Some("inconnu"));
    let page = stranger.get("/").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(
        page.body.contains("aucune personne autorisée"),
        "{}",
        page.body
    );
    assert!(stranger.cookie.is_none(), "no session for a stranger");

    // A landlord's social worker on the secretariat's and the DDETS's
    // pages: 403, in French.
    let mut hugo = Browser::new(&app, Some("cesf-vh"));
    for path in ["/concertations", "/alertes", "/chiffres", "/listes"] {
        let p = hugo.get(path).await;
        assert_eq!(p.status, 403, "{path}: {}", p.body);
        assert!(p.body.contains("réservée au rôle"), "{path}: {}", p.body);
    }
    let home = hugo.get("/").await;
    assert_eq!(home.status, 200);
    assert!(
        !home.body.contains(r#"href="/concertations""#),
        "no link to a page refused"
    );

    // Forms without the session's token: 403, nothing stored.
    let mut camille = Browser::new(&app, Some("sec-ddets"));
    let listes = camille.get("/listes").await;
    let token = listes.csrf();
    let csv = sample("liste-2026-09-clean.csv");
    for bad in ["", "0000", &token[..10]] {
        let p = camille
            .upload_list(bad, "2026-09", "liste.csv", csv.clone())
            .await;
        assert_eq!(p.status, 403, "{}", p.body);
        assert!(p.body.contains("rien n'a été enregistré"));
    }
    let p = camille
        .post("/concertations", &[("date", "2026-10-05")])
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    // A token of another session (stale: signed out since).
    let mut other = Browser::new(&app, Some("sec-ddets"));
    let stale = other.get("/").await.csrf();
    other.post("/deconnexion", &[("csrf", &stale)]).await;
    let p = camille
        .post(
            "/concertations",
            &[("csrf", &stale), ("date", "2026-10-05")],
        )
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM concertations").await, 0);
    let refused: Vec<_> = entries(&app, "console.request")
        .await
        .into_iter()
        .filter(|e| e["reason"] == "csrf")
        .collect();
    assert_eq!(refused.len(), 5, "every forged form audited as refused");

    // A list with bad lines: every one explained in French, in a table;
    // nothing stored.
    let p = camille
        .upload_list(&token, "2026-10", "liste.csv", sample("liste-invalide.csv"))
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("Lignes à corriger"), "{}", p.body);
    assert!(p.body.contains("doit compter 5 chiffres"), "{}", p.body);
    assert!(p.body.contains("est obligatoire"), "{}", p.body);
    assert!(
        p.body.contains("<td>ligne 2</td>"),
        "line 2 named: {}",
        p.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM lists").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM cases").await, 0);
    // A period that is not one.
    let p = camille
        .upload_list(
            &token,
            "10/2026",
            "liste.csv",
            sample("liste-2026-09-clean.csv"),
        )
        .await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains("AAAA-MM"), "{}", p.body);

    // The cookie without the certificate it was opened with opens
    // nothing.
    let mut thief = Browser::new(&app, None);
    thief.cookie = camille.cookie.clone();
    assert_eq!(thief.get("/listes").await.status, 303);
    // Another person's certificate with Camille's cookie: the certificate
    // wins, in a session of its own.
    let mut swapped = Browser::new(&app, Some("ref-mdsf"));
    swapped.cookie = camille.cookie.clone();
    let p = swapped.get("/").await;
    assert!(p.body.contains("Nadia Benali"), "{}", p.body);
    assert_ne!(swapped.cookie, camille.cookie);

    // Idle past the delay: the session is gone; the certificate opens a
    // new one.
    let before = camille.cookie.clone();
    sqlx::query("UPDATE console_sessions SET last_seen = last_seen - 31 * 60 * 1000")
        .execute(app.app.store.pool())
        .await
        .unwrap();
    let p = camille.get("/").await;
    assert_eq!(p.status, 200);
    assert_ne!(
        camille.cookie, before,
        "a new session after 30 minutes idle"
    );
    assert_ne!(p.csrf(), token, "with a new token");
    app.stop().await;
}
both!(the_console_refuses_strangers_wrong_roles_and_forged_forms);
