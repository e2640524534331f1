//! Configuration. Grows into the TOML file with environment overrides
//! (`KASIR_…`) in the server issue; today: where to listen and how to log.

use std::net::SocketAddr;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Log format.
    pub log_format: LogFormat,
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
        Config { listen: SocketAddr::from(([127, 0, 0, 1], 8080)), log_format: LogFormat::Pretty }
    }
}

impl Config {
    /// The defaults, overridden by `KASIR_LISTEN` and `KASIR_LOG_FORMAT`.
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
        let err = Config::from_lookup(|n| (n == "KASIR_LISTEN").then(|| "nope".into())).unwrap_err();
        assert!(err.to_string().starts_with("KASIR_LISTEN is not valid"));
    }
}
