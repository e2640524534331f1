//! `cargo xtask serve --simulate`: the Kasir server with QRIS, virtual
//! accounts and e-wallets routed to the Smilepayz simulator and cards to the
//! SingaPay simulator (or Smart Glocal with `--card smartglocal`, Midtrans
//! with `--card midtrans`, or the built-in sandbox with `--card sandbox`);
//! with `--midtrans`, every method (convenience stores too) goes to the
//! Midtrans simulator. Each is a
//! real HTTP server on loopback enforcing the provider's wire format, plus a
//! small control endpoint that plays the shopper:
//!
//! - `POST {control}/attempts/{pa_…}/pay`: pay the QR/VA/e-wallet, or pass 3DS;
//! - `POST {control}/attempts/{pa_…}/decline`: fail 3DS.
//!
//! Reads `kasir.toml` / `KASIR_…` like `kasir-server`; provider settings
//! and routing are replaced by the simulators'.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::post;
use kasir_server::config::{MerchantConfig, ProviderSettings};
use kasir_server::config_file::ProviderTables;
use kasir_server::ids::random_token;
use kasir_server::{Config, Server, shutdown_signal, telemetry};
use kasir_shared::secret::SecretString;
use kasir_tests::sim::common::serve;
use kasir_tests::sim::midtrans::MidtransSim;
use kasir_tests::sim::singapay::{self, SingapaySim};
use kasir_tests::sim::smartglocal::{self, SmartGlocalSim};
use kasir_tests::sim::smilepayz::{self, SmilepayzSim};

const MERCHANT_KEY: &str = include_str!("../../fixtures/providers/merchant.key.pem");
const MERCHANT_PUB: &str = include_str!("../../fixtures/providers/merchant.pub.pem");
const PLATFORM_KEY: &str = include_str!("../../fixtures/providers/platform.key.pem");
const PLATFORM_PUB: &str = include_str!("../../fixtures/providers/platform.pub.pem");
const SG_PARTNER_KEY: &str = include_str!("../../fixtures/providers/smartglocal_partner.key.pem");
const SG_PARTNER_PUB: &str = include_str!("../../fixtures/providers/smartglocal_partner.pub.pem");
const SG_KEY: &str = include_str!("../../fixtures/providers/smartglocal_sg.key.pem");
const SG_PUB: &str = include_str!("../../fixtures/providers/smartglocal_sg.pub.pem");
const SECRET: &str = "simulated-secret-0123456789";
const MIDTRANS_SERVER_KEY: &str = "SB-Mid-server-simulated-secret-0123456789";
const MIDTRANS_CLIENT_KEY: &str = "SB-Mid-client-simulated";

#[derive(Clone)]
struct Sims {
    smilepayz: SmilepayzSim,
    singapay: SingapaySim,
    smartglocal: SmartGlocalSim,
    midtrans: MidtransSim,
}

fn table(text: &str) -> Result<toml::Table, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

async fn start_sims() -> Sims {
    let smilepayz = SmilepayzSim::start(smilepayz::Keys {
        merchant_id: "sandbox-sim".into(),
        merchant_secret: SECRET.into(),
        merchant_public_pem: MERCHANT_PUB.into(),
        platform_private_pem: PLATFORM_KEY.into(),
    })
    .await;
    let singapay = SingapaySim::start(singapay::Credentials {
        partner_id: "sim-api-key".into(),
        client_id: "sim-client".into(),
        client_secret: SECRET.into(),
        account_id: "01SIMULATEDACCOUNT0000000".into(),
    })
    .await;
    let smartglocal = SmartGlocalSim::start(smartglocal::Keys {
        project: "kasir_sim".into(),
        partner_public_pem: SG_PARTNER_PUB.into(),
        sg_private_pem: SG_KEY.into(),
        minor_units: false,
    })
    .await;
    let midtrans = MidtransSim::start(MIDTRANS_SERVER_KEY, MIDTRANS_CLIENT_KEY).await;
    Sims { smilepayz, singapay, smartglocal, midtrans }
}

fn provider_settings(sims: &Sims) -> Result<ProviderSettings, String> {
    let tables = ProviderTables::from([
        (
            "smilepayz".to_owned(),
            table(&format!(
                "base_url = {:?}\nmerchant_id = \"sandbox-sim\"\nmerchant_secret = {SECRET:?}\nprivate_key = {MERCHANT_KEY:?}\nplatform_public_key = {PLATFORM_PUB:?}\nunconfirmed_methods = true",
                sims.smilepayz.url
            ))?,
        ),
        (
            "singapay".to_owned(),
            table(&format!(
                "base_url = {:?}\npartner_id = \"sim-api-key\"\nclient_id = \"sim-client\"\nclient_secret = {SECRET:?}\naccount_id = \"01SIMULATEDACCOUNT0000000\"\npoll_secs = 2",
                sims.singapay.url
            ))?,
        ),
        (
            "smartglocal".to_owned(),
            table(&format!(
                "base_url = {:?}\nproject = \"kasir_sim\"\nprivate_key = {SG_PARTNER_KEY:?}\npublic_key = {SG_PUB:?}",
                sims.smartglocal.url
            ))?,
        ),
        (
            "midtrans".to_owned(),
            table(&format!(
                "base_url = {:?}\nserver_key = {MIDTRANS_SERVER_KEY:?}\nclient_key = {MIDTRANS_CLIENT_KEY:?}\npoll_secs = 2\nreversal_hold_secs = 5",
                sims.midtrans.url
            ))?,
        ),
    ]);
    ProviderSettings::load(tables, &|_| None).map_err(|e| e.to_string())
}

/// Plays the shopper for an attempt at whichever simulator holds it.
async fn act(
    State(sims): State<Sims>,
    Path((attempt, action)): Path<(String, String)>,
) -> (axum::http::StatusCode, String) {
    let approve = action == "pay";
    if let Some(order) = sims.smilepayz.order_for_attempt(&attempt) {
        if !approve {
            sims.smilepayz.set_status(&order.order_no, "FAILED");
            let (status, _) =
                sims.smilepayz.send_callback(&order.order_no, smilepayz::CallbackMode::Valid).await;
            return (
                axum::http::StatusCode::OK,
                format!("smilepayz order {} failed (callback: {status})\n", order.order_no),
            );
        }
        let (status, body) = sims.smilepayz.pay(&order.order_no).await;
        return (
            axum::http::StatusCode::OK,
            format!("smilepayz order {} paid (callback: {status} {body})\n", order.order_no),
        );
    }
    if let Some(t) = sims.midtrans.transaction(&attempt) {
        let (status, _) = if t.payment_type == "credit_card" {
            sims.midtrans.complete_3ds(&attempt, approve).await
        } else if approve {
            sims.midtrans.pay(&attempt).await
        } else {
            sims.midtrans.expire_now(&attempt).await
        };
        return (
            axum::http::StatusCode::OK,
            format!("midtrans {attempt}: {action} (notification: {status})\n"),
        );
    }
    if let Some(t) = sims.singapay.transaction_for(&attempt) {
        sims.singapay.complete_3ds(&t.transaction_id, approve);
        return (
            axum::http::StatusCode::OK,
            format!("singapay {}: 3DS {action}; Kasir polls the outcome\n", t.transaction_id),
        );
    }
    if let Some(s) = sims.smartglocal.session_for(&attempt) {
        let status = if s.needs_3ds {
            sims.smartglocal.complete_3ds(&s.id, approve).await
        } else {
            sims.smartglocal.advance(&s.id).await
        };
        return (axum::http::StatusCode::OK, format!("smartglocal {}: next webhook sent ({status})\n", s.id));
    }
    (axum::http::StatusCode::NOT_FOUND, "no simulator knows that attempt\n".into())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (card, everything_midtrans) = match args.as_slice() {
        [] => ("singapay", false),
        [flag] if flag == "--midtrans" => ("midtrans", true),
        [flag, name]
            if flag == "--card"
                && ["singapay", "smartglocal", "midtrans", "sandbox"].contains(&name.as_str()) =>
        {
            (name.as_str(), false)
        }
        _ => {
            eprintln!("usage: kasir-simulate [--card singapay|smartglocal|midtrans|sandbox | --midtrans]");
            return std::process::ExitCode::from(2);
        }
    };
    let mut config = match Config::load(None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kasir: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let sims = start_sims().await;
    config.providers = match provider_settings(&sims) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("kasir-simulate: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let others = if everything_midtrans { "midtrans" } else { "smilepayz" };
    config.routing = BTreeMap::from([
        ("qris".to_owned(), others.to_owned()),
        ("virtual_account".to_owned(), others.to_owned()),
        ("ewallet".to_owned(), others.to_owned()),
        ("card".to_owned(), card.to_owned()),
    ]);
    if everything_midtrans {
        config.routing.insert("convenience_store".to_owned(), "midtrans".to_owned());
    }
    let demo_key = config.merchants.is_empty().then(|| format!("sk_test_{}", random_token(32)));
    if let Some(key) = &demo_key {
        let mut demo = MerchantConfig::new("demo", "Toko Demo Kasir", SecretString::new(key.clone()));
        demo.allowed_origins = vec![config.public_url.clone()];
        config.merchants.push(demo);
        config.demo_merchant = Some("demo".into());
    }
    let public_url = config.public_url.clone();
    let server = match Server::bind(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kasir-simulate: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let Ok(addr) = server.local_addr() else { return std::process::ExitCode::from(1) };
    let local = format!("http://{addr}");
    sims.smilepayz.deliver_callbacks_to(&format!("{local}/webhooks/smilepayz"));
    sims.smartglocal.deliver_webhooks_to(&format!("{local}/webhooks/smartglocal"));
    // Kasir names its public URL in X-Override-Notification; it is served here.
    sims.midtrans.reroute(&public_url, &local);
    let control =
        serve(axum::Router::new().route("/attempts/{attempt}/{action}", post(act)).with_state(sims.clone()))
            .await;
    println!("Kasir is listening on {local} with simulated providers:");
    if everything_midtrans {
        println!("  midtrans    {}  (every method)", sims.midtrans.url);
    } else {
        println!("  smilepayz   {}  (qris, virtual_account, ewallet)", sims.smilepayz.url);
    }
    let card_url = match card {
        "singapay" => sims.singapay.url.as_str(),
        "smartglocal" => sims.smartglocal.url.as_str(),
        "midtrans" => sims.midtrans.url.as_str(),
        _ => "built in",
    };
    println!("  {card:<11} {card_url}  (card)");
    println!("  shopper     {control}/attempts/<pa_…>/pay | /decline");
    if let Some(key) = demo_key {
        println!("\nDemo merchant \"demo\", secret key: {key}");
    }
    let _keep = Arc::new(sims);
    match server.run_until(shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kasir-simulate: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
