//! `kasir-server [--config FILE]`: reads the configuration (file, then
//! `KASIR_…` environment overrides) and serves.

use kasir_server::config::MerchantConfig;
use kasir_server::ids::random_token;
use kasir_server::{Config, Server, shutdown_signal, telemetry};
use kasir_shared::secret::SecretString;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = match args.as_slice() {
        [] => None,
        [flag, path] if flag == "--config" => Some(std::path::PathBuf::from(path)),
        _ => {
            eprintln!("usage: kasir-server [--config FILE]   (default: kasir.toml if present)");
            return std::process::ExitCode::from(2);
        }
    };
    let mut config = match Config::load(path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kasir: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    // With no merchant configured, run a demo merchant with a fresh test key,
    // printed once here (never logged).
    let demo_key = config.merchants.is_empty().then(|| format!("sk_test_{}", random_token(32)));
    if let Some(key) = &demo_key {
        let mut demo = MerchantConfig::new("demo", "Toko Demo Kasir", SecretString::new(key.clone()));
        // The demo storefront (/demo) embeds the checkout from Kasir's own origin.
        demo.allowed_origins = vec![config.public_url.clone()];
        config.merchants.push(demo);
        config.demo_merchant = Some("demo".into());
    }
    let public_url = config.public_url.clone();
    let server = match Server::bind(config).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return std::process::ExitCode::from(1);
        }
    };
    if let Ok(addr) = server.local_addr() {
        tracing::info!(%addr, "Kasir is listening");
        println!("Kasir is listening on http://{addr}  (health: http://{addr}/healthz)");
    }
    if let Some(key) = demo_key {
        println!("\nDemo merchant \"demo\" (new key every start; set KASIR_MERCHANT_ID and");
        println!("KASIR_MERCHANT_SECRET_KEY to keep one):\n  secret key: {key}");
        println!("  try: curl -s {public_url}/v1/checkout_sessions -H 'Authorization: Bearer {key}' \\");
        println!(
            "         -H 'Content-Type: application/json' -d '{{\"amount\":150000,\"reference\":\"INV-1\"}}'"
        );
        println!("  demo storefront: {public_url}/demo  (open the session's \"url\" to pay in a browser)");
    }
    match server.run_until(shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::from(1)
        }
    }
}
