#![no_main]

use kasir_shared::customer::Nik;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(nik) = Nik::parse(input) {
        assert!(Nik::parse(nik.as_str()).is_ok(), "a parsed NIK parses again");
    }
});
