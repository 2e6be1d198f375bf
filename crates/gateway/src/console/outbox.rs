//! The outbox view (`/outbox?destination=&status=`): the rows of a destination by status with
//! their retry and dead-letter buttons, and the bulk action by filter: a dry run says how many
//! rows the action will touch, then the same form starts it as a job whose progress bar
//! `/jobs/<id>` shows (`POST /api/outbox/bulk` for scripts; see `bulk`).

use super::bulk::{BulkOutcome, Job, Selection};
use super::page::{Lang, esc, page, time};
use crate::admin::AdminState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use passerelle_store::{OutboxFilter, OutboxStatus};
use serde::Deserialize;
use std::fmt::Write;

#[derive(Deserialize, Default, Clone)]
pub struct OutboxParams {
    pub destination: Option<String>,
    pub status: Option<String>,
}

#[derive(Deserialize)]
pub struct BulkParams {
    pub destination: String,
    /// `dead` (for retry) or `pending` (for dead-letter), `delivered` (for replay).
    pub status: String,
    /// `retry`, `dead-letter` or `replay`.
    pub action: String,
    /// `true`: count only.
    #[serde(default)]
    pub dry_run: bool,
}

impl BulkParams {
    pub fn selection(&self) -> Result<Selection, (StatusCode, String)> {
        let status = status_of(&self.status).ok_or((StatusCode::BAD_REQUEST, format!("unknown status {} (pending, delivered, dead)", self.status)))?;
        Ok(Selection::Outbox { destination: self.destination.clone(), status })
    }
}

fn status_of(text: &str) -> Option<OutboxStatus> {
    OutboxStatus::parse(text)
}

pub async fn view(State(s): State<AdminState>, headers: HeaderMap, Query(p): Query<OutboxParams>) -> Response {
    let lang = Lang::from_headers(&headers);
    let destination = p.destination.clone().filter(|d| !d.is_empty());
    let status = p.status.as_deref().and_then(status_of).unwrap_or(OutboxStatus::Dead);
    let names = s.live.destinations.read().map(|d| d.iter().map(|d| d.name.clone()).collect::<Vec<_>>()).unwrap_or_default();
    let mut body = format!("<h1>{}</h1><form method=\"get\" action=\"/outbox\" id=\"filter\"><select name=\"destination\">", lang.t("Outbox"));
    for name in &names {
        let selected = if destination.as_deref() == Some(name.as_str()) { " selected" } else { "" };
        let _ = write!(body, "<option{selected}>{}</option>", esc(name));
    }
    body.push_str("</select> <select name=\"status\">");
    for st in ["pending", "dead", "delivered"] {
        let selected = if status.as_str() == st { " selected" } else { "" };
        let _ = write!(body, "<option{selected}>{st}</option>");
    }
    let _ = write!(body, "</select> <button type=\"submit\">{}</button></form>", lang.t("Search"));
    let Some(destination) = destination.or_else(|| names.first().cloned()) else {
        return page(lang, lang.t("Outbox"), &body, false);
    };
    let rows = match s.store.list(OutboxFilter { destination: Some(destination.clone()), status: Some(status), limit: 200 }).await {
        Ok(rows) => rows,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")).into_response(),
    };
    let action = match status {
        OutboxStatus::Dead => Some(("retry", lang.t("Retry"))),
        OutboxStatus::Pending => Some(("dead-letter", lang.t("Dead-letter"))),
        OutboxStatus::Delivered => Some(("replay", lang.t("Replay"))),
        _ => None,
    };
    if let Some((verb, label)) = action {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/console/outbox/bulk\" id=\"bulk\"><input type=\"hidden\" name=\"destination\" value=\"{d}\"><input type=\"hidden\" name=\"status\" value=\"{st}\"><input type=\"hidden\" name=\"action\" value=\"{verb}\">\
             <button type=\"submit\" formaction=\"/console/outbox/bulk?destination={du}&status={st}&action={verb}&dry_run=true\">{dry}</button> \
             <button type=\"submit\" formaction=\"/console/outbox/bulk?destination={du}&status={st}&action={verb}\">{label} ({all})</button></form>",
            d = esc(&destination),
            du = super::identity::url_encode(&destination),
            st = status.as_str(),
            dry = lang.t("Dry run"),
            all = lang.t("all matching rows"),
        );
    }
    let _ = write!(
        body,
        "<table id=\"rows\"><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        lang.t("Message"),
        lang.t("Type"),
        lang.t("Control id"),
        lang.t("Attempts"),
        lang.t("Next attempt"),
        lang.t("Last error")
    );
    for r in &rows {
        let _ = write!(
            body,
            "<tr><td>{}</td><td><a href=\"/messages/{m}\">{m}</a></td><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            r.id,
            esc(&r.message_type),
            esc(&r.control_id),
            r.attempts,
            time(r.next_attempt_ms),
            esc(r.last_error.as_deref().unwrap_or("")),
            m = r.message_id
        );
    }
    body.push_str("</table>");
    page(lang, lang.t("Outbox"), &body, false)
}

/// A dry run's answer: how many rows the action would touch, and the way back to `back`.
pub fn dry_run_page(lang: Lang, outcome: &BulkOutcome, back: &str) -> Response {
    let body = format!(
        "<h1>{what}</h1><p id=\"bulk-outcome\" data-matched=\"{m}\" data-done=\"0\">{}: {m}</p><p><a href=\"{}\">{}</a></p>",
        lang.t("Matching rows"),
        esc(back),
        lang.t("Back"),
        what = lang.t("Dry run"),
        m = outcome.matched,
    );
    page(lang, lang.t("Dry run"), &body, false)
}

/// A bulk job's progress (`/jobs/<id>`), reloaded every second until it has finished.
pub fn job_page(lang: Lang, job: &Job) -> Response {
    let moved = job.done + job.skipped;
    let state = match (&job.error, job.finished) {
        (Some(e), _) => format!("<span class=\"bad\">{}</span>", esc(e)),
        (None, true) => format!("<span class=\"ok\">{}</span>", lang.t("Finished")),
        (None, false) => lang.t("Running").to_owned(),
    };
    let body = format!(
        "<h1>{} · {}</h1><p><code>{}</code></p><progress id=\"progress\" value=\"{moved}\" max=\"{total}\"></progress> {moved} / {total}\
         <p id=\"job\" data-finished=\"{fin}\" data-done=\"{done}\" data-skipped=\"{sk}\">{state} · {}: {done} · {}: {sk}</p><p><a href=\"/outbox\">{}</a></p>",
        lang.t("Bulk action"),
        esc(&job.action),
        esc(&job.filter),
        lang.t("Done"),
        lang.t("Skipped"),
        lang.t("Outbox"),
        total = job.total,
        fin = job.finished,
        done = job.done,
        sk = job.skipped,
    );
    if job.finished { page(lang, lang.t("Bulk action"), &body, false) } else { super::page::page_refreshed(lang, lang.t("Bulk action"), &body, 1) }
}
