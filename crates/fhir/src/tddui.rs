//! The medico-social (TDDUI) patient identifier rule: without an INS, the patient's local id is
//! `3` + the structure's FINESS + `/` + the local id (TRE_G08 prefix 3), in the PI identifier.

use crate::types::{Patient, Str};
use passerelle_model::{Issue, Message};

/// idNatSt root; an extension `1` + FINESS names a FINESS structure.
const ID_NAT_ST: &str = "1.2.250.1.71.4.2.2";

/// The FINESS of the structure that assigned the local id: the document custodian's idNatSt,
/// else a sending facility that is itself a FINESS (nine characters, digits or 2A/2B).
fn finess(msg: &Message) -> Option<String> {
    let custodian = msg.document().and_then(|d| d.custodian.as_ref()).and_then(|c| c.id.as_ref()).filter(|id| id.root == ID_NAT_ST);
    if let Some(ext) = custodian.and_then(|id| id.extension.as_deref()).and_then(|e| e.strip_prefix('1')) {
        return Some(ext.to_owned());
    }
    let facility = msg.envelope.sender.facility.as_deref()?;
    let looks_like_finess = facility.len() == 9 && facility.bytes().enumerate().all(|(i, c)| c.is_ascii_digit() || (i == 1 && matches!(c, b'A' | b'B')));
    looks_like_finess.then(|| facility.to_owned())
}

/// Rewrites the PI identifier of `patient` under the TDDUI rule, or warns why it cannot.
pub fn apply_local_id_rule(patient: &mut Patient<'_>, msg: &Message, issues: &mut Vec<Issue>) {
    let is_pi = |t: &Option<crate::types::CodeableConcept<'_>>| t.as_ref().is_some_and(|t| t.coding.iter().any(|c| c.code.as_deref() == Some("PI")));
    let Some(local) = patient.identifier.iter_mut().find(|i| is_pi(&i.type_)) else {
        issues.push(Issue::warning("tddui-no-local-id", "medico-social destination: the patient has neither INS nor local identifier"));
        return;
    };
    let Some(finess) = finess(msg) else {
        issues.push(Issue::warning("tddui-no-finess", "medico-social destination: no FINESS (custodian idNatSt or sending facility) for the local id rule"));
        return;
    };
    let value = local.value.as_deref().unwrap_or_default();
    if !value.starts_with('3') || !value.contains('/') {
        local.value = Some(Str::Owned(format!("3{finess}/{value}")));
    }
}

#[cfg(test)]
mod tests {
    use crate::{DocumentBytes, DocumentLayout, RenderOptions, encode};
    use passerelle_model::{Content, Document, Format, Identifier, IdentifierKind, InstanceId, Message, Organisation, Patient};

    fn message(ins: bool, custodian: Option<&str>) -> Message {
        let mut msg = Message::new(Format::Cda);
        let mut identifiers = vec![Identifier::new(IdentifierKind::Ipp, "IPP100234").with_oid("1.2.250.1.999.1.1")];
        if ins {
            identifiers.push(Identifier::new(IdentifierKind::InsNirTest, "279035121518989").with_oid("1.2.250.1.213.1.4.10"));
        }
        let mut patient = Patient { identifiers, ..Patient::default() };
        if ins {
            patient.trust.push_code("VALI");
        }
        msg.patient = Some(patient);
        msg.content = Content::Document(Document {
            id: InstanceId { root: "1.2.250.1.999.2.1".into(), extension: Some("DUI-1".into()) },
            custodian: custodian
                .map(|ext| Organisation { id: Some(InstanceId { root: "1.2.250.1.71.4.2.2".into(), extension: Some(ext.into()) }), name: None }),
            ..Document::default()
        });
        msg
    }

    fn patient_ids(msg: &Message) -> (Vec<String>, Vec<String>) {
        let document = DocumentBytes { bytes: b"<ClinicalDocument/>", media_type: "text/xml" };
        let options = RenderOptions {
            documents: std::slice::from_ref(&document),
            document_layout: DocumentLayout::Binary,
            medico_social: true,
            ..RenderOptions::default()
        };
        let out = encode(msg, &options).expect("renders");
        let bundle: serde_json::Value = serde_json::from_slice(&out.value).expect("json");
        let values =
            bundle["entry"][0]["resource"]["identifier"].as_array().expect("ids").iter().map(|i| i["value"].as_str().unwrap_or("").to_owned()).collect();
        (values, out.issues.iter().map(|i| i.code.to_owned()).collect())
    }

    #[test]
    fn without_ins_the_local_id_is_3_finess_slash_id() {
        let (ids, issues) = patient_ids(&message(false, Some("1750000000")));
        assert_eq!(ids, ["3750000000/IPP100234"]);
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn with_an_ins_the_local_id_is_left_as_sent() {
        let (ids, _) = patient_ids(&message(true, Some("1750000000")));
        assert!(ids.contains(&"IPP100234".to_owned()) && ids.contains(&"279035121518989".to_owned()), "{ids:?}");
    }

    #[test]
    fn without_a_finess_the_rule_warns_and_keeps_the_id() {
        let (ids, issues) = patient_ids(&message(false, None));
        assert_eq!(ids, ["IPP100234"]);
        assert_eq!(issues, ["tddui-no-finess"]);
    }
}
