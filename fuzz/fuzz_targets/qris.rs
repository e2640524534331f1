#![no_main]

use kasir_shared::qris::QrisPayload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(payload) = QrisPayload::parse(input) {
        let again = QrisPayload::parse(&payload.to_string()).expect("a parsed payload parses again");
        assert_eq!(again.as_str(), payload.as_str());
        let _ = (payload.amount(), payload.merchant_name(), payload.is_dynamic(), payload.bill_number());
    }
});
