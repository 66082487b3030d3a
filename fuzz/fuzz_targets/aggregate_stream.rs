#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dmarcflow_parse::fuzz_targets::aggregate_stream(data));
