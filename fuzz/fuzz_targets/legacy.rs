//! Arbitrary bytes straight into the legacy parsers (gperftools CPU, text
//! heap, Go count, threadz, contention, Java); what parses goes through the
//! report pipeline. See `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::legacy(data));
