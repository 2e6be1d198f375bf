//! The identity survives both directions, over generated patients (proptest): a PAM-FR A28 →
//! model → FHIR Bundle → model → HL7 v2 ADT → model keeps the identifiers (kind, system, value),
//! the INS traits byte for byte, birth date, sex, PID-32 and birth place. Patients include
//! accents, Corsican (2A/2B) NIRs, NIAs, and cross-border patients with a NISS or BIS beside the INS.

use passerelle_gateway::codec::{self, InputFormat};
use passerelle_hl7v2::compose::{ComposeOptions, adt::compose_adt};
use passerelle_model::checksum::nir_key;
use passerelle_model::{Message, Patient};
use proptest::prelude::*;

fn name_part() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop::sample::select(vec!['A', 'B', 'É', 'È', 'Ç', 'Ô', 'Ï', 'L', 'M', 'N', 'R', 'T', '-', '\'']), 1..10)
        .prop_map(|c| c.into_iter().collect::<String>())
        .prop_filter("starts with a letter", |s| s.chars().next().is_some_and(char::is_alphabetic) && !s.ends_with('-'))
}

#[derive(Debug, Clone)]
struct Generated {
    family: String,
    given: Vec<String>,
    year: u16,
    month: u8,
    day: u8,
    female: bool,
    /// `None`: NIR; `Some(n)`: NIA (first digit 7 or 8).
    nia: bool,
    department: String,
    commune: u16,
    order: u16,
    belgian: Option<bool>,
    serial: u16,
    ipp: u32,
}

fn generated() -> impl Strategy<Value = Generated> {
    let department = prop_oneof![Just("2A".to_owned()), Just("2B".to_owned()), (1u8..96).prop_filter("not 20", |d| *d != 20).prop_map(|d| format!("{d:02}"))];
    (
        name_part(),
        proptest::collection::vec(name_part(), 1..3),
        (1921u16..2000, 1u8..13, 1u8..29),
        any::<bool>(),
        prop::bool::weighted(0.2),
        department,
        (1u16..990, 1u16..999),
        prop::option::of(any::<bool>()),
        (1u16..997, 1u32..999_999),
    )
        .prop_map(|(family, given, (year, month, day), female, nia, department, (commune, order), belgian, (serial, ipp))| Generated {
            family,
            given,
            year,
            month,
            day,
            female,
            nia,
            department,
            commune,
            order,
            belgian,
            serial,
            ipp,
        })
}

/// A valid matricule for the generated person (the NIA starts with 7 or 8).
fn ins(g: &Generated) -> String {
    let first = match (g.nia, g.female) {
        (true, false) => '7',
        (true, true) => '8',
        (false, false) => '1',
        (false, true) => '2',
    };
    let body = format!("{first}{:02}{:02}{}{:03}{:03}", g.year % 100, g.month, g.department, g.commune, g.order);
    format!("{body}{:02}", nir_key(&body).expect("body"))
}

/// A valid NISS (or BIS: month + 40) for a person born before 2000.
fn belgian(g: &Generated, bis: bool) -> String {
    let month = if bis { g.month + 40 } else { g.month };
    let body = format!("{:02}{month:02}{:02}{:03}", g.year % 100, g.day, g.serial);
    let n: u64 = body.parse().expect("digits");
    format!("{body}{:02}", 97 - n % 97)
}

fn adt(g: &Generated) -> String {
    let oid = if g.nia { "1.2.250.1.213.1.4.9" } else { "1.2.250.1.213.1.4.10" };
    let namespace = if g.nia { "ASIP-SANTE-INS-NIA" } else { "ASIP-SANTE-INS-NIR" };
    let mut ids = format!("{}^^^{namespace}&{oid}&ISO^INS~IPP{}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI", ins(g), g.ipp);
    if let Some(bis) = g.belgian {
        ids.push_str(&format!("~{}^^^&2.16.840.1.113883.3.6777.5.1&ISO^SB", belgian(g, bis)));
    }
    let cog = format!("{}{:03}", g.department, g.commune);
    let (first, list) = (&g.given[0], g.given.join(" "));
    let sex = if g.female { "F" } else { "M" };
    format!(
        "MSH|^~\\&|SIH|CHU-TEST|GW|GW|20261201120000+0100||ADT^A28^ADT_A05|C-{}|P|2.5|||||FRA|UNICODE UTF-8\rEVN||20261201120000+0100\r\
         PID|1||{ids}||{}^{first}^{list}^^^^L||{:04}{:02}{:02}|{sex}|||^^^^^^BDL^^{cog}|||||||||||||||||||||VALI\rPV1|1|N\r",
        g.ipp, g.family, g.year, g.month, g.day
    )
}

fn decode(format: InputFormat, bytes: &[u8]) -> Message {
    let decoded = codec::decode(format, bytes).expect("decodes");
    assert!(!decoded.message.has_errors(), "{:?}", decoded.message.issues);
    decoded.message.value
}

/// What must survive: identifiers, INS traits, birth date, sex, PID-32, birth place.
fn identity(p: &Patient) -> impl PartialEq + std::fmt::Debug {
    let mut ids: Vec<_> = p.identifiers.iter().map(|i| (i.kind, i.oid.clone(), i.value.clone())).collect();
    ids.sort_by(|a, b| a.2.cmp(&b.2));
    let cog = p.addresses.iter().find(|a| a.kind.as_deref() == Some("BDL")).and_then(|a| a.cog.clone());
    (ids, p.ins_traits.clone(), p.birth_date, p.sex, p.trust.statuses.clone(), cog)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn identity_survives_hl7v2_to_fhir_to_hl7v2(g in generated()) {
        let source = decode(InputFormat::Hl7v2, adt(&g).as_bytes());
        let patient = source.patient.as_ref().expect("patient");
        prop_assert!(patient.ins().is_some(), "the generated INS is kept: {:?}", patient.identifiers);
        let fhir = passerelle_fhir::encode(&source, &passerelle_fhir::RenderOptions::default()).expect("fhir").value;
        let via_fhir = decode(InputFormat::Fhir, &fhir);
        prop_assert_eq!(identity(via_fhir.patient.as_ref().expect("patient")), identity(patient));
        let options = ComposeOptions { sending_application: "GW", sending_facility: "GW", control_id: "C1", timestamp: source.envelope.sent_at, ..ComposeOptions::default() };
        let back = compose_adt(&via_fhir, true, &options).expect("adt");
        let again = decode(InputFormat::Hl7v2, &back);
        prop_assert_eq!(identity(again.patient.as_ref().expect("patient")), identity(patient));
    }
}
