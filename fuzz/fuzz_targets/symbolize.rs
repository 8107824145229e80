//! Arbitrary bytes as an object file for the symbolizer (`src/symbolize/`):
//! symbols, DWARF frames, address translation, and a profile symbolized
//! against it and reported. See `fuzz/harness.rs`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::symbolize(data));
