//! Criterion benchmarks of the hot path, side by side on the same messages in one run:
//! (a) our tokenizer, (b) parse + normalise, (c) parse + normalise + FHIR Bundle bytes (the
//! gateway's own `passerelle_fhir::encode`), (d) hl7-parser 0.3 parse only. The messages: two ADT^A01
//! and an ORU^R01 with 20 OBX (its Bundle has 20 Observations).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use passerelle_fhir::RenderOptions;
use passerelle_hl7v2::{NormaliseOptions, ParseOptions, normalise, parse};
use std::hint::black_box;

// The same allocator as the `passerelle` binary, so the figures are the gateway's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn messages() -> Vec<(&'static str, Vec<u8>)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    vec![
        ("adt_a01_1.6kb", std::fs::read(format!("{root}/benches/data/adt_a01.hl7")).expect("bench message")),
        ("pam_fr_a01", std::fs::read(format!("{root}/fixtures/hl7v2/ok/fr_a01_ins_qualified_utf8.hl7")).expect("fixture")),
        ("oru_r01_20obx", std::fs::read(format!("{root}/benches/data/oru_r01_20obx.hl7")).expect("bench message")),
    ]
}

fn hot_path(c: &mut Criterion) {
    let parse_options = ParseOptions::default();
    let normalise_options = NormaliseOptions::default();
    let render_options = RenderOptions::default();
    let mut group = c.benchmark_group("hl7v2");
    for (name, bytes) in messages() {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("a_tokenize", name), &bytes, |b, bytes| {
            b.iter(|| parse(black_box(bytes), &parse_options).map(|p| p.value.segment_count()))
        });
        group.bench_with_input(BenchmarkId::new("b_parse_normalise", name), &bytes, |b, bytes| {
            b.iter(|| {
                let tokens = parse(black_box(bytes), &parse_options).expect("parse");
                normalise(&tokens.value, &normalise_options)
            })
        });
        group.bench_with_input(BenchmarkId::new("c_parse_normalise_fhir_json", name), &bytes, |b, bytes| {
            b.iter(|| {
                let tokens = parse(black_box(bytes), &parse_options).expect("parse");
                let msg = normalise(&tokens.value, &normalise_options);
                passerelle_fhir::encode(&msg.value, &render_options).expect("bundle").value
            })
        });
        // hl7-parser takes `&str`: the bytes (UTF-8 or Latin-1) are decoded once, outside the timed loop.
        let text = String::from_utf8(bytes.clone()).unwrap_or_else(|_| bytes.iter().map(|&b| char::from(b)).collect());
        group.bench_with_input(BenchmarkId::new("d_hl7_parser_0_3_parse", name), &text, |b, text| {
            b.iter(|| hl7_parser::Message::parse(black_box(text)).map(|m| m.segments().count()))
        });
    }
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
