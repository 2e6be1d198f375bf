//! Pack `ci-sis`: the CDA R2 header "structuration minimale" of the CI-SIS (template
//! 1.2.250.1.213.1.1.1.1, schematron of 2017-12-13; ../shared/docs/domain-fr-be.md §1.4, §3.2):
//! realm, type and template ids, document id, type code (JDV_J07), confidentiality, language,
//! the patient with the INS traits, author idNatPS, custodian, legal authenticator, encounter,
//! the nullFlavors allowed, and the level-1 (nonXMLBody) form.

use super::Ctx;
use crate::report::{NotChecked, PackId, Severity};
use crate::values::{is_oid, is_timestamp};

pub const PACK: PackId = PackId { name: "ci-sis", version: "1.2.250.1.213.1.1.1.1-2017-12-13" };

pub const RULES: &[(&str, &str)] = &[
    ("cda.document.readable", "the file is well-formed UTF-8 XML with a ClinicalDocument root in urn:hl7-org:v3 and no DOCTYPE"),
    ("cisis.header.realmcode", "realmCode/@code is FR, once"),
    ("cisis.header.typeid", "typeId is 2.16.840.1.113883.1.3 / POCD_HD000040"),
    (
        "cisis.header.templateid",
        "templateIds 2.16.840.1.113883.2.8.2.1 and 1.2.250.1.213.1.1.1.1 and a volet template (three at least; 1.3.6.1.4.1.19376.1.2.20 for a nonXMLBody)",
    ),
    ("cisis.header.id", "id has an OID root (and an optional extension)"),
    ("cisis.header.code", "code is LOINC (2.16.840.1.113883.6.1) or TRE_A05 (1.2.250.1.213.1.1.4.12), from JDV_J07"),
    ("cisis.header.effective-time", "effectiveTime/@value is a TS"),
    ("cisis.header.confidentiality", "confidentialityCode is N, R or V of 2.16.840.1.113883.5.25"),
    ("cisis.header.language", "languageCode/@code has the form ll-CC (fr-FR)"),
    ("cisis.header.version-number", "versionNumber/@value is present"),
    ("cisis.header.record-target", "one recordTarget/patientRole whose every id has a root and an extension"),
    (
        "cisis.header.ins-traits",
        "with an INS root, the traits: family@BR, given@BR, a given without qualifier, birthTime, birthplace county, administrativeGenderCode",
    ),
    ("cisis.header.author", "at least one author with time and assignedAuthor/id"),
    ("cisis.header.author-id", "an idNatPS (root 1.2.250.1.71.4.2.1) has the TRE_G08 form: 8 + RPPS (11 digits), 0 + ADELI (9), 3 + FINESS/local id, …"),
    ("cisis.header.custodian", "custodian/assignedCustodian/representedCustodianOrganization has an id"),
    ("cisis.header.legal-authenticator", "legalAuthenticator with time and assignedEntity/id"),
    ("cisis.header.documentation-of", "at least one documentationOf"),
    ("cisis.header.encounter", "componentOf/encompassingEncounter with effectiveTime and location/healthCareFacility/code"),
    ("cisis.header.null-flavor", "a nullFlavor in the header is UNK, NASK, ASKU, NAV or MSK"),
    ("cisis.body.non-xml", "a nonXMLBody text has a mediaType and representation B64"),
];

const HL7_FRANCE: &str = "2.16.840.1.113883.2.8.2.1";
const CISIS_HEADER: &str = "1.2.250.1.213.1.1.1.1";
const XDS_SD: &str = "1.3.6.1.4.1.19376.1.2.20";
const LOINC: &str = "2.16.840.1.113883.6.1";
const TRE_A05: &str = "1.2.250.1.213.1.1.4.12";
const ID_NAT_PS: &str = "1.2.250.1.71.4.2.1";
const INS_ROOTS: [&str; 4] = ["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"];
/// The part of JDV_J07 shipped (domain-fr-be.md §3.4); a code outside it is "not checked".
const J07_SHIPPED: &[&str] = &[
    "11490-0",
    "11488-4",
    "34133-9",
    "11502-2",
    "18748-4",
    "18761-7",
    "34112-3",
    "15507-7",
    "34874-8",
    "60591-5",
    "57833-6",
    "57832-8",
    "60593-1",
    "11369-6",
    "87273-9",
    "60568-3",
    "34794-8",
    "77436-4",
    "34749-2",
    "15508-5",
    "28653-4",
    "34842-5",
    "80788-3",
    "83981-1",
    "88348-8",
    "96349-6",
    "89601-9",
    "85208-7",
    "51851-4",
    "101881-1",
    "SYNTH",
    "PROT_ALD",
    "CERT_DECL",
    "EXPPAT_1",
    "EXPPAT_2",
    "EXPPAT_3",
    "IMG-KOS",
    "PRESC-BIO",
    "PRESC-KINE",
    "PRESC-INF",
    "EXPORT_DUI",
    "REMB",
];
const NULL_FLAVORS: [&str; 5] = ["UNK", "NASK", "ASKU", "NAV", "MSK"];

pub fn check(ctx: &mut Ctx<'_>) {
    let tree = ctx.tree;
    let root = 0;
    let realms: Vec<usize> = tree.children(root, "realmCode").collect();
    if realms.len() != 1 || tree.attr(realms[0], "code") != Some("FR") {
        let at = realms.first().map_or_else(|| ctx.missing(root, "realmCode"), |r| ctx.at(*r));
        ctx.push("cisis.header.realmcode", Severity::Error, at, format!("{} realmCode, expected one with code FR", realms.len()));
    }
    match tree.child(root, "typeId") {
        Some(t) if tree.attr(t, "root") == Some("2.16.840.1.113883.1.3") && tree.attr(t, "extension") == Some("POCD_HD000040") => {}
        other => {
            let at = other.map_or_else(|| ctx.missing(root, "typeId"), |t| ctx.at(t));
            ctx.push("cisis.header.typeid", Severity::Error, at, "typeId is not root 2.16.840.1.113883.1.3 extension POCD_HD000040");
        }
    }
    check_templates(ctx);
    match tree.child(root, "id") {
        Some(id) if tree.attr(id, "root").is_some_and(is_oid) => {}
        other => {
            let at = other.map_or_else(|| ctx.missing(root, "id"), |t| ctx.at(t));
            ctx.push("cisis.header.id", Severity::Error, at, "the document id has no OID root (CI-SIS identifies documents by OID)");
        }
    }
    check_code(ctx);
    let effective = tree.child(root, "effectiveTime");
    if !effective.and_then(|e| tree.attr(e, "value")).is_some_and(is_timestamp) {
        let at = effective.map_or_else(|| ctx.missing(root, "effectiveTime"), |e| ctx.at(e));
        ctx.push("cisis.header.effective-time", Severity::Error, at, "effectiveTime/@value is missing or not a TS");
    }
    let confidentiality = tree.child(root, "confidentialityCode");
    let conf_ok =
        confidentiality.is_some_and(|c| matches!(tree.attr(c, "code"), Some("N" | "R" | "V")) && tree.attr(c, "codeSystem") == Some("2.16.840.1.113883.5.25"));
    if !conf_ok {
        let at = confidentiality.map_or_else(|| ctx.missing(root, "confidentialityCode"), |c| ctx.at(c));
        ctx.push("cisis.header.confidentiality", Severity::Error, at, "confidentialityCode is not N, R or V of 2.16.840.1.113883.5.25");
    }
    let language = tree.child(root, "languageCode");
    if !language.and_then(|l| tree.attr(l, "code")).is_some_and(is_language) {
        let at = language.map_or_else(|| ctx.missing(root, "languageCode"), |l| ctx.at(l));
        ctx.push("cisis.header.language", Severity::Error, at, "languageCode/@code is missing or not of the form fr-FR");
    }
    if tree.child(root, "versionNumber").and_then(|v| tree.attr(v, "value")).is_none() {
        ctx.push("cisis.header.version-number", Severity::Error, ctx.missing(root, "versionNumber"), "versionNumber/@value is required");
    }
    check_record_target(ctx);
    check_participants(ctx);
    check_null_flavors(ctx);
    check_body(ctx);
}

fn is_language(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5 && b[..2].iter().all(u8::is_ascii_lowercase) && b[2] == b'-' && b[3..].iter().all(u8::is_ascii_uppercase)
}

fn check_templates(ctx: &mut Ctx<'_>) {
    let tree = ctx.tree;
    let templates: Vec<&str> = tree.children(0, "templateId").filter_map(|t| tree.attr(t, "root")).collect();
    let non_xml = tree.find(0, "component/nonXMLBody").is_some();
    let mut missing: Vec<&str> = [HL7_FRANCE, CISIS_HEADER].into_iter().filter(|t| !templates.contains(t)).collect();
    if non_xml && !templates.contains(&XDS_SD) {
        missing.push(XDS_SD);
    }
    let at = tree.child(0, "templateId").map_or_else(|| ctx.missing(0, "templateId"), |t| ctx.at(t));
    if !missing.is_empty() {
        ctx.push("cisis.header.templateid", Severity::Error, at, format!("templateId {} missing", missing.join(", ")));
    } else if templates.len() < 3 {
        ctx.push("cisis.header.templateid", Severity::Error, at, "no volet templateId beside the HL7 France and CI-SIS header ones");
    }
}

fn check_code(ctx: &mut Ctx<'_>) {
    let tree = ctx.tree;
    let Some(code) = tree.child(0, "code") else {
        ctx.push("cisis.header.code", Severity::Error, ctx.missing(0, "code"), "the document type code is required");
        return;
    };
    let system = tree.attr(code, "codeSystem").unwrap_or_default();
    let value = tree.attr(code, "code").unwrap_or_default();
    if value.is_empty() || !matches!(system, LOINC | TRE_A05) {
        ctx.push("cisis.header.code", Severity::Error, ctx.at(code), format!("code {value:?} of system {system:?} is not LOINC or TRE_A05"));
    } else if !J07_SHIPPED.contains(&value) {
        let reason = format!("{value} is not among the {} JDV_J07 codes shipped; the full value set is not shipped", J07_SHIPPED.len());
        ctx.not_checked.push(NotChecked { rule: "cisis.header.code", reason });
    }
}

fn check_record_target(ctx: &mut Ctx<'_>) {
    let tree = ctx.tree;
    let roles = tree.find_all(0, "recordTarget/patientRole");
    let Some(&role) = roles.first() else {
        ctx.push("cisis.header.record-target", Severity::Error, ctx.missing(0, "recordTarget"), "no recordTarget/patientRole");
        return;
    };
    if roles.len() > 1 {
        ctx.push("cisis.header.record-target", Severity::Error, ctx.at(roles[1]), "more than one recordTarget/patientRole");
    }
    let ids: Vec<usize> = tree.children(role, "id").collect();
    if ids.is_empty() {
        ctx.push("cisis.header.record-target", Severity::Error, ctx.missing(role, "id"), "the patient has no id");
    }
    for id in &ids {
        if tree.attr(*id, "root").is_none() || tree.attr(*id, "extension").is_none() {
            ctx.push("cisis.header.record-target", Severity::Error, ctx.at(*id), "a patient id without root or extension");
        }
    }
    if !ids.iter().any(|id| tree.attr(*id, "root").is_some_and(|r| INS_ROOTS.contains(&r))) {
        return;
    }
    let patient = tree.child(role, "patient");
    let in_patient = |path: &str| patient.map(|p| tree.find_all(p, path)).unwrap_or_default();
    let names = in_patient("name");
    let with_qualifier = |part: &str, q: Option<&str>| {
        names.iter().flat_map(|n| tree.children(*n, part).collect::<Vec<_>>()).any(|e| tree.attr(e, "qualifier") == q && !tree.get(e).text.is_empty())
    };
    let mut missing = Vec::new();
    if !with_qualifier("family", Some("BR")) {
        missing.push("family@BR");
    }
    if !with_qualifier("given", Some("BR")) {
        missing.push("given@BR");
    }
    if !with_qualifier("given", None) {
        missing.push("given (the birth first names)");
    }
    if !in_patient("birthTime").iter().any(|b| tree.attr(*b, "value").is_some()) {
        missing.push("birthTime");
    }
    if !in_patient("birthplace/place/addr/county").iter().any(|c| !tree.get(*c).text.is_empty()) {
        missing.push("birthplace/place/addr/county");
    }
    if !in_patient("administrativeGenderCode").iter().any(|g| tree.attr(*g, "code").is_some()) {
        missing.push("administrativeGenderCode/@code");
    }
    if !missing.is_empty() {
        let at = patient.map_or_else(|| ctx.missing(role, "patient"), |p| ctx.at(p));
        ctx.push("cisis.header.ins-traits", Severity::Error, at, format!("an INS is given without {}", missing.join(", ")));
    }
}

/// A TRE_G08 idNatPS: a type prefix and the identifier it announces.
pub fn is_id_nat_ps(value: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = value.get(1..) else { return false };
    match value.as_bytes().first() {
        Some(b'8' | b'6') => digits(rest, 11),
        Some(b'0' | b'1') => rest.len() == 9 && rest.bytes().all(|b| b.is_ascii_alphanumeric()),
        Some(b'3') => rest.split_once('/').is_some_and(|(finess, local)| finess.len() == 9 && !local.is_empty()),
        Some(b'4') => digits(rest, 9),
        Some(b'5') => digits(rest, 14),
        _ => false,
    }
}

fn check_participants(ctx: &mut Ctx<'_>) {
    let tree = ctx.tree;
    let authors: Vec<usize> = tree.children(0, "author").collect();
    if authors.is_empty() {
        ctx.push("cisis.header.author", Severity::Error, ctx.missing(0, "author"), "at least one author is required");
    }
    for author in &authors {
        if tree.child(*author, "time").is_none() || tree.find(*author, "assignedAuthor/id").is_none() {
            ctx.push("cisis.header.author", Severity::Error, ctx.at(*author), "an author needs time and assignedAuthor/id");
        }
    }
    let people = [tree.find_all(0, "author/assignedAuthor/id"), tree.find_all(0, "legalAuthenticator/assignedEntity/id")].concat();
    for id in people {
        if tree.attr(id, "root") == Some(ID_NAT_PS) && !tree.attr(id, "extension").is_some_and(is_id_nat_ps) {
            let value = tree.attr(id, "extension").unwrap_or_default();
            ctx.push("cisis.header.author-id", Severity::Error, ctx.at(id), format!("idNatPS {value:?} is not a TRE_G08 type prefix and identifier"));
        }
    }
    if tree.find(0, "custodian/assignedCustodian/representedCustodianOrganization/id").is_none() {
        let at = tree.child(0, "custodian").map_or_else(|| ctx.missing(0, "custodian"), |c| ctx.at(c));
        ctx.push("cisis.header.custodian", Severity::Error, at, "no custodian/assignedCustodian/representedCustodianOrganization/id");
    }
    match tree.child(0, "legalAuthenticator") {
        Some(l) if tree.child(l, "time").is_some() && tree.find(l, "assignedEntity/id").is_some() => {}
        other => {
            let at = other.map_or_else(|| ctx.missing(0, "legalAuthenticator"), |l| ctx.at(l));
            ctx.push("cisis.header.legal-authenticator", Severity::Error, at, "a legalAuthenticator with time and assignedEntity/id is required");
        }
    }
    if tree.child(0, "documentationOf").is_none() {
        ctx.push("cisis.header.documentation-of", Severity::Error, ctx.missing(0, "documentationOf"), "at least one documentationOf is required");
    }
    match tree.find(0, "componentOf/encompassingEncounter") {
        Some(e) if tree.child(e, "effectiveTime").is_some() && tree.find(e, "location/healthCareFacility/code").is_some() => {}
        other => {
            let at = other.map_or_else(|| ctx.missing(0, "componentOf"), |e| ctx.at(e));
            ctx.push(
                "cisis.header.encounter",
                Severity::Error,
                at,
                "componentOf/encompassingEncounter needs effectiveTime and location/healthCareFacility/code",
            );
        }
    }
}

fn check_null_flavors(ctx: &mut Ctx<'_>) {
    let tree = ctx.tree;
    let header: Vec<usize> = tree.get(0).children.iter().copied().filter(|c| tree.get(*c).name != "component").flat_map(|c| tree.descendants(c)).collect();
    for id in header {
        if let Some(flavor) = tree.attr(id, "nullFlavor")
            && !NULL_FLAVORS.contains(&flavor)
        {
            ctx.push(
                "cisis.header.null-flavor",
                Severity::Error,
                ctx.at(id),
                format!("nullFlavor {flavor} is not allowed in the header (UNK, NASK, ASKU, NAV, MSK)"),
            );
        }
    }
}

fn check_body(ctx: &mut Ctx<'_>) {
    let tree = ctx.tree;
    let Some(body) = tree.find(0, "component/nonXMLBody") else { return };
    match tree.child(body, "text") {
        Some(text) if tree.attr(text, "mediaType").is_some() && tree.attr(text, "representation") == Some("B64") => {}
        other => {
            let at = other.map_or_else(|| ctx.missing(body, "text"), |t| ctx.at(t));
            ctx.push("cisis.body.non-xml", Severity::Error, at, "nonXMLBody/text needs a mediaType and representation B64");
        }
    }
}
