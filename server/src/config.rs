//! Configuration: defaults, then the TOML file (`--config`, default
//! `kasir.toml` when present; see `kasir.example.toml`), then environment
//! overrides (`KASIR_…`). Secrets are `SecretString`s, masked in `Debug`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

use kasir_shared::secret::SecretString;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

impl LogFormat {
    /// `json`, or `pretty`/`text`.
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s {
            "json" => Some(LogFormat::Json),
            "pretty" | "text" => Some(LogFormat::Pretty),
            _ => None,
        }
    }
}

/// The merchant's look in the widget, as CSS variables (a wire type; its
/// values are checked so that they cannot break out of the CSS they are put
/// into).
pub use kasir_shared::api::Theme;

/// Secret keys are `sk_test_…` or `sk_live_…` with enough entropy behind them.
pub fn check_secret_key(key: &SecretString) -> Result<(), ConfigError> {
    let key = key.expose_secret();
    if !(key.starts_with("sk_test_") || key.starts_with("sk_live_")) || key.len() < 24 {
        return Err(ConfigError::Invalid {
            name: "secret_key",
            reason: "expected sk_test_ or sk_live_ followed by at least 16 characters".into(),
        });
    }
    Ok(())
}

/// A merchant: who may use the merchant API, and with which key.
#[derive(Debug, Clone)]
pub struct MerchantConfig {
    /// Stable id, e.g. `demo`.
    pub id: String,
    /// Name shown to shoppers.
    pub display_name: String,
    /// The `sk_…` secret key (masked in `Debug`).
    pub secret_key: SecretString,
    /// Where signed event webhooks are POSTed, if anywhere.
    pub webhook_url: Option<String>,
    /// The `whsec_…` secret that signs them (masked in `Debug`).
    pub webhook_secret: Option<SecretString>,
    /// Origins allowed to call the widget API and to frame the payment page.
    pub allowed_origins: Vec<String>,
    /// The widget's look.
    pub theme: Theme,
    /// The methods this merchant's sessions may offer; `None`: all four.
    /// A live merchant may only allow methods routed to a real provider.
    pub payment_methods: Option<Vec<kasir_shared::payment::PaymentMethodKind>>,
    /// What happens to money that arrives after a session closed.
    pub late_payments: LatePaymentPolicy,
    /// The largest session amount this merchant may ask for (at most
    /// Rp9,999,999,999, which every provider and QRIS can carry).
    pub max_amount: Option<kasir_shared::money::Idr>,
}

/// `late_payments = "refund" | "notify"`: what Kasir does with money a
/// provider reports for an attempt whose session had already closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatePaymentPolicy {
    /// Refund it through the provider where it can refund, and report it
    /// either way (the default).
    #[default]
    Refund,
    /// Only report it (`checkout_session.late_payment`); the merchant decides.
    Notify,
}

impl MerchantConfig {
    /// A merchant with a name and key and nothing else configured.
    pub fn new(id: &str, display_name: &str, secret_key: SecretString) -> MerchantConfig {
        MerchantConfig {
            id: id.to_owned(),
            display_name: display_name.to_owned(),
            secret_key,
            webhook_url: None,
            webhook_secret: None,
            allowed_origins: Vec::new(),
            theme: Theme::default(),
            payment_methods: None,
            late_payments: LatePaymentPolicy::default(),
            max_amount: None,
        }
    }

    /// Whether this is a live key (`sk_live_…`): real money, never the sandbox.
    pub fn livemode(&self) -> bool {
        !self.is_test_mode()
    }

    /// The methods this merchant allows (its `payment_methods`; when it
    /// names none, resolved at start: every method in test mode, the ones
    /// routed to a real provider in live mode).
    pub fn allowed_methods(&self) -> &[kasir_shared::payment::PaymentMethodKind] {
        self.payment_methods.as_deref().unwrap_or(kasir_shared::payment::PaymentMethodKind::ALL)
    }

    /// Whether this is a test-mode key (`sk_test_…`): test helpers work only then.
    pub fn is_test_mode(&self) -> bool {
        self.secret_key.expose_secret().starts_with("sk_test_")
    }
}

/// How long records are kept (issue 15: nothing was ever deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Sessions (once nothing about their money is open), their attempts,
    /// refunds, late payments and events, and delivered or failed events:
    /// deleted this long after they were created. `None`: kept forever.
    pub records: Option<std::time::Duration>,
    /// `Idempotency-Key` records: a retry after this is a new request.
    pub idempotency: std::time::Duration,
    /// How often the purge runs.
    pub every: std::time::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        let days = |d: u64| std::time::Duration::from_secs(d * 86_400);
        Retention {
            // 13 months: past card schemes' dispute windows and a year of
            // the merchant's own reconciliation.
            records: Some(days(400)),
            idempotency: days(1),
            every: std::time::Duration::from_secs(600),
        }
    }
}

/// Timings of the background work and of provider calls.
#[derive(Debug, Clone)]
pub struct Timings {
    /// How long a provider call may take before its outcome is `unknown`.
    pub provider_timeout: std::time::Duration,
    /// How long an attempt may stay `unknown` or `processing` before the
    /// reconciler asks the provider.
    pub reconcile_after: std::time::Duration,
    /// How often the reconciler, the expiry clock and the delivery worker
    /// look for due work (the delivery worker is also woken by new events).
    pub worker_tick: std::time::Duration,
    /// Delays between merchant-webhook delivery attempts; after the last,
    /// the event is marked `failed` (it can still be redelivered by hand).
    pub delivery_schedule: Vec<std::time::Duration>,
    /// How long one webhook delivery may take.
    pub delivery_timeout: std::time::Duration,
    /// How long an attempt may stay `unknown` (or `processing` with nothing
    /// the provider can tell) before the merchant is asked to review it
    /// (`checkout_session.requires_review`).
    pub review_after: std::time::Duration,
    /// How often a live stream re-reads its session even when nothing woke
    /// it (a change another instance made, on SQLite; a lost notification
    /// on PostgreSQL, where instances tell each other at once).
    pub stream_recheck: std::time::Duration,
}

impl Default for Timings {
    fn default() -> Self {
        let secs = std::time::Duration::from_secs;
        Timings {
            provider_timeout: secs(30),
            reconcile_after: secs(60),
            worker_tick: secs(2),
            // 11 retries over about 27 hours.
            delivery_schedule: [10, 60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 28_800, 28_800]
                .into_iter()
                .map(secs)
                .collect(),
            delivery_timeout: secs(10),
            review_after: secs(30 * 60),
            stream_recheck: secs(5),
        }
    }
}

/// Limits against card testing and floods.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Attempts one session accepts in all.
    pub attempts_per_session: u32,
    /// Attempts one client IP may start per minute.
    pub attempts_per_ip_per_minute: u32,
    /// Webhooks failing verification one source IP may send per minute;
    /// beyond it, its webhooks are refused unread (`429`) for the minute.
    pub rejected_webhooks_per_ip_per_minute: u32,
    /// Different cards one client IP may try per hour (card testing tries
    /// many numbers); the same card again is never refused by this limit.
    pub cards_per_ip_per_hour: u32,
    /// Open client connections in all; 0: three quarters of the open-file
    /// limit (always kept below it).
    pub max_connections: usize,
    /// Open client connections from one address (IPv6: one /64); trusted
    /// proxies are exempt, and their clients' requests in flight are capped
    /// at this instead.
    pub max_connections_per_ip: usize,
    /// Time a client has to send a request's headers, from the connection's
    /// start or the previous response (also the idle keep-alive timeout).
    pub header_read_timeout: std::time::Duration,
    /// Time a client has to send a request's body once its headers are in.
    pub body_read_timeout: std::time::Duration,
    /// Time a response may wait for a client that stopped reading it.
    pub write_stall_timeout: std::time::Duration,
    /// Event streams open on one session at once.
    pub event_streams_per_session: usize,
    /// Event streams open in all.
    pub event_streams_total: usize,
    /// Event streams open from one client (IPv6 per /64) at once: streams
    /// are not evicted like idle connections, so one client must not hold
    /// them all.
    pub event_streams_per_ip: usize,
    /// How long one event stream may last; the browser's `EventSource`
    /// then reconnects by itself (and gets the current view at once).
    pub event_stream_max: std::time::Duration,
    /// Largest signature header an inbound webhook may carry (bytes).
    pub webhook_signature_bytes: usize,
    /// Signatures tried per inbound webhook (`v1=` values; the rest ignored).
    pub webhook_signatures_tried: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            attempts_per_session: 10,
            attempts_per_ip_per_minute: 20,
            rejected_webhooks_per_ip_per_minute: 30,
            cards_per_ip_per_hour: 10,
            max_connections: 0,
            max_connections_per_ip: 256,
            header_read_timeout: std::time::Duration::from_secs(10),
            body_read_timeout: std::time::Duration::from_secs(10),
            write_stall_timeout: std::time::Duration::from_secs(15),
            event_streams_per_session: 4,
            event_streams_total: 2_000,
            event_streams_per_ip: 64,
            event_stream_max: std::time::Duration::from_secs(600),
            webhook_signature_bytes: 2_048,
            webhook_signatures_tried: 3,
        }
    }
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Log format.
    pub log_format: LogFormat,
    /// The URL shoppers reach Kasir at (for hosted-page links).
    pub public_url: String,
    /// `sqlite://data/kasir.db?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// SQLite only: `Full` (the default) syncs every commit to disk before
    /// Kasir answers, so a power cut cannot lose a payment Kasir has
    /// acknowledged; `Normal` may lose the last commits on a power cut or a
    /// host crash (never on a process crash) and is faster.
    pub sqlite_synchronous: crate::store::SqliteSynchronous,
    /// The merchants.
    pub merchants: Vec<MerchantConfig>,
    /// Provider and worker timings.
    pub timings: Timings,
    /// Attempt limits.
    pub limits: Limits,
    /// The secret the built-in sandbox provider signs its webhooks with
    /// (random per start unless configured).
    pub sandbox_webhook_secret: SecretString,
    /// Bearer token for `/metrics`; without one, `/metrics` answers only
    /// clients on loopback (after `trusted_proxies`), as an operator's
    /// Prometheus on the same host would be.
    pub metrics_token: Option<SecretString>,
    /// How long records are kept.
    pub retention: Retention,
    /// Let merchant webhook URLs point at loopback or private addresses
    /// (development and tests only; refused otherwise at start).
    pub allow_private_webhook_urls: bool,
    /// Method (`card`, `qris`, `virtual_account`, `ewallet`) → provider name;
    /// methods not listed go to `sandbox`.
    pub routing: BTreeMap<String, String>,
    /// The real providers that are configured.
    pub providers: ProviderSettings,
    /// Where to read the built widget from at start-up instead of the copy
    /// inside the binary (development). `None`: the embedded widget, or
    /// `dist/` when the binary was built before the widget.
    pub widget_dir: Option<std::path::PathBuf>,
    /// The test-mode merchant whose demo storefront `/demo` shows; off when `None`.
    pub demo_merchant: Option<String>,
    /// Reverse proxies in front of Kasir: from these peers only, the client
    /// address is read from `X-Forwarded-For` (the nearest address that is
    /// not itself a trusted proxy). Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Provider name → the networks its webhooks may come from; a provider
    /// not listed is accepted from anywhere (its signature still decides).
    pub webhook_sources: BTreeMap<String, Vec<ipnet::IpNet>>,
}

pub use crate::config_error::ConfigError;
pub use crate::providers::registry::ProviderSettings;

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Pretty,
            public_url: "http://127.0.0.1:8080".into(),
            database_url: "sqlite://data/kasir.db?mode=rwc".into(),
            sqlite_synchronous: crate::store::SqliteSynchronous::Full,
            merchants: Vec::new(),
            timings: Timings::default(),
            limits: Limits::default(),
            sandbox_webhook_secret: SecretString::new(format!("sbx_whsec_{}", crate::ids::random_token(32))),
            metrics_token: None,
            retention: Retention::default(),
            allow_private_webhook_urls: false,
            routing: BTreeMap::new(),
            providers: ProviderSettings::default(),
            widget_dir: None,
            demo_merchant: None,
            trusted_proxies: Vec::new(),
            webhook_sources: BTreeMap::new(),
        }
    }
}

impl Config {
    /// The defaults, overridden by `KASIR_LISTEN`, `KASIR_LOG_FORMAT`,
    /// `KASIR_PUBLIC_URL`, `KASIR_DATABASE_URL`, and one merchant from
    /// `KASIR_MERCHANT_ID` + `KASIR_MERCHANT_SECRET_KEY` (+ `KASIR_MERCHANT_NAME`).
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// The file at `path` (or `kasir.toml` if it exists), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let default = Path::new("kasir.toml");
        let path = path.or_else(|| default.exists().then_some(default));
        let text = match path {
            Some(p) => Some(std::fs::read_to_string(p).map_err(|e| ConfigError::Invalid {
                name: "--config",
                reason: format!("cannot read {}: {e}", p.display()),
            })?),
            None => None,
        };
        Config::load_from(text.as_deref(), |name| std::env::var(name).ok())
    }

    /// As `load`, from the file's text and an environment `lookup` (for tests).
    pub fn load_from(
        text: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut config = Config { public_url: String::new(), ..Config::default() };
        let mut tables = crate::config_file::ProviderTables::default();
        if let Some(text) = text {
            let mut file = crate::config_file::FileConfig::parse(text)?;
            tables = file.take_provider_tables();
            file.apply(&mut config, &lookup)?;
        }
        config.apply_env(&lookup)?;
        config.providers = ProviderSettings::load(tables, &lookup)?;
        if config.public_url.is_empty() {
            config.public_url = format!("http://{}", config.listen);
        }
        config.validate()?;
        Ok(config)
    }

    /// The checks that do not depend on where a value came from (file or
    /// environment), in one place so the two paths cannot drift.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |name: &'static str, reason: String| Err(ConfigError::Invalid { name, reason });
        for (i, m) in self.merchants.iter().enumerate() {
            let id = &m.id;
            if check_secret_key(&m.secret_key).is_err() {
                return invalid(
                    "merchants.secret_key",
                    format!("{id}: expected sk_test_ or sk_live_ followed by at least 16 characters"),
                );
            }
            if m.webhook_url.is_some() != m.webhook_secret.is_some() {
                return invalid("merchants.webhook_url", format!("{id}: webhook_url needs webhook_secret"));
            }
            if let Err(reason) = m.theme.check() {
                return invalid("merchants.theme", format!("{id}: {reason}"));
            }
            if m.payment_methods.as_ref().is_some_and(Vec::is_empty) {
                return invalid("merchants.payment_methods", format!("{id}: lists no method"));
            }
            if m.max_amount.is_some_and(|a| a.is_zero() || a > kasir_shared::money::Idr::MAX_PAYMENT) {
                return invalid("merchants.max_amount", format!("{id}: must be 1 to 9999999999"));
            }
            if self.merchants[..i].iter().any(|other| other.id == m.id) {
                return invalid("merchants.id", format!("{id} is configured twice"));
            }
        }
        if self.metrics_token.as_ref().is_some_and(|t| t.expose_secret().len() < 24) {
            return invalid("metrics_token", "the token must have at least 24 characters".into());
        }
        for provider in self.webhook_sources.keys().chain(self.routing.values()) {
            if !crate::providers::registry::names().any(|name| name == provider) {
                return invalid("providers", format!("no provider is called {provider}"));
            }
        }
        Ok(())
    }

    /// As `from_env`, reading variables through `lookup` (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::load_from(None, lookup)
    }

    fn apply_env(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let config = self;
        if let Some(listen) = lookup("KASIR_LISTEN") {
            config.listen = listen
                .parse()
                .map_err(|e| ConfigError::Invalid { name: "KASIR_LISTEN", reason: format!("{e}") })?;
        }
        if let Some(format) = lookup("KASIR_LOG_FORMAT") {
            config.log_format = LogFormat::parse(&format).ok_or_else(|| ConfigError::Invalid {
                name: "KASIR_LOG_FORMAT",
                reason: format!("expected json or pretty, got {format:?}"),
            })?;
        }
        if let Some(url) = lookup("KASIR_PUBLIC_URL") {
            config.public_url = url.trim_end_matches('/').to_owned();
        }
        if let Some(url) = lookup("KASIR_DATABASE_URL") {
            config.database_url = url;
        }
        if let Some(mode) = lookup("KASIR_SQLITE_SYNCHRONOUS") {
            config.sqlite_synchronous =
                crate::store::SqliteSynchronous::parse(&mode).ok_or_else(|| ConfigError::Invalid {
                    name: "KASIR_SQLITE_SYNCHRONOUS",
                    reason: format!("full or normal, not {mode:?}"),
                })?;
        }
        if let Some(dir) = lookup("KASIR_WIDGET_DIR") {
            config.widget_dir = Some(dir.into());
        }
        if let (Some(id), Some(key)) = (lookup("KASIR_MERCHANT_ID"), lookup("KASIR_MERCHANT_SECRET_KEY")) {
            let key = SecretString::new(key);
            let display_name = lookup("KASIR_MERCHANT_NAME").unwrap_or_else(|| id.clone());
            let mut merchant = MerchantConfig::new(&id, &display_name, key);
            merchant.webhook_url = lookup("KASIR_MERCHANT_WEBHOOK_URL");
            merchant.webhook_secret = lookup("KASIR_MERCHANT_WEBHOOK_SECRET").map(SecretString::new);
            merchant.allowed_origins = lookup("KASIR_MERCHANT_ALLOWED_ORIGINS")
                .map(|o| o.split(',').map(|s| s.trim().trim_end_matches('/').to_owned()).collect())
                .unwrap_or_default();
            config.merchants.retain(|m| m.id != merchant.id);
            config.merchants.push(merchant);
        }
        if let Some(secret) = lookup("KASIR_SANDBOX_WEBHOOK_SECRET") {
            config.sandbox_webhook_secret = SecretString::new(secret);
        }
        if let Some(allow) = lookup("KASIR_ALLOW_PRIVATE_WEBHOOK_URLS") {
            config.allow_private_webhook_urls = matches!(allow.as_str(), "1" | "true" | "yes");
        }
        if let Some(token) = lookup("KASIR_METRICS_TOKEN") {
            config.metrics_token = Some(SecretString::new(token));
        }
        if let Some(list) = lookup("KASIR_TRUSTED_PROXIES") {
            let list: Vec<String> =
                list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            config.trusted_proxies = crate::config_file::networks("KASIR_TRUSTED_PROXIES", &list)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: the environment path skipped the file path's checks.
    #[test]
    fn the_environment_gets_the_same_checks_as_the_file() {
        let merchant = |extra: &'static str| {
            move |n: &str| match n {
                "KASIR_MERCHANT_ID" => Some("env".to_owned()),
                "KASIR_MERCHANT_SECRET_KEY" => Some("sk_test_0123456789abcdefghij".to_owned()),
                "KASIR_MERCHANT_WEBHOOK_URL" if extra == "url" => {
                    Some("https://shop.example/hook".to_owned())
                }
                "KASIR_METRICS_TOKEN" if extra == "token" => Some("short".to_owned()),
                _ => None,
            }
        };
        assert!(Config::from_lookup(merchant("")).is_ok());
        let err = Config::from_lookup(merchant("url")).unwrap_err().to_string();
        assert!(err.contains("webhook_url needs webhook_secret"), "{err}");
        let err = Config::from_lookup(merchant("token")).unwrap_err().to_string();
        assert!(err.contains("at least 24"), "{err}");
        let file = "[[merchants]]\nid = \"a\"\nsecret_key = \"sk_test_0123456789abcdefghij\"\nwebhook_url = \"https://a.example/h\"";
        let err = Config::load_from(Some(file), |_| None).unwrap_err().to_string();
        assert!(err.contains("webhook_url needs webhook_secret"), "{err}");
    }

    #[test]
    fn environment_overrides_defaults() {
        let c = Config::from_lookup(|n| match n {
            "KASIR_LISTEN" => Some("127.0.0.1:0".into()),
            "KASIR_LOG_FORMAT" => Some("json".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.public_url, "http://127.0.0.1:0");
        let err = Config::from_lookup(|n| (n == "KASIR_LISTEN").then(|| "nope".into())).unwrap_err();
        assert!(err.to_string().starts_with("KASIR_LISTEN is not valid"));
    }
}
