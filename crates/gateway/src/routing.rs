//! Declarative routing: `route()` is a pure function from rules and a message to destination names.

use crate::config::{RouteConfig, RouteMatch};
use passerelle_model::{IdentifierKind, Message};

/// `*` matches any run of characters, `?` one character; everything else literally.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

pub fn validate_match(m: &RouteMatch) -> Result<(), String> {
    if let Some(n) = &m.national_id
        && !matches!(n.as_str(), "fr-ins" | "be-niss" | "any" | "none")
    {
        return Err(format!("national_id must be fr-ins, be-niss, any or none, not {n}"));
    }
    if let Some(t) = &m.identity_trust
        && !matches!(t.as_str(), "qualified" | "validated" | "any")
    {
        return Err(format!("identity_trust must be qualified, validated or any, not {t}"));
    }
    Ok(())
}

fn matches(m: &RouteMatch, msg: &Message) -> bool {
    let field = |pattern: &Option<String>, value: Option<&str>| pattern.as_deref().is_none_or(|p| glob_match(p, value.unwrap_or("")));
    let ids = msg.patient.as_ref().map(|p| p.identifiers.as_slice()).unwrap_or_default();
    let has_ins = ids.iter().any(|i| i.kind.is_ins());
    let has_niss = ids.iter().any(|i| matches!(i.kind, IdentifierKind::Niss | IdentifierKind::Bis));
    let national = match m.national_id.as_deref() {
        None | Some("any") => true,
        Some("fr-ins") => has_ins,
        Some("be-niss") => has_niss,
        Some("none") => !has_ins && !has_niss,
        Some(_) => false,
    };
    let validated = msg.patient.as_ref().is_some_and(|p| p.trust.allows_ins());
    let trust = match m.identity_trust.as_deref() {
        None | Some("any") => true,
        Some("validated") => validated,
        Some("qualified") => validated && has_ins,
        Some(_) => false,
    };
    field(&m.message_type, Some(&msg.event.code()))
        && field(&m.sending_application, msg.sending_application.as_deref())
        && field(&m.sending_facility, msg.sending_facility.as_deref())
        && national
        && trust
}

/// Destinations for a message: the union of every matching route's `to`, in first-seen order.
pub fn route(rules: &[RouteConfig], msg: &Message) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rules.iter().filter(|r| matches(&r.matches, msg)) {
        for d in &r.to {
            if !out.contains(d) {
                out.push(d.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use passerelle_model::{Format, Identifier, MessageEvent, Patient};

    fn rule(name: &str, m: RouteMatch, to: &[&str]) -> RouteConfig {
        RouteConfig { name: name.into(), matches: m, to: to.iter().map(|s| (*s).to_string()).collect() }
    }

    fn adt(trigger: &str, ids: Vec<Identifier>, vali: bool) -> Message {
        let mut msg = Message::new(Format::Hl7v2);
        msg.event = MessageEvent { message_type: "ADT".into(), trigger: trigger.into(), structure: String::new() };
        msg.sending_application = Some("SIH".into());
        let mut p = Patient { identifiers: ids, ..Patient::default() };
        if vali {
            p.trust.push_code("VALI");
        }
        msg.patient = Some(p);
        msg
    }

    #[test]
    fn globs() {
        assert!(glob_match("ADT^*", "ADT^A01"));
        assert!(glob_match("*", ""));
        assert!(glob_match("ADT^A0?", "ADT^A08"));
        assert!(!glob_match("ADT^A0?", "ADT^A11"));
        assert!(!glob_match("ORU^*", "ADT^A01"));
        assert!(glob_match("*^A4*", "ADT^A47"));
    }

    #[test]
    fn fan_out_and_national_identifier_and_trust_rules() {
        let ins = Identifier::new(IdentifierKind::InsNirTest, "279035121518989");
        let niss = Identifier::belgian("85073003328");
        let rules = vec![
            rule("all-adt", RouteMatch { message_type: Some("ADT^*".into()), ..Default::default() }, &["archive", "ehr"]),
            rule("fr-dmp", RouteMatch { national_id: Some("fr-ins".into()), identity_trust: Some("qualified".into()), ..Default::default() }, &["dmp"]),
            rule("be", RouteMatch { national_id: Some("be-niss".into()), ..Default::default() }, &["hub-be", "ehr"]),
            rule("other-sender", RouteMatch { sending_application: Some("LAB*".into()), ..Default::default() }, &["lab"]),
        ];
        assert_eq!(route(&rules, &adt("A01", vec![ins.clone()], true)), ["archive", "ehr", "dmp"]);
        assert_eq!(route(&rules, &adt("A01", vec![ins.clone()], false)), ["archive", "ehr"]);
        assert_eq!(route(&rules, &adt("A04", vec![ins, niss.clone()], true)), ["archive", "ehr", "dmp", "hub-be"]);
        assert_eq!(route(&rules, &adt("A28", vec![niss], false)), ["archive", "ehr", "hub-be"]);
        let mut oru = adt("R01", vec![], false);
        oru.event.message_type = "ORU".into();
        assert!(route(&rules, &oru).is_empty());
    }
}
