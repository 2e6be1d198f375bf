//! model → FHIR → model keeps what the reverse direction needs: typed identifiers (INS under its
//! OID, NISS/BIS, IPP), identity trust, names, birth date and sex; INS rules apply to FHIR input.

use passerelle_fhir::{Profile, RenderOptions, read_patient, render_bundle};
use passerelle_model::{Format, HumanName, Identifier, IdentifierKind, Message, NameUse, PartialDateTime, Patient, Sex};

fn message(patient: Patient) -> Message {
    let mut m = Message::new(Format::Hl7v2);
    m.envelope.message_id = "C1".into();
    m.patient = Some(patient);
    m
}

fn french_patient(validated: bool) -> Patient {
    let mut p = Patient {
        identifiers: vec![
            Identifier::new(IdentifierKind::InsNirTest, "279035121518989").with_oid("1.2.250.1.213.1.4.10"),
            Identifier::new(IdentifierKind::Ipp, "IPP1").with_oid("1.2.250.1.999.1.1"),
            Identifier::belgian("98472899765"),
        ],
        names: vec![HumanName { name_use: Some(NameUse::Birth), family: Some("TESTÉLÉGANT".into()), given: vec!["DOMINIQUE".into()], ..Default::default() }],
        birth_date: PartialDateTime::parse_hl7("19790321"),
        sex: Some(Sex::Female),
        ..Patient::default()
    };
    if validated {
        p.trust.push_code("VALI");
    }
    p
}

fn to_json(p: Patient) -> Vec<u8> {
    let msg = message(p);
    let (bundle, _) = render_bundle(&msg, &RenderOptions { profile: Profile::FrCore, ..RenderOptions::default() });
    serde_json::to_vec(&bundle.into_resource()).expect("json")
}

#[test]
fn a_qualified_french_cross_border_patient_survives_the_round_trip() {
    let back = read_patient(&to_json(french_patient(true))).expect("read").value;
    let kinds: Vec<_> = back.identifiers.iter().map(|i| (i.kind, i.value.as_str())).collect();
    assert_eq!(kinds, [(IdentifierKind::InsNirTest, "279035121518989"), (IdentifierKind::Ipp, "IPP1"), (IdentifierKind::Bis, "98472899765")]);
    assert_eq!(back.identifiers[0].oid.as_deref(), Some("1.2.250.1.213.1.4.10"));
    assert!(back.trust.is_validated(), "QUAL in FHIR reads back as VALI");
    assert_eq!(back.names[0].family.as_deref(), Some("TESTÉLÉGANT"));
    assert_eq!(back.birth_date.map(|d| d.hl7()), Some("19790321".into()));
    assert_eq!(back.sex, Some(Sex::Female));
}

#[test]
fn an_ins_without_qualified_status_is_dropped_on_fhir_input_too() {
    // Render without trust (the renderer keeps identifiers as given), then read it back.
    let json = to_json(french_patient(false));
    let back = read_patient(&json).expect("read");
    assert!(back.value.identifiers.iter().all(|i| !i.kind.is_ins()));
    assert!(back.issues.iter().any(|i| i.code == "ins-without-vali"));
    assert!(read_patient(b"{\"resourceType\":\"Observation\"}").is_err());
    assert!(read_patient(b"not json").is_err());
}
