//! Message search (`/messages?identifier=SYSTEM|VALUE`, or `patient=` any identifier value,
//! `control_id=`, `status=`, `sender=`, `message_type=`, `document_type=`, `destination=`,
//! `since=`, `until=`)
//! through the identifier table, and each message's lineage
//! (`/messages/<id>`): the raw bytes (ER7 segment by segment, each field titled with its
//! position), the ACK sent, the normalised model, its diagnostics, and for each destination the
//! delivery row with its rendering and the operator's actions, then every delivery attempt. Identifiers and bodies are shown
//! to the `phi` role only, and each such view is written to the audit trail first.

use super::page::{Lang, esc, page, time};
use crate::admin::AdminState;
use crate::admin_auth::{Caller, Role};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use passerelle_store::OutboxStatus;
use std::fmt::Write;

use crate::admin::{MessagesParams as SearchParams, audited};

fn input(name: &str, label: &str, value: &Option<String>, hint: &str) -> String {
    format!(
        "<label>{label} <input type=\"text\" name=\"{name}\" value=\"{}\" placeholder=\"{}\"></label> ",
        esc(value.as_deref().unwrap_or_default()),
        esc(hint)
    )
}

pub async fn search(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw_query): axum::extract::RawQuery,
    Query(p): Query<SearchParams>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let mut body = format!("<h1>{}</h1><form method=\"get\" action=\"/messages\" id=\"search\">", lang.t("Messages"));
    body.push_str(&input("identifier", lang.t("Identifier"), &p.identifier, "urn:oid:1.2.250.1.213.1.4.10|279035121518989"));
    body.push_str(&input("patient", lang.t("Patient"), &p.patient, "IPP100234"));
    body.push_str(&input("control_id", lang.t("Control id"), &p.control_id, "MSG-0001"));
    body.push_str("<br>");
    body.push_str(&input("sender", lang.t("Sender"), &p.sender, "APP|FACILITY"));
    body.push_str(&input("message_type", lang.t("Type"), &p.message_type, "ADT^A01"));
    body.push_str(&input("document_type", lang.t("Document type"), &p.document_type, "11488-4"));
    body.push_str(&input("destination", lang.t("Destination"), &p.destination, "dpi"));
    body.push_str(&input("since", lang.t("Since"), &p.since, "2026-12-01T00:00:00Z"));
    body.push_str(&input("until", lang.t("Until"), &p.until, "2026-12-02T00:00:00Z"));
    let _ = write!(body, "<button type=\"submit\">{}</button></form>", lang.t("Search"));
    let saved = super::searches::visible(&s, &caller).await;
    if !saved.is_empty() {
        let links: Vec<String> = saved.iter().map(|x| format!("<a class=\"saved\" href=\"/messages?{}\">{}</a>", esc(&x.query), esc(&x.name))).collect();
        let _ = write!(body, "<p id=\"saved\">{}: {}</p>", lang.t("Saved searches"), links.join(" · "));
    }
    let query_string = raw_query.unwrap_or_default();
    if !query_string.is_empty() {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/console/searches\" id=\"save-search\"><input type=\"hidden\" name=\"query\" value=\"{}\"><input type=\"text\" name=\"name\" placeholder=\"{}\"> <button type=\"submit\">{}</button></form>",
            esc(&query_string),
            lang.t("Name of this search"),
            lang.t("Save this search")
        );
    }
    let by_patient = p.by_patient();
    let query = match p.query(200, 200) {
        Ok(q) => q,
        Err(e) => {
            let _ = write!(body, "<p class=\"bad\" id=\"error\">{}</p>", esc(&e));
            return page(lang, lang.t("Messages"), &body, false);
        }
    };
    let rows = match s.store.search(query).await {
        Ok(rows) => rows,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")).into_response(),
    };
    let phi = caller.role >= Role::Phi;
    if phi
        && by_patient
        && let Err(refused) = audited(&s, &caller, "search", format!("console messages by patient ({} found)", rows.len())).await
    {
        return refused;
    }
    if rows.is_empty() {
        let _ = write!(body, "<p id=\"results\">{}</p>", lang.t("No message found"));
        return page(lang, lang.t("Messages"), &body, false);
    }
    let _ = write!(
        body,
        "<table id=\"results\"><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        lang.t("Received at"),
        lang.t("Listener"),
        lang.t("Type"),
        lang.t("Control id"),
        lang.t("Sender"),
        lang.t("Status"),
        lang.t("Patient")
    );
    for r in &rows {
        let keys = &r.patient;
        let patient = if phi {
            [keys.ins.as_deref(), keys.niss.as_deref(), keys.ipp.as_deref()].into_iter().flatten().map(esc).collect::<Vec<_>>().join(" · ")
        } else {
            format!("<i>{}</i>", lang.t("Hidden: the phi role sees identifiers"))
        };
        let _ = write!(
            body,
            "<tr><td><a href=\"/messages/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{:?}</td><td>{patient}</td></tr>",
            time(r.received_at_ms),
            esc(&r.listener),
            esc(&r.message_type),
            esc(&r.control_id),
            esc(&r.sender),
            r.status,
            id = r.id,
        );
    }
    body.push_str("</table>");
    if !rows.is_empty() {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/console/messages/bulk?{}\" id=\"search-bulk\"><b>{}</b> <select name=\"action\">\
             <option value=\"replay\">{}</option><option value=\"retry\">{}</option><option value=\"dead-letter\">{}</option></select> \
             <button type=\"submit\" name=\"dry_run\" value=\"true\">{}</button> <button type=\"submit\" name=\"dry_run\" value=\"false\">{}</button></form>",
            esc(&query_string),
            lang.t("Act on the rows of these messages"),
            lang.t("Replay"),
            lang.t("Retry"),
            lang.t("Dead-letter"),
            lang.t("Dry run"),
            lang.t("Run"),
        );
    }
    page(lang, lang.t("Messages"), &body, false)
}

/// A search for the audit trail: the conditions by name, patient values left out.
pub fn describe(p: &SearchParams) -> String {
    let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    let mut parts: Vec<String> = Vec::new();
    for (name, value) in [("identifier", &p.identifier), ("patient", &p.patient)] {
        if given(value) {
            parts.push(name.to_owned());
        }
    }
    let shown = [
        ("control_id", &p.control_id),
        ("status", &p.status),
        ("sender", &p.sender),
        ("message_type", &p.message_type),
        ("document_type", &p.document_type),
        ("destination", &p.destination),
        ("since", &p.since),
        ("until", &p.until),
    ];
    for (name, value) in shown {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            parts.push(format!("{name}={v}"));
        }
    }
    if parts.is_empty() { "every message".into() } else { parts.join(" ") }
}

/// ER7 shown segment by segment, each field in a span titled with its position (`PID-3`).
fn er7(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let separator = text.get(3..4).unwrap_or("|").to_owned();
    let mut out = String::from("<pre id=\"raw\">");
    for segment in text.split(['\r', '\n']).filter(|s| !s.is_empty()) {
        let name = segment.get(..3).unwrap_or(segment);
        out.push_str("<span class=\"seg\">");
        for (i, field) in segment.split(separator.as_str()).enumerate() {
            if i > 0 {
                out.push_str(&esc(&separator));
            }
            // MSH-1 is the separator itself: MSH fields are numbered one further.
            let n = if name == "MSH" && i > 0 { i + 1 } else { i };
            let _ = write!(out, "<span title=\"{}-{n}\">{}</span>", esc(name), esc(field));
        }
        out.push_str("</span>");
    }
    out.push_str("</pre>");
    out
}

/// Above this size a body is shown as received (indenting it would cost more than reading it).
const INDENT_AT_MOST: usize = 8 * 1024 * 1024;

/// JSON and XML indented for reading (the bytes kept are those received), anything else as is.
fn pretty(raw: &[u8]) -> String {
    let first = raw.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let indented = match first {
        _ if raw.len() > INDENT_AT_MOST => None,
        Some(b'{' | b'[') => serde_json::from_slice::<serde_json::Value>(raw).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()),
        Some(b'<') => passerelle_cda::indent_xml(raw),
        _ => None,
    };
    let shown = indented.unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned());
    format!("<pre id=\"raw\">{}</pre>", esc(&shown))
}

pub async fn lineage(State(s): State<AdminState>, Extension(caller): Extension<Caller>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let lang = Lang::from_headers(&headers);
    if let Err(refused) = audited(&s, &caller, "read message", format!("console message/{id}")).await {
        return refused;
    }
    let m = match s.store.message(id).await {
        Ok(Some(m)) => m,
        Ok(None) => return (StatusCode::NOT_FOUND, format!("no message {id}")).into_response(),
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}")).into_response(),
    };
    let sum = &m.summary;
    let mut body = format!(
        "<h1>{} {id} : {} <code>{}</code></h1><table id=\"summary\"><tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{}</td></tr><tr><th>{}</th><td>{:?}</td></tr>",
        lang.t("Message"),
        esc(&sum.message_type),
        esc(&sum.control_id),
        lang.t("Received at"),
        time(sum.received_at_ms),
        lang.t("Listener"),
        esc(&sum.listener),
        lang.t("Sender"),
        esc(&sum.sender),
        lang.t("Status"),
        sum.status
    );
    if let Some(why) = &sum.withheld {
        let _ = write!(body, "<tr><th>{}</th><td class=\"warn\">{}</td></tr>", lang.t("Withheld by consent"), esc(why));
    }
    body.push_str("</table>");
    let _ = write!(body, "<h2>{}</h2>", lang.t("Diagnostics"));
    if sum.diagnostics.is_empty() {
        body.push_str("<p class=\"ok\">–</p>");
    } else {
        let _ = write!(body, "<pre id=\"diagnostics\">{}</pre>", esc(&sum.diagnostics));
    }
    let _ = write!(body, "<h2>{}</h2>", lang.t("Raw message"));
    body.push_str(&if m.raw.starts_with(b"MSH") { er7(&m.raw) } else { pretty(&m.raw) });
    let _ = write!(body, "<h2>{}</h2>{}", lang.t("ACK sent"), er7(&m.ack).replace("id=\"raw\"", "id=\"ack\""));
    let _ = write!(body, "<h2>{}</h2>", lang.t("Routing and deliveries"));
    let at_reception = match m.routes.as_deref() {
        None => lang.t("not routed (refused before routing, or journaled by an earlier version)").to_owned(),
        Some("") => lang.t("no route matched").to_owned(),
        Some(names) => format!("{}: <b>{}</b>", lang.t("matched"), esc(&names.replace(',', ", "))),
    };
    let _ = write!(body, "<p id=\"routed\" data-routes=\"{}\">{}: {at_reception}</p>", esc(m.routes.as_deref().unwrap_or_default()), lang.t("At reception"));
    if let Some(model) = m.normalised.as_deref().and_then(|n| serde_json::from_slice::<passerelle_model::Message>(n).ok()) {
        let version = s.live.version.read().map(|v| v.clone()).unwrap_or_default();
        let _ = write!(body, "<p>{} <code>{}</code>:</p><table id=\"routing\">", lang.t("The routes of the running configuration"), esc(&version));
        for (route, matched, to) in s.live.explain_routing(&model) {
            let (class, word) = if matched { ("ok", lang.t("matches")) } else { ("", lang.t("does not match")) };
            let _ = write!(
                body,
                "<tr class=\"route\" data-matched=\"{matched}\"><td>{}</td><td class=\"{class}\">{word}</td><td>→ {}</td></tr>",
                esc(&route),
                esc(&to.join(", "))
            );
        }
        body.push_str("</table>");
    }
    if m.deliveries.is_empty() {
        let _ = write!(body, "<p id=\"deliveries\">{}</p>", lang.t("No delivery: no route matched, or the message was rejected or withheld"));
    } else {
        let _ = write!(
            body,
            "<table id=\"deliveries\"><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            lang.t("Destination"),
            lang.t("Status"),
            lang.t("Attempts"),
            lang.t("Next attempt"),
            lang.t("Last error"),
            lang.t("Rendering"),
            lang.t("Actions")
        );
        for d in &m.deliveries {
            let action = match d.status {
                OutboxStatus::Delivered => Some(("replay", lang.t("Replay"))),
                OutboxStatus::Dead => Some(("retry", lang.t("Retry"))),
                OutboxStatus::Pending => Some(("dead-letter", lang.t("Dead-letter"))),
                _ => None,
            };
            let form = action.map_or_else(String::new, |(verb, label)| {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/console/outbox/{}/{verb}?back={id}\"><button type=\"submit\">{label}</button></form>",
                    d.id
                )
            });
            let _ = write!(
                body,
                "<tr data-outbox=\"{row}\"><td>{row}</td><td>{}</td><td class=\"status\">{}</td><td class=\"n attempts\">{}</td><td>{}</td><td>{}</td><td><a href=\"/api/outbox/{row}/rendering\">{}</a></td><td>{form}</td></tr>",
                esc(&d.destination),
                d.status.as_str(),
                d.attempts,
                if d.status == OutboxStatus::Pending { time(d.next_attempt_ms) } else { "–".into() },
                esc(d.last_error.as_deref().unwrap_or("")),
                lang.t("Rendering"),
                row = d.id,
            );
        }
        body.push_str("</table>");
        let _ = write!(
            body,
            "<h2>{}</h2><table id=\"attempts\"><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            lang.t("Delivery attempts"),
            lang.t("At"),
            lang.t("Outcome"),
            lang.t("Answer or error")
        );
        for a in &m.attempts {
            let class = match a.outcome.as_str() {
                "delivered" => "ok",
                "dead" => "bad",
                _ => "warn",
            };
            let _ = write!(
                body,
                "<tr class=\"attempt\"><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td><code>{}</code></td></tr>",
                a.outbox_id,
                time(a.at_ms),
                esc(&a.outcome),
                esc(&a.detail)
            );
        }
        body.push_str("</table>");
    }
    if let Some(model) = &m.normalised {
        let _ = write!(body, "<h2>{}</h2>{}", lang.t("Normalised model"), pretty(model).replace("id=\"raw\"", "id=\"model\""));
    }
    page(lang, &format!("{} {id}", lang.t("Message")), &body, false)
}
