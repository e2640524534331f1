//! The configuration's error type, in a leaf module: provider adapters
//! report their settings problems with it without importing the
//! configuration (which names the providers).

/// A configuration value could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting or environment variable holds something unusable.
    #[error("{name} is not valid: {reason}")]
    Invalid {
        /// The setting or variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
}
