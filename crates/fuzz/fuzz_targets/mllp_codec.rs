//! Fuzz target: the MLLP framing codec on an arbitrary byte stream delivered in chunks, then
//! closed (see `passerelle_fuzz::mllp_stream`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| passerelle_fuzz::mllp_stream(data));
