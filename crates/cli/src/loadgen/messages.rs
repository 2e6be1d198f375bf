//! What `passerelle loadgen` sends: ADT^A01 over MLLP, or FHIR message Bundles (an A04 with its
//! Patient and Encounter) over HTTP, for a patient and a declared sender picked from the message
//! number. Each carries its id `LG<run>-<n>` (MSH-10, Bundle.identifier) and the visit number
//! `VN<n>` (nine digits), which every rendering keeps (PV1-19, the Encounter's identifier): the
//! sinks read it back to time each message end to end.

/// Which messages a run sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// ADT^A01 over MLLP.
    Adt,
    /// Over MLLP, every other message an ORU^R01 carrying a 50 KB CDA (CI-SIS), the others ADT^A01.
    #[value(name = "adt-cda", alias = "oru-cda")]
    AdtCda,
    /// FHIR message Bundles over HTTP (`POST /fhir`).
    Fhir,
    /// Both, over a quarter of the connections for FHIR, from many senders and patients.
    Mix,
}

/// What one connection sends: MLLP frames or HTTP requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Mllp,
    Http,
}

impl Scenario {
    /// The transport of connection `c` (a mix sends FHIR on every fourth connection).
    pub fn transport(self, c: usize) -> Transport {
        match self {
            Self::Adt | Self::AdtCda => Transport::Mllp,
            Self::Fhir => Transport::Http,
            Self::Mix if c % 4 == 3 => Transport::Http,
            Self::Mix => Transport::Mllp,
        }
    }
}

/// The id of message `n` of run `run`, as MSH-10 and Bundle.identifier carry it.
pub fn message_id(run: u128, n: usize) -> String {
    format!("LG{run}-{n}")
}

/// The message number of the first visit number `VN<nine digits>` (or document id
/// `DOC<nine digits>`) in a body.
pub fn visit_number(body: &[u8]) -> Option<usize> {
    let tagged = |tag: &[u8], w: &[u8]| w.starts_with(tag) && w[tag.len()..tag.len() + 9].iter().all(u8::is_ascii_digit);
    body.windows(12).find_map(|w| {
        let digits = if tagged(b"VN", w) {
            &w[2..11]
        } else if tagged(b"DOC", w) {
            &w[3..12]
        } else {
            return None;
        };
        std::str::from_utf8(digits).ok()?.parse().ok()
    })
}

/// The CDA the `adt-cda` scenario carries: a CI-SIS biology report of the fixtures, its patient
/// and id made the message's, its narrative grown to about 50 KB.
const CDA: &str = include_str!("../../../../fixtures/cda/ok/fr_cr_bio_structured_ins.xml");
const CDA_BYTES: usize = 50 * 1024;

fn cda(n: usize, p: usize) -> String {
    let mut doc = CDA
        .replacen("<id root=\"1.2.250.1.213.1.4.10\" extension=\"279035121518989\"/>", "", 1)
        .replacen("IPP100234", &format!("IPP{p:07}"), 1)
        .replacen("CRBIO-2026-0001", &format!("DOC{n:09}"), 1);
    let line = "<paragraph>Commentaire du biologiste : résultat dans les valeurs de référence du laboratoire, à contrôler.</paragraph>";
    let mut padding = String::new();
    while doc.len() + padding.len() < CDA_BYTES {
        padding.push_str(line);
    }
    if let Some(at) = doc.find("</text>") {
        doc.insert_str(at, &padding);
    }
    doc
}

/// An ORU^R01 carrying a CDA in OBX-5 (ED, base64), for patient `n % patients` (an IPP only).
pub fn oru_cda(run: u128, n: usize, patients: usize, senders: usize) -> Vec<u8> {
    let (p, s, id) = (n % patients, n % senders.max(1), message_id(run, n));
    let document = passerelle_model::base64::encode(cda(n, p).as_bytes());
    format!(
        "MSH|^~\\&|LOADGEN{s}|CHU-TEST|DMP|DMP|20261123101500+0100||ORU^R01^ORU_R01|{id}|P|2.5|||||FRA|UNICODE UTF-8|||2.1^CISIS_CDA_HL7_V2\r\
PID|1||IPP{p:07}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||TESTCHARGE^PATIENT{p}^^^M.^^L||19800101|M\r\
PV1|1|I|||||||||||||||||VN{n:09}^^^CHU-TEST&1.2.250.1.999.1.3&ISO^VN\r\
ORC|NW\r\
OBR|1|||11502-2^CR d'examens biologiques^LN\r\
OBX|1|ED|11502-2^CR d'examens biologiques^LN||^TEXT^XML^Base64^{document}||||||F\r"
    )
    .into_bytes()
}

/// Message `n` of an MLLP connection in `scenario`.
pub fn mllp_message(scenario: Scenario, run: u128, n: usize, patients: usize, senders: usize) -> Vec<u8> {
    match scenario {
        Scenario::AdtCda if n % 2 == 1 => oru_cda(run, n, patients, senders),
        _ => adt(run, n, patients, senders),
    }
}

pub fn adt(run: u128, n: usize, patients: usize, senders: usize) -> Vec<u8> {
    let (p, s, id) = (n % patients, n % senders.max(1), message_id(run, n));
    format!(
        "MSH|^~\\&|LOADGEN{s}|CHU-TEST|SIH|CHU-TEST|20261123101500||ADT^A01^ADT_A01|{id}|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8\r\
EVN||20261123101500\r\
PID|1||IPP{p:07}^^^CHU-TEST&1.2.250.1.999.1.1&ISO^PI||TESTCHARGE^PATIENT{p}^^^M.^^L||19800101|M|||1 rue du Test^^Lyon^^69001^FRA^H||||||||NDA{n:09}^^^CHU-TEST&1.2.250.1.999.1.2&ISO^AN\r\
PV1|1|I|UF-MED^101^1^CHU-TEST||||123^DOCTEUR^TEST||||||||||||VN{n:09}^^^CHU-TEST&1.2.250.1.999.1.3&ISO^VN|||||||||||||||||||||||||20261123101000\r\
ZBE|MVT{n}^CHU-TEST|20261123101000||INSERT|N||||S\r"
    )
    .into_bytes()
}

/// A FHIR message Bundle: an A04 registration of patient `n % patients` (an IPP of CHU-TEST).
pub fn fhir_bundle(run: u128, n: usize, patients: usize, senders: usize) -> Vec<u8> {
    let (p, s, id) = (n % patients, n % senders.max(1), message_id(run, n));
    serde_json::json!({
        "resourceType": "Bundle",
        "type": "message",
        "identifier": { "system": "urn:ietf:rfc:3986", "value": id },
        "timestamp": "2026-11-23T10:15:00+01:00",
        "entry": [
            {
                "fullUrl": format!("urn:uuid:00000000-0000-4000-8000-{n:012}"),
                "resource": {
                    "resourceType": "MessageHeader",
                    "eventCoding": { "system": "http://terminology.hl7.org/CodeSystem/v2-0003", "code": "A04" },
                    "source": { "endpoint": format!("https://loadgen{s}.chu-test.example/fhir") },
                    "focus": [{ "reference": format!("urn:uuid:00000000-0000-4000-a000-{n:012}") }]
                }
            },
            {
                "fullUrl": format!("urn:uuid:00000000-0000-4000-a000-{n:012}"),
                "resource": {
                    "resourceType": "Encounter",
                    "identifier": [{
                        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "VN" }] },
                        "system": "urn:oid:1.2.250.1.999.1.3",
                        "value": format!("VN{n:09}")
                    }],
                    "status": "in-progress",
                    "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP" },
                    "subject": { "reference": format!("urn:uuid:00000000-0000-4000-9000-{p:012}") }
                }
            },
            {
                "fullUrl": format!("urn:uuid:00000000-0000-4000-9000-{p:012}"),
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{
                        "use": "usual",
                        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI" }] },
                        "system": "urn:oid:1.2.250.1.999.1.1",
                        "value": format!("IPP{p:07}")
                    }],
                    "name": [{ "use": "usual", "family": "TESTCHARGE", "given": [format!("PATIENT{p}")] }],
                    "gender": "male",
                    "birthDate": "1980-01-01"
                }
            }
        ]
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sinks_read_back_each_message_number() {
        assert_eq!(visit_number(&adt(7, 1234, 10, 3)), Some(1234));
        assert_eq!(visit_number(&fhir_bundle(7, 99, 10, 3)), Some(99));
        assert_eq!(visit_number(b"PV1|1|I|||^VN|VN12"), None);
        assert_eq!(visit_number(b"TXA|1|CR|||||||||DOC000000017^^1.2.3"), Some(17));
        let oru = oru_cda(7, 5, 10, 3);
        assert!(oru.len() > 60 * 1024 && oru.len() < 80 * 1024, "{}", oru.len());
        assert_eq!(visit_number(&oru), Some(5));
    }

    #[test]
    fn a_mix_sends_fhir_on_every_fourth_connection() {
        let http = (0..8).filter(|c| Scenario::Mix.transport(*c) == Transport::Http).count();
        assert_eq!(http, 2);
        assert_eq!(Scenario::Fhir.transport(0), Transport::Http);
    }
}
