//! Mutation tests of every decoder (stable Rust's stand-in for the cargo-fuzz targets still to
//! come): seeds from fixtures/, thousands of byte-level mutations each (flips, insertions of
//! delimiters and quotes, deletions, truncations), through the gateway's one decode dispatch and
//! the FHIR renderer; and random byte streams through the MLLP codec. Nothing may panic.

use bytes::BytesMut;
use passerelle_fhir::{RenderOptions, render_bundle};
use passerelle_gateway::codec::{InputFormat, decode};
use passerelle_testkit::{files_with_ext, workspace_root};
use tokio_util::codec::Decoder;

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn mutate(seed: &[u8], alphabet: &[u8], state: &mut u64) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..(next(state) % 8 + 1) {
        let pos = (next(state) as usize) % (bytes.len() + 1);
        let c = alphabet[(next(state) as usize) % alphabet.len()];
        // Truncation is rare, so most mutants keep most of the document.
        match next(state) % 16 {
            0..=5 if pos < bytes.len() => bytes[pos] = c,
            0..=11 => bytes.insert(pos, c),
            12..=14 if pos < bytes.len() => {
                bytes.remove(pos);
            }
            _ => bytes.truncate(pos.max(1)),
        }
    }
    bytes
}

/// Runs `rounds` mutants; a twentieth at least must still decode, so the deep paths are reached
/// (content bytes in the alphabets keep many mutants well-formed).
fn run(format: InputFormat, seeds: &[Vec<u8>], alphabet: &[u8], rounds: usize) {
    assert!(!seeds.is_empty());
    let mut state = 0x5eed_1234_u64;
    let mut decoded_count = 0;
    for i in 0..rounds {
        let input = mutate(&seeds[i % seeds.len()], alphabet, &mut state);
        if let Ok(decoded) = decode(format, &input) {
            decoded_count += 1;
            let documents: Vec<_> = decoded.documents.iter().map(|d| d.as_fhir()).collect();
            let _ = render_bundle(&decoded.message.value, &RenderOptions { documents: &documents, ..RenderOptions::default() });
        }
    }
    assert!(decoded_count * 20 >= rounds, "{format:?}: only {decoded_count} of {rounds} mutants decoded");
}

fn seeds(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    files_with_ext(&workspace_root().join(dir), ext).iter().map(|p| std::fs::read(p).expect("seed")).collect()
}

#[test]
fn no_mutation_of_a_fhir_input_makes_the_reader_panic() {
    // Valid seeds (the err/ cases are refused whole; their faults are among the mutations anyway).
    let mut inputs = seeds("fixtures/fhir/ok", "json");
    inputs.extend(seeds("fixtures/hl7v2/ok", "json").into_iter().filter(|s| s.len() < 20_000));
    run(InputFormat::Fhir, &inputs, b"{}[]\",:0123456789.-tfn\\ueE \xc3\xa9\xffabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 6_000);
}

#[test]
fn no_mutation_of_a_cda_document_makes_the_reader_panic() {
    let inputs: Vec<_> = seeds("fixtures/cda", "xml").into_iter().filter(|s| s.len() < 200_000).collect();
    run(InputFormat::Cda, &inputs, b"<>/=\"' &;!?-:xmlns\xc3\xa9\xff\x00abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1_500);
}

#[test]
fn no_mutation_of_an_hl7v2_document_message_makes_the_decoder_panic() {
    // The document path (ORU/MDM with a base64 CDA, batches): the ADT path has its own test.
    let inputs: Vec<_> = seeds("fixtures/hl7v2/ok", "hl7").into_iter().filter(|s| s.windows(3).any(|w| w == b"OBX")).collect();
    run(InputFormat::Hl7v2, &inputs, b"|^~\\&\rMSHOBXED0123=+/", 3_000);
}

#[test]
fn no_byte_stream_makes_the_mllp_codec_panic_or_exceed_its_bound() {
    let mut state = 0xfeed_u64;
    for _ in 0..3_000 {
        let mut codec = passerelle_hl7v2::MllpCodec::new(512);
        let mut buffer = BytesMut::new();
        for _ in 0..(next(&mut state) % 20) {
            let len = (next(&mut state) % 300) as usize;
            let chunk: Vec<u8> = (0..len).map(|_| [0x0b, 0x1c, b'\r', b'M', b'|', 0x00, 0xff][(next(&mut state) % 7) as usize]).collect();
            buffer.extend_from_slice(&chunk);
            while let Ok(Some(frame)) = codec.decode(&mut buffer) {
                assert!(frame.len() <= 512, "a frame over the bound");
            }
            assert!(buffer.len() <= 512 + 3 + 300, "the buffer stays bounded: {}", buffer.len());
        }
        let _ = codec.decode_eof(&mut buffer);
    }
}
