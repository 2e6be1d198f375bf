//! ORU^R01 and MDM^T02/T10/T04 carrying a CDA document (ANS volet "Transmission de documents CDA
//! en HL7v2"): the document OBX (ED, `^TEXT^XML^Base64^…`) located in the message bytes, TXA-12
//! and OBX-3 as its id and type, and the ORC-1 / OBX-11 / trigger consistency the volet requires.

use crate::tokenizer::Field;
use crate::tokenizer::{Message as Er7, Segment};
use passerelle_model::{Code, ContentRef, Document, DocumentSharing, InstanceId, Issue, IssueLocation, Organisation, Participant, Recipient};

/// The OBX that carry a document (ED with XML or PDF content), with their positions.
fn document_obx<'m, 'a>(er7: &'m Er7<'a>) -> impl Iterator<Item = (usize, Segment<'m, 'a>)> + 'm {
    er7.segments_named("OBX").enumerate().filter(|(_, obx)| obx.field(2).raw() == b"ED" && !obx.field(5).component(5).is_empty())
}

/// The TXA-12 / TXA-13 unique document id: `ext^^root^ISO`, or the OID alone in TXA-12.1.
fn txa_id(seg: &Segment<'_, '_>, field: usize) -> Option<InstanceId> {
    let f = seg.field(field);
    let (first, root) = (f.component(1).text(), f.component(3).text());
    match (first.is_empty(), root.is_empty()) {
        (true, _) => None,
        (false, false) => Some(InstanceId { root: root.into_owned(), extension: Some(first.into_owned()) }),
        (false, true) => Some(InstanceId { root: first.into_owned(), extension: None }),
    }
}

/// Reads the document an ORU/MDM carries (a second document OBX, as an ORU with the N1 and N3
/// forms of a report has, becomes a companion), or `None` when it carries none.
pub fn read_document(er7: &Er7<'_>, trigger: &str, issues: &mut Vec<Issue>) -> Option<Document> {
    let mut found = document_obx(er7);
    let (index, obx) = found.next()?;
    let mut doc = obx_document(er7, &obx, index, trigger, issues);
    for (index, obx) in found {
        doc.companions.push(obx_document(er7, &obx, index, trigger, issues));
    }
    if let Some(txa) = er7.segment("TXA") {
        doc.id = txa_id(&txa, 12).unwrap_or_default();
        doc.replaces = txa_id(&txa, 13);
        doc.effective_time = passerelle_model::PartialDateTime::parse_hl7(&txa.field(4).text());
    } else if let Some(obr) = er7.segment("OBR") {
        // An ORU without TXA: the filler order number (EI `id^namespace^root^ISO`) names the
        // document and OBR-7 dates it (a CDA's own header replaces both when it is one).
        doc.id = txa_id(&obr, 3).unwrap_or_default();
        doc.effective_time = passerelle_model::PartialDateTime::parse_hl7(&obr.field(7).text());
    }
    read_participants(er7, &mut doc);
    doc.sharing = read_sharing(er7, issues);
    Some(doc)
}

/// One document OBX: its content's place and type, its type code, its status.
fn obx_document(er7: &Er7<'_>, obx: &Segment<'_, '_>, index: usize, trigger: &str, issues: &mut Vec<Issue>) -> Document {
    let at = IssueLocation::field("OBX", index + 1, 5);
    let data = obx.field(5);
    let (kind, encoding) = (data.component(3).text().to_ascii_uppercase(), data.component(4).text().to_ascii_uppercase());
    let media_type = match kind.as_str() {
        "XML" => "text/xml",
        "PDF" => "application/pdf",
        _ => {
            issues.push(Issue::warning("document-type-unknown", "OBX-5.3 is neither XML nor PDF").at(at.clone()));
            "application/octet-stream"
        }
    };
    if encoding != "BASE64" && encoding != "A" {
        issues.push(Issue::error("document-encoding", "OBX-5.4 must be Base64 (or A for plain text)").at(at.clone()));
    }
    let raw = data.component(5).raw();
    let offset = raw.as_ptr() as usize - er7.input().as_ptr() as usize;
    let mut doc = Document {
        content: Some(ContentRef { media_type: media_type.into(), offset, length: raw.len(), base64: encoding == "BASE64" }),
        ..Document::default()
    };
    let type_field = obx.field(3);
    if !type_field.component(1).is_empty() {
        let system = match type_field.component(3).raw() {
            b"LN" => "2.16.840.1.113883.6.1".to_owned(),
            _ => type_field.component(3).text().into_owned(),
        };
        doc.type_code = Some(Code { code: type_field.component(1).text().into_owned(), system, display: type_field.component(2).string() });
    }
    doc.deleted = obx.field(11).raw() == b"D";
    check_status(er7, trigger, obx, index, issues);
    doc
}

/// An XCN (PRT-5) or the id part of it: `id^family^given^…^authority(&oid&ISO)`.
fn person(f: Field<'_>) -> Option<Participant> {
    let (id, family, given, root) = (f.component(1).string(), f.component(2).string(), f.component(3).string(), f.component(9).subcomponent(2).string());
    if id.is_none() && family.is_none() {
        return None;
    }
    let id = id.map(|extension| InstanceId { root: root.unwrap_or_default(), extension: Some(extension) });
    Some(Participant { id, family, given, ..Participant::default() })
}

/// An XON (PRT-8): `name^^^^^authority(&oid&ISO)^type^^^identifier`.
fn organisation(f: Field<'_>) -> Option<Organisation> {
    let (name, root, ext) = (f.component(1).string(), f.component(6).subcomponent(2).string(), f.component(10).string());
    let id = ext.map(|extension| InstanceId { root: root.unwrap_or_default(), extension: Some(extension) });
    (name.is_some() || id.is_some()).then_some(Organisation { id, name })
}

/// PRT (pre-adopted from v2.9): `SB` (sent by) is the author when nothing else says so;
/// `RCT` (copy to) and `REPLY` are the recipients, with their MSSanté address (PRT-15.4).
fn read_participants(er7: &Er7<'_>, doc: &mut Document) {
    for prt in er7.segments_named("PRT") {
        let role = prt.field(4).component(1).text().into_owned();
        let mut who = person(prt.field(5)).unwrap_or_default();
        who.organisation = organisation(prt.field(8));
        if role == "SB" {
            if doc.authors.is_empty() {
                doc.authors.push(who);
            }
            continue;
        }
        let address = prt.field(15).repetitions().find_map(|r| r.component(4).string());
        doc.recipients.push(Recipient { role, who, address });
    }
}

/// The MetaDMPMSS OBX rows (OBX-3.3 = `MetaDMPMSS`, OBX-5.1 `Y` or `N`).
fn read_sharing(er7: &Er7<'_>, issues: &mut Vec<Issue>) -> Option<DocumentSharing> {
    let mut sharing = DocumentSharing::default();
    let mut any = false;
    for (i, obx) in er7.segments_named("OBX").enumerate() {
        if obx.field(3).component(3).raw() != b"MetaDMPMSS" {
            continue;
        }
        let code = obx.field(3).component(1).text();
        let value = match obx.field(5).component(1).raw() {
            b"Y" => true,
            b"N" => false,
            _ => {
                issues.push(Issue::warning("bad-value", "MetaDMPMSS flag other than Y or N ignored").at(IssueLocation::field("OBX", i + 1, 5)));
                continue;
            }
        };
        any |= sharing.set(&code, value);
    }
    any.then_some(sharing)
}

/// ORC-1 / OBX-11 / trigger must agree: NW + F (T02), RO + C (T10), CA + D (T04).
fn check_status(er7: &Er7<'_>, trigger: &str, obx: &Segment<'_, '_>, index: usize, issues: &mut Vec<Issue>) {
    let result_status = obx.field(11).text();
    let order_control = er7.segment("ORC").map(|orc| orc.field(1).text().into_owned());
    let expected = match result_status.as_ref() {
        "F" => ("NW", "T02"),
        "C" => ("RO", "T10"),
        "D" => ("CA", "T04"),
        _ => {
            issues.push(Issue::error("document-status-inconsistent", "OBX-11 must be F, C or D for a document").at(IssueLocation::field("OBX", index + 1, 11)));
            return;
        }
    };
    if order_control.as_deref().is_some_and(|c| c != expected.0) {
        issues.push(
            Issue::error("document-status-inconsistent", format!("ORC-1 must be {} with OBX-11 {result_status}", expected.0))
                .at(IssueLocation::field("ORC", 1, 1)),
        );
    }
    if trigger.starts_with('T') && trigger != expected.1 {
        issues.push(
            Issue::error("document-status-inconsistent", format!("MSH-9 trigger must be {} with OBX-11 {result_status}", expected.1))
                .at(IssueLocation::field("MSH", 1, 9)),
        );
    }
}
