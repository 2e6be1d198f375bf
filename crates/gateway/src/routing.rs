//! Declarative routing on the model: typed rules (read from `[[route]]`, their enums checked at
//! config load) and `route()`, a pure function from rules and a message to destination names.

use passerelle_model::{EventKind, FeedingChoice, Format, Message};
use serde::Deserialize;

/// Which national identifier the patient carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NationalId {
    FrIns,
    BeNiss,
    Any,
    None,
}

/// How far the identity is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityTrustLevel {
    /// Validated with an INS kept (FR Core `QUAL`).
    Qualified,
    /// Validated (PID-32 `VALI`, neither doubtful nor fictitious).
    Validated,
    Any,
}

/// What a message carries, named by the FHIR resource it is (or would be rendered as), whatever
/// its wire format: an ORU^R01 with results carries Observation and DiagnosticReport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ResourceType {
    Patient,
    Encounter,
    DocumentReference,
    Observation,
    DiagnosticReport,
    Specimen,
    ServiceRequest,
    Appointment,
    Immunization,
}

impl ResourceType {
    /// Whether `msg` carries one of these.
    pub fn carried_by(self, msg: &Message) -> bool {
        let clinical = msg.clinical();
        let reports = || clinical.into_iter().flat_map(|c| c.reports.iter());
        match self {
            Self::Patient => msg.patient.is_some(),
            Self::Encounter => msg.encounter().is_some(),
            Self::DocumentReference => msg.document().is_some(),
            Self::Observation => reports().any(|r| !r.observations.is_empty()),
            Self::DiagnosticReport => reports().next().is_some(),
            Self::Specimen => reports().any(|r| !r.specimens.is_empty()),
            Self::ServiceRequest => clinical.is_some_and(|c| !c.orders.is_empty()),
            Self::Appointment => clinical.is_some_and(|c| c.appointment.is_some()),
            Self::Immunization => clinical.is_some_and(|c| !c.immunizations.is_empty()),
        }
    }
}

/// What a route matches; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteMatch {
    /// Glob on the source's own code `TYPE^TRIGGER`, e.g. `ADT^*`.
    pub message_type: Option<String>,
    /// The neutral events (`admit`, `discharge`, `merge`, `document`…): any of them.
    pub event: Option<Vec<EventKind>>,
    /// The input format (`hl7v2`, `cda`, `fhir`).
    pub format: Option<Format>,
    /// What the message carries (`Observation`, `Appointment`, `DocumentReference`…): any of them.
    pub resource_type: Option<Vec<ResourceType>>,
    /// Globs on the sending application and facility.
    pub sending_application: Option<String>,
    pub sending_facility: Option<String>,
    pub national_id: Option<NationalId>,
    pub identity_trust: Option<IdentityTrustLevel>,
    /// Document type codes (LOINC or TRE_A05 code values): any of them. Only documents match.
    pub document_type: Option<Vec<String>>,
    /// Document confidentiality codes (`N`, `R`, `V`…): any of them. Only documents match.
    pub confidentiality: Option<Vec<String>>,
    /// MetaDMPMSS flags the sender set to `Y` (`DESTMSSANTEPS`, `DESTDMP`…): any of them.
    pub sharing_flags: Option<Vec<String>>,
    /// The ZFA-9 this message states for the patient (`opposed`, `not-opposed`, `not-collected`):
    /// any of them. (The DMP withholding rule also remembers earlier messages' ZFA-9.)
    pub dmp_feeding: Option<Vec<FeedingChoice>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub name: String,
    #[serde(default, rename = "match")]
    pub matches: RouteMatch,
    pub to: Vec<String>,
}

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

fn matches(m: &RouteMatch, msg: &Message) -> bool {
    let envelope = &msg.envelope;
    let glob = |pattern: &Option<String>, value: Option<&str>| pattern.as_deref().is_none_or(|p| glob_match(p, value.unwrap_or("")));
    let ids = msg.patient.as_ref().map(|p| p.identifiers.as_slice()).unwrap_or_default();
    let has_ins = ids.iter().any(|i| i.kind.is_ins());
    let has_niss = ids.iter().any(|i| i.kind.is_belgian());
    let national = match m.national_id {
        None | Some(NationalId::Any) => true,
        Some(NationalId::FrIns) => has_ins,
        Some(NationalId::BeNiss) => has_niss,
        Some(NationalId::None) => !has_ins && !has_niss,
    };
    let validated = msg.patient.as_ref().is_some_and(|p| p.trust.allows_ins());
    let trust = match m.identity_trust {
        None | Some(IdentityTrustLevel::Any) => true,
        Some(IdentityTrustLevel::Validated) => validated,
        Some(IdentityTrustLevel::Qualified) => validated && has_ins,
    };
    let document = msg.document();
    let document_code = |wanted: &Option<Vec<String>>, code: fn(&passerelle_model::Document) -> Option<&str>| {
        wanted.as_ref().is_none_or(|codes| document.and_then(code).is_some_and(|c| codes.iter().any(|w| w == c)))
    };
    glob(&m.message_type, Some(&envelope.event.source.code()))
        && document_code(&m.document_type, |d| d.type_code.as_ref().map(|c| c.code.as_str()))
        && document_code(&m.confidentiality, |d| d.confidentiality.as_ref().map(|c| c.code.as_str()))
        && m.event.as_ref().is_none_or(|kinds| kinds.contains(&envelope.event.kind))
        && m.format.is_none_or(|f| f == envelope.format)
        && m.resource_type.as_ref().is_none_or(|types| types.iter().any(|t| t.carried_by(msg)))
        && glob(&m.sending_application, envelope.sender.application.as_deref())
        && glob(&m.sending_facility, envelope.sender.facility.as_deref())
        && national
        && trust
        && m.sharing_flags.as_ref().is_none_or(|flags| {
            let sharing = document.and_then(|d| d.sharing.as_ref());
            flags.iter().any(|f| sharing.and_then(|s| s.get(f)) == Some(true))
        })
        && m.dmp_feeding.as_ref().is_none_or(|choices| {
            let feeding = msg.patient.as_ref().and_then(|p| p.dmp_consent.as_ref()).and_then(|c| c.feeding);
            feeding.is_some_and(|f| choices.contains(&f))
        })
}

/// Every route with whether it matches `msg` (the lineage's routing decision).
pub fn explain(rules: &[RouteConfig], msg: &Message) -> Vec<(String, bool, Vec<String>)> {
    rules.iter().map(|r| (r.name.clone(), matches(&r.matches, msg), r.to.clone())).collect()
}

/// Destinations for a message: the union of every matching route's `to`, in first-seen order.
pub fn route(rules: &[RouteConfig], msg: &Message) -> Vec<String> {
    route_counted(rules, msg, |_| {})
}

/// [`route`], calling `matched` with the name of each route that matches (for its metric).
pub fn route_counted(rules: &[RouteConfig], msg: &Message, mut matched: impl FnMut(&str)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rules.iter().filter(|r| matches(&r.matches, msg)) {
        matched(&r.name);
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
    use passerelle_model::{Identifier, IdentifierKind, Patient, SourceEvent};

    fn rule(name: &str, m: RouteMatch, to: &[&str]) -> RouteConfig {
        RouteConfig { name: name.into(), matches: m, to: to.iter().map(|s| (*s).to_string()).collect() }
    }

    fn adt(trigger: &str, kind: EventKind, ids: Vec<Identifier>, vali: bool) -> Message {
        let mut msg = Message::new(Format::Hl7v2);
        msg.envelope.event.source = SourceEvent { message_type: "ADT".into(), trigger: trigger.into(), structure: String::new() };
        msg.envelope.event.kind = kind;
        msg.envelope.sender.application = Some("SIH".into());
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
            rule(
                "fr-dmp",
                RouteMatch { national_id: Some(NationalId::FrIns), identity_trust: Some(IdentityTrustLevel::Qualified), ..Default::default() },
                &["dmp"],
            ),
            rule("be", RouteMatch { national_id: Some(NationalId::BeNiss), ..Default::default() }, &["hub-be", "ehr"]),
            rule("other-sender", RouteMatch { sending_application: Some("LAB*".into()), ..Default::default() }, &["lab"]),
            rule("discharges", RouteMatch { event: Some(vec![EventKind::Discharge]), format: Some(Format::Hl7v2), ..Default::default() }, &["gp"]),
        ];
        assert_eq!(route(&rules, &adt("A01", EventKind::Admit, vec![ins.clone()], true)), ["archive", "ehr", "dmp"]);
        assert_eq!(route(&rules, &adt("A01", EventKind::Admit, vec![ins.clone()], false)), ["archive", "ehr"]);
        assert_eq!(route(&rules, &adt("A04", EventKind::Register, vec![ins, niss.clone()], true)), ["archive", "ehr", "dmp", "hub-be"]);
        assert_eq!(route(&rules, &adt("A28", EventKind::PatientUpdate, vec![niss], false)), ["archive", "ehr", "hub-be"]);
        assert_eq!(route(&rules, &adt("A03", EventKind::Discharge, vec![], false)), ["archive", "ehr", "gp"]);
        let mut report = adt("T02", EventKind::Document, vec![], false);
        report.content = passerelle_model::Content::Document(passerelle_model::Document {
            type_code: Some(passerelle_model::Code { code: "11502-2".into(), system: "2.16.840.1.113883.6.1".into(), display: None }),
            confidentiality: Some(passerelle_model::Code { code: "R".into(), system: "2.16.840.1.113883.5.25".into(), display: None }),
            ..Default::default()
        });
        let lab = [rule("lab-reports", RouteMatch { document_type: Some(vec!["11502-2".into()]), ..Default::default() }, &["lab"])];
        assert_eq!(route(&lab, &report), ["lab"]);
        assert!(route(&lab, &adt("A01", EventKind::Admit, vec![], false)).is_empty(), "only documents match a document type");
        let restricted = [rule("normal-only", RouteMatch { confidentiality: Some(vec!["N".into()]), ..Default::default() }, &["portal"])];
        assert!(route(&restricted, &report).is_empty(), "a restricted (R) document does not match N");
        let flagged = [rule("mssante", RouteMatch { sharing_flags: Some(vec!["DESTMSSANTEPS".into()]), ..Default::default() }, &["mss"])];
        assert!(route(&flagged, &report).is_empty(), "no MetaDMPMSS flags, no match");
        if let passerelle_model::Content::Document(d) = &mut report.content {
            let mut sharing = passerelle_model::DocumentSharing::default();
            sharing.set("DESTMSSANTEPS", true);
            d.sharing = Some(sharing);
        }
        assert_eq!(route(&flagged, &report), ["mss"]);
        let observations = [rule("results", RouteMatch { resource_type: Some(vec![ResourceType::Observation]), ..Default::default() }, &["lis"])];
        assert!(route(&observations, &report).is_empty(), "a document carries no Observation");
        let mut results = adt("R01", EventKind::Results, vec![], false);
        results.content = passerelle_model::Content::Clinical(passerelle_model::Clinical {
            reports: vec![passerelle_model::Report { observations: vec![Default::default()], ..Default::default() }],
            ..Default::default()
        });
        assert_eq!(route(&observations, &results), ["lis"]);
        let opposed = [rule("opposed", RouteMatch { dmp_feeding: Some(vec![FeedingChoice::Opposed]), ..Default::default() }, &["audit"])];
        assert!(route(&opposed, &report).is_empty());
        if let Some(p) = report.patient.as_mut() {
            p.dmp_consent = Some(passerelle_model::DmpConsent { feeding: Some(FeedingChoice::Opposed), ..Default::default() });
        }
        assert_eq!(route(&opposed, &report), ["audit"]);
        let mut oru = adt("R01", EventKind::Other, vec![], false);
        oru.envelope.event.source.message_type = "ORU".into();
        assert!(route(&rules, &oru).is_empty());
    }
}
