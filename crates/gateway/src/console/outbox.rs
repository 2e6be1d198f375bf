//! The outbox view (`/outbox?destination=&status=`): the rows of a destination by status with
//! their retry and dead-letter buttons, and the bulk action by filter: a dry run says how many
//! rows the action will touch, then the same form runs it (`POST /api/outbox/bulk` for scripts).
//! Each bulk run is one audit record with its filter and counts; each row moves with the same
//! store transition as a single action, so a row that changed meanwhile is counted as skipped.

use super::page::{Lang, esc, page, time};
use crate::admin::AdminState;
use crate::admin_auth::Caller;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use passerelle_store::{AuditEntry, OutboxFilter, OutboxStatus, Transition};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// At most this many rows in one bulk run.
pub const BULK_LIMIT: usize = 10_000;

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

#[derive(Serialize)]
pub struct BulkOutcome {
    pub matched: usize,
    pub done: usize,
    pub skipped: usize,
    pub dry_run: bool,
}

fn status_of(text: &str) -> Option<OutboxStatus> {
    OutboxStatus::parse(text)
}

/// Runs (or, dry, counts) `action` over the rows `destination`/`status` holds now.
pub async fn bulk(s: &AdminState, caller: &Caller, p: &BulkParams) -> Result<BulkOutcome, (StatusCode, String)> {
    let status = status_of(&p.status).ok_or((StatusCode::BAD_REQUEST, format!("unknown status {} (pending, delivered, dead)", p.status)))?;
    let fits =
        matches!((p.action.as_str(), status), ("retry", OutboxStatus::Dead) | ("dead-letter", OutboxStatus::Pending) | ("replay", OutboxStatus::Delivered));
    if !fits {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("{} does not apply to {} rows (retry: dead, dead-letter: pending, replay: delivered)", p.action, p.status),
        ));
    }
    let unavailable = |e: passerelle_store::StoreError| (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}"));
    let rows = s.store.list(OutboxFilter { destination: Some(p.destination.clone()), status: Some(status), limit: BULK_LIMIT }).await.map_err(unavailable)?;
    let mut outcome = BulkOutcome { matched: rows.len(), done: 0, skipped: 0, dry_run: p.dry_run };
    if p.dry_run {
        return Ok(outcome);
    }
    let target = format!("outbox destination={} status={} ({} rows)", p.destination, p.status, rows.len());
    let entry = AuditEntry {
        at_ms: crate::pipeline::now_ms(),
        role: caller.role.as_str().into(),
        remote: caller.remote.clone(),
        action: format!("bulk {}", p.action),
        target,
    };
    s.store.audit(entry).await.map_err(unavailable)?;
    for row in rows {
        let now = crate::pipeline::now_ms();
        let moved = match p.action.as_str() {
            "retry" => s.store.requeue(row.id, now).await,
            "replay" => s.store.replay(row.id, now).await,
            _ => s.store.dead_letter(row.id, format!("dead-lettered in bulk by an operator ({})", caller.role.as_str()), now).await,
        };
        match moved.map_err(unavailable)? {
            Transition::Done => outcome.done += 1,
            _ => outcome.skipped += 1,
        }
    }
    Ok(outcome)
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

/// The bulk form's answer: the counts, and the way back to the view.
pub fn bulk_page(lang: Lang, p: &BulkParams, outcome: &BulkOutcome) -> Response {
    let what = if outcome.dry_run { lang.t("Dry run") } else { lang.t("Done") };
    let body = format!(
        "<h1>{what}</h1><p id=\"bulk-outcome\" data-matched=\"{m}\" data-done=\"{d}\">{}: {m} · {}: {d} · {}: {sk}</p><p><a href=\"/outbox?destination={du}&status={st}\">{}</a></p>",
        lang.t("Matching rows"),
        lang.t("Done"),
        lang.t("Skipped"),
        lang.t("Outbox"),
        m = outcome.matched,
        d = outcome.done,
        sk = outcome.skipped,
        du = super::identity::url_encode(&p.destination),
        st = esc(&p.status),
    );
    page(lang, what, &body, false)
}
