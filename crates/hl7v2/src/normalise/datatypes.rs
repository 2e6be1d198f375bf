//! HL7 v2 composite data types read into model values: CX, XPN, XAD, XTN, XCN, PL, TS.

use crate::tokenizer::Field;
use passerelle_model::{Address, AttendingDoctor, Authority, ContactPoint, HumanName, Identifier, Issue, IssueLocation, Location, PartialDateTime, classify};

/// A TS/DTM field (component 1), with a diagnostic when it is not a valid date.
pub fn timestamp(f: Field<'_>, segment: &'static str, field: usize, issues: &mut Vec<Issue>) -> Option<PartialDateTime> {
    let text = f.component(1).text();
    if text.is_empty() || text == "\"\"" {
        return None;
    }
    let parsed = PartialDateTime::parse_hl7(&text);
    if parsed.is_none() {
        issues.push(Issue::warning("bad-date", "malformed date/time ignored").at(IssueLocation::field(segment, 1, field)));
    }
    parsed
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// One CX repetition: value, assigning authority (namespace & OID & type) and identifier type,
/// classified by the model's identity rules (kind from OID + type together, never one alone).
pub fn cx(rep: Field<'_>, issues: &mut Vec<Issue>, at: &IssueLocation) -> Option<Identifier> {
    let [c1, _, _, authority, c5] = rep.component_array::<5>();
    let value = c1.text_with(issues);
    if value.is_empty() {
        return None;
    }
    let (namespace, oid, authority_type, type_code) =
        (authority.subcomponent(1).text(), authority.subcomponent(2).text(), authority.subcomponent(3).text(), c5.text());
    let authority =
        Authority { oid: non_empty(&oid), namespace: non_empty(&namespace), authority_type: non_empty(&authority_type), type_code: non_empty(&type_code) };
    let (id, issue) = classify(&value, authority);
    if let Some(issue) = issue {
        issues.push(issue.at(at.clone()));
    }
    Some(id)
}

/// One XPN repetition. XPN-1.1 is the surname; `""` asks to clear the name and yields `None`.
pub fn xpn(rep: Field<'_>, issues: &mut Vec<Issue>) -> Option<HumanName> {
    let c = rep.component_array::<7>();
    if c[0].is_null() {
        return None;
    }
    let family = c[0].subcomponent(1).text_with(issues);
    let mut given = Vec::new();
    for g in [c[1], c[2]] {
        let g = g.text_with(issues);
        if !g.is_empty() {
            given.push(g.into_owned());
        }
    }
    let name = HumanName {
        name_use: (!c[6].is_empty()).then(|| crate::tables::name_use(&c[6].text())),
        family: (!family.is_empty()).then(|| family.into_owned()),
        given,
        suffix: c[3].string(),
        prefix: c[4].string(),
    };
    (name.family.is_some() || !name.given.is_empty()).then_some(name)
}

pub fn xad(rep: Field<'_>, issues: &mut Vec<Issue>) -> Option<Address> {
    let c = rep.component_array::<9>();
    let mut lines = Vec::new();
    for part in [c[0], c[1]] {
        let l = part.subcomponent(1).text_with(issues);
        if !l.is_empty() && l != "\"\"" {
            lines.push(l.into_owned());
        }
    }
    let a = Address {
        kind: c[6].string(),
        lines,
        city: c[2].string(),
        state: c[3].string(),
        postal_code: c[4].string(),
        country: c[5].string(),
        cog: c[8].string(),
    };
    (a != Address::default()).then_some(a)
}

pub fn xtn(rep: Field<'_>, issues: &mut Vec<Issue>) -> Option<ContactPoint> {
    let c = rep.component_array::<12>();
    let usage = match c[1].raw() {
        b"PRN" | b"ORN" | b"VHN" => Some("home"),
        b"WPN" => Some("work"),
        b"PRS" => Some("mobile"),
        _ => None,
    };
    let equipment = c[2].raw();
    let email = c[3].text_with(issues);
    let (system, value) = if !email.is_empty() || equipment == b"Internet" || equipment == b"X.400" {
        ("email", email.into_owned())
    } else {
        let system = if equipment == b"FX" { "fax" } else { "phone" };
        let unformatted = c[11].text();
        let number = if !unformatted.is_empty() {
            unformatted.into_owned()
        } else {
            let parts = [c[4].text(), c[5].text(), c[6].text()];
            let joined: Vec<_> = parts.iter().filter(|p| !p.is_empty()).map(|p| p.as_ref()).collect();
            if joined.is_empty() { c[0].text().into_owned() } else { joined.join(" ") }
        };
        (system, number)
    };
    if value.is_empty() {
        return None;
    }
    let usage = if equipment == b"CP" { Some("mobile") } else { usage };
    Some(ContactPoint { system: system.to_owned(), usage: usage.map(str::to_owned), value })
}

/// XCN: id, family, given, assigning authority (component 9).
pub fn doctor(f: Field<'_>, issues: &mut Vec<Issue>) -> Option<AttendingDoctor> {
    let d = AttendingDoctor {
        id: f.component(1).string(),
        family: {
            let t = f.component(2).subcomponent(1).text_with(issues);
            (!t.is_empty()).then(|| t.into_owned())
        },
        given: f.component(3).string(),
        authority: f.component(9).subcomponent(1).string(),
    };
    (d != AttendingDoctor::default()).then_some(d)
}

/// PL: point of care, room, bed, facility, description.
pub fn location(f: Field<'_>) -> Option<Location> {
    let l = Location {
        point_of_care: f.component(1).string(),
        room: f.component(2).string(),
        bed: f.component(3).string(),
        facility: f.component(4).subcomponent(1).string(),
        description: f.component(9).string(),
    };
    (l != Location::default()).then_some(l)
}
