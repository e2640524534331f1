#![no_main]

use kasir_shared::customer::{BillingAddress, BillingFields, BillingPart, FullName};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: (&str, &str, &str, &str)| {
    let (address, city, state, postal_code) = data;
    let _ = FullName::parse(address);
    for part in BillingPart::ALL {
        let _ = part.check(city);
    }
    let fields = BillingFields {
        address: address.to_owned(),
        city: city.to_owned(),
        state: state.to_owned(),
        postal_code: postal_code.to_owned(),
        ..BillingFields::default()
    };
    let _ = BillingAddress::parse(&fields);
});
