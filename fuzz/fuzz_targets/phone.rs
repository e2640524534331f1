#![no_main]

use kasir_shared::customer::PhoneNumber;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let _ = PhoneNumber::parse_mobile(input);
    if let Ok(phone) = PhoneNumber::parse(input) {
        let again = PhoneNumber::parse(&phone.e164()).expect("a parsed number parses again in E.164");
        assert_eq!(again.e164(), phone.e164());
    }
});
