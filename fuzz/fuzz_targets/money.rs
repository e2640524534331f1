#![no_main]

use kasir_shared::money::Idr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(amount) = Idr::parse(input) {
        // Shown and grouped, it reads back as the same amount.
        assert_eq!(Idr::parse(&amount.to_string()).ok(), Some(amount));
        let _ = amount.grouped();
    }
});
