//! Fuzz target: the ER7 tokenizer and the HL7 v2 normaliser (with embedded documents), then every rendering and the ACK.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passerelle_gateway::codec::InputFormat;

fuzz_target!(|data: &[u8]| passerelle_fuzz::decode_and_render(InputFormat::Hl7v2, data));
