//! The one list of providers Kasir has adapters for. A provider's name, how
//! its settings are read (`[providers.<name>]`, `KASIR_PROVIDERS_<NAME>_<KEY>`,
//! `<key>_env` indirections), how its adapter is built, and the routing
//! default all live here, so adding a provider is: its module, one line in
//! [`REAL`], its block in `kasir.example.toml`, its simulator and its tests
//! (the README's "Adding a provider").

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::{DeserializeOwned, Visitor};

use super::{PaymentProvider, midtrans, settings, singapay, smartglocal, smilepayz};
use crate::config_error::ConfigError;

/// The built-in sandbox: always registered, and where every method not
/// named in `[routing]` goes.
pub const SANDBOX: &str = "sandbox";

/// What an adapter needs to be built besides its own settings.
#[derive(Debug, Clone, Copy)]
pub struct BuildContext<'a> {
    /// Kasir's public base URL (for callback URLs given to providers).
    pub public_url: &'a str,
    /// How long one provider call may take.
    pub timeout: Duration,
}

/// A provider's settings type: deserialised from its table (unknown keys are
/// errors) and able to build its adapter.
pub trait AdapterSettings: DeserializeOwned + fmt::Debug + Send + Sync + 'static {
    /// The provider's name: its table, its webhook path, its routing name.
    const NAME: &'static str;

    /// Builds the adapter (checking what deserialisation cannot, such as keys).
    fn build(settings: Arc<Self>, context: BuildContext<'_>)
    -> Result<Arc<dyn PaymentProvider>, ConfigError>;
}

/// Reads one provider's settings from its table and the environment.
type Loader =
    fn(Option<toml::Table>, &dyn Fn(&str) -> Option<String>) -> Result<Option<Configured>, ConfigError>;

/// Builds one provider's adapter from its settings.
type Builder = dyn Fn(BuildContext<'_>) -> Result<Arc<dyn PaymentProvider>, ConfigError> + Send + Sync;

/// One real provider of the registry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Its name.
    pub name: &'static str,
    /// Its settings' keys, read from the settings struct itself.
    pub keys: fn() -> &'static [&'static str],
    load: Loader,
}

impl Entry {
    const fn of<S: AdapterSettings>() -> Entry {
        Entry { name: S::NAME, keys: field_names::<S>, load: load::<S> }
    }
}

/// Every real provider, in the order they are documented.
pub const REAL: &[Entry] = &[
    Entry::of::<smilepayz::Settings>(),
    Entry::of::<singapay::Settings>(),
    Entry::of::<smartglocal::Settings>(),
    Entry::of::<midtrans::Settings>(),
];

/// Every provider name a configuration may use (routing, webhook sources).
pub fn names() -> impl Iterator<Item = &'static str> {
    std::iter::once(SANDBOX).chain(REAL.iter().map(|e| e.name))
}

/// One configured provider: its typed settings, ready to build.
#[derive(Clone)]
pub struct Configured {
    name: &'static str,
    build: Arc<Builder>,
    settings: Arc<dyn fmt::Debug + Send + Sync>,
}

impl fmt::Debug for Configured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Configured").field("name", &self.name).field("settings", &self.settings).finish()
    }
}

impl Configured {
    /// Wraps typed settings (tests and tools build them directly).
    pub fn new<S: AdapterSettings>(settings: S) -> Configured {
        let settings = Arc::new(settings);
        let for_build = settings.clone();
        Configured {
            name: S::NAME,
            build: Arc::new(move |context| S::build(for_build.clone(), context)),
            settings,
        }
    }

    /// The provider's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Builds the adapter.
    pub fn build(&self, context: BuildContext<'_>) -> Result<Arc<dyn PaymentProvider>, ConfigError> {
        (self.build)(context)
    }
}

fn load<S: AdapterSettings>(
    table: Option<toml::Table>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Configured>, ConfigError> {
    Ok(settings::load::<S>(S::NAME, table, field_names::<S>(), lookup)?.map(Configured::new))
}

/// The `[providers.<name>]` tables of the configuration file, by name.
pub type ProviderTables = BTreeMap<String, toml::Table>;

/// The configured real providers, by name.
#[derive(Debug, Clone, Default)]
pub struct ProviderSettings(BTreeMap<&'static str, Configured>);

impl ProviderSettings {
    /// Reads each provider from its table and the environment; a table for
    /// a provider Kasir does not know is an error (a typo would otherwise
    /// leave a provider silently unconfigured).
    pub fn load(
        mut tables: ProviderTables,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProviderSettings, ConfigError> {
        let mut configured = BTreeMap::new();
        for entry in REAL {
            if let Some(settings) = (entry.load)(tables.remove(entry.name), lookup)? {
                configured.insert(entry.name, settings);
            }
        }
        if let Some(unknown) = tables.keys().next() {
            let known: Vec<&str> = names().collect();
            return Err(ConfigError::Invalid {
                name: "providers",
                reason: format!("no provider is called {unknown:?} (known: {})", known.join(", ")),
            });
        }
        Ok(ProviderSettings(configured))
    }

    /// Adds (or replaces) one provider's settings.
    pub fn insert(&mut self, settings: Configured) {
        self.0.insert(settings.name, settings);
    }

    /// The configured providers.
    pub fn iter(&self) -> impl Iterator<Item = &Configured> {
        self.0.values()
    }

    /// Whether `name` is configured.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// The field names `T`'s derived `Deserialize` accepts: serde hands them to
/// `deserialize_struct`, so the environment overrides are read from the
/// struct itself and cannot drift from it.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for Probe<'_> {
        type Error = serde::de::value::Error;

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(serde::de::Error::custom("probed"))
        }

        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _probed = T::deserialize(Probe(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_unique_name_and_its_struct_keys() {
        let mut seen: Vec<&str> = names().collect();
        let count = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), count, "duplicate provider names");
        for entry in REAL {
            let keys = (entry.keys)();
            assert!(keys.contains(&"base_url"), "{}: {keys:?}", entry.name);
        }
        assert_eq!(
            field_names::<smilepayz::Settings>(),
            [
                "base_url",
                "merchant_id",
                "merchant_secret",
                "private_key",
                "platform_public_key",
                "callback_url",
                "send_area",
                "timestamp_utc",
                "unconfirmed_methods",
                "callback_tolerance_secs"
            ]
        );
    }

    #[test]
    fn every_key_can_be_set_from_the_environment_and_a_typo_is_an_error() {
        // Each key of each provider, named in the environment, reaches its
        // struct: a key the struct does not have would be refused by
        // `deny_unknown_fields` here.
        for entry in REAL {
            for key in (entry.keys)() {
                let var = format!("KASIR_PROVIDERS_{}_{}", entry.name.to_uppercase(), key.to_uppercase());
                let lookup = |name: &str| (name == var).then(|| "x".to_owned());
                let err = ProviderSettings::load(ProviderTables::new(), &lookup).unwrap_err().to_string();
                assert!(!err.contains("unknown field"), "{}.{key}: {err}", entry.name);
            }
        }
        let tables = ProviderTables::from([("smilepay".to_owned(), toml::Table::new())]);
        let err = ProviderSettings::load(tables, &|_| None).unwrap_err().to_string();
        assert!(err.contains("smilepay") && err.contains("smilepayz"), "{err}");
    }
}
