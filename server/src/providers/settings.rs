//! Reading one provider's settings: the `[providers.<name>]` table of the
//! configuration file, then `KASIR_PROVIDERS_<NAME>_<KEY>` environment
//! overrides, then `<key>_env = "VAR"` indirections (so that keys and
//! secrets can stay out of the file), deserialised into the adapter's own
//! typed settings (unknown keys are errors).

use serde::de::DeserializeOwned;

use crate::config_error::ConfigError;

/// The settings of provider `name` (e.g. `smilepayz`), or `None` when neither
/// the file nor the environment mentions it. `keys` are the settings' keys,
/// for the environment overrides.
pub fn load<T: DeserializeOwned>(
    name: &'static str,
    file: Option<toml::Table>,
    keys: &[&str],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<T>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid { name, reason };
    let mut table = file.unwrap_or_default();
    let mut mentioned = !table.is_empty();
    for key in keys {
        let var = format!("KASIR_PROVIDERS_{}_{}", name.to_ascii_uppercase(), key.to_ascii_uppercase());
        if let Some(value) = lookup(&var) {
            mentioned = true;
            // Numbers and booleans keep their type; anything else is a string.
            let typed = value
                .parse::<i64>()
                .map(toml::Value::Integer)
                .or_else(|_| value.parse::<bool>().map(toml::Value::Boolean))
                .unwrap_or(toml::Value::String(value));
            table.insert((*key).to_owned(), typed);
        }
    }
    if !mentioned {
        return Ok(None);
    }
    let indirect: Vec<(String, String)> = table
        .iter()
        .filter_map(|(k, v)| Some((k.strip_suffix("_env")?.to_owned(), v.as_str()?.to_owned())))
        .collect();
    for (key, var) in indirect {
        table.remove(&format!("{key}_env"));
        let value = lookup(&var).ok_or_else(|| invalid(format!("{key}_env: {var} is not set")))?;
        table.insert(key, toml::Value::String(value));
    }
    toml::Value::Table(table).try_into::<T>().map(Some).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Demo {
        base_url: String,
        secret: kasir_shared::secret::SecretString,
        #[serde(default)]
        flag: bool,
        #[serde(default)]
        count: i64,
    }

    const KEYS: &[&str] = &["base_url", "secret", "flag", "count"];

    #[test]
    fn file_then_environment_then_indirection() {
        let file: toml::Table =
            toml::from_str("base_url = \"http://a\"\nsecret_env = \"MY_SECRET\"").unwrap();
        let env = |n: &str| match n {
            "MY_SECRET" => Some("s3cret".to_owned()),
            "KASIR_PROVIDERS_DEMO_FLAG" => Some("true".to_owned()),
            "KASIR_PROVIDERS_DEMO_COUNT" => Some("7".to_owned()),
            _ => None,
        };
        let d: Demo = load("demo", Some(file), KEYS, &env).unwrap().unwrap();
        assert_eq!(
            (d.base_url.as_str(), d.secret.expose_secret(), d.flag, d.count),
            ("http://a", "s3cret", true, 7)
        );
        assert!(load::<Demo>("demo", None, KEYS, &|_| None).unwrap().is_none());
        let typo: toml::Table = toml::from_str("base_url = \"x\"\nsecret = \"y\"\nsecrt = 1").unwrap();
        assert!(load::<Demo>("demo", Some(typo), KEYS, &|_| None).is_err());
        let unset: toml::Table = toml::from_str("base_url = \"x\"\nsecret_env = \"NOPE\"").unwrap();
        assert!(load::<Demo>("demo", Some(unset), KEYS, &|_| None).unwrap_err().to_string().contains("NOPE"));
    }
}
