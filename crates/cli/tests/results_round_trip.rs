//! Results survive HL7 v2 → FHIR → model: for every ORU fixture with results, the reports read
//! back from the FHIR Bundle hold the same observations as the ORU (codes, typed values with their
//! exact decimals and units, statuses, flags, reference ranges, times, notes, devices) and the same
//! report numbers, codes, statuses and times. OBX-4 sub-ids and the ORC's own fields have no place
//! in the FHIR resources and are not compared.

mod common;

use common::passerelle;
use passerelle_model::{Message, ObservationValue, Quantity, Report};
use passerelle_testkit::workspace_root;

fn model(from: &str, path: &std::path::Path) -> Message {
    let out = passerelle(&["convert", "--from", from, "--to", "model", path.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(0), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("model json")
}

/// What FHIR carries of a quantity: the value's text, comparator, unit code and system.
fn quantity(q: &Quantity) -> (String, Option<String>, Option<(String, String)>) {
    (q.value.as_str().to_owned(), q.comparator.clone(), q.unit.as_ref().map(|u| (u.code.clone(), u.system.clone())))
}

fn value(v: &ObservationValue) -> String {
    match v {
        ObservationValue::Quantity(q) => format!("{:?}", quantity(q)),
        ObservationValue::Range { low, high } => format!("{:?}", (low.as_ref().map(quantity), high.as_ref().map(quantity))),
        ObservationValue::Ratio { numerator, denominator } => format!("{:?}", (quantity(numerator), quantity(denominator))),
        // A FHIR dateTime with a time has its seconds: a minute-precision DTM comes back at :00.
        ObservationValue::DateTime(t) if t.hour.is_some() => format!("{:?}", passerelle_model::PartialDateTime { second: Some(t.second.unwrap_or(0)), ..*t }),
        other => format!("{other:?}"),
    }
}

fn comparable(reports: &[Report]) -> Vec<String> {
    reports
        .iter()
        .flat_map(|r| {
            // Statuses as FHIR says them: HL7 v2 R, P and S are all `preliminary`.
            let report_status = passerelle_fhir::results::report_status(r.status.as_deref());
            let head =
                format!("{:?}", (&r.order.placer_number, &r.order.filler_number, &r.order.code, report_status, r.effective, r.issued, r.specimens.len()));
            let observations = r.observations.iter().map(|o| {
                let status = passerelle_fhir::results::observation_status(o.status.as_deref());
                format!("{:?}", (&o.code, value(&o.value), status, &o.interpretation, &o.reference_range, o.effective, &o.notes, &o.device))
            });
            std::iter::once(head).chain(observations)
        })
        .collect()
}

#[test]
fn every_oru_fixture_reads_back_from_its_fhir_bundle_with_the_same_results() {
    let dir = workspace_root().join("fixtures/hl7v2/ok");
    for case in ["fr_oru_r01_lab_results", "oru_r01_telemonitoring"] {
        let source = model("hl7v2", &dir.join(format!("{case}.hl7")));
        let back = model("fhir", &dir.join(format!("{case}.fhir.json")));
        let (Some(a), Some(b)) = (source.clinical(), back.clinical()) else { panic!("{case}: no results") };
        assert_eq!(comparable(&b.reports), comparable(&a.reports), "{case}");
        assert_eq!(back.envelope.event.kind, passerelle_model::EventKind::Results);
    }
}
