//! Each provider's set-up for the tests: its simulator, Kasir (in process)
//! routed to it, and the session and card its tests pay with. Names carry
//! the provider: `smilepayz_*`, `singapay_*`, `smartglocal_*`, `sandbox_*`.

use kasir_server::config::ProviderSettings;
use kasir_tests::sim::midtrans::MidtransSim;
use kasir_tests::sim::singapay::{Credentials, SingapaySim};
use kasir_tests::sim::smartglocal::SmartGlocalSim;
use kasir_tests::sim::smilepayz::SmilepayzSim;
use serde_json::{Value, json};

use super::{
    Backend, Receiver, TestApp, billing, card, card_with, fixture, fresh_database_url, full_customer,
    spawn_with,
};

/// Replaces the configured providers with the one `name` read from `toml`.
fn load_provider(config: &mut kasir_server::Config, name: &str, toml: &str) {
    let table: toml::Table = toml::from_str(toml).unwrap();
    let tables = kasir_server::config_file::ProviderTables::from([(name.to_owned(), table)]);
    config.providers = ProviderSettings::load(tables, &|_| None).unwrap();
}

// The sandbox (built in, what `spawn_app` routes to).

/// A session as the sandbox payment tests open it (merchant A).
pub async fn sandbox_session(app: &TestApp, amount: u64) -> (String, String) {
    app.new_session(
        &json!({"amount": amount, "reference": "INV-PAY-1", "customer": {"email": "budi@contoh.co.id"}}),
    )
    .await
}

// Smilepayz: QRIS, virtual accounts, e-wallets.

pub const SMILEPAYZ_MERCHANT_ID: &str = "sandbox-20001";
pub const SMILEPAYZ_SECRET: &str = "sandbox-secret-0123";

/// The Smilepayz simulator, with the fixture keys.
pub async fn smilepayz_simulator() -> SmilepayzSim {
    SmilepayzSim::start(kasir_tests::sim::smilepayz::Keys {
        merchant_id: SMILEPAYZ_MERCHANT_ID.into(),
        merchant_secret: SMILEPAYZ_SECRET.into(),
        merchant_public_pem: fixture("merchant.pub.pem"),
        platform_private_pem: fixture("platform.key.pem"),
    })
    .await
}

/// Kasir routing QRIS, VA and e-wallets to the simulator; `secret` lets a
/// test configure a wrong merchant secret.
pub async fn smilepayz_kasir(backend: Backend, sim: &SmilepayzSim, secret: &str, extra: &str) -> TestApp {
    let app = smilepayz_kasir_at(backend, &sim.url, secret, extra).await;
    // Kasir's public URL in tests is not routable; deliver callbacks here.
    sim.deliver_callbacks_to(&app.url("/webhooks/smilepayz"));
    app
}

/// Kasir routing QRIS, VA and e-wallets to Smilepayz at `base_url`.
pub async fn smilepayz_kasir_at(backend: Backend, base_url: &str, secret: &str, extra: &str) -> TestApp {
    let url = base_url.to_owned();
    let secret = secret.to_owned();
    let extra = extra.to_owned();
    let database_url = fresh_database_url(backend).await;
    spawn_with(database_url, Receiver::start().await, move |config| {
        let text = format!(
            "base_url = {url:?}\nmerchant_id = {SMILEPAYZ_MERCHANT_ID:?}\nmerchant_secret = {secret:?}\nprivate_key = {:?}\nplatform_public_key = {:?}\n{extra}",
            fixture("merchant.key.pem"),
            fixture("platform.pub.pem"),
        );
        load_provider(config, "smilepayz", &text);
        for method in ["qris", "virtual_account", "ewallet"] {
            config.routing.insert(method.into(), "smilepayz".into());
        }
    })
    .await
}

/// A session as the Smilepayz tests open it (merchant A).
pub async fn smilepayz_session(app: &TestApp, amount: u64) -> (String, String) {
    app.new_session(&json!({"amount": amount, "reference": "INV-SPZ"})).await
}

// SingaPay: cards, with the customer's email and phone and a billing address.

/// The SingaPay client secret the simulator expects.
pub const SINGAPAY_SECRET: &str = "singapay-client-secret-0123";

/// The SingaPay simulator.
pub async fn singapay_simulator() -> SingapaySim {
    SingapaySim::start(Credentials {
        partner_id: "api-key-1".into(),
        client_id: "client-1".into(),
        client_secret: SINGAPAY_SECRET.into(),
        account_id: "01K5G4FZZ18DMK0M5QTR8Y9QY9".into(),
    })
    .await
}

/// Configures SingaPay at `sim` (with `secret`) and routes cards to it.
pub fn route_cards_to_singapay(config: &mut kasir_server::Config, sim: &SingapaySim, secret: &str) {
    let text = format!(
        "base_url = {:?}\npartner_id = \"api-key-1\"\nclient_id = \"client-1\"\nclient_secret = {secret:?}\naccount_id = \"01K5G4FZZ18DMK0M5QTR8Y9QY9\"\npoll_secs = 1\n",
        sim.url
    );
    load_provider(config, "singapay", &text);
    config.routing.insert("card".into(), "singapay".into());
}

/// Kasir routing cards to the SingaPay simulator, with client `secret`.
pub async fn singapay_kasir(backend: Backend, sim: &SingapaySim, secret: &str) -> TestApp {
    let database_url = fresh_database_url(backend).await;
    spawn_with(database_url, Receiver::start().await, |config| route_cards_to_singapay(config, sim, secret))
        .await
}

/// A session as the SingaPay tests open it (merchant A): the customer's
/// email and phone are on it, as SingaPay requires.
pub async fn singapay_session(app: &TestApp, amount: u64) -> (String, String) {
    app.new_session(&json!({"amount": amount, "reference": "INV-SGP", "customer": full_customer()})).await
}

/// A card attempt with the billing address SingaPay requires.
pub fn singapay_card(number: &str) -> Value {
    let mut body = card(number);
    body["billing"] = billing();
    body
}

// Smart Glocal: cards, with the shopper's NIK.

/// The Smart Glocal simulator; `minor_units` makes it read amounts in
/// hundredths.
pub async fn smartglocal_simulator(minor_units: bool) -> SmartGlocalSim {
    SmartGlocalSim::start(kasir_tests::sim::smartglocal::Keys {
        project: "kasir_test".into(),
        partner_public_pem: fixture("smartglocal_partner.pub.pem"),
        sg_private_pem: fixture("smartglocal_sg.key.pem"),
        minor_units,
    })
    .await
}

/// Kasir routing cards to the Smart Glocal simulator, with `extra` lines
/// in its provider table; webhooks are delivered to it.
pub async fn smartglocal_kasir(backend: Backend, sim: &SmartGlocalSim, extra: &str) -> TestApp {
    smartglocal_kasir_with(backend, sim, extra, |_| {}).await
}

/// As [`smartglocal_kasir`], with `tweak` applied to the configuration.
pub async fn smartglocal_kasir_with(
    backend: Backend,
    sim: &SmartGlocalSim,
    extra: &str,
    tweak: impl FnOnce(&mut kasir_server::config::Config),
) -> TestApp {
    let text = format!(
        "base_url = {:?}\nproject = \"kasir_test\"\nprivate_key = {:?}\npublic_key = {:?}\n{extra}",
        sim.url,
        fixture("smartglocal_partner.key.pem"),
        fixture("smartglocal_sg.pub.pem"),
    );
    let database_url = fresh_database_url(backend).await;
    let app = spawn_with(database_url, Receiver::start().await, move |config| {
        load_provider(config, "smartglocal", &text);
        config.routing.insert("card".into(), "smartglocal".into());
        tweak(config);
    })
    .await;
    sim.deliver_webhooks_to(&app.url("/webhooks/smartglocal"));
    app
}

/// A session as the Smart Glocal tests open it (merchant A): the
/// customer's email is on it, as Smart Glocal requires.
pub async fn smartglocal_session(app: &TestApp, amount: u64) -> (String, String) {
    app.new_session(
        &json!({"amount": amount, "reference": "INV-SG", "customer": {"name": "Siti Rahayu", "email": "siti@example.co.id"}}),
    )
    .await
}

/// A card attempt held by Siti Rahayu, with the NIK Smart Glocal requires.
pub fn smartglocal_card(number: &str) -> Value {
    let mut body = card_with(number, "12/30", "123", "Siti Rahayu");
    body["nik"] = json!("3171014101900001");
    body
}

// Midtrans: every method.

pub const MIDTRANS_SERVER_KEY: &str = "SB-Mid-server-kasir-test-0123";
pub const MIDTRANS_CLIENT_KEY: &str = "SB-Mid-client-kasir-test-0123";

/// The Midtrans simulator with the test keys.
pub async fn midtrans_simulator() -> MidtransSim {
    MidtransSim::start(MIDTRANS_SERVER_KEY, MIDTRANS_CLIENT_KEY).await
}

/// Kasir routing every method to the Midtrans simulator (with `extra` lines
/// in its provider table); notifications are delivered to it.
pub async fn midtrans_kasir(backend: Backend, sim: &MidtransSim, extra: &str) -> TestApp {
    let text = format!(
        "base_url = {:?}\nserver_key = {MIDTRANS_SERVER_KEY:?}\nclient_key = {MIDTRANS_CLIENT_KEY:?}\n{extra}",
        sim.url
    );
    let database_url = fresh_database_url(backend).await;
    let app = spawn_with(database_url, Receiver::start().await, move |config| {
        load_provider(config, "midtrans", &text);
        for method in ["card", "qris", "virtual_account", "ewallet", "convenience_store"] {
            config.routing.insert(method.into(), "midtrans".into());
        }
    })
    .await;
    // Kasir's public URL in tests is not routable: what Midtrans sends to
    // the X-Override-Notification Kasir gave arrives here.
    sim.reroute(super::PUBLIC_URL, &app.url(""));
    app
}

/// A session as the Midtrans tests open it (merchant A).
pub async fn midtrans_session(app: &TestApp, amount: u64) -> (String, String) {
    app.new_session(&json!({"amount": amount, "reference": "INV-MT", "customer": {"name": "Budi Santoso", "email": "budi@example.co.id"}}))
        .await
}
