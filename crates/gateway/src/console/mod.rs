//! The operator's console on the admin port: `/` (dashboard), `/messages` (search by patient
//! identifier), `/messages/<id>` (lineage), `/identity` (identity alerts, acknowledged there), `/outbox` (rows by destination and
//! status, bulk actions by filter with a dry run, also from a search, run as jobs with a progress bar at `/jobs/<id>`), pausing and resuming a destination on this node, saved searches, and the operator's actions on a delivery row (replay
//! a delivered one, retry a dead letter, dead-letter a pending one), as form posts from the pages
//! and as `POST /api/outbox/<id>/replay|retry|dead-letter`. Server-rendered HTML, French or
//! English by the browser's language, no script and nothing fetched from elsewhere. The admin
//! port's access rules apply (roles, Host check); a form post must also come from the console's
//! own origin (no cross-site request can act), and every action is written to the audit trail.

mod bulk;
mod dashboard;
mod identity;
mod login;
mod messages;
mod outbox;
mod page;
mod searches;

pub use bulk::Jobs;

use crate::admin::AdminState;
use crate::admin_auth::Caller;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use passerelle_store::{AuditEntry, Transition};
use serde::Deserialize;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/messages", get(messages::search))
        .route("/messages/{id}", get(messages::lineage))
        .route("/identity", get(identity::alerts))
        .route("/console/identity/acknowledge", post(acknowledge))
        .route("/outbox", get(outbox::view))
        .route("/api/searches", get(searches::list_api).post(searches::save_api).delete(searches::delete_api))
        .route("/console/searches", post(searches::save_form))
        .route("/console/outbox/bulk", post(bulk_form))
        .route("/api/outbox/bulk", post(bulk_api))
        .route("/api/messages/bulk", post(search_bulk_api))
        .route("/console/messages/bulk", post(search_bulk_form))
        .route("/jobs/{id}", get(job_page))
        .route("/api/jobs/{id}", get(job_api))
        .route("/api/destinations/{name}/{verb}", post(pause_api))
        .route("/console/destinations/{name}/{verb}", post(pause_form))
        .route("/console/outbox/{id}/{verb}", post(form_action))
        .route("/api/outbox/{id}/{verb}", post(api_action))
}

/// Runs `verb` on outbox row `id`, audited first.
async fn act(s: &AdminState, caller: &Caller, id: i64, verb: &str) -> Result<Transition, (StatusCode, String)> {
    let entry = AuditEntry {
        at_ms: crate::pipeline::now_ms(),
        role: caller.role.as_str().into(),
        remote: caller.remote.clone(),
        action: verb.into(),
        target: format!("outbox/{id}"),
    };
    let unavailable = |e: passerelle_store::StoreError| (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}"));
    s.store.audit(entry).await.map_err(unavailable)?;
    let now = crate::pipeline::now_ms();
    let done = match verb {
        "replay" => s.store.replay(id, now).await,
        "retry" => s.store.requeue(id, now).await,
        "dead-letter" => s.store.dead_letter(id, format!("dead-lettered by an operator ({})", caller.role.as_str()), now).await,
        other => return Err((StatusCode::NOT_FOUND, format!("unknown action {other} (replay, retry, dead-letter)"))),
    };
    done.map_err(unavailable)
}

fn answer(t: Transition, id: i64, verb: &str) -> (StatusCode, String) {
    match t {
        Transition::Done => (StatusCode::OK, format!("{verb}: outbox row {id} is pending")),
        Transition::NoSuchRow => (StatusCode::NOT_FOUND, format!("no outbox row {id}")),
        Transition::WrongStatus(st) => (StatusCode::CONFLICT, format!("outbox row {id} is {}: {verb} does not apply", st.as_str())),
    }
}

/// `POST /api/outbox/<id>/replay|retry|dead-letter` (role operator): JSON `{"outcome"}` or `{"error"}`.
async fn api_action(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Path((id, verb)): Path<(i64, String)>) -> Response {
    let (status, text) = match act(&s, &caller, id, &verb).await {
        Ok(t) => answer(t, id, &verb),
        Err(e) => e,
    };
    let key = if status == StatusCode::OK { "outcome" } else { "error" };
    (status, axum::Json(serde_json::json!({ key: text }))).into_response()
}

#[derive(Deserialize)]
struct Back {
    back: Option<i64>,
}

/// A form post is the console's own when the browser says so: Origin (or, without it,
/// Sec-Fetch-Site) names this very host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    match headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) {
        Some(origin) => origin.split_once("://").is_some_and(|(_, rest)| rest == host),
        None => headers.get("sec-fetch-site").and_then(|h| h.to_str().ok()).is_none_or(|site| site == "same-origin" || site == "none"),
    }
}

async fn form_action(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path((id, verb)): Path<(i64, String)>,
    Query(back): Query<Back>,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "a console action must come from the console's own page").into_response();
    }
    match act(&s, &caller, id, &verb).await {
        Ok(Transition::Done) => match back.back {
            Some(message) => Redirect::to(&format!("/messages/{message}")).into_response(),
            None => Redirect::to("/").into_response(),
        },
        Ok(t) => answer(t, id, &verb).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct AlertId {
    id: String,
}

async fn acknowledge(State(s): State<AdminState>, Extension(caller): Extension<Caller>, headers: HeaderMap, Query(alert): Query<AlertId>) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "a console action must come from the console's own page").into_response();
    }
    let entry = AuditEntry {
        at_ms: crate::pipeline::now_ms(),
        role: caller.role.as_str().into(),
        remote: caller.remote.clone(),
        action: crate::identity_alerts::ACKNOWLEDGE.into(),
        target: alert.id,
    };
    match s.store.audit(entry).await {
        Ok(()) => Redirect::to("/identity").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")).into_response(),
    }
}

fn json_error(status: StatusCode, text: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": text }))).into_response()
}

/// `POST /api/outbox/bulk?destination=&status=&action=&dry_run=` (role operator): `{"matched",
/// "done", "skipped", "dry_run"}` when every row has moved.
async fn bulk_api(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Query(p): Query<outbox::BulkParams>) -> Response {
    let selection = match p.selection() {
        Ok(sel) => sel,
        Err((status, text)) => return json_error(status, text),
    };
    match bulk::run_now(&s, &caller, selection, &p.action, p.dry_run).await {
        Ok(outcome) => axum::Json(outcome).into_response(),
        Err((status, text)) => json_error(status, text),
    }
}

/// The console's bulk form: a dry run answers the count; a run starts a job and shows its progress.
async fn bulk_form(State(s): State<AdminState>, Extension(caller): Extension<Caller>, headers: HeaderMap, Query(p): Query<outbox::BulkParams>) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "a console action must come from the console's own page").into_response();
    }
    let back = format!("/outbox?destination={}&status={}", identity::url_encode(&p.destination), identity::url_encode(&p.status));
    let selection = match p.selection() {
        Ok(sel) => sel,
        Err(e) => return e.into_response(),
    };
    start_or_count(&s, &caller, &headers, selection, &p.action, p.dry_run, &back).await
}

async fn start_or_count(s: &AdminState, caller: &Caller, headers: &HeaderMap, selection: bulk::Selection, action: &str, dry_run: bool, back: &str) -> Response {
    let lang = page::Lang::from_headers(headers);
    if dry_run {
        return match bulk::run_now(s, caller, selection, action, true).await {
            Ok(outcome) => outbox::dry_run_page(lang, &outcome, back),
            Err(e) => e.into_response(),
        };
    }
    match bulk::start_job(s, caller, selection, action).await {
        Ok(id) => Redirect::to(&format!("/jobs/{id}")).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct SearchBulk {
    action: String,
    #[serde(default)]
    dry_run: bool,
}

/// A search's bulk selection (a search by patient needs the `phi` role: the admin port's access
/// rule says so for these paths, see `admin_auth::required`).
fn search_selection(p: crate::admin::MessagesParams) -> Result<bulk::Selection, (StatusCode, String)> {
    let described = messages::describe(&p);
    let query = p.query(bulk::BULK_LIMIT, bulk::BULK_LIMIT).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    Ok(bulk::Selection::Search { query: Box::new(query), described })
}

/// `POST /api/messages/bulk?<the parameters of /api/messages>&action=&dry_run=` (role operator,
/// `phi` by patient): the rows of the messages found (of `destination=` only, when given) whose
/// status the action moves from; `{"matched", "done", "skipped", "dry_run"}` when done.
async fn search_bulk_api(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    Query(p): Query<crate::admin::MessagesParams>,
    Query(b): Query<SearchBulk>,
) -> Response {
    let selection = match search_selection(p) {
        Ok(sel) => sel,
        Err((status, text)) => return json_error(status, text),
    };
    match bulk::run_now(&s, &caller, selection, &b.action, b.dry_run).await {
        Ok(outcome) => axum::Json(outcome).into_response(),
        Err((status, text)) => json_error(status, text),
    }
}

async fn search_bulk_form(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    Query(p): Query<crate::admin::MessagesParams>,
    body: axum::body::Bytes,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "a console action must come from the console's own page").into_response();
    }
    // The search is the page's query string; the action and the dry run, the form's fields.
    let Some(action) = page::form_field(&body, "action") else { return (StatusCode::BAD_REQUEST, "no action").into_response() };
    let dry_run = page::form_field(&body, "dry_run").as_deref() == Some("true");
    let back = format!("/messages?{}", raw.unwrap_or_default());
    match search_selection(p) {
        Ok(selection) => start_or_count(&s, &caller, &headers, selection, &action, dry_run, &back).await,
        Err(e) => e.into_response(),
    }
}

async fn job_page(State(s): State<AdminState>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let lang = page::Lang::from_headers(&headers);
    match s.jobs.get(id) {
        Some(job) => outbox::job_page(lang, &job),
        None => (StatusCode::NOT_FOUND, page::page(lang, lang.t("Unknown job"), &format!("<h1>{}</h1>", lang.t("Unknown job")), false)).into_response(),
    }
}

/// `GET /api/jobs/<id>`: a bulk job's `{"id", "action", "filter", "total", "done", "skipped", "finished"}`.
async fn job_api(State(s): State<AdminState>, Path(id): Path<u64>) -> Response {
    match s.jobs.get(id) {
        Some(job) => axum::Json(job).into_response(),
        None => json_error(StatusCode::NOT_FOUND, format!("no job {id} on this node")),
    }
}

/// Pauses or resumes destination `name` on this node, audited.
async fn pause(s: &AdminState, caller: &Caller, name: &str, verb: &str) -> (StatusCode, String) {
    let paused = match verb {
        "pause" => true,
        "resume" => false,
        other => return (StatusCode::NOT_FOUND, format!("unknown action {other} (pause, resume)")),
    };
    let entry = AuditEntry {
        at_ms: crate::pipeline::now_ms(),
        role: caller.role.as_str().into(),
        remote: caller.remote.clone(),
        action: format!("{verb} destination"),
        target: name.to_owned(),
    };
    if !s.live.runs(name) {
        return (StatusCode::NOT_FOUND, format!("no destination {name} runs on this node"));
    }
    // The store first: every node of a hub follows it within a heartbeat; this node at once.
    let stored = match s.store.audit(entry).await {
        Ok(()) => s.store.set_destination_paused(name.to_owned(), paused, crate::pipeline::now_ms()).await,
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}"));
    }
    s.live.set_paused(name, paused);
    (StatusCode::OK, format!("destination {name} {} on every node", if paused { "paused" } else { "resumed" }))
}

/// `POST /api/destinations/<name>/pause|resume` (role operator).
async fn pause_api(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Path((name, verb)): Path<(String, String)>) -> Response {
    let (status, text) = pause(&s, &caller, &name, &verb).await;
    let key = if status == StatusCode::OK { "outcome" } else { "error" };
    (status, axum::Json(serde_json::json!({ key: text }))).into_response()
}

async fn pause_form(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path((name, verb)): Path<(String, String)>,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "a console action must come from the console's own page").into_response();
    }
    match pause(&s, &caller, &name, &verb).await {
        (StatusCode::OK, _) => Redirect::to("/").into_response(),
        other => other.into_response(),
    }
}
