//! # kasir-server
//!
//! The Kasir checkout server. `lib.rs` builds the app so that tests can start
//! the real thing on port 0; `main.rs` only reads configuration and runs it.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod ids;
pub mod payments;
pub mod store;
pub mod telemetry;

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

pub use config::Config;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    /// The listen address could not be bound.
    #[error("listen: {0}")]
    Bind(#[from] std::io::Error),
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration the server started with.
    pub config: std::sync::Arc<Config>,
    /// The database.
    pub store: store::Store,
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    api::router().with_state(state)
}

/// A server bound to its listener but not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Connects the store (running migrations) and binds the configured
    /// address (port 0 picks a free port).
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        let store = store::Store::connect(&config.database_url).await?;
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Server { listener, state: AppState { config: std::sync::Arc::new(config), store } })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, app(self.state)).with_graceful_shutdown(shutdown).await
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down; finishing requests in flight");
}
