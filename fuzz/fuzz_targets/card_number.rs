#![no_main]

use kasir_shared::card::{CardNumber, CardNumberInput, format_card_number};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let _ = CardNumberInput::assess(input, true);
    let formatted = format_card_number(input);
    if let Ok(number) = CardNumber::parse(input) {
        // What parses once parses again, as itself, once formatted.
        let again =
            CardNumber::parse(&format_card_number(number.expose_secret())).expect("formatted number parses");
        assert_eq!(again.expose_secret(), number.expose_secret());
        assert_eq!(number.last4().len(), 4);
        assert!(!format!("{number:?}").contains(number.expose_secret()), "Debug never shows the number");
        let _ = formatted;
    }
});
