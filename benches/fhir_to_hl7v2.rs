//! Criterion benchmark of FHIR → HL7 v2: a FHIR transaction Bundle (Patient + Encounter, the
//! FR Core rendering of the PAM-FR A01 fixture, compact) → model → HL7 v2.5 ADT bytes, beside a
//! `serde_json::Value` parse of the same bytes in the same run.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use passerelle_hl7v2::compose::{ComposeOptions, adt::compose_adt};
use std::hint::black_box;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The fixture without its indentation, members in their order (`resourceType` first, as FHIR
/// servers write it; a `serde_json::Value` round trip would sort them).
fn bundle() -> Vec<u8> {
    let path = format!("{}/../fixtures/hl7v2/ok/fr_a01_ins_qualified_utf8.fhir.json", env!("CARGO_MANIFEST_DIR"));
    let pretty = std::fs::read(path).expect("fixture");
    let (mut out, mut in_string, mut escaped) = (Vec::with_capacity(pretty.len()), false, false);
    for b in pretty {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (_, false, b'"') => in_string = !in_string,
            (false, _, b' ' | b'\n' | b'\r' | b'\t') => continue,
            _ => {}
        }
        out.push(b);
    }
    assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok(), "minified fixture is json");
    out
}

fn fhir_to_adt(c: &mut Criterion) {
    let bytes = bundle();
    let mut group = c.benchmark_group("fhir_to_hl7v2");
    group.throughput(Throughput::Elements(1));
    let name = format!("bundle_{}b", bytes.len());
    group.bench_with_input(BenchmarkId::new("a_serde_json_value_parse", &name), &bytes, |b, bytes| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).map(|v| v.is_object()))
    });
    group.bench_with_input(BenchmarkId::new("b_fhir_to_model", &name), &bytes, |b, bytes| {
        b.iter(|| passerelle_fhir::decode(black_box(bytes)).map(|m| m.issues.len()))
    });
    group.bench_with_input(BenchmarkId::new("c_fhir_to_model_to_adt_bytes", &name), &bytes, |b, bytes| {
        b.iter(|| {
            let msg = passerelle_fhir::decode(black_box(bytes)).expect("decode").value;
            let options = ComposeOptions {
                sending_application: "CITY",
                sending_facility: "CAB",
                control_id: "PSR1",
                timestamp: msg.envelope.sent_at,
                ..ComposeOptions::default()
            };
            compose_adt(&msg, true, &options).expect("adt").len()
        })
    });
    group.finish();
}

criterion_group!(benches, fhir_to_adt);
criterion_main!(benches);
