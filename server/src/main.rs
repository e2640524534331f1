//! `kasir-server`: reads configuration from the environment and serves.

use kasir_server::{Config, Server, shutdown_signal, telemetry};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kasir: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let server = match Server::bind(config).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot bind the listen address");
            return std::process::ExitCode::from(1);
        }
    };
    if let Ok(addr) = server.local_addr() {
        tracing::info!(%addr, "Kasir is listening");
        println!("Kasir is listening on http://{addr}  (health: http://{addr}/healthz)");
    }
    match server.run_until(shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            std::process::ExitCode::from(1)
        }
    }
}
