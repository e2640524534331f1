//! Prefixed random identifiers (`cs_…`) and secrets.

/// 62 symbols: ids stay URL- and copy-paste-safe.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` random base62 characters from the operating system's CSPRNG.
pub fn random_token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        if getrandom::fill(&mut buf).is_err() {
            // No OS randomness is not survivable for a payment server.
            std::process::abort();
        }
        // Rejection sampling keeps the distribution uniform (248 = 4 * 62).
        out.extend(buf.iter().filter(|b| **b < 248).map(|b| char::from(ALPHABET[usize::from(*b % 62)])));
    }
    out.truncate(len);
    out
}

/// A new id with its type prefix, e.g. `cs_3k…` (24 random characters).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_token(24))
}

/// `len` random decimal digits (virtual account numbers).
pub fn random_digits(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 32];
    while out.len() < len {
        if getrandom::fill(&mut buf).is_err() {
            std::process::abort();
        }
        // 250 = 25 * 10 keeps the digits uniform.
        out.extend(buf.iter().filter(|b| **b < 250).map(|b| char::from(b'0' + b % 10)));
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_distinct() {
        let a = new_id("cs");
        let b = new_id("cs");
        assert!(a.starts_with("cs_") && a.len() == 27);
        assert_ne!(a, b);
        assert!(random_token(100).bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
