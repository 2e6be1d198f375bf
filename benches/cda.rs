//! Criterion benchmark of documents: CDA header → model → DocumentReference Bundle bytes, in MB/s,
//! beside a bare quick-xml event read of the same bytes in the same run, on a ~50 KB structured
//! document and a ~5 MB level-1 document (both built from the committed fixtures).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use passerelle_cda::{DecodeOptions, decode};
use passerelle_fhir::RenderOptions;
use std::hint::black_box;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fixture(name: &str) -> String {
    let path = format!("{}/../fixtures/cda/ok/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("cda fixture")
}

/// The lab report with its sections repeated until the document is about `target` bytes.
fn structured(target: usize) -> Vec<u8> {
    let doc = fixture("fr_cr_bio_structured_ins.xml");
    let (start, end) = (doc.find("<structuredBody>").expect("body") + "<structuredBody>".len(), doc.find("</structuredBody>").expect("body"));
    let sections = &doc[start..end];
    let mut body = String::with_capacity(target + sections.len());
    while body.len() + doc.len() < target {
        body.push_str(sections);
    }
    format!("{}{body}{}", &doc[..start], &doc[end..]).into_bytes()
}

/// The level-1 letter with a base64 body of about `target` bytes (deterministic pseudo-random PDF bytes).
fn level1(target: usize) -> Vec<u8> {
    let doc = fixture("fr_level1_pdf_replacement.xml");
    let (start, end) = (doc.find("B64\">").expect("text") + "B64\">".len(), doc.find("</text>").expect("text"));
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let raw: Vec<u8> = (0..target * 3 / 4)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    format!("{}{}{}", &doc[..start], passerelle_fhir::document::base64(&raw), &doc[end..]).into_bytes()
}

fn bare_read(bytes: &[u8]) -> usize {
    let mut reader = quick_xml::NsReader::from_str(std::str::from_utf8(bytes).expect("utf8"));
    let mut events = 0;
    loop {
        match reader.read_resolved_event() {
            Ok((_, quick_xml::events::Event::Eof)) | Err(_) => return events,
            Ok(_) => events += 1,
        }
    }
}

fn documents(c: &mut Criterion) {
    let mut group = c.benchmark_group("cda");
    group.sample_size(20);
    for (name, bytes) in [("structured_50kb", structured(50 * 1024)), ("level1_5mb", level1(5 * 1024 * 1024))] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("a_bare_quick_xml_read", name), &bytes, |b, bytes| b.iter(|| bare_read(black_box(bytes))));
        group.bench_with_input(BenchmarkId::new("b_header_to_model", name), &bytes, |b, bytes| {
            b.iter(|| decode(black_box(bytes), &DecodeOptions::default()).map(|p| p.issues.len()))
        });
        group.bench_with_input(BenchmarkId::new("c_model_to_document_reference_bundle", name), &bytes, |b, bytes| {
            b.iter(|| {
                let parsed = decode(black_box(bytes), &DecodeOptions::default()).expect("decode");
                let document = passerelle_fhir::DocumentBytes { bytes, media_type: "text/xml" };
                let options = RenderOptions {
                    documents: std::slice::from_ref(&document),
                    document_layout: passerelle_fhir::DocumentLayout::Binary,
                    ..RenderOptions::default()
                };
                passerelle_fhir::encode(&parsed.value, &options).expect("bundle").value.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, documents);
criterion_main!(benches);
