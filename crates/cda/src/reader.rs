//! The streaming pass over a CDA document: one walk of quick-xml events that keeps only the header
//! values the model needs and the byte span of the body (never a copy of it).

use crate::{CdaError, DecodeOptions, NS_HL7_V3};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

/// An instance identifier (`II`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ii {
    pub root: String,
    pub extension: Option<String>,
}

/// A coded value (`CD`/`CE`/`CS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cd {
    pub code: String,
    pub system: String,
    pub display: Option<String>,
}

/// One `family` or `given` of the patient's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePart {
    /// Which `name` element (0-based) it belongs to.
    pub name: usize,
    pub family: bool,
    pub qualifier: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct RawPatient {
    pub ids: Vec<Ii>,
    pub names: Vec<NamePart>,
    pub gender: Option<String>,
    pub birth_time: Option<String>,
    pub birthplace_county: Option<String>,
    pub telecoms: Vec<(Option<String>, String)>,
    name_count: usize,
}

/// An author or legal authenticator as read: the first id, the person's name, the organisation.
#[derive(Debug, Clone, Default)]
pub struct RawParticipant {
    pub id: Option<Ii>,
    pub family: Option<String>,
    pub given: Option<String>,
    pub org_id: Option<Ii>,
    pub org_name: Option<String>,
    pub time: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawBody {
    pub media_type: Option<String>,
    pub base64: bool,
    pub offset: usize,
    pub length: usize,
}

#[derive(Debug, Clone, Default)]
pub struct RawHeader {
    pub realm: Option<String>,
    pub template_ids: Vec<String>,
    pub id: Option<Ii>,
    pub code: Option<Cd>,
    pub title: Option<String>,
    pub effective_time: Option<String>,
    pub confidentiality: Option<Cd>,
    pub language: Option<String>,
    pub set_id: Option<Ii>,
    pub version: Option<String>,
    pub replaces: Option<Ii>,
    pub patient: Option<RawPatient>,
    pub custodian: Option<String>,
    pub custodian_id: Option<Ii>,
    pub authors: Vec<RawParticipant>,
    pub legal_authenticator: Option<RawParticipant>,
    pub facility_type: Option<Cd>,
    pub has_encounter: bool,
    pub practice_setting: Option<Cd>,
    pub body: Option<RawBody>,
    pub sections: Vec<(Option<Cd>, Option<String>)>,
}

/// Which text the walk is collecting, and where it goes when the element closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    Title,
    NamePart,
    County,
    Custodian,
    SectionTitle,
    Person(Who, PersonPart),
}

/// Whose name or organisation a capture fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Author,
    Legal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PersonPart {
    Family,
    Given,
    Organisation,
}

impl RawHeader {
    fn participant(&mut self, who: Who) -> &mut RawParticipant {
        match who {
            Who::Author => {
                if self.authors.is_empty() {
                    self.authors.push(RawParticipant::default());
                }
                let last = self.authors.len() - 1;
                &mut self.authors[last]
            }
            Who::Legal => self.legal_authenticator.get_or_insert_with(RawParticipant::default),
        }
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.as_ref() == name).and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok()).map(|v| v.into_owned())
}

fn ii(e: &BytesStart<'_>) -> Ii {
    Ii { root: attr(e, "root").unwrap_or_default(), extension: attr(e, "extension") }
}

fn cd(e: &BytesStart<'_>) -> Cd {
    Cd { code: attr(e, "code").unwrap_or_default(), system: attr(e, "codeSystem").unwrap_or_default(), display: attr(e, "displayName") }
}

/// The state of one walk: the open elements, the text being collected, the body's start.
#[derive(Default)]
struct Walk {
    header: RawHeader,
    /// Local names of the open elements: the ones header paths use, `*` for any other (or for an
    /// element outside the CDA namespace), so that no element costs an allocation.
    stack: Vec<&'static str>,
    /// The text being collected, and the depth of the element it closes with.
    capture: Option<(Capture, String, usize)>,
    pending_part: Option<NamePart>,
    /// Where the body starts, and whether it is a structuredBody (else the nonXMLBody text).
    body_start: Option<(usize, bool)>,
    in_replacement: bool,
}

/// Reads the header and locates the body of `text`.
pub fn read(text: &str, options: &DecodeOptions) -> Result<RawHeader, CdaError> {
    let mut reader = NsReader::from_str(text);
    let mut walk = Walk { stack: Vec::with_capacity(32), ..Walk::default() };
    loop {
        let before = reader.buffer_position() as usize;
        let read = reader.read_resolved_event().map(|(ns, event)| (matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS_HL7_V3), event));
        let (in_cda, event) = read.map_err(|e| CdaError::NotXml { position: reader.error_position(), message: e.to_string() })?;
        let after = reader.buffer_position() as usize;
        match event {
            Event::DocType(_) => return Err(CdaError::Doctype),
            Event::Start(ref e) | Event::Empty(ref e) if walk.stack.is_empty() => {
                if !in_cda || e.local_name().as_ref() != "ClinicalDocument" {
                    return Err(CdaError::NotCda);
                }
                if matches!(event, Event::Start(_)) {
                    walk.stack.push("ClinicalDocument");
                }
            }
            ref ev @ (Event::Start(ref e) | Event::Empty(ref e)) => {
                walk.stack.push(if in_cda { known(e.local_name().as_ref()) } else { "*" });
                if walk.stack.len() > options.max_depth {
                    return Err(CdaError::TooDeep { max: options.max_depth });
                }
                walk.open(e, before, after);
                if matches!(ev, Event::Empty(_)) {
                    walk.close(before, after);
                }
            }
            Event::End(_) => walk.close(before, after),
            Event::Text(t) => walk.text(&t.xml10_content()),
            Event::CData(t) => walk.text(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => walk.text(c.encode_utf8(&mut [0u8; 4])),
                _ => match r.as_ref() {
                    "lt" => walk.text("<"),
                    "gt" => walk.text(">"),
                    "amp" => walk.text("&"),
                    "apos" => walk.text("'"),
                    "quot" => walk.text("\""),
                    // No DOCTYPE, so no other entity can exist: dropped, never expanded.
                    _ => {}
                },
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(walk.header)
}

/// The element names header paths mention, as static strings; any other name is `*`.
fn known(local: &str) -> &'static str {
    match local {
        "ClinicalDocument" => "ClinicalDocument",
        "realmCode" => "realmCode",
        "templateId" => "templateId",
        "id" => "id",
        "code" => "code",
        "title" => "title",
        "effectiveTime" => "effectiveTime",
        "confidentialityCode" => "confidentialityCode",
        "languageCode" => "languageCode",
        "setId" => "setId",
        "versionNumber" => "versionNumber",
        "relatedDocument" => "relatedDocument",
        "parentDocument" => "parentDocument",
        "recordTarget" => "recordTarget",
        "patientRole" => "patientRole",
        "telecom" => "telecom",
        "patient" => "patient",
        "name" => "name",
        "family" => "family",
        "given" => "given",
        "administrativeGenderCode" => "administrativeGenderCode",
        "birthTime" => "birthTime",
        "birthplace" => "birthplace",
        "place" => "place",
        "addr" => "addr",
        "county" => "county",
        "custodian" => "custodian",
        "assignedCustodian" => "assignedCustodian",
        "representedCustodianOrganization" => "representedCustodianOrganization",
        "component" => "component",
        "structuredBody" => "structuredBody",
        "nonXMLBody" => "nonXMLBody",
        "text" => "text",
        "section" => "section",
        "author" => "author",
        "time" => "time",
        "assignedAuthor" => "assignedAuthor",
        "assignedPerson" => "assignedPerson",
        "representedOrganization" => "representedOrganization",
        "legalAuthenticator" => "legalAuthenticator",
        "assignedEntity" => "assignedEntity",
        "componentOf" => "componentOf",
        "encompassingEncounter" => "encompassingEncounter",
        "location" => "location",
        "healthCareFacility" => "healthCareFacility",
        "documentationOf" => "documentationOf",
        "serviceEvent" => "serviceEvent",
        "performer" => "performer",
        "standardIndustryClassCode" => "standardIndustryClassCode",
        _ => "*",
    }
}

impl Walk {
    fn text(&mut self, text: &str) {
        if let Some((_, buf, _)) = self.capture.as_mut() {
            buf.push_str(text);
        }
    }

    /// What an opening element contributes (its attributes, a text capture, or the body's start).
    fn open(&mut self, e: &BytesStart<'_>, before: usize, after: usize) {
        let Walk { header, stack, capture, pending_part, body_start, in_replacement } = self;
        let path = stack.as_slice();
        let depth = path.len();
        let mut capture_text = |kind: Capture| *capture = Some((kind, String::new(), depth));
        const PATIENT: [&str; 4] = ["ClinicalDocument", "recordTarget", "patientRole", "patient"];
        match path {
            ["ClinicalDocument", "realmCode"] => header.realm = attr(e, "code"),
            ["ClinicalDocument", "templateId"] => header.template_ids.extend(attr(e, "root")),
            ["ClinicalDocument", "id"] => header.id = Some(ii(e)),
            ["ClinicalDocument", "code"] => header.code = Some(cd(e)),
            ["ClinicalDocument", "title"] => capture_text(Capture::Title),
            ["ClinicalDocument", "effectiveTime"] => header.effective_time = attr(e, "value"),
            ["ClinicalDocument", "confidentialityCode"] => header.confidentiality = Some(cd(e)),
            ["ClinicalDocument", "languageCode"] => header.language = attr(e, "code"),
            ["ClinicalDocument", "setId"] => header.set_id = Some(ii(e)),
            ["ClinicalDocument", "versionNumber"] => header.version = attr(e, "value"),
            ["ClinicalDocument", "relatedDocument"] => *in_replacement = attr(e, "typeCode").as_deref() == Some("RPLC"),
            ["ClinicalDocument", "relatedDocument", "parentDocument", "id"] if *in_replacement => header.replaces = Some(ii(e)),
            ["ClinicalDocument", "recordTarget", "patientRole"] => {
                header.patient.get_or_insert_with(RawPatient::default);
            }
            ["ClinicalDocument", "recordTarget", "patientRole", "id"] => header.patient.get_or_insert_with(RawPatient::default).ids.push(ii(e)),
            ["ClinicalDocument", "recordTarget", "patientRole", "telecom"] => {
                if let Some(value) = attr(e, "value") {
                    header.patient.get_or_insert_with(RawPatient::default).telecoms.push((attr(e, "use"), value));
                }
            }
            [a, b, c, d, rest @ ..] if [*a, *b, *c, *d] == PATIENT => {
                let patient = header.patient.get_or_insert_with(RawPatient::default);
                match rest {
                    ["name"] => patient.name_count += 1,
                    ["name", part @ ("family" | "given")] => {
                        *pending_part = Some(NamePart {
                            name: patient.name_count.saturating_sub(1),
                            family: *part == "family",
                            qualifier: attr(e, "qualifier"),
                            text: String::new(),
                        });
                        capture_text(Capture::NamePart);
                    }
                    ["administrativeGenderCode"] => patient.gender = attr(e, "code"),
                    ["birthTime"] => patient.birth_time = attr(e, "value"),
                    ["birthplace", "place", "addr", "county"] => capture_text(Capture::County),
                    _ => {}
                }
            }
            ["ClinicalDocument", "custodian", "assignedCustodian", "representedCustodianOrganization", "name"] => {
                capture_text(Capture::Custodian);
            }
            ["ClinicalDocument", "custodian", "assignedCustodian", "representedCustodianOrganization", "id"] => {
                header.custodian_id.get_or_insert_with(|| ii(e));
            }
            ["ClinicalDocument", "author"] => header.authors.push(RawParticipant::default()),
            ["ClinicalDocument", "author" | "legalAuthenticator", rest @ ..] => {
                let who = if path[1] == "author" { Who::Author } else { Who::Legal };
                match rest {
                    ["time"] => header.participant(who).time = attr(e, "value"),
                    ["assignedAuthor" | "assignedEntity", "id"] => {
                        header.participant(who).id.get_or_insert_with(|| ii(e));
                    }
                    ["assignedAuthor" | "assignedEntity", "assignedPerson", "name", "family"] => capture_text(Capture::Person(who, PersonPart::Family)),
                    ["assignedAuthor" | "assignedEntity", "assignedPerson", "name", "given"] => capture_text(Capture::Person(who, PersonPart::Given)),
                    ["assignedAuthor" | "assignedEntity", "representedOrganization", "id"] => {
                        header.participant(who).org_id.get_or_insert_with(|| ii(e));
                    }
                    ["assignedAuthor" | "assignedEntity", "representedOrganization", "name"] => capture_text(Capture::Person(who, PersonPart::Organisation)),
                    _ => {}
                }
            }
            ["ClinicalDocument", "componentOf", "encompassingEncounter"] => header.has_encounter = true,
            ["ClinicalDocument", "componentOf", "encompassingEncounter", "location", "healthCareFacility", "code"] => header.facility_type = Some(cd(e)),
            ["ClinicalDocument", "documentationOf", "serviceEvent", "performer", "assignedEntity", "representedOrganization", "standardIndustryClassCode"] => {
                header.practice_setting.get_or_insert_with(|| cd(e));
            }
            ["ClinicalDocument", "component", "structuredBody", "component", "section", "code"] => {
                if let Some(last) = header.sections.last_mut() {
                    last.0 = Some(cd(e));
                }
            }
            ["ClinicalDocument", "component", "structuredBody", "component", "section", "title"] => {
                capture_text(Capture::SectionTitle);
            }
            ["ClinicalDocument", "component", "structuredBody", "component", "section"] => header.sections.push((None, None)),
            _ => {}
        }
        match path {
            ["ClinicalDocument", "component", "structuredBody"] => *body_start = Some((before, true)),
            ["ClinicalDocument", "component", "nonXMLBody", "text"] => {
                let body = header.body.get_or_insert_with(RawBody::default);
                body.media_type = attr(e, "mediaType");
                body.base64 = attr(e, "representation").as_deref() == Some("B64");
                *body_start = Some((after, false));
            }
            _ => {}
        }
    }

    /// Closes the innermost element: finishes a text capture or the body span.
    fn close(&mut self, before: usize, after: usize) {
        let Walk { header, stack, capture, pending_part, body_start, in_replacement } = self;
        if let Some((kind, text, _)) = capture.take_if(|c| c.2 == stack.len()) {
            let text = text.trim().to_owned();
            match kind {
                Capture::Title => header.title = Some(text),
                Capture::County => header.patient.get_or_insert_with(RawPatient::default).birthplace_county = Some(text),
                Capture::Custodian => header.custodian = Some(text),
                Capture::SectionTitle => {
                    if let Some(last) = header.sections.last_mut() {
                        last.1 = Some(text);
                    }
                }
                Capture::Person(who, part) => {
                    let participant = header.participant(who);
                    let slot = match part {
                        PersonPart::Family => &mut participant.family,
                        PersonPart::Given => &mut participant.given,
                        PersonPart::Organisation => &mut participant.org_name,
                    };
                    if slot.is_none() {
                        *slot = Some(text);
                    }
                }
                Capture::NamePart => {
                    if let Some(mut part) = pending_part.take() {
                        part.text = text;
                        header.patient.get_or_insert_with(RawPatient::default).names.push(part);
                    }
                }
            }
        }
        match stack.as_slice() {
            ["ClinicalDocument", "component", "structuredBody"] => {
                if let Some((start, true)) = body_start.take() {
                    header.body = Some(RawBody { media_type: Some("text/xml".into()), base64: false, offset: start, length: after - start });
                }
            }
            ["ClinicalDocument", "component", "nonXMLBody", "text"] => {
                if let (Some((start, false)), Some(body)) = (body_start.take(), header.body.as_mut()) {
                    body.offset = start;
                    body.length = before.saturating_sub(start);
                }
            }
            ["ClinicalDocument", "relatedDocument"] => *in_replacement = false,
            _ => {}
        }
        stack.pop();
    }
}
