//! # kasir-server
//!
//! The Kasir checkout server. `lib.rs` builds the app so that tests can start
//! the real thing on port 0; `main.rs` only reads configuration and runs it.

pub mod api;
pub mod auth;
pub mod config;
pub mod config_error;
pub mod config_file;
pub mod error;
pub mod extract;
pub mod http;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod payments;
pub mod peers;
pub mod providers;
pub mod serve;
pub mod signals;
pub mod signing;
pub mod store;
pub mod telemetry;
pub mod workers;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use kasir_shared::payment::PaymentMethodKind;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::config::MerchantConfig;
use crate::providers::Providers;
use crate::providers::sandbox::Sandbox;

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
    /// The provider routing table is not usable.
    #[error("routing: {0}")]
    Routing(String),
    /// A setting that would leave the server open to abuse (issue 15).
    #[error("unsafe setting {key}: {reason}")]
    Unsafe {
        /// The setting.
        key: String,
        /// What is wrong and what to do.
        reason: String,
    },
}

/// Refuses settings that would leave the server open: two merchants with
/// one key, a key too short to be secret, `*` or malformed origins (they
/// also feed the page's Content-Security-Policy), webhook URLs that are not
/// http(s) or that point into the host's own network or a cloud metadata
/// service (unless `allow_private_webhook_urls`, for development), an empty
/// or short sandbox webhook secret.
pub fn check_safe(config: &Config) -> Result<(), StartError> {
    let unsafe_setting = |key: String, reason: &str| StartError::Unsafe { key, reason: reason.to_owned() };
    let mut keys = std::collections::HashSet::new();
    for m in &config.merchants {
        let at = |field: &str| format!("merchants[{}].{field}", m.id);
        config::check_secret_key(&m.secret_key).map_err(|_| {
            unsafe_setting(at("secret_key"), "expected sk_test_ or sk_live_ and at least 16 more characters")
        })?;
        if !keys.insert(m.secret_key.expose_secret().to_owned()) {
            return Err(unsafe_setting(at("secret_key"), "the same key is configured for two merchants"));
        }
        if m.webhook_secret.as_ref().is_some_and(|s| s.expose_secret().len() < 16) {
            return Err(unsafe_setting(at("webhook_secret"), "at least 16 characters"));
        }
        for origin in &m.allowed_origins {
            check_origin(origin).map_err(|reason| unsafe_setting(at("allowed_origins"), &reason))?;
        }
        if let Some(url) = &m.webhook_url {
            check_webhook_url(url, config.allow_private_webhook_urls)
                .map_err(|reason| unsafe_setting(at("webhook_url"), &reason))?;
        }
    }
    if config.sandbox_webhook_secret.expose_secret().trim().len() < 16 {
        return Err(unsafe_setting("providers.sandbox.webhook_secret".into(), "at least 16 characters"));
    }
    Ok(())
}

/// `scheme://host[:port]`, http(s), nothing else (no `*`, path or spaces).
fn check_origin(origin: &str) -> Result<(), String> {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(format!("{origin:?} is not an origin (https://shop.example)"));
    };
    let host_ok = !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        && !rest.starts_with(['.', ':']);
    if !matches!(scheme, "https" | "http") || !host_ok {
        return Err(format!("{origin:?} is not an origin (https://shop.example; no * or path)"));
    }
    Ok(())
}

/// An http(s) URL whose host is not this host's network, link-local or a
/// cloud metadata service (unless `allow_private`).
fn check_webhook_url(url: &str, allow_private: bool) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("{url:?} is not an http(s) URL"));
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http") {
        return Err(format!("{url:?}: only http and https"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    let metadata = matches!(host.as_str(), "metadata.google.internal" | "metadata" | "instance-data");
    let private = host == "localhost"
        || host.ends_with(".localhost")
        || host.ends_with(".internal")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| match ip {
            std::net::IpAddr::V4(v4) => {
                v4.is_private()
                    || v4.is_loopback()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    || v4.is_broadcast()
                    || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
            }
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
                    || v6
                        .to_ipv4_mapped()
                        .is_some_and(|v4| v4.is_private() || v4.is_loopback() || v4.is_link_local())
            }
        });
    let link_local_metadata = host == "169.254.169.254" || host == "fd00:ec2::254";
    if metadata || link_local_metadata {
        return Err(format!("{url:?} points at a cloud metadata service"));
    }
    if private && !allow_private {
        return Err(format!(
            "{url:?} points into this host's network; set allow_private_webhook_urls = true only for development"
        ));
    }
    Ok(())
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// The database.
    pub store: store::Store,
    /// The providers and the routing table.
    pub providers: Arc<Providers>,
    /// The built-in sandbox provider (its shopper pages and test helpers).
    pub sandbox: Arc<Sandbox>,
    /// Prometheus counters.
    pub metrics: Arc<metrics::Metrics>,
    /// Wakes the Server-Sent Events streams of a session that changed.
    pub session_changes: Arc<signals::SessionSignals>,
    /// Tells the other instances on PostgreSQL that a session changed.
    pub peers: peers::Peers,
    /// Open widget event streams.
    pub event_streams: Arc<limits::EventStreams>,
    /// When the retention purge last ran (Unix ms).
    pub last_purge: Arc<std::sync::atomic::AtomicI64>,
    /// Wakes the delivery worker when an event is written.
    pub delivery_wake: Arc<Notify>,
    /// Attempts per client IP.
    pub ip_limiter: Arc<limits::IpLimiter>,
    /// Requests in flight per client behind trusted proxies.
    pub proxied_requests: Arc<limits::ProxiedRequests>,
    /// Different cards per client IP per hour.
    pub card_limiter: Arc<limits::CardLimiter>,
    /// Webhooks that failed verification, per source IP.
    pub webhook_rejections: Arc<limits::IpLimiter>,
    /// The client for merchant webhooks.
    pub http: reqwest::Client,
    /// The built checkout widget (hosted page and assets).
    pub widget: api::pages::Widget,
    /// Becomes `true` when the server starts to stop: long-lived responses
    /// (Server-Sent Events) end so that the graceful drain does not wait on
    /// them, and the background workers finish.
    pub stopping: Arc<watch::Sender<bool>>,
}

impl AppState {
    /// The configured merchant `id`.
    pub fn merchant(&self, id: &str) -> Option<&MerchantConfig> {
        self.config.merchants.iter().find(|m| m.id == id)
    }

    /// Tells SSE listeners that the session changed.
    pub fn notify_session(&self, session_id: &str) {
        // No listeners is fine.
        self.session_changes.notify(session_id);
        self.peers.tell(session_id);
    }

    /// Completes once the server has begun to stop.
    pub async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        // An error means the sender is gone, which also means stopping.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }

    /// Wakes the delivery worker.
    pub fn wake_delivery(&self) {
        self.delivery_wake.notify_one();
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    api::router(&state)
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::observe))
        .with_state(state)
}

/// A server bound to its listener but not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: AppState,
    /// Session ids to tell the other instances (PostgreSQL only).
    peer_queue: Option<tokio::sync::mpsc::Receiver<String>>,
}

impl Server {
    /// Connects the store (running migrations) and binds the configured
    /// address (port 0 picks a free port).
    pub async fn bind(mut config: Config) -> Result<Server, StartError> {
        check_safe(&config)?;
        let silent = config.merchants.iter().filter(|m| m.webhook_url.is_none()).map(|m| m.id.clone());
        let notify_only = config
            .merchants
            .iter()
            .filter(|m| m.late_payments == config::LatePaymentPolicy::Notify)
            .map(|m| m.id.clone());
        let store = store::Store::connect_with(&config.database_url, config.sqlite_synchronous)
            .await?
            .with_silent_merchants(silent)
            .with_notify_only_merchants(notify_only);
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        // The sandbox posts its webhooks to this very server, over loopback
        // when listening on all interfaces.
        let ip = if addr.ip().is_unspecified() { [127, 0, 0, 1].into() } else { addr.ip() };
        let sandbox = Arc::new(
            Sandbox::new(
                store.clone(),
                format!("http://{}/webhooks/sandbox", SocketAddr::new(ip, addr.port())),
                config.sandbox_webhook_secret.clone(),
                config.public_url.clone(),
            )
            .with_signature_limits(signing::SignatureLimits {
                max_bytes: config.limits.webhook_signature_bytes,
                max_signatures: config.limits.webhook_signatures_tried,
            }),
        );
        let mut providers = Providers::default();
        providers.register(sandbox.clone());
        let context = providers::registry::BuildContext {
            public_url: &config.public_url,
            timeout: config.timings.provider_timeout,
        };
        for configured in config.providers.iter() {
            providers.register(configured.build(context).map_err(|e| StartError::Routing(e.to_string()))?);
        }
        for method in PaymentMethodKind::ALL {
            let name =
                config.routing.get(method.as_str()).map_or(providers::registry::SANDBOX, String::as_str);
            providers.route(*method, name).map_err(StartError::Routing)?;
        }
        if let Some(unknown) = config.routing.keys().find(|k| PaymentMethodKind::parse(k).is_err()) {
            return Err(StartError::Routing(format!("unknown method {unknown:?} in [routing]")));
        }
        resolve_default_methods(&mut config, &providers)?;
        check_live_routing(&config, &providers)?;
        let http = reqwest::Client::builder()
            .timeout(config.timings.delivery_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StartError::Routing(format!("http client: {e}")))?;
        let widget = api::pages::Widget::load(config.widget_dir.as_deref());
        let (peers, peer_queue) = peers::Peers::new(store.is_postgres());
        let state = AppState {
            peers,
            widget,
            config: Arc::new(config),
            store,
            providers: Arc::new(providers),
            sandbox,
            metrics: Arc::default(),
            session_changes: Arc::default(),
            event_streams: Arc::default(),
            last_purge: Arc::default(),
            delivery_wake: Arc::default(),
            ip_limiter: Arc::default(),
            proxied_requests: Arc::default(),
            card_limiter: Arc::default(),
            webhook_rejections: Arc::default(),
            http,
            stopping: Arc::new(watch::channel(false).0),
        };
        Ok(Server { listener, state, peer_queue })
    }

    /// The state handlers see (tests reach the store through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    /// The background workers (webhook delivery, reconciler and expiry) run
    /// alongside and stop with it.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let stopping = self.state.stopping.clone();
        let workers = workers::spawn(self.state.clone(), stopping.subscribe());
        if let Some(queue) = self.peer_queue {
            peers::spawn(self.state.clone(), queue, stopping.subscribe());
        }
        let config = self.state.config.clone();
        let limits = serve::ConnectionLimits {
            max_connections: serve::ConnectionLimits::effective_max(config.limits.max_connections),
            max_connections_per_ip: config.limits.max_connections_per_ip,
            header_read_timeout: config.limits.header_read_timeout,
            body_read_timeout: config.limits.body_read_timeout,
            write_stall_timeout: config.limits.write_stall_timeout,
        };
        let metrics = self.state.metrics.clone();
        let router = app(self.state);
        // Tell long-lived responses to end as soon as the signal comes, so
        // that the graceful drain only waits for ordinary requests.
        let signal = {
            let stopping = stopping.clone();
            async move {
                shutdown.await;
                stopping.send_replace(true);
            }
        };
        tracing::info!(
            max_connections = limits.max_connections,
            per_ip = limits.max_connections_per_ip,
            header_read_timeout_secs = limits.header_read_timeout.as_secs(),
            "accepting connections"
        );
        let trusted = Arc::new(config.trusted_proxies.clone());
        // Requests in flight get the provider timeout and their settling.
        let drain = config.timings.provider_timeout + std::time::Duration::from_secs(15);
        let served = serve::serve(self.listener, router, limits, trusted, metrics, signal, drain).await;
        stopping.send_replace(true);
        for worker in workers {
            let _ = worker.await;
        }
        served
    }
}

/// A live merchant (`sk_live_` key) must never reach the sandbox: every
/// method it allows must route to a real provider, or the server does not start.
/// A merchant that names no `payment_methods` gets every method Kasir
/// offers in test mode, and in live mode only those routed to a real
/// provider, never the sandbox: a method added to Kasir later (convenience
/// stores) does not stop a live server whose routing predates it, and is
/// never offered for real money by the sandbox. A live merchant with no
/// method routed to a real provider cannot start.
pub fn resolve_default_methods(config: &mut Config, providers: &Providers) -> Result<(), StartError> {
    for merchant in config.merchants.iter_mut().filter(|m| m.payment_methods.is_none()) {
        let live = merchant.livemode();
        let methods: Vec<PaymentMethodKind> = PaymentMethodKind::ALL
            .iter()
            .copied()
            .filter(|m| !live || providers.for_method(*m).is_some_and(|p| !p.test_environment()))
            .collect();
        if methods.is_empty() {
            return Err(StartError::Routing(format!(
                "merchant {:?} has a live key (sk_live_) and every method routes to the sandbox: route \
                 methods to a real provider in [routing]",
                merchant.id
            )));
        }
        merchant.payment_methods = Some(methods);
    }
    Ok(())
}

/// Refuses a live merchant whose methods include one routed to a test
/// environment: Kasir's sandbox, or a provider's sandbox or demo host.
pub fn check_live_routing(config: &Config, providers: &Providers) -> Result<(), StartError> {
    for merchant in config.merchants.iter().filter(|m| !m.livemode()) {
        for method in merchant.allowed_methods() {
            if let Some(p) = providers.for_method(*method).filter(|p| !p.test_environment()) {
                // The demo merchant's sessions are made by anyone who opens
                // /demo: it must never reach real money.
                if config.demo_merchant.as_deref() == Some(merchant.id.as_str()) {
                    return Err(StartError::Routing(format!(
                        "the demo merchant (no merchant configured) would route {method} to {}, a production \
                         provider: anyone opening /demo could pay real money through it. Configure a merchant, \
                         or route {method} to a test environment",
                        p.name()
                    )));
                }
                // Routing is per server, not per merchant: say so, since
                // its payments are real money under a test key.
                tracing::warn!(merchant = %merchant.id, %method, provider = p.name(),
                    "a test-mode merchant (sk_test_) is routed to a production provider: its payments move real money");
            }
        }
    }
    for merchant in config.merchants.iter().filter(|m| m.livemode()) {
        for method in merchant.allowed_methods() {
            let routed = providers.for_method(*method);
            if routed.is_none_or(|p| p.test_environment()) {
                let to = routed.map_or("no provider".to_owned(), |p| {
                    format!("{}, a test environment (Kasir's sandbox, or a provider's sandbox or demo host as its base_url)", p.name())
                });
                return Err(StartError::Routing(format!(
                    "merchant {:?} has a live key (sk_live_) and allows {method}, which routes to {to}: \
                     route {method} to a provider's production host in [routing], or leave it out of the \
                     merchant's payment_methods",
                    merchant.id
                )));
            }
        }
    }
    Ok(())
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
