//! Model document → the HL7 v2 messages of the ANS volet "Transmission de documents CDA en
//! HL7v2": MDM^T02/T10/T04 (v2.6, TXA) or ORU^R01 (v2.5), the CDA base64 in an ED OBX, ORC-1 and
//! OBX-11 consistent with the flow (NW/F initial, RO/C replacement, CA/D deletion), PRT for the
//! author and the recipients, and the MetaDMPMSS OBX rows the sender gave.

pub use super::ComposeOptions;
use super::{write_msh, write_pid};
use crate::delimiters::Delimiters;
use crate::writer::Er7Writer;
use passerelle_model::{Code, Document, InstanceId, Message, Participant};

/// Which message carries the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentMessage {
    /// MDM^T02 (T10 replacement, T04 deletion), HL7 v2.6.
    Mdm,
    /// ORU^R01, HL7 v2.5.
    Oru,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("an hl7v2 document message needs a document message")]
    NotADocument,
    #[error("an hl7v2 document message needs a patient (PID)")]
    NoPatient,
    #[error("the document has no type code (OBX-3, TXA-2)")]
    NoTypeCode,
    #[error("an adt message needs an administrative message (a patient, an encounter, a merge)")]
    NotAdministrative,
    #[error("msh-7 needs a time: the message says none and none was given")]
    NoTimestamp,
}

/// The flow of the document: trigger, ORC-1, OBX-11.
fn flow(doc: &Document) -> (&'static str, &'static str, &'static str) {
    if doc.deleted {
        ("T04", "CA", "D")
    } else if doc.replaces.is_some() {
        ("T10", "RO", "C")
    } else {
        ("T02", "NW", "F")
    }
}

fn coding_system(c: &Code) -> &str {
    match c.system.as_str() {
        "2.16.840.1.113883.6.1" => "LN",
        "1.2.250.1.213.1.1.4.12" => "TRE_A05",
        other => other,
    }
}

/// TXA-12 / TXA-13: `ext^^root^ISO`, or the root OID alone.
fn ei(id: &InstanceId) -> Vec<String> {
    match &id.extension {
        Some(ext) => vec![ext.clone(), String::new(), id.root.clone(), "ISO".into()],
        None => vec![id.root.clone()],
    }
}

/// A person as XCN: the idNatPS (with its RPPS/ADELI type) or another id, then the name.
fn xcn(p: &Participant) -> Vec<Vec<String>> {
    let id = p.id.clone().unwrap_or_default();
    let national = id.root == "1.2.250.1.71.4.2.1";
    let authority = if id.root.is_empty() {
        vec![]
    } else if national {
        vec!["ASIP-SANTE-PS".into(), id.root.clone(), "ISO".into()]
    } else {
        vec![String::new(), id.root.clone(), "ISO".into()]
    };
    let type_code = if national { "IDNPS" } else { "" };
    let one = |s: Option<&String>| vec![s.cloned().unwrap_or_default()];
    vec![
        one(id.extension.as_ref()),
        one(p.family.as_ref()),
        one(p.given.as_ref()),
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        authority,
        vec![if national { "D".into() } else { String::new() }],
        vec![],
        vec![],
        vec![type_code.into()],
    ]
}

/// Writes `msg` (a document) as `kind`, carrying `cdas` (the CDA bytes of the document, then of
/// each companion: an ORU may carry the N1 and N3 forms of a report) base64 in OBX-5.
pub fn compose_document(msg: &Message, cdas: &[&[u8]], kind: DocumentMessage, o: &ComposeOptions<'_>) -> Result<Vec<u8>, ComposeError> {
    let doc = msg.document().ok_or(ComposeError::NotADocument)?;
    let patient = msg.patient.as_ref().ok_or(ComposeError::NoPatient)?;
    let type_code = doc.type_code.as_ref().filter(|c| !c.code.is_empty()).ok_or(ComposeError::NoTypeCode)?;
    let (trigger, order_control, result_status) = flow(doc);
    let timestamp = o.timestamp.map(|t| t.hl7()).unwrap_or_default();
    let (message_type, version, text_kind, flag_type) = match kind {
        DocumentMessage::Mdm => (["MDM", trigger, "MDM_T02"], "2.6", "text", "CWE"),
        DocumentMessage::Oru => (["ORU", "R01", "ORU_R01"], "2.5", "TEXT", "CE"),
    };
    let capacity = 2048 + cdas.iter().map(|c| c.len().div_ceil(3) * 4 + 256).sum::<usize>();
    let mut w = Er7Writer::with_capacity(Delimiters::default(), o.charset, capacity);
    write_msh(&mut w, o, &message_type, version, true, Some(["2.1", "CISIS_CDA_HL7_V2"]));
    if kind == DocumentMessage::Mdm {
        w.begin_segment("EVN").field("").field(&timestamp).end_segment();
    }
    write_pid(&mut w, patient);
    w.begin_segment("PV1").field("1").field("N").end_segment();
    w.begin_segment("ORC").field(order_control).end_segment();
    let observation = [type_code.code.as_str(), type_code.display.as_deref().unwrap_or_default(), coding_system(type_code)];
    w.begin_segment("OBR").field("1").field("").field("").components(&observation).end_segment();
    if kind == DocumentMessage::Mdm {
        let effective = doc.effective_time.map(|t| t.hl7()).unwrap_or_default();
        w.begin_segment("TXA").field("1").field(&type_code.code).field("TEXT").field(&effective);
        let author = doc.authors.first().map(xcn);
        match &author {
            Some(a) => w.nested(std::slice::from_ref(a)),
            None => w.field(""),
        };
        for _ in 6..=8 {
            w.field("");
        }
        match &author {
            Some(a) => w.nested(std::slice::from_ref(a)),
            None => w.field(""),
        };
        w.field("").field("");
        let id: Vec<String> = ei(&doc.id);
        w.components(&id.iter().map(String::as_str).collect::<Vec<_>>());
        match &doc.replaces {
            Some(parent) => w.components(&ei(parent).iter().map(String::as_str).collect::<Vec<_>>()),
            None => w.field(""),
        };
        w.field("").field("").field("").field("AU").end_segment();
    }
    for (i, (document, cda)) in doc.all().zip(cdas).enumerate() {
        let code = document.type_code.as_ref().unwrap_or(type_code);
        let observation = [code.code.as_str(), code.display.as_deref().unwrap_or_default(), coding_system(code)];
        w.begin_segment("OBX").field(&(i + 1).to_string()).field("ED").components(&observation).field("").raw_field_with(|out| {
            out.extend_from_slice(b"^");
            out.extend_from_slice(text_kind.as_bytes());
            out.extend_from_slice(b"^XML^Base64^");
            passerelle_model::base64::encode_into(cda, out);
        });
        for _ in 6..=10 {
            w.field("");
        }
        w.field(result_status).end_segment();
    }
    if let Some(author) = doc.authors.first() {
        write_prt(&mut w, "SB", "Send by", author, None);
    }
    for r in &doc.recipients {
        let label = match r.role.as_str() {
            "RCT" => "Result Copies To",
            "REPLY" => "Reply to",
            _ => "",
        };
        write_prt(&mut w, &r.role, label, &r.who, r.address.as_deref());
    }
    for (i, (code, label, value)) in doc.sharing.iter().flat_map(|s| s.given()).enumerate() {
        let set_id = (i + 1 + cdas.len()).to_string();
        w.begin_segment("OBX").field(&set_id).field(flag_type).components(&[code, label, "MetaDMPMSS"]).field("");
        w.components(&[if value { "Y" } else { "N" }, "", "expandedYes-NoIndicator"]);
        for _ in 6..=10 {
            w.field("");
        }
        w.field("F").end_segment();
    }
    Ok(w.finish())
}

/// PRT (pre-adopted from v2.9): participation `role`, the person (PRT-5), the organisation
/// (PRT-8) and an MSSanté address (PRT-15, `^^X.400^mail`).
fn write_prt(w: &mut Er7Writer, role: &str, label: &str, who: &Participant, address: Option<&str>) {
    w.begin_segment("PRT").field("").field("UC").field("").components(&[role, label, "participation"]);
    if who.id.is_some() || who.family.is_some() {
        w.nested(&[xcn(who)]);
    } else {
        w.field("");
    }
    w.field("").field("");
    match who.organisation.as_ref() {
        Some(org) => {
            let id = org.id.clone().unwrap_or_default();
            let national = id.root == "1.2.250.1.71.4.2.2";
            let authority =
                if national { vec!["ASIP-SANTE-ST".into(), id.root.clone(), "ISO".into()] } else { vec![String::new(), id.root.clone(), "ISO".into()] };
            let type_code = if national { "FINEG" } else { "" };
            let org_name = org.name.clone().unwrap_or_default();
            let ext = id.extension.clone().unwrap_or_default();
            w.nested(&[vec![vec![org_name], vec![], vec![], vec![], vec![], authority, vec![type_code.into()], vec![], vec![], vec![ext]]]);
        }
        None => {
            w.field("");
        }
    }
    if let Some(mail) = address {
        for _ in 9..=14 {
            w.field("");
        }
        w.components(&["", "", "X.400", mail]);
    }
    w.end_segment();
}
