//! Small valid scenarios through trials, summary and report: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nines::fuzzing::simulate(data));
