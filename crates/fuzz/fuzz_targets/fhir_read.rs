//! Fuzz target: the FHIR reader (resources, Bundles, DocumentReference payloads), then every rendering back to HL7 v2, CDA and FHIR.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passerelle_gateway::codec::InputFormat;

fuzz_target!(|data: &[u8]| passerelle_fuzz::decode_and_render(InputFormat::Fhir, data));
