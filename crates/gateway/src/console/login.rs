//! The console's login (`/login`): a browser cannot send a bearer token, so an operator gives
//! theirs once and gets it back as a session cookie (HttpOnly, SameSite=Strict, Secure when
//! the admin port serves TLS), which the admin port then accepts like the bearer token.
//! `POST /logout` forgets it. Without configured tokens (loopback only) nobody needs to log in.

use super::page::{Lang, page};
use crate::admin_auth::{AdminAuth, SESSION_COOKIE};
use axum::Extension;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

fn form(lang: Lang, failed: bool) -> Response {
    let error = if failed { format!("<p class=\"bad\" id=\"login-error\">{}</p>", lang.t("Unknown token")) } else { String::new() };
    let body = format!(
        "<h1>{}</h1>{error}<form method=\"post\" action=\"/login\" id=\"login\"><label>{} <input type=\"password\" name=\"token\" autocomplete=\"current-password\"></label> <button type=\"submit\">{}</button></form>",
        lang.t("Log in"),
        lang.t("Admin token"),
        lang.t("Log in")
    );
    page(lang, lang.t("Log in"), &body, false)
}

pub async fn show(headers: HeaderMap) -> Response {
    form(Lang::from_headers(&headers), false)
}

pub async fn submit(Extension(auth): Extension<Arc<AdminAuth>>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::from_headers(&headers);
    if !super::same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "a login must come from the console's own page").into_response();
    }
    let Some(token) = super::page::form_field(&body, "token").filter(|t| !t.is_empty() && auth.role_of_token(t).is_some()) else {
        let mut refused = form(lang, true);
        *refused.status_mut() = StatusCode::UNAUTHORIZED;
        return refused;
    };
    let secure = if auth.tls { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub async fn logout() -> Response {
    let mut response = Redirect::to("/login").into_response();
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
