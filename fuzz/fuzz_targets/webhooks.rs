#![no_main]

//! Every provider's webhook verifier, and the merchant-webhook signature
//! check, on arbitrary headers, path and body: what reaches Kasir before any
//! signature holds. Nothing may panic; nothing forged may verify.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use kasir_server::config::ProviderSettings;
use kasir_server::config_file::ProviderTables;
use kasir_server::providers::singapay::Singapay;
use kasir_server::providers::smartglocal::SmartGlocal;
use kasir_server::providers::smilepayz::Smilepayz;
use kasir_server::providers::{PaymentProvider, WebhookRequest};
use libfuzzer_sys::fuzz_target;

fn fixture(name: &str) -> String {
    let path = format!("{}/../tests/fixtures/providers/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn table(text: &str) -> Option<toml::Table> {
    Some(toml::from_str(text).expect("fixture settings"))
}

/// The three providers, configured as in the tests (fixture keys).
fn providers() -> &'static Vec<Arc<dyn PaymentProvider>> {
    static PROVIDERS: OnceLock<Vec<Arc<dyn PaymentProvider>>> = OnceLock::new();
    PROVIDERS.get_or_init(|| {
        let tables = ProviderTables {
            smilepayz: table(&format!(
                "base_url = \"http://127.0.0.1:9\"\nmerchant_id = \"20001\"\nmerchant_secret = \"secret\"\nprivate_key = {:?}\nplatform_public_key = {:?}\n",
                fixture("merchant.key.pem"),
                fixture("platform.pub.pem"),
            )),
            singapay: table(
                "base_url = \"http://127.0.0.1:9\"\npartner_id = \"api-key-1\"\nclient_id = \"client-1\"\nclient_secret = \"secret\"\naccount_id = \"01K5G4FZZ18DMK0M5QTR8Y9QY9\"\n",
            ),
            smartglocal: table(&format!(
                "base_url = \"http://127.0.0.1:9\"\nproject = \"kasir_test\"\nprivate_key = {:?}\npublic_key = {:?}\n",
                fixture("smartglocal_partner.key.pem"),
                fixture("smartglocal_sg.pub.pem"),
            )),
        };
        let settings = ProviderSettings::load(tables, &|_| None).expect("settings");
        let timeout = Duration::from_secs(5);
        vec![
            Arc::new(Smilepayz::new(settings.smilepayz.expect("smilepayz"), "http://kasir.test", timeout).expect("smilepayz")),
            Arc::new(Singapay::new(settings.singapay.expect("singapay"), timeout).expect("singapay")),
            Arc::new(SmartGlocal::new(settings.smartglocal.expect("smartglocal"), timeout).expect("smartglocal")),
        ]
    })
}

fuzz_target!(|input: (u8, &str, &str, &[u8])| {
    let (which, header_lines, path, body) = input;
    // Headers as "name: value" lines; what is not a valid header is dropped.
    let mut headers = HeaderMap::new();
    for line in header_lines.lines() {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name.trim()), HeaderValue::try_from(value.trim()))
        {
            headers.append(name, value);
        }
    }
    let now = 1_795_000_000;
    let providers = providers();
    match providers.get(usize::from(which) % (providers.len() + 1)) {
        Some(provider) => {
            let request = WebhookRequest { path_and_query: path, headers: &headers, body };
            let verified = provider.verify_webhook(&request, now);
            assert!(verified.is_err(), "{} accepted a webhook nobody signed", provider.name());
        }
        None => {
            let header = header_lines.lines().next().unwrap_or_default();
            let verified = kasir_server::signing::verify(b"whsec_fuzz_0123456789", header, body, now, 300);
            assert!(verified.is_err(), "a merchant-webhook signature verified without the secret");
        }
    }
});
