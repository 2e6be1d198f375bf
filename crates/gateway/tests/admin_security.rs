//! The admin port's roles and audit trail: without a token nothing but a 401; `metrics` reads the
//! probes only; `operator` reads message metadata without the patient; `phi` reads patient data,
//! each read in `/api/audit`; a foreign Host header is refused (DNS rebinding); a reachable admin
//! port without tokens is a configuration error; an HTTP ingest listener with `[listener.auth]`
//! tokens refuses requests without one.

mod support;

use support::*;

fn token_table() -> String {
    let sha = passerelle_gateway::admin_auth::sha256_hex;
    format!(
        "[[admin.token]]\nrole = \"metrics\"\nsha256 = \"{}\"\n[[admin.token]]\nrole = \"operator\"\nsha256 = \"{}\"\n[[admin.token]]\nrole = \"phi\"\nsha256 = \"{}\"\n",
        sha(b"metrics-secret"),
        sha(b"operator-secret"),
        sha(b"phi-secret")
    )
}

/// A gateway whose admin port has the three roles' tokens of [`token_table`] (`config` writes an
/// [admin] table; the tokens join it, as `[[admin.token]]` would).
async fn start_with_tokens(dir: &std::path::Path) -> passerelle_gateway::RunningGateway {
    passerelle_gateway::delivery::install_tls_provider();
    let mut config = config(&dir.join("j.db"), "");
    let tokens = passerelle_gateway::config::Config::parse(&format!("[store]\npath = \"t.db\"\n[admin]\nbind = \"127.0.0.1:0\"\n{}", token_table()), "t.toml")
        .expect("tokens");
    config.admin.token = tokens.admin.token;
    passerelle_gateway::start(config).await.expect("start")
}

/// Journals one admission of a patient with a qualified INS (the fixture's `279035121518989`).
async fn admit_a_qualified_ins(gw: &passerelle_gateway::RunningGateway) {
    let mut client = MllpClient::connect(gw.address("mllp-in").expect("mllp")).await;
    let (code, _, _) = client.send(&std::fs::read(workspace_root().join("fixtures/hl7v2/ok/fr_a01_ins_qualified_utf8.hl7")).expect("fixture")).await;
    assert_eq!(code, "AA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_reads_only_what_it_may_and_patient_data_reads_are_audited() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = start_with_tokens(tmp.path()).await;
    admit_a_qualified_ins(&gw).await;
    let admin = gw.address("admin").expect("admin");
    let http = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>, host: Option<&str>| {
        let mut request = http.get(format!("http://{admin}{path}"));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(h) = host {
            request = request.header("host", h);
        }
        async move {
            let r = request.send().await.expect("get");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    };
    assert_eq!(get("/metrics", None, None).await.0, 401, "no token");
    // Liveness and readiness say nothing but up or not: probes (a container's, a kubelet's) need no token.
    assert_eq!(get("/healthz", None, None).await.0, 200);
    assert_eq!(get("/readyz", None, None).await.0, 200);
    assert_eq!(get("/healthz", None, Some("evil.example")).await.0, 421, "the Host check still applies");
    assert_eq!(get("/metrics", Some("wrong"), None).await.0, 401, "unknown token");
    assert_eq!(get("/metrics", Some("metrics-secret"), None).await.0, 200);
    assert_eq!(get("/api/outbox", Some("metrics-secret"), None).await.0, 403, "metrics reads the probes only");
    let (status, body) = get("/api/messages", Some("operator-secret"), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("ADT^A01") && !body.contains("279035121518989") && !body.contains("IPP100234"), "metadata without the patient: {body}");
    assert_eq!(get("/api/messages?patient=IPP100234", Some("operator-secret"), None).await.0, 403, "a search by patient is patient data");
    assert_eq!(get("/api/messages/1", Some("operator-secret"), None).await.0, 403);
    assert_eq!(get("/api/audit", Some("operator-secret"), None).await.0, 403);
    let (status, body) = get("/api/messages/1", Some("phi-secret"), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("279035121518989"), "phi reads the patient");
    assert_eq!(get("/api/messages?patient=IPP100234", Some("phi-secret"), None).await.0, 200);
    let (status, trail) = get("/api/audit?since=2020-01-01T00:00:00Z", Some("phi-secret"), None).await;
    assert_eq!(status, 200);
    let trail: serde_json::Value = serde_json::from_str(&trail).expect("json");
    let actions: Vec<(&str, &str, &str)> = trail
        .as_array()
        .expect("array")
        .iter()
        .map(|e| (e["role"].as_str().unwrap_or(""), e["action"].as_str().unwrap_or(""), e["target"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(actions, [("phi", "read message", "message/1"), ("phi", "search", "messages by patient (1 found)")], "{trail}");
    assert!(
        trail[0]["remote"].as_str().is_some_and(|r| r.starts_with("127.0.0.1:"))
            && trail[0]["at"].as_str().and_then(passerelle_model::PartialDateTime::parse_fhir).is_some_and(|t| t.offset_minutes == Some(0)),
        "{trail}"
    );
    assert_eq!(get("/metrics", Some("phi-secret"), Some("evil.example")).await.0, 421, "DNS rebinding: a foreign Host is refused");
    gw.shutdown().await;
}

#[test]
fn a_reachable_admin_port_without_tokens_is_refused_at_load() {
    let err = passerelle_gateway::config::Config::parse("[store]\npath = \"t.db\"\n[admin]\nbind = \"0.0.0.0:9090\"\n", "open.toml").expect_err("must refuse");
    assert!(err.to_string().contains("[[admin.token]]"), "{err}");
    let ok = format!("[store]\npath = \"t.db\"\n[admin]\nbind = \"0.0.0.0:9090\"\n{}", token_table());
    assert!(passerelle_gateway::config::Config::parse(&ok, "tokens.toml").is_ok());
}

/// `[listener.auth]`: an HTTP ingest listener with tokens answers 401 (in its protocol) to a
/// request without one of them, and journals nothing for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_listener_with_tokens_refuses_a_request_without_one() {
    passerelle_gateway::delivery::install_tls_provider();
    let tmp = tempfile::tempdir().expect("tmp");
    let mut config = config(&tmp.path().join("j.db"), "");
    let token = format!("sha256:{}", passerelle_gateway::admin_auth::sha256_hex(b"lab-sender-secret"));
    for l in config.listeners.iter_mut().filter(|l| l.name == "http-in") {
        l.auth = Some(passerelle_gateway::config::ListenerAuth { tokens: vec![token.clone()] });
    }
    let gw = passerelle_gateway::start(config).await.expect("start");
    let base = format!("http://{}", gw.address("http-in").expect("http"));
    let http = reqwest::Client::new();
    let body = adt("AUTH-1", "IPP-AUTH", 1);
    let r = http.post(format!("{base}/hl7v2")).body(body.clone()).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 401);
    let r = http.post(format!("{base}/fhir")).bearer_auth("guess").header("content-type", "application/fhir+json").body("{}").send().await.expect("post");
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap_or_default().contains("OperationOutcome"));
    let r = http.post(format!("{base}/hl7v2")).bearer_auth("lab-sender-secret").body(body).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap_or_default().contains("MSA|AA|AUTH-1"));
    let journaled = gw.store.search(passerelle_store::MessageQuery::default()).await.expect("search");
    assert_eq!(journaled.len(), 1, "refused requests are not journaled");
    gw.shutdown().await;
}

/// The hardened example loads (with its secrets' hashes from the environment).
#[test]
fn the_hardened_example_configuration_loads() {
    let text = std::fs::read_to_string(workspace_root().join("config/examples/hardened.toml")).expect("example");
    let hash = passerelle_gateway::admin_auth::sha256_hex(b"example");
    let text = ["METRICS", "OPERATOR", "PHI", "CITY"].iter().fold(text, |t, role| t.replace(&format!("${{PASSERELLE_{role}_TOKEN_SHA256}}"), &hash));
    let config = passerelle_gateway::config::Config::parse(&text, "hardened.toml").expect("the hardened example loads");
    assert!(config.listeners.iter().all(|l| l.tls.is_some()) && config.admin.tls.is_some() && config.admin.token.len() == 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_logs_in_with_its_token_and_the_session_cookie_opens_the_console() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = start_with_tokens(tmp.path()).await;
    admit_a_qualified_ins(&gw).await;
    let admin = gw.address("admin").expect("admin");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let origin = format!("http://{admin}");
    // A page without a session goes to the login form; the API still answers 401.
    let page = http.get(format!("{origin}/")).header("accept", "text/html").send().await.expect("get");
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers().get("location").and_then(|v| v.to_str().ok()), Some("/login"));
    assert_eq!(http.get(format!("{origin}/api/outbox")).send().await.expect("get").status().as_u16(), 401);
    let form = http.get(format!("{origin}/login")).send().await.expect("login page");
    assert_eq!(form.status().as_u16(), 200);
    assert!(form.text().await.unwrap_or_default().contains("name=\"token\""));
    let login = |token: &'static str, from: String| {
        let request = http
            .post(format!("{origin}/login"))
            .header("origin", from)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={token}"));
        async move { request.send().await.expect("post") }
    };
    assert_eq!(login("wrong", origin.clone()).await.status().as_u16(), 401, "an unknown token gets no session");
    assert_eq!(login("phi-secret", "http://evil.example".into()).await.status().as_u16(), 403, "a login from another site is refused");
    let cookie_of = |r: &reqwest::Response| r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let operator = login("operator-secret", origin.clone()).await;
    assert_eq!(operator.status().as_u16(), 303);
    let set = cookie_of(&operator);
    assert!(set.starts_with("passerelle_admin=operator-secret;") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let session = set.split(';').next().unwrap_or_default().to_owned();
    let with = |path: &str, cookie: &str| http.get(format!("{origin}{path}")).header("cookie", cookie.to_owned()).send();
    let dashboard = with("/", &session).await.expect("dashboard");
    assert_eq!(dashboard.status().as_u16(), 200);
    assert!(dashboard.text().await.unwrap_or_default().contains("id=\"listeners\""));
    assert_eq!(with("/messages/1", &session).await.expect("lineage").status().as_u16(), 403, "an operator's session does not read patient data");
    let phi = cookie_of(&login("phi-secret", origin.clone()).await);
    let phi = phi.split(';').next().unwrap_or_default().to_owned();
    let lineage = with("/messages/1", &phi).await.expect("lineage");
    assert_eq!(lineage.status().as_u16(), 200);
    assert!(lineage.text().await.unwrap_or_default().contains("279035121518989"));
    let out = http.post(format!("{origin}/logout")).header("cookie", phi.clone()).send().await.expect("logout");
    assert!(cookie_of(&out).contains("Max-Age=0"), "logout forgets the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_search_by_patient_belongs_to_the_phi_role() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = start_with_tokens(tmp.path()).await;
    let admin = gw.address("admin").expect("admin");
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, token: &str| http.request(method, format!("http://{admin}{path}")).bearer_auth(token).send();
    let post = reqwest::Method::POST;
    assert_eq!(
        call(post.clone(), "/api/searches?name=dead&query=destination%3Dfiles%26status%3Drejected", "operator-secret").await.expect("save").status().as_u16(),
        200
    );
    assert_eq!(call(post.clone(), "/api/searches?name=patient&query=patient%3DIPP100234", "operator-secret").await.expect("save").status().as_u16(), 403);
    assert_eq!(call(post, "/api/searches?name=patient&query=patient%3DIPP100234", "phi-secret").await.expect("save").status().as_u16(), 200);
    let list = |token: &'static str| {
        let request = http.get(format!("http://{admin}/api/searches")).bearer_auth(token);
        async move {
            let v: serde_json::Value = request.send().await.expect("list").json().await.expect("json");
            v["searches"].as_array().expect("searches").iter().filter_map(|s| s["name"].as_str().map(str::to_owned)).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("operator-secret").await, ["dead"], "an operator does not see a search by patient");
    assert_eq!(list("phi-secret").await, ["dead", "patient"]);
    assert_eq!(call(reqwest::Method::DELETE, "/api/searches?name=patient", "operator-secret").await.expect("delete").status().as_u16(), 403);
    assert_eq!(call(reqwest::Method::DELETE, "/api/searches?name=patient", "phi-secret").await.expect("delete").status().as_u16(), 200);
    assert_eq!(list("phi-secret").await, ["dead"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_action_from_a_search_by_patient_belongs_to_the_phi_role() {
    let tmp = tempfile::tempdir().expect("tmp");
    let gw = start_with_tokens(tmp.path()).await;
    admit_a_qualified_ins(&gw).await;
    let admin = gw.address("admin").expect("admin");
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str| http.post(format!("http://{admin}{path}")).bearer_auth(token).send();
    let by_patient = "/api/messages/bulk?identifier=urn:oid:1.2.250.1.213.1.4.10%7C279035121518989&action=replay&dry_run=true";
    assert_eq!(post(by_patient, "operator-secret").await.expect("bulk").status().as_u16(), 403);
    assert_eq!(post(by_patient, "metrics-secret").await.expect("bulk").status().as_u16(), 403);
    let answer = post(by_patient, "phi-secret").await.expect("bulk");
    assert_eq!(answer.status().as_u16(), 200);
    let outcome: serde_json::Value = answer.json().await.expect("json");
    // The default configuration routes nothing: the message has no row to replay.
    assert_eq!((outcome["matched"].as_u64(), outcome["dry_run"].as_bool()), (Some(0), Some(true)), "{outcome}");
    let by_type = post("/api/messages/bulk?message_type=ADT&action=retry&dry_run=true", "operator-secret").await.expect("bulk");
    assert_eq!(by_type.status().as_u16(), 200, "an operator acts by type, sender or time");
    let wrong = post("/api/messages/bulk?message_type=ADT&action=explode", "operator-secret").await.expect("bulk");
    assert_eq!(wrong.status().as_u16(), 400);
    let job = http.get(format!("http://{admin}/api/jobs/999")).bearer_auth("operator-secret").send().await.expect("job");
    assert_eq!(job.status().as_u16(), 404);
}
