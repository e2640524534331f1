#![no_main]

use kasir_shared::card::{Expiry, format_expiry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: (&str, u16, u8)| {
    let (input, year, month) = data;
    let _ = format_expiry(input);
    let _ = Expiry::parse(input);
    let _ = Expiry::parse_at(input, year, month);
});
