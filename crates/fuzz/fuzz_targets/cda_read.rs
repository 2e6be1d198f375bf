//! Fuzz target: the CDA R2 reader (header, INS traits, body), then every rendering.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passerelle_gateway::codec::InputFormat;

fuzz_target!(|data: &[u8]| passerelle_fuzz::decode_and_render(InputFormat::Cda, data));
