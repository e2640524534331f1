//! The TOML configuration file (`--config`, default `kasir.toml`); see
//! `kasir.example.toml`. Every key is optional; environment variables
//! (`KASIR_…`) are applied on top. Unknown keys are errors, so a typo never
//! silently falls back to a default.

use std::collections::BTreeMap;
use std::time::Duration;

use kasir_shared::secret::SecretString;
use serde::Deserialize;

use crate::config::{Config, ConfigError, LogFormat, MerchantConfig, Theme};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    sqlite_synchronous: Option<String>,
    widget_dir: Option<String>,
    log_format: Option<String>,
    #[serde(default)]
    timings: FileTimings,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    retention: FileRetention,
    #[serde(default)]
    merchants: Vec<FileMerchant>,
    #[serde(default)]
    providers: FileProviders,
    #[serde(default)]
    routing: BTreeMap<String, String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    #[serde(default)]
    webhook_sources: BTreeMap<String, Vec<String>>,
    /// The environment variable holding the `/metrics` bearer token.
    metrics_token_env: Option<String>,
    /// Development only: merchant webhooks to private addresses.
    #[serde(default)]
    allow_private_webhook_urls: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTimings {
    provider_timeout_secs: Option<u64>,
    reconcile_after_secs: Option<u64>,
    worker_tick_ms: Option<u64>,
    delivery_schedule_secs: Option<Vec<u64>>,
    delivery_timeout_secs: Option<u64>,
    review_after_secs: Option<u64>,
    stream_recheck_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRetention {
    /// Days records are kept; 0 keeps them forever.
    days: Option<u64>,
    idempotency_hours: Option<u64>,
    purge_every_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    attempts_per_session: Option<u32>,
    attempts_per_ip_per_minute: Option<u32>,
    rejected_webhooks_per_ip_per_minute: Option<u32>,
    cards_per_ip_per_hour: Option<u32>,
    max_connections: Option<usize>,
    max_connections_per_ip: Option<usize>,
    header_read_timeout_secs: Option<u64>,
    body_read_timeout_secs: Option<u64>,
    write_stall_timeout_secs: Option<u64>,
    event_streams_per_session: Option<usize>,
    event_streams_total: Option<usize>,
    event_streams_per_ip: Option<usize>,
    event_stream_max_secs: Option<u64>,
    webhook_signature_bytes: Option<usize>,
    webhook_signatures_tried: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMerchant {
    id: String,
    display_name: Option<String>,
    /// The key itself, or…
    secret_key: Option<SecretString>,
    /// …the environment variable holding it (keeps secrets out of the file).
    secret_key_env: Option<String>,
    webhook_url: Option<String>,
    webhook_secret: Option<SecretString>,
    webhook_secret_env: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    theme: Option<Theme>,
    payment_methods: Option<Vec<String>>,
    late_payments: Option<crate::config::LatePaymentPolicy>,
    max_amount: Option<u64>,
}

/// `[providers.sandbox]` and every real provider's table, by name (the
/// registry refuses a name it does not know).
#[derive(Debug, Default, Deserialize)]
struct FileProviders {
    sandbox: Option<FileSandbox>,
    #[serde(flatten)]
    real: ProviderTables,
}

pub use crate::providers::registry::ProviderTables;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSandbox {
    webhook_secret: Option<SecretString>,
}

/// Networks written as `203.0.113.0/24`, `2001:db8::/32` or a bare address
/// (one host).
pub fn networks(name: &'static str, list: &[String]) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    invalid(name, format!("{text:?} is not an address or a network like 203.0.113.0/24"))
                })
        })
        .collect()
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { name, reason: reason.into() }
}

impl FileConfig {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|e| invalid("config file", e.to_string()))
    }

    /// Takes the real providers' tables out, for their adapters to read.
    pub fn take_provider_tables(&mut self) -> ProviderTables {
        std::mem::take(&mut self.providers.real)
    }

    /// Applies the file over `config`; `lookup` reads the environment for
    /// `*_env` indirections.
    pub fn apply(
        self,
        config: &mut Config,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(listen) = self.listen {
            config.listen = listen.parse().map_err(|e| invalid("listen", format!("{e}")))?;
        }
        if let Some(url) = self.public_url {
            config.public_url = url.trim_end_matches('/').to_owned();
        }
        if let Some(url) = self.database_url {
            config.database_url = url;
        }
        if let Some(mode) = self.sqlite_synchronous {
            config.sqlite_synchronous = crate::store::SqliteSynchronous::parse(&mode)
                .ok_or_else(|| invalid("sqlite_synchronous", format!("full or normal, not {mode:?}")))?;
        }
        if let Some(dir) = self.widget_dir {
            config.widget_dir = Some(dir.into());
        }
        if let Some(format) = self.log_format {
            config.log_format =
                LogFormat::parse(&format).ok_or_else(|| invalid("log_format", "json or pretty"))?;
        }
        let t = self.timings;
        let secs = Duration::from_secs;
        if let Some(v) = t.provider_timeout_secs {
            config.timings.provider_timeout = secs(v);
        }
        if let Some(v) = t.review_after_secs {
            config.timings.review_after = secs(v);
        }
        if let Some(v) = t.stream_recheck_secs {
            config.timings.stream_recheck = secs(v.max(1));
        }
        if let Some(v) = t.reconcile_after_secs {
            config.timings.reconcile_after = secs(v);
        }
        if let Some(v) = t.worker_tick_ms {
            config.timings.worker_tick = Duration::from_millis(v.max(10));
        }
        if let Some(v) = t.delivery_schedule_secs {
            config.timings.delivery_schedule = v.into_iter().map(secs).collect();
        }
        if let Some(v) = t.delivery_timeout_secs {
            config.timings.delivery_timeout = secs(v);
        }
        if let Some(v) = self.limits.attempts_per_session {
            config.limits.attempts_per_session = v;
        }
        if let Some(v) = self.limits.attempts_per_ip_per_minute {
            config.limits.attempts_per_ip_per_minute = v;
        }
        if let Some(v) = self.limits.rejected_webhooks_per_ip_per_minute {
            config.limits.rejected_webhooks_per_ip_per_minute = v;
        }
        if let Some(v) = self.limits.cards_per_ip_per_hour {
            config.limits.cards_per_ip_per_hour = v;
        }
        let l = &self.limits;
        let positive = |name: &'static str, v: usize| {
            if v == 0 {
                Err(ConfigError::Invalid { name, reason: "must be at least 1".into() })
            } else {
                Ok(v)
            }
        };
        if let Some(v) = l.max_connections {
            config.limits.max_connections = v;
        }
        if let Some(v) = l.max_connections_per_ip {
            config.limits.max_connections_per_ip = positive("limits.max_connections_per_ip", v)?;
        }
        if let Some(v) = l.header_read_timeout_secs {
            if v == 0 {
                let reason = "must be at least 1".to_owned();
                return Err(ConfigError::Invalid { name: "limits.header_read_timeout_secs", reason });
            }
            config.limits.header_read_timeout = secs(v);
        }
        if let Some(v) = l.body_read_timeout_secs {
            if v == 0 {
                let reason = "must be at least 1".to_owned();
                return Err(ConfigError::Invalid { name: "limits.body_read_timeout_secs", reason });
            }
            config.limits.body_read_timeout = secs(v);
        }
        if let Some(v) = l.write_stall_timeout_secs {
            if v == 0 {
                let reason = "must be at least 1".to_owned();
                return Err(ConfigError::Invalid { name: "limits.write_stall_timeout_secs", reason });
            }
            config.limits.write_stall_timeout = secs(v);
        }
        if let Some(v) = l.event_streams_per_session {
            config.limits.event_streams_per_session = positive("limits.event_streams_per_session", v)?;
        }
        if let Some(v) = l.event_streams_total {
            config.limits.event_streams_total = positive("limits.event_streams_total", v)?;
        }
        if let Some(v) = l.event_streams_per_ip {
            config.limits.event_streams_per_ip = positive("limits.event_streams_per_ip", v)?;
        }
        if let Some(v) = l.event_stream_max_secs {
            if v == 0 {
                let reason = "must be at least 1".to_owned();
                return Err(ConfigError::Invalid { name: "limits.event_stream_max_secs", reason });
            }
            config.limits.event_stream_max = secs(v);
        }
        if let Some(v) = l.webhook_signature_bytes {
            config.limits.webhook_signature_bytes = positive("limits.webhook_signature_bytes", v)?;
        }
        if let Some(v) = l.webhook_signatures_tried {
            config.limits.webhook_signatures_tried = positive("limits.webhook_signatures_tried", v)?;
        }
        if !self.trusted_proxies.is_empty() {
            config.trusted_proxies = networks("trusted_proxies", &self.trusted_proxies)?;
        }
        for (provider, list) in self.webhook_sources {
            if !crate::providers::registry::names().any(|name| name == provider) {
                return Err(invalid("webhook_sources", format!("no provider is called {provider}")));
            }
            config.webhook_sources.insert(provider, networks("webhook_sources", &list)?);
        }
        for m in self.merchants {
            let secret_key = match (m.secret_key, m.secret_key_env) {
                (Some(key), None) => key,
                (None, Some(var)) => SecretString::new(
                    lookup(&var)
                        .ok_or_else(|| invalid("merchants.secret_key_env", format!("{var} is not set")))?,
                ),
                _ => {
                    return Err(invalid(
                        "merchants.secret_key",
                        format!("{}: give secret_key or secret_key_env", m.id),
                    ));
                }
            };
            let mut merchant =
                MerchantConfig::new(&m.id, m.display_name.as_deref().unwrap_or(&m.id), secret_key);
            merchant.webhook_url = m.webhook_url;
            merchant.webhook_secret =
                match (m.webhook_secret, m.webhook_secret_env) {
                    (Some(s), _) => Some(s),
                    (None, Some(var)) => Some(SecretString::new(lookup(&var).ok_or_else(|| {
                        invalid("merchants.webhook_secret_env", format!("{var} is not set"))
                    })?)),
                    (None, None) => None,
                };
            merchant.allowed_origins =
                m.allowed_origins.iter().map(|o| o.trim_end_matches('/').to_owned()).collect();
            if let Some(theme) = m.theme {
                merchant.theme = theme;
            }
            if let Some(list) = m.payment_methods {
                let methods = list
                    .iter()
                    .map(|name| kasir_shared::payment::PaymentMethodKind::parse(name))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        invalid("merchants.payment_methods", format!("unknown method in {list:?}"))
                    })?;
                merchant.payment_methods = Some(methods);
            }
            merchant.late_payments = m.late_payments.unwrap_or_default();
            if let Some(max) = m.max_amount {
                let max = kasir_shared::money::Idr::new(max)
                    .ok_or_else(|| invalid("merchants.max_amount", "must be 1 to 9999999999"))?;
                merchant.max_amount = Some(max);
            }
            if config.merchants.iter().any(|other| other.id == merchant.id) {
                return Err(invalid("merchants.id", format!("{} is configured twice", m.id)));
            }
            config.merchants.push(merchant);
        }
        config.allow_private_webhook_urls |= self.allow_private_webhook_urls;
        let r = &self.retention;
        if let Some(days) = r.days {
            config.retention.records = (days > 0).then(|| secs(days.saturating_mul(86_400)));
        }
        if let Some(hours) = r.idempotency_hours {
            if hours == 0 {
                return Err(invalid("retention.idempotency_hours", "must be at least 1"));
            }
            config.retention.idempotency = secs(hours.saturating_mul(3_600));
        }
        if let Some(v) = r.purge_every_secs {
            config.retention.every = secs(v.max(1));
        }
        if let Some(name) = &self.metrics_token_env {
            let token =
                lookup(name).ok_or_else(|| invalid("metrics_token_env", format!("{name} is not set")))?;
            config.metrics_token = Some(SecretString::new(token));
        }
        if let Some(secret) = self.providers.sandbox.and_then(|s| s.webhook_secret) {
            config.sandbox_webhook_secret = secret;
        }
        config.routing.extend(self.routing);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_applies() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../kasir.example.toml")).unwrap();
        let mut config = Config::default();
        let env =
            |n: &str| (n == "KASIR_DEMO_SECRET_KEY").then(|| "sk_test_from_the_environment_0123".to_owned());
        FileConfig::parse(&text).unwrap().apply(&mut config, &env).unwrap();
        assert_eq!(config.merchants.len(), 1);
        let m = &config.merchants[0];
        assert_eq!(m.secret_key.expose_secret(), "sk_test_from_the_environment_0123");
        assert!(!format!("{config:?}").contains("sk_test_from_the_environment"), "secrets masked in Debug");
        assert_eq!(config.routing.get("qris").map(String::as_str), Some("sandbox"));
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        assert!(FileConfig::parse("listn = \"x\"").is_err());
        let none = |_: &str| None;
        let bad_theme = r##"[[merchants]]
id = "a"
secret_key = "sk_test_0123456789abcdefghij"
theme = { primary_color = "red;}</style>" }"##;
        assert!(Config::load_from(Some(bad_theme), none).is_err());
        for logo in [
            "http://toko.example/logo.png",
            "javascript:alert(1)",
            "https://toko.example/a\" onerror=\"x",
            "https:///x",
        ] {
            let text = format!(
                "[[merchants]]\nid = \"a\"\nsecret_key = \"sk_test_0123456789abcdefghij\"\ntheme = {{ logo_url = {logo:?} }}"
            );
            assert!(Config::load_from(Some(&text), none).is_err(), "{logo}");
        }
        let good = "[[merchants]]\nid = \"a\"\nsecret_key = \"sk_test_0123456789abcdefghij\"\ntheme = { logo_url = \"https://toko.example/logo.png\" }";
        let config = Config::load_from(Some(good), none).unwrap();
        assert_eq!(config.merchants[0].theme.logo_url.as_deref(), Some("https://toko.example/logo.png"));
        let bad_key = "[[merchants]]\nid = \"a\"\nsecret_key = \"sk_test_short\"";
        assert!(Config::load_from(Some(bad_key), none).is_err());
        let no_key = "[[merchants]]\nid = \"a\"";
        assert!(FileConfig::parse(no_key).unwrap().apply(&mut Config::default(), &none).is_err());
    }

    #[test]
    fn proxies_and_webhook_sources() {
        let none = |_: &str| None;
        let text = "trusted_proxies = [\"10.0.0.0/8\", \"127.0.0.1\"]\n[webhook_sources]\nsmilepayz = [\"203.0.113.0/24\", \"2001:db8::1\"]";
        let mut c = Config::default();
        FileConfig::parse(text).unwrap().apply(&mut c, &none).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.trusted_proxies[1].contains(&"127.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        let spz = &c.webhook_sources["smilepayz"];
        assert!(spz[0].contains(&"203.0.113.77".parse::<std::net::IpAddr>().unwrap()));
        assert!(!spz[0].contains(&"203.0.114.1".parse::<std::net::IpAddr>().unwrap()));
        for bad in [
            "[webhook_sources]\nstripe = [\"10.0.0.1\"]",
            "trusted_proxies = [\"10.0.0.0/33\"]",
            "[webhook_sources]\nsandbox = [\"localhost\"]",
        ] {
            assert!(FileConfig::parse(bad).unwrap().apply(&mut Config::default(), &none).is_err(), "{bad}");
        }
    }

    /// The commented provider examples in kasir.example.toml are real
    /// configuration: uncommented, they load (keys from the environment).
    #[test]
    fn the_example_provider_blocks_load() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../kasir.example.toml")).unwrap();
        let start = text.find("# [providers.smilepayz]").unwrap();
        let end = text.find("# Which provider takes each method").unwrap();
        let block: String = text[start..end]
            .lines()
            .map(|l| l.strip_prefix("# ").or_else(|| l.strip_prefix('#')).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let fixture = |name: &str| {
            std::fs::read_to_string(format!(
                "{}/../tests/fixtures/providers/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let env = |n: &str| match n {
            "SMILEPAYZ_PRIVATE_KEY" => Some(fixture("merchant.key.pem")),
            "SMILEPAYZ_PLATFORM_KEY" => Some(fixture("platform.pub.pem")),
            "SMARTGLOCAL_PRIVATE_KEY" => Some(fixture("smartglocal_partner.key.pem")),
            "SMARTGLOCAL_PUBLIC_KEY" => Some(fixture("smartglocal_sg.pub.pem")),
            "SMILEPAYZ_MERCHANT_SECRET" | "SINGAPAY_CLIENT_SECRET" | "MIDTRANS_SERVER_KEY" => {
                Some("s3cret".to_owned())
            }
            _ => None,
        };
        let mut file = FileConfig::parse(&block).unwrap();
        let settings = crate::config::ProviderSettings::load(file.take_provider_tables(), &env).unwrap();
        // Every provider of the registry has its block in the example, and
        // each block builds its adapter.
        for entry in crate::providers::registry::REAL {
            assert!(settings.contains(entry.name), "kasir.example.toml has no [providers.{}]", entry.name);
        }
        let context = crate::providers::registry::BuildContext {
            public_url: "http://x",
            timeout: std::time::Duration::from_secs(1),
        };
        for configured in settings.iter() {
            assert!(configured.build(context).is_ok(), "{}", configured.name());
        }
    }
}
