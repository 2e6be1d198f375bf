//! The identity monitoring page (`/identity`, role `phi`, audited): the alerts of the last 30
//! days with their messages, and an Acknowledge button on each open one.

use super::page::{Lang, esc, page};
use crate::admin::AdminState;
use crate::admin_auth::Caller;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use passerelle_store::AuditEntry;
use std::fmt::Write;

pub async fn alerts(State(s): State<AdminState>, Extension(caller): Extension<Caller>, headers: HeaderMap) -> Response {
    let lang = Lang::from_headers(&headers);
    let entry = AuditEntry {
        at_ms: crate::pipeline::now_ms(),
        role: caller.role.as_str().into(),
        remote: caller.remote.clone(),
        action: "read identity alerts".into(),
        target: "console identity".into(),
    };
    if let Err(e) = s.store.audit(entry).await {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("audit trail unavailable, nothing shown: {e}")).into_response();
    }
    let since = crate::pipeline::now_ms() - 30 * 86_400_000;
    let alerts = match crate::identity_alerts::current(s.store.as_ref(), &s.metrics, since, 50_000).await {
        Ok(a) => a,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")).into_response(),
    };
    let mut body = format!("<h1>{}</h1>", lang.t("Identity monitoring"));
    if alerts.is_empty() {
        let _ = write!(body, "<p id=\"alerts\">{}</p>", lang.t("No identity alert"));
        return page(lang, lang.t("Identity monitoring"), &body, false);
    }
    let _ = write!(
        body,
        "<table id=\"alerts\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        lang.t("Alert"),
        lang.t("Identifier"),
        lang.t("Detail"),
        lang.t("Messages"),
        lang.t("Actions")
    );
    for a in &alerts {
        let links: Vec<String> = a.messages.iter().map(|m| format!("<a href=\"/messages/{m}\">{m}</a>")).collect();
        let action = if a.acknowledged {
            format!("<span class=\"ok\">{}</span>", lang.t("Acknowledged"))
        } else {
            let id: String = url_encode(&a.id);
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/console/identity/acknowledge?id={id}\"><button type=\"submit\">{}</button></form>",
                lang.t("Acknowledge")
            )
        };
        let _ = write!(
            body,
            "<tr class=\"alert\" data-kind=\"{}\"><td class=\"bad\">{}</td><td><code>{}|{}</code></td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            a.kind,
            a.kind,
            esc(&a.identifier.system),
            esc(&a.identifier.value),
            esc(&a.detail),
            links.join(" ")
        );
    }
    body.push_str("</table>");
    page(lang, lang.t("Identity monitoring"), &body, false)
}

/// Percent-encoding for a query value.
pub fn url_encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
