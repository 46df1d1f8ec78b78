//! The OpenAPI description (`src/http/openapi.json`, served as is at
//! `GET /v1/openapi.json`) kept in step with the code: the router's routes
//! and the document's operations are the same set, each documented
//! operation reaches a real handler, its roles are those the handler
//! checks, the error codes are those the handlers emit, and every `$ref`
//! resolves.

use crate::both;
use crate::helpers::{Db, TestApp, code, spawn_app, status_json};
use passerelle::config::Role;
use serde_json::Value;
use std::collections::BTreeSet;

/// The document, as compiled into the gateway.
const DOC: &str = include_str!("../../src/http/openapi.json");

/// The root router's source: it merges one router per feature.
const ROUTER: &str = include_str!("../../src/http/mod.rs");

/// Each feature module, by name, with its source (its `router()`).
const FEATURES: &[(&str, &str)] = &[
    ("alerts", include_str!("../../src/http/alerts.rs")),
    ("audit", include_str!("../../src/http/audit.rs")),
    (
        "concertations",
        include_str!("../../src/http/concertations.rs"),
    ),
    ("lists", include_str!("../../src/http/lists.rs")),
    ("meta", include_str!("../../src/http/meta.rs")),
    ("outbox", include_str!("../../src/http/outbox.rs")),
    ("procedures", include_str!("../../src/http/procedures.rs")),
    ("returns", include_str!("../../src/http/returns.rs")),
];

/// The sources that build API errors (`ApiError::new(StatusCode::…, "code", …)`).
const ERROR_SOURCES: &[&str] = &[
    include_str!("../../src/http/alerts.rs"),
    include_str!("../../src/http/audit.rs"),
    include_str!("../../src/http/body.rs"),
    include_str!("../../src/http/caller.rs"),
    include_str!("../../src/http/concertations.rs"),
    include_str!("../../src/http/error.rs"),
    include_str!("../../src/http/guard.rs"),
    include_str!("../../src/http/lists.rs"),
    include_str!("../../src/http/meta.rs"),
    include_str!("../../src/http/outbox.rs"),
    include_str!("../../src/http/procedures.rs"),
    include_str!("../../src/http/returns.rs"),
    include_str!("../../src/http/server.rs"),
];

/// The method routers axum offers that this test understands.
const METHODS: &[&str] = &["get", "post", "put", "delete", "patch"];

/// Keys of an OpenAPI path item that are operations.
const OPERATION_KEYS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn doc() -> Value {
    serde_json::from_str(DOC).expect("src/http/openapi.json is JSON")
}

/// The source without comments (a `.route(` in a doc comment is no route).
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for line in src.lines() {
        let mut in_str = false;
        let mut escaped = false;
        let mut cut = line.len();
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if in_str {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_str = false,
                    _ => {}
                }
            } else if b == b'"' {
                in_str = true;
            } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
                cut = i;
                break;
            }
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// The names called at nesting depth 0 of `s` (`get(a).post(b)` gives
/// `get`, `post`), each without its path (`axum::routing::get` is `get`).
fn top_level_calls(s: &str) -> Vec<String> {
    let mut calls = Vec::new();
    let mut depth = 0usize;
    let mut ident = String::new();
    let mut in_str = false;
    for c in s.chars() {
        if in_str {
            if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' => {
                if depth == 0 && !ident.is_empty() {
                    let name = ident.rsplit("::").next().unwrap_or_default();
                    calls.push(name.to_owned());
                }
                depth += 1;
                ident.clear();
            }
            ')' => {
                depth = depth.saturating_sub(1);
                ident.clear();
            }
            c if c.is_alphanumeric() || c == '_' || c == ':' => ident.push(c),
            _ => ident.clear(),
        }
    }
    calls
}

/// Every `(METHOD, path)` the router serves, read from its sources: the
/// root merges each feature's `router()` (and nothing else), and each
/// `.route("PATH", get(h).post(h2))` of the root or a feature.
fn routed() -> BTreeSet<(String, String)> {
    let root = strip_comments(ROUTER);
    let merged = root.matches(".merge(").count();
    assert_eq!(
        merged,
        FEATURES.len(),
        "src/http/mod.rs merges {merged} routers; list each feature in tests/api/openapi.rs"
    );
    for (name, _) in FEATURES {
        assert!(
            root.contains(&format!(".merge({name}::router())")),
            "src/http/mod.rs does not merge {name}::router()"
        );
    }
    let mut out = BTreeSet::new();
    for src in std::iter::once(root).chain(FEATURES.iter().map(|(_, s)| strip_comments(s))) {
        for unsupported in [".nest(", ".route_service(", ".nest_service("] {
            assert!(
                !src.contains(unsupported),
                "the router uses {unsupported}: teach tests/api/openapi.rs to read it"
            );
        }
        routes_of(&src, &mut out);
    }
    out
}

/// Adds the `.route(…)` calls of `src` to `out`.
fn routes_of(src: &str, out: &mut BTreeSet<(String, String)>) {
    let mut rest = src;
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + ".route(".len()..];
        let after = rest
            .trim_start()
            .strip_prefix('"')
            .expect("a .route( whose path is a string literal");
        let end = after.find('"').expect("the path literal ends");
        let path = &after[..end];
        // The method router: up to the parenthesis closing `.route(`.
        let tail = &after[end + 1..];
        let mut depth = 1usize;
        let mut stop = None;
        for (j, c) in tail.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        stop = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let handlers = &tail[..stop.expect("the .route( call closes")];
        let methods: Vec<String> = top_level_calls(handlers)
            .into_iter()
            .filter(|m| METHODS.contains(&m.as_str()))
            .collect();
        assert!(
            !methods.is_empty(),
            "no method found for the route {path:?} in {handlers:?}"
        );
        for m in methods {
            assert!(
                out.insert((m.to_uppercase(), path.to_owned())),
                "{} {path} is routed twice",
                m.to_uppercase()
            );
        }
        rest = &tail[stop.unwrap_or(0)..];
    }
}

/// Every `(METHOD, path)` the document describes, with its operation.
fn documented(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for (key, op) in item.as_object().expect("a path item is an object") {
            if OPERATION_KEYS.contains(&key.as_str()) {
                out.push((key.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// The roles an operation documents in `x-roles`: role names, or `any`,
/// `owner` (of the object), `sender` (of the return).
fn roles(op: &Value) -> Vec<String> {
    op["x-roles"]
        .as_array()
        .unwrap_or_else(|| panic!("no x-roles on {}", op["operationId"]))
        .iter()
        .map(|r| r.as_str().expect("a role is a string").to_owned())
        .collect()
}

fn is_open_to_all(roles: &[String]) -> bool {
    roles
        .iter()
        .any(|r| ["any", "owner", "sender"].contains(&r.as_str()))
}

fn role(name: &str) -> Role {
    name.parse()
        .unwrap_or_else(|()| panic!("x-roles names an unknown role {name:?}"))
}

/// A partner of the example configuration holding the operation's first
/// role (any partner when the operation is open to all).
fn partner_for(app: &TestApp, roles: &[String]) -> String {
    if is_open_to_all(roles) {
        return "vendee-habitat".to_owned();
    }
    let wanted = role(&roles[0]);
    app.app
        .config
        .partners
        .with_role(wanted)
        .next()
        .unwrap_or_else(|| panic!("no example partner holds the role {}", roles[0]))
        .id
        .to_string()
}

/// A partner of the example configuration holding none of `roles`.
fn partner_without(app: &TestApp, roles: &[String]) -> Option<String> {
    let roles: Vec<Role> = roles.iter().map(|r| role(r)).collect();
    app.app
        .config
        .partners
        .iter()
        .find(|p| roles.iter().all(|r| !p.has(*r)))
        .map(|p| p.id.to_string())
}

/// The path with each `{param}` replaced by `x`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push('x');
            }
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// `METHOD path` with an empty body, as `id`: (status, JSON body or Null).
async fn call(app: &TestApp, id: &str, method: &str, path: &str) -> (u16, Value) {
    let c = app.client(id);
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let resp = c
        .http()
        .request(method, c.url(path))
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

/// Every string found under a `$ref` key.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().expect("a $ref is a string").to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The error codes the sources build: the literal after each
/// `StatusCode::NAME,`.
fn emitted_codes() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for src in ERROR_SOURCES {
        let src = strip_comments(src);
        let mut rest = src.as_str();
        while let Some(i) = rest.find("StatusCode::") {
            rest = &rest[i + "StatusCode::".len()..];
            let after_name = rest.trim_start_matches(|c: char| c.is_ascii_uppercase() || c == '_');
            let Some(after_comma) = after_name.trim_start().strip_prefix(',') else {
                continue;
            };
            let Some(lit) = after_comma.trim_start().strip_prefix('"') else {
                continue;
            };
            if let Some(end) = lit.find('"') {
                out.insert(lit[..end].to_owned());
            }
        }
    }
    out
}

#[test]
fn the_router_source_parser_reads_every_form_it_meets() {
    let calls = top_level_calls(r#"get(a::b).post(c::d(e, f("x)")))"#);
    assert_eq!(calls, ["get", "post"]);
    assert_eq!(
        top_level_calls("axum::routing::get(h)\n    .delete(i)"),
        ["get", "delete"]
    );
    assert_eq!(strip_comments("a // .route(\"/x\", get(y))"), "a \n");
    assert_eq!(
        strip_comments("\"https://x\" // c"),
        "\"https://x\" \n",
        "// inside a string is no comment"
    );
    assert_eq!(concrete("/v1/outbox/{file_id}/ack"), "/v1/outbox/x/ack");
}

#[test]
fn every_routed_operation_is_documented_and_every_documented_one_is_routed() {
    let routed = routed();
    assert!(
        routed.len() >= 20,
        "the parser found only {} routes: {routed:?}",
        routed.len()
    );
    let documented: BTreeSet<(String, String)> = documented(&doc())
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not in openapi.json: {undocumented:?}; in openapi.json but not routed: {unrouted:?}"
    );
}

#[test]
fn the_document_is_structurally_sound() {
    let doc = doc();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "openapi is {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert!(
        doc["servers"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["url"] == "https://localhost:8443")),
        "servers lists https://localhost:8443"
    );
    // mutual TLS, applied to every operation.
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("securitySchemes");
    let mtls: Vec<&String> = schemes
        .iter()
        .filter(|(_, s)| s["type"] == "mutualTLS")
        .map(|(name, _)| name)
        .collect();
    assert_eq!(mtls.len(), 1, "one mutualTLS scheme: {schemes:?}");
    assert!(
        doc["security"]
            .as_array()
            .is_some_and(|reqs| reqs.iter().any(|r| r.get(mtls[0]).is_some())),
        "the mutualTLS scheme is required globally"
    );
    // Every $ref resolves inside the document.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    let dangling: Vec<&String> = all
        .iter()
        .filter(|r| {
            !r.starts_with("#/")
                || doc
                    .pointer(&r[1..].replace("%7B", "{").replace("%7D", "}"))
                    .is_none()
        })
        .collect();
    assert!(
        dangling.is_empty(),
        "$refs that resolve nowhere: {dangling:?}"
    );
    // The schemas the routes answer with are there.
    for name in [
        "ListReceipt",
        "ListMeta",
        "OutboxEntry",
        "ReturnReceipt",
        "ReturnDetail",
        "AgendaEntry",
        "Proposal",
        "Decision",
        "DecisionRequest",
        "Stats",
        "Alert",
        "Error",
    ] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "components/schemas/{name} is missing"
        );
    }
    // Every operation: an id (unique), a summary, its roles in the
    // description and in x-roles, responses with a description each, and
    // path parameters exactly those of its path.
    let mut ids = BTreeSet::new();
    for (method, path, op) in documented(&doc) {
        let what = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: operationId"));
        assert!(ids.insert(id.to_owned()), "{what}: operationId {id} twice");
        assert!(op["summary"].is_string(), "{what}: summary");
        assert!(
            op["description"]
                .as_str()
                .is_some_and(|d| d.contains("Roles:")),
            "{what}: the description names the roles"
        );
        let roles = roles(&op);
        if !is_open_to_all(&roles) {
            for r in &roles {
                role(r);
            }
        }
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: responses"));
        assert!(!responses.is_empty(), "{what}: no responses");
        for (status, r) in responses {
            assert!(
                status.len() == 3 && status.parse::<u16>().is_ok(),
                "{what}: status {status}"
            );
            assert!(
                r.get("$ref").is_some() || r["description"].is_string(),
                "{what} {status}: description"
            );
        }
        let in_path: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(p, _)| p.to_owned()))
            .collect();
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(in_path, declared, "{what}: path parameters");
    }
}

#[test]
fn the_list_upload_documents_every_answer_of_the_contract() {
    let doc = doc();
    let op = &doc["paths"]["/v1/lists"]["post"];
    let statuses: BTreeSet<&str> = op["responses"]
        .as_object()
        .expect("POST /v1/lists has responses")
        .keys()
        .map(String::as_str)
        .collect();
    for s in ["201", "200", "403", "413", "415", "422"] {
        assert!(
            statuses.contains(s),
            "POST /v1/lists does not list {s}: {statuses:?}"
        );
    }
    let types: BTreeSet<&str> = op["requestBody"]["content"]
        .as_object()
        .expect("POST /v1/lists has a body")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/age",
        ])
    );
    let returns: BTreeSet<&str> = doc["paths"]["/v1/returns"]["post"]["requestBody"]["content"]
        .as_object()
        .expect("POST /v1/returns has a body")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(returns, BTreeSet::from(["application/age"]));
}

#[test]
fn the_error_codes_documented_are_those_the_gateway_emits() {
    let emitted = emitted_codes();
    assert!(emitted.contains("no_route") && emitted.contains("invalid_rows"));
    let documented: BTreeSet<String> = doc()["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("components/schemas/ErrorCode has an enum")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let undocumented: Vec<_> = emitted.difference(&documented).collect();
    let unused: Vec<_> = documented.difference(&emitted).collect();
    assert!(
        undocumented.is_empty() && unused.is_empty(),
        "emitted but not documented: {undocumented:?}; documented but never emitted: {unused:?}"
    );
}

async fn the_served_document_is_the_file(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    for id in crate::helpers::PARTNERS {
        let resp = app.get(id, "/v1/openapi.json").await;
        assert_eq!(resp.status().as_u16(), 200, "as {id}");
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let served: Value =
            serde_json::from_str(&resp.text().await.unwrap()).expect("the served document is JSON");
        assert_eq!(served, doc(), "as {id}: the served document is the file");
        assert!(
            served["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1.")),
            "openapi is {}",
            served["openapi"]
        );
    }
    // A wrong path is told apart from a missing object.
    let (status, body) = call(&app, "caf", "GET", "/v1/no-such-route").await;
    assert_eq!((status, code(&body)), (404, "no_route"));
    app.stop().await;
}
both!(the_served_document_is_the_file);

async fn every_documented_operation_reaches_its_handler_with_the_documented_roles(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    for (method, path, op) in documented(&doc()) {
        let what = format!("{method} {path}");
        let roles = roles(&op);
        let url = concrete(&path);
        let partner = partner_for(&app, &roles);
        let (status, body) = call(&app, &partner, &method, &url).await;
        assert!(
            !(status == 404 && code(&body) == "no_route"),
            "{what} as {partner}: the router's fallback answered"
        );
        assert_ne!(status, 405, "{what} as {partner}: method not routed");
        assert_ne!(
            code(&body),
            "forbidden",
            "{what} as {partner} (holding {roles:?}): refused for its role"
        );
        assert!(
            op["responses"].get(status.to_string()).is_some(),
            "{what} as {partner} answered {status} {body}, which the document does not list"
        );
        // A partner holding none of the roles is refused, before the
        // handler reads anything. Returns are the exception: their role
        // depends on the kind and is checked once the file is read.
        if is_open_to_all(&roles) || path == "/v1/returns" {
            continue;
        }
        let Some(outsider) = partner_without(&app, &roles) else {
            continue;
        };
        let (status, body) = call(&app, &outsider, &method, &url).await;
        assert_eq!(
            (status, code(&body)),
            (403, "forbidden"),
            "{what} as {outsider}, holding none of {roles:?}: {body}"
        );
    }
    app.stop().await;
}
both!(every_documented_operation_reaches_its_handler_with_the_documented_roles);
