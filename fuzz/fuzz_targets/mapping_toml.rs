//! A column mapping file as a user may write it: parsed or refused with
//! an error, never a panic.
#![no_main]

use kindred_proto::mapping::Mapping;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Mapping::from_toml(text);
    }
});
