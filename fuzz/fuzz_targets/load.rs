//! Arbitrary bytes into the scenario reader: it must answer, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nines::fuzzing::load(data));
