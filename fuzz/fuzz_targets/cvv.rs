#![no_main]

use kasir_shared::card::{CardBrand, Cvv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: (&str, u8)| {
    let (input, brand) = data;
    let brand = CardBrand::ALL[usize::from(brand) % CardBrand::ALL.len()];
    if let Ok(cvv) = Cvv::parse(input, brand) {
        assert_eq!(cvv.expose_secret().len(), brand.cvv_length());
    }
});
