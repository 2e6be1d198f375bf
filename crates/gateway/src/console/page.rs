//! What every console page shares: the language (French or English, from the browser's
//! Accept-Language), HTML escaping, and the layout (inline style, no script from anywhere else,
//! no font or image to fetch: the page works without internet access).

use axum::http::HeaderMap;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// French when the browser prefers it (the first language it names), else English.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let first = accept.split(',').next().unwrap_or_default().trim().to_ascii_lowercase();
        if first.starts_with("fr") { Self::Fr } else { Self::En }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The label `key` in this language (the key itself when it has none).
    pub fn t(self, key: &'static str) -> &'static str {
        let fr = match key {
            "Dashboard" => "Tableau de bord",
            "Messages" => "Messages",
            "Search" => "Rechercher",
            "Listener" => "Écoute",
            "Received" => "Reçus",
            "Acknowledged" => "Acquittés",
            "Rejected" => "Rejetés",
            "Duplicates" => "Doublons",
            "Destination" => "Destination",
            "Delivered" => "Livrés",
            "Retried" => "Relancés",
            "Dead letters" => "Lettres mortes",
            "Queued" => "En file",
            "Oldest queued" => "Plus ancien en file",
            "ACK latency" => "Latence de l'ACK",
            "Senders" => "Émetteurs",
            "Sender" => "Émetteur",
            "Routes" => "Routes",
            "Route" => "Route",
            "Matched" => "Retenus",
            "Nodes" => "Nœuds",
            "Node" => "Nœud",
            "Last seen" => "Vu il y a",
            "Identifier" => "Identifiant",
            "Control id" => "Id de contrôle",
            "Status" => "Statut",
            "Received at" => "Reçu le",
            "Type" => "Type",
            "Patient" => "Patient",
            "Diagnostics" => "Diagnostics",
            "No message found" => "Aucun message trouvé",
            "Raw message" => "Message brut",
            "Normalised model" => "Modèle normalisé",
            "Routing and deliveries" => "Routage et livraisons",
            "Attempts" => "Tentatives",
            "Next attempt" => "Prochaine tentative",
            "Last error" => "Dernière erreur",
            "Rendering" => "Rendu",
            "Actions" => "Actions",
            "Replay" => "Rejouer",
            "Retry" => "Relancer",
            "Dead-letter" => "Mettre en lettre morte",
            "ACK sent" => "ACK envoyé",
            "Hidden: the phi role sees identifiers" => "Masqué : seul le rôle phi voit les identifiants",
            "Refreshes every 10 s" => "Actualisé toutes les 10 s",
            "No delivery: no route matched, or the message was rejected or withheld" => "Aucune livraison : aucune route retenue, ou message rejeté ou retenu",
            "Withheld by consent" => "Retenu par le consentement",
            "Identity monitoring" => "Identitovigilance",
            "No identity alert" => "Aucune alerte d'identité",
            "Alert" => "Alerte",
            "Detail" => "Détail",
            "Acknowledge" => "Acquitter",
            "Message" => "Message",
            "The routes of the running configuration" => "Les routes de la configuration en cours",
            "matches" => "retenue",
            "does not match" => "non retenue",
            "Saved searches" => "Recherches enregistrées",
            "Name of this search" => "Nom de cette recherche",
            "Save this search" => "Enregistrer cette recherche",
            "Alerts" => "Alertes",
            "No alert firing" => "Aucune alerte en cours",
            "Since" => "Depuis",
            "Until" => "Jusqu'à",
            "Delivery attempts" => "Tentatives de livraison",
            "At" => "Le",
            "Outcome" => "Issue",
            "Answer or error" => "Réponse ou erreur",
            "Delivery" => "Livraison",
            "Paused" => "En pause",
            "Running" => "Active",
            "Pause" => "Suspendre",
            "Resume" => "Reprendre",
            "Log in" => "Connexion",
            "Admin token" => "Jeton d'administration",
            "Unknown token" => "Jeton inconnu",
            "Outbox" => "File d'envoi",
            "Dry run" => "Simulation",
            "all matching rows" => "toutes les lignes retenues",
            "Matching rows" => "Lignes retenues",
            "Done" => "Fait",
            "Skipped" => "Ignorées",
            "Last hour" => "Dernière heure",
            "Last 24 hours" => "Dernières 24 heures",
            "Since start" => "Depuis le démarrage",
            "Per minute, last hour; peak" => "Par minute, dernière heure ; pic",
            "No route" => "Sans route",
            "Withheld" => "Retenus (consentement)",
            "ACK latency (ms)" => "Latence de l'ACK (ms)",
            "Oldest queued (s)" => "Plus ancien en file (s)",
            "Last seen (s)" => "Vu il y a (s)",
            "Configuration" => "Configuration",
            "Accepted" => "Acceptés",
            "Refused" => "Refusés",
            "Not stored" => "Non enregistrés",
            "Document type" => "Type de document",
            "Back" => "Retour",
            "Finished" => "Terminé",
            "Bulk action" => "Action groupée",
            "Unknown job" => "Tâche inconnue",
            "Act on the rows of these messages" => "Agir sur les lignes de ces messages",
            "Run" => "Lancer",
            "At reception" => "À la réception",
            "matched" => "routes retenues",
            "no route matched" => "aucune route retenue",
            "not routed (refused before routing, or journaled by an earlier version)" => {
                "non routé (refusé avant le routage, ou journalisé par une version antérieure)"
            }
            _ => key,
        };
        match self {
            Self::Fr => fr,
            Self::En => key,
        }
    }
}

/// Field `name` of an `application/x-www-form-urlencoded` body, decoded.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let raw = text.split('&').find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `text` safe inside HTML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}\
header{background:#0b3d62;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1.5rem;align-items:center}\
header a{color:#fff;text-decoration:none;font-weight:600}main{padding:1rem 1.5rem}\
h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}\
table{border-collapse:collapse;background:#fff;margin:.3rem 0 1rem;min-width:40%}\
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:left;vertical-align:top}th{background:#eef1f4}\
td.n{text-align:right;font-variant-numeric:tabular-nums}code,pre{font:12px ui-monospace,monospace}\
pre{background:#fff;border:1px solid #d0d7de;padding:.6rem;overflow:auto;max-height:28rem}\
.spark{vertical-align:middle}.bar{display:inline-block;height:.7rem;background:#2f81f7;vertical-align:middle;margin-left:.4rem}\
.seg{display:block;white-space:pre}.seg span:hover{background:#fff3b0}\
.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}form.inline{display:inline}\
input[type=text]{width:28rem;padding:.25rem}progress{width:24rem;height:1.1rem;vertical-align:middle}button{padding:.25rem .7rem}";

/// A whole page: `title`, the navigation, `body`; `refresh` adds a reload every 10 seconds.
pub fn page(lang: Lang, title: &str, body: &str, refresh: bool) -> Response {
    page_refreshed(lang, title, body, if refresh { 10 } else { 0 })
}

/// A whole page reloaded every `seconds` (0: never).
pub fn page_refreshed(lang: Lang, title: &str, body: &str, seconds: u32) -> Response {
    let meta = if seconds > 0 { format!("<meta http-equiv=\"refresh\" content=\"{seconds}\">") } else { String::new() };
    let html = format!(
        "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\">{meta}<title>{title} · Passerelle</title><style>{STYLE}</style></head><body>\
         <header><b>Passerelle</b><a href=\"/\">{dashboard}</a><a href=\"/messages\">{messages}</a><a href=\"/outbox\">{outbox}</a><a href=\"/identity\">{identity}</a></header><main>{body}</main></body></html>",
        code = lang.code(),
        title = esc(title),
        dashboard = lang.t("Dashboard"),
        messages = lang.t("Messages"),
        identity = lang.t("Identity monitoring"),
        outbox = lang.t("Outbox"),
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// A time in ms since the epoch as `2026-11-20 09:30:00 UTC`.
pub fn time(ms: i64) -> String {
    let Some(t) = passerelle_model::PartialDateTime::from_unix_ms(ms) else { return format!("{ms} ms") };
    let two = |v: Option<u8>| v.unwrap_or(0);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", t.year, two(t.month), two(t.day), two(t.hour), two(t.minute), two(t.second))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_when_the_browser_prefers_it() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.8".parse().expect("header"));
        assert_eq!(Lang::from_headers(&h), Lang::Fr);
        h.insert(header::ACCEPT_LANGUAGE, "nl-BE,fr;q=0.5".parse().expect("header"));
        assert_eq!(Lang::from_headers(&h), Lang::En);
        assert_eq!(Lang::Fr.t("Replay"), "Rejouer");
    }

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(form_field(b"name=dead+letters%20%C3%A9&query=a%3Db", "name").as_deref(), Some("dead letters é"));
        assert_eq!(form_field(b"name=x&query=a%3Db%26c%3Dd", "query").as_deref(), Some("a=b&c=d"));
        assert_eq!(form_field(b"other=1", "name"), None);
    }

    #[test]
    fn times_and_escapes() {
        assert_eq!(time(1_795_132_800_000), "2026-11-20 00:00:00 UTC");
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
