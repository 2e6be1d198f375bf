//! Runs one stage of the hot path N times on the benchmark message, for instruction counting under
//! `valgrind --tool=callgrind` (repeatable on a shared VM, where wall-clock times drift):
//! `hot_path_instructions <a|b|c|d> <iterations>`; divide the total by the iterations.

use passerelle_fhir::RenderOptions;
use passerelle_hl7v2::{NormaliseOptions, ParseOptions, normalise, parse};
use std::hint::black_box;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let stage = args.get(1).map_or("c", String::as_str);
    let iterations: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/adt_a01.hl7");
    let bytes = std::fs::read(path).unwrap_or_default();
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let (parse_options, normalise_options, render_options) = (ParseOptions::default(), NormaliseOptions::default(), RenderOptions::default());
    let mut sink = 0usize;
    for _ in 0..iterations {
        let input = black_box(&bytes);
        sink += match stage {
            "a" => parse(input, &parse_options).map(|p| p.value.segment_count()).unwrap_or(0),
            "b" => parse(input, &parse_options).map(|p| normalise(&p.value, &normalise_options).issues.len()).unwrap_or(0),
            "c" => parse(input, &parse_options)
                .ok()
                .and_then(|p| passerelle_fhir::encode(&normalise(&p.value, &normalise_options).value, &render_options).ok())
                .map_or(0, |e| e.value.len()),
            _ => hl7_parser::Message::parse(black_box(&text)).map(|m| m.segments().count()).unwrap_or(0),
        };
    }
    println!("{stage} x{iterations}: {sink}");
}
