//! Sign-in to the console through OpenID Connect, against a real provider:
//! node-oidc-provider (OpenID-certified), started by the test from
//! `tests/support/oidc_provider.mjs`, its login and consent forms posted
//! as a browser posts them. The authorization code flow with PKCE and
//! `nonce`; the e-mail comes from userinfo, as ProConnect gives it.
//!
//! Needs `node` and `npm install --prefix target/npm oidc-provider@9`;
//! skipped with a message without them, unless `PASSERELLE_REQUIRE_OIDC=1`
//! (CI).

use crate::both;
use crate::console::{Browser, entries};
use crate::helpers::{Db, TestApp, repo, spawn_app_with};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CLIENT_ID: &str = "passerelle-console";
const CLIENT_SECRET: &str = "un-secret-de-test-qui-n-est-pas-dans-le-depot";

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `node` and the folder holding `oidc-provider`, or why not.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let node = on_path("node").ok_or("node is not on PATH (apt-get install nodejs)")?;
    let modules = std::env::var_os("PASSERELLE_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/npm/node_modules"));
    if !modules.join("oidc-provider/package.json").is_file() {
        return Err(format!(
            "oidc-provider is not installed in {} (npm install --prefix target/npm oidc-provider@9)",
            modules.display()
        ));
    }
    Ok((node, modules))
}

/// The provider's process; killed when dropped.
struct Provider {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts it, or says why it cannot (a skip, unless CI requires it).
    fn start() -> Option<Provider> {
        let (node, modules) = match tools() {
            Ok(t) => t,
            Err(why) if std::env::var_os("PASSERELLE_REQUIRE_OIDC").is_some() => {
                panic!("PASSERELLE_REQUIRE_OIDC is set but {why}")
            }
            Err(why) => {
                eprintln!("skipped: the OpenID Connect test needs a provider: {why}");
                return None;
            }
        };
        let mut child = Command::new(node)
            .arg(repo().join("tests/support/oidc_provider.mjs"))
            .args([CLIENT_ID, CLIENT_SECRET])
            .env("PASSERELLE_NODE_MODULES", modules)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut p = Provider {
            child,
            stdin,
            lines,
            issuer: String::new(),
        };
        let first = p.line();
        p.issuer = first
            .strip_prefix("issuer ")
            .unwrap_or_else(|| panic!("provider said {first:?}"))
            .to_owned();
        Some(p)
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the provider answers within a minute")
    }

    /// Registers the console's return address; waits for the provider.
    fn register(&mut self, redirect_uri: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{redirect_uri}").unwrap();
        stdin.flush().unwrap();
        assert_eq!(self.line(), "ready");
    }
}

/// A gateway whose console signs in through `provider`.
async fn spawn_with_provider(db: Db, provider: &mut Provider) -> Option<TestApp> {
    let issuer = provider.issuer.clone();
    let app = spawn_app_with(db, move |dir| {
        std::fs::write(
            dir.join("config/oidc-client-secret"),
            format!("{CLIENT_SECRET}\n"),
        )
        .unwrap();
        let main = dir.join("config/passerelle.toml");
        let mut text = std::fs::read_to_string(&main).unwrap();
        text.push_str(&format!(
            "\n[console.oidc]\nissuer = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\n\
             client_secret_file = \"oidc-client-secret\"\nca_file = \"../certs-example/ca.crt\"\n"
        ));
        std::fs::write(main, text).unwrap();
    })
    .await?;
    provider.register(&format!("{}/connexion/retour", app.console));
    Some(app)
}

/// A person at the provider: its own cookies, its forms posted.
struct AtProvider {
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
}

impl AtProvider {
    fn new() -> AtProvider {
        AtProvider {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: BTreeMap::new(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, String, String) {
        let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let resp = req
            .header(reqwest::header::COOKIE, cookies.join("; "))
            .send()
            .await
            .unwrap();
        for v in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            if let Some((k, val)) = v.split(';').next().and_then(|kv| kv.split_once('=')) {
                self.jar.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, resp.text().await.unwrap())
    }

    /// From the provider's authorization address to the console's return
    /// address: signs in as `login`, consents.
    async fn sign_in(&mut self, issuer: &str, auth_url: &str, login: &str) -> String {
        let absolute = |u: &str| {
            if u.starts_with('/') {
                format!("{issuer}{u}")
            } else {
                u.to_owned()
            }
        };
        let mut url = auth_url.to_owned();
        for _ in 0..12 {
            let req = self.http.get(&url);
            let (status, location, body) = self.send(req).await;
            if (300..400).contains(&status) {
                let next = absolute(&location);
                if !next.starts_with(issuer) {
                    return next;
                }
                url = next;
                continue;
            }
            assert_eq!(status, 200, "{url}: {body}");
            let action = body
                .split(r#"action=""#)
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_else(|| panic!("no form at {url}: {body}"));
            let form: Vec<(&str, &str)> = if body.contains(r#"value="login""#) {
                vec![("prompt", "login"), ("login", login), ("password", "x")]
            } else {
                vec![("prompt", "consent")]
            };
            let req = self.http.post(absolute(action)).form(&form);
            let (status, location, body) = self.send(req).await;
            assert!((300..400).contains(&status), "{action}: {status} {body}");
            url = absolute(&location);
        }
        panic!("the provider never sent the browser back");
    }
}

/// The console's address without its base.
fn path_of<'a>(app: &TestApp, url: &'a str) -> &'a str {
    url.strip_prefix(&app.console)
        .unwrap_or_else(|| panic!("{url} is not the console's"))
}

/// `GET /connexion/oidc`: the provider's authorization address.
async fn start(b: &mut Browser, provider: &Provider) -> String {
    let go = b.get("/connexion/oidc").await;
    assert_eq!(go.status, 303, "{}", go.body);
    let auth = go.location().to_owned();
    assert!(
        auth.starts_with(&format!("{}/auth?", provider.issuer)),
        "{auth}"
    );
    auth
}

async fn a_person_signs_in_through_the_provider_by_their_email(db: Db) {
    let Some(mut provider) = Provider::start() else {
        return;
    };
    let Some(app) = spawn_with_provider(db, &mut provider).await else {
        return;
    };
    // No certificate: the sign-in page offers the provider.
    let mut nadia = Browser::new(&app, None);
    let page = nadia.get("/connexion").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"href="/connexion/oidc""#) && page.body.contains("ProConnect"),
        "{}",
        page.body
    );

    let auth = start(&mut nadia, &provider).await;
    // The authorization code flow, with PKCE (S256), a nonce and a state.
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "code_challenge=",
        "nonce=",
        "state=",
        "scope=openid+email",
        &format!("client_id={CLIENT_ID}"),
    ] {
        assert!(auth.contains(part), "{part} in {auth}");
    }
    let login_cookie = nadia.set_cookies.last().unwrap().clone();
    assert!(
        login_cookie.starts_with("__Host-passerelle-oidc=")
            && login_cookie.contains("SameSite=Strict")
            && login_cookie.contains("HttpOnly")
            && login_cookie.contains("Secure"),
        "{login_cookie}"
    );
    assert!(
        nadia.cookie.is_none(),
        "no session before the provider says"
    );

    // Her address as the provider spells it: matched whatever its case.
    let back = AtProvider::new()
        .sign_in(&provider.issuer, &auth, "Nadia.Benali@Vendee.example")
        .await;
    let back_path = path_of(&app, &back).to_owned();
    assert!(back_path.starts_with("/connexion/retour?"), "{back}");
    // A browser does not send the Strict cookie on the provider's
    // redirect (another site's): the console relays the return once from
    // its own page, which the browser follows with the cookie.
    let kept = std::mem::take(&mut nadia.others);
    let relay = nadia.get(&back_path).await;
    assert_eq!(relay.status, 200, "{}", relay.body);
    let to = relay
        .body
        .split("url=")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        to.starts_with("/connexion/retour?") && to.ends_with("relai=1"),
        "{to}"
    );
    nadia.others = kept;
    let done = nadia.get(&to).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Nadia Benali"), "{}", done.body);
    assert!(
        done.body.contains(r#"http-equiv="refresh""#),
        "moves on by itself (the Strict cookie needs a navigation from this site)"
    );
    assert!(nadia.cookie.is_some(), "a session started");
    assert!(!nadia.others.contains_key("__Host-passerelle-oidc"));

    // Her session, with her roles (member, referent: not the secretariat).
    let home = nadia.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Nadia Benali"), "{}", home.body);
    assert_eq!(nadia.get("/concertations").await.status, 403);

    let signs = entries(&app, "console.sign_in").await;
    assert_eq!(signs.len(), 1, "{signs:?}");
    assert_eq!(signs[0]["person"], "ref-mdsf");
    assert_eq!(signs[0]["partner"], "mdsf");
    assert_eq!(signs[0]["objects"][0], "method:oidc");
    // Nothing of her identity in the audit log but her id.
    let log = app
        .texts("SELECT entry FROM audit_log")
        .await
        .concat()
        .concat();
    assert!(!log.to_lowercase().contains("nadia.benali@"), "{log}");

    // The provider's answer serves once.
    let again = nadia.get(&to).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        again.body.contains("expiré ou a déjà servi"),
        "{}",
        again.body
    );

    // Sign-out ends it.
    let csrf = home.csrf();
    let out = nadia.post("/deconnexion", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 200);
    assert_eq!(nadia.get("/").await.status, 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions").await, 0);
}
both!(a_person_signs_in_through_the_provider_by_their_email);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_state_or_nonce_or_an_unknown_address_opens_no_session() {
    let Some(mut provider) = Provider::start() else {
        return;
    };
    let Some(app) = spawn_with_provider(Db::Sqlite, &mut provider).await else {
        return;
    };
    let issuer = provider.issuer.clone();

    // A wrong state: refused, and the sign-in under way is spent.
    let mut b = Browser::new(&app, None);
    let auth = start(&mut b, &provider).await;
    let back = AtProvider::new()
        .sign_in(&issuer, &auth, "nadia.benali@vendee.example")
        .await;
    let back = path_of(&app, &back).to_owned();
    let state = back
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("state="))
        .unwrap()
        .to_owned();
    let forged = back.replace(&format!("state={state}"), "state=forged");
    let page = b.get(&forged).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("state"), "{}", page.body);
    assert!(b.cookie.is_none());
    assert_eq!(b.get(&back).await.status, 400, "spent by the forged return");

    // A nonce other than the one sent: the provider signs a token for
    // it, the gateway refuses it.
    let mut b = Browser::new(&app, None);
    let auth = start(&mut b, &provider).await;
    let nonce = auth
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("nonce="))
        .unwrap()
        .to_owned();
    let tampered = auth.replace(&format!("nonce={nonce}"), "nonce=another-nonce");
    let back = AtProvider::new()
        .sign_in(&issuer, &tampered, "nadia.benali@vendee.example")
        .await;
    let page = b.get(path_of(&app, &back)).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("nonce"), "{}", page.body);
    assert!(b.cookie.is_none());

    // Someone the provider knows but people.toml does not.
    let mut b = Browser::new(&app, None);
    let auth = start(&mut b, &provider).await;
    let back = AtProvider::new()
        .sign_in(&issuer, &auth, "intrus@example.org")
        .await;
    let page = b.get(path_of(&app, &back)).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("aucune personne"), "{}", page.body);

    // An address the provider has not verified.
    let mut b = Browser::new(&app, None);
    let auth = start(&mut b, &provider).await;
    let back = AtProvider::new()
        .sign_in(&issuer, &auth, "unverified.nadia.benali@vendee.example")
        .await;
    let page = b.get(path_of(&app, &back)).await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("pas vérifié"), "{}", page.body);

    // A return without the sign-in's cookie (another browser).
    let mut other = Browser::new(&app, None);
    let page = other
        .get("/connexion/retour?code=whatever&state=whatever&relai=1")
        .await;
    assert_eq!(page.status, 400, "{}", page.body);

    assert_eq!(app.count("SELECT COUNT(*) FROM console_sessions").await, 0);
    assert!(entries(&app, "console.sign_in").await.is_empty());
    let reasons: Vec<String> = entries(&app, "console.request")
        .await
        .iter()
        .filter_map(|e| e["reason"].as_str().map(String::from))
        .collect();
    for r in [
        "oidc_state",
        "oidc_no_login",
        "oidc_nonce",
        "unknown_person",
        "oidc_email_unverified",
    ] {
        assert!(reasons.iter().any(|x| x == r), "{r} audited: {reasons:?}");
    }
}
