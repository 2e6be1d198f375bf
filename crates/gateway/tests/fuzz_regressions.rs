//! The fuzz targets' own code on stable: every input a target once crashed on
//! (`crates/fuzz/regressions/<target>/`) and every fixture it is seeded with (every JSON fixture for FHIR: inputs and expected bundles) goes through the same
//! functions the targets call (decode, every rendering, the ACK; the MLLP codec as a stream), and
//! must come back without a panic.

#[path = "../../fuzz/src/lib.rs"]
mod fuzz;

use passerelle_gateway::codec::InputFormat;
use std::path::{Path, PathBuf};

fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, extensions));
        } else if extensions.is_empty() && path.file_name().is_some_and(|n| n != "README.md")
            || path.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e))
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn replay(target: &str, seeds: &str, extensions: &[&str], run: impl Fn(&[u8])) -> usize {
    let mut inputs = files(&root().join("crates/fuzz/regressions").join(target), &[]);
    inputs.extend(files(&root().join("fixtures").join(seeds), extensions));
    for path in &inputs {
        let bytes = std::fs::read(path).expect("read");
        run(&bytes);
    }
    inputs.len()
}

#[test]
fn hl7v2_decode_inputs_never_panic() {
    assert!(replay("hl7v2_decode", "hl7v2", &["hl7", "er7"], |b| fuzz::decode_and_render(InputFormat::Hl7v2, b)) > 20);
}

#[test]
fn fhir_read_inputs_never_panic() {
    assert!(replay("fhir_read", "", &["json"], |b| fuzz::decode_and_render(InputFormat::Fhir, b)) > 20);
}

#[test]
fn cda_read_inputs_never_panic() {
    assert!(replay("cda_read", "cda", &["xml"], |b| fuzz::decode_and_render(InputFormat::Cda, b)) > 5);
}

#[test]
fn mllp_codec_inputs_never_panic() {
    // Each HL7 v2 fixture framed, read in chunks of 1 to 64 bytes.
    let framed = |b: &[u8]| {
        for chunk in [0u8, 7, 63] {
            let mut stream = vec![chunk, 0x0b];
            stream.extend_from_slice(b);
            stream.extend_from_slice(b"\x1c\r\x0bMSH|^~\\&|unterminated");
            fuzz::mllp_stream(&stream);
        }
    };
    let mut n = replay("mllp_codec", "hl7v2", &["hl7", "er7"], framed);
    for path in files(&root().join("crates/fuzz/regressions/mllp_codec"), &[]) {
        fuzz::mllp_stream(&std::fs::read(path).expect("read"));
        n += 1;
    }
    assert!(n > 20);
}
