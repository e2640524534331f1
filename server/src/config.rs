//! Configuration. Grows into the TOML file with environment overrides
//! (`KASIR_…`) in the server issue; today: where to listen and how to log.

use std::net::SocketAddr;

use kasir_shared::secret::SecretString;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
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
    /// The merchants.
    pub merchants: Vec<MerchantConfig>,
}

/// A configuration value could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An environment variable holds something unusable.
    #[error("{name} is not valid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Pretty,
            public_url: "http://127.0.0.1:8080".into(),
            database_url: "sqlite://data/kasir.db?mode=rwc".into(),
            merchants: Vec::new(),
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

    /// As `from_env`, reading variables through `lookup` (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(listen) = lookup("KASIR_LISTEN") {
            config.listen = listen
                .parse()
                .map_err(|e| ConfigError::Invalid { name: "KASIR_LISTEN", reason: format!("{e}") })?;
        }
        if let Some(format) = lookup("KASIR_LOG_FORMAT") {
            config.log_format = match format.as_str() {
                "json" => LogFormat::Json,
                "pretty" | "text" => LogFormat::Pretty,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "KASIR_LOG_FORMAT",
                        reason: format!("expected json or pretty, got {other:?}"),
                    });
                }
            };
        }
        config.public_url = match lookup("KASIR_PUBLIC_URL") {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", config.listen),
        };
        if let Some(url) = lookup("KASIR_DATABASE_URL") {
            config.database_url = url;
        }
        if let (Some(id), Some(key)) = (lookup("KASIR_MERCHANT_ID"), lookup("KASIR_MERCHANT_SECRET_KEY")) {
            if !key.starts_with("sk_") || key.len() < 24 {
                return Err(ConfigError::Invalid {
                    name: "KASIR_MERCHANT_SECRET_KEY",
                    reason: "expected sk_ followed by at least 21 characters".into(),
                });
            }
            let display_name = lookup("KASIR_MERCHANT_NAME").unwrap_or_else(|| id.clone());
            config.merchants.push(MerchantConfig { id, display_name, secret_key: SecretString::new(key) });
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
