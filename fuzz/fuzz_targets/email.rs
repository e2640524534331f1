#![no_main]

use kasir_shared::customer::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    if let Ok(email) = Email::parse(input) {
        assert!(Email::parse(email.as_str()).is_ok(), "a parsed address parses again");
    }
});
