//! Arbitrary bytes (gzipped or not) as a profile file; what decodes goes
//! through the report pipeline. See `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::decode(data));
