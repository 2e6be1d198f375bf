//! Saved searches: an operator names the search of `/messages` they are looking at and finds it
//! again in the list above the form. A search that names a patient (`identifier=`, `patient=`) is
//! patient data: only the `phi` role saves it or sees it listed. `GET|POST|DELETE /api/searches`
//! for scripts.

use crate::admin::AdminState;
use crate::admin_auth::{Caller, Role};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use passerelle_store::SavedSearch;
use serde::Deserialize;

/// Whether a `/messages` query string names a patient.
pub fn names_patient(query: &str) -> bool {
    query.split('&').any(|kv| (kv.starts_with("identifier=") || kv.starts_with("patient=")) && kv.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
}

/// The saved searches `caller` may see.
pub async fn visible(s: &AdminState, caller: &Caller) -> Vec<SavedSearch> {
    let all = s.store.saved_searches().await.unwrap_or_default();
    all.into_iter().filter(|search| caller.role >= Role::Phi || !names_patient(&search.query)).collect()
}

async fn save(s: &AdminState, caller: &Caller, name: &str, query: &str) -> (StatusCode, String) {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return (StatusCode::BAD_REQUEST, "a saved search needs a name of 1 to 100 characters".into());
    }
    if names_patient(query) && caller.role < Role::Phi {
        return (StatusCode::FORBIDDEN, "a search by patient is saved by the phi role only".into());
    }
    let search = SavedSearch { name: name.to_owned(), query: query.trim_start_matches('?').to_owned(), created_ms: crate::pipeline::now_ms() };
    match s.store.save_search(search).await {
        Ok(()) => (StatusCode::OK, format!("saved {name}")),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")),
    }
}

#[derive(Deserialize)]
pub struct SearchParams {
    name: String,
    #[serde(default)]
    query: String,
}

pub async fn list_api(State(s): State<AdminState>, Extension(caller): Extension<Caller>) -> Response {
    axum::Json(serde_json::json!({ "searches": visible(&s, &caller).await })).into_response()
}

pub async fn save_api(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Query(p): Query<SearchParams>) -> Response {
    let (status, text) = save(&s, &caller, &p.name, &p.query).await;
    (status, axum::Json(serde_json::json!({ if status == StatusCode::OK { "outcome" } else { "error" }: text }))).into_response()
}

pub async fn delete_api(State(s): State<AdminState>, Extension(caller): Extension<Caller>, Query(p): Query<SearchParams>) -> Response {
    let saved = s.store.saved_searches().await.unwrap_or_default();
    if saved.iter().any(|x| x.name == p.name && names_patient(&x.query)) && caller.role < Role::Phi {
        return (StatusCode::FORBIDDEN, "a search by patient is deleted by the phi role only").into_response();
    }
    match s.store.delete_search(p.name.clone()).await {
        Ok(true) => axum::Json(serde_json::json!({ "outcome": format!("deleted {}", p.name) })).into_response(),
        Ok(false) => (StatusCode::NOT_FOUND, axum::Json(serde_json::json!({ "error": format!("no saved search {}", p.name) }))).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")).into_response(),
    }
}

/// The search page's "Save" form: `name` and `query` (the page's own query string) in the body.
pub async fn save_form(State(s): State<AdminState>, Extension(caller): Extension<Caller>, headers: HeaderMap, body: Bytes) -> Response {
    if !super::same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "a console action must come from the console's own page").into_response();
    }
    let name = super::page::form_field(&body, "name").unwrap_or_default();
    let query = super::page::form_field(&body, "query").unwrap_or_default();
    match save(&s, &caller, &name, &query).await {
        (StatusCode::OK, _) => Redirect::to(&format!("/messages?{query}")).into_response(),
        other => other.into_response(),
    }
}
