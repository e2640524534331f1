//! `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` signatures: the
//! `Kasir-Signature` on webhooks Kasir sends to merchants (the scheme
//! Stripe's libraries verify), and the same scheme on the sandbox
//! provider's webhooks to Kasir. Beside it, the Standard Webhooks headers
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
//! over `"<id>.<t>.<raw body>"`), which the official `standardwebhooks`
//! libraries verify in every language, for a secret written `whsec_<base64>`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cold]
fn unreachable_hmac() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-key-size MACs.
    std::process::abort()
}

/// The header value for `body` signed at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex(&mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Why a signature header was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// Missing, malformed or not matching.
    Invalid,
    /// Authentic but outside the timestamp tolerance.
    Stale,
}

/// What a signature header may cost to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureLimits {
    /// Longest header accepted (bytes); longer is refused unread.
    pub max_bytes: usize,
    /// `v1=` values compared; the rest are ignored.
    pub max_signatures: usize,
}

impl Default for SignatureLimits {
    fn default() -> Self {
        SignatureLimits { max_bytes: 2_048, max_signatures: 3 }
    }
}

/// Verifies `header` over the raw `body` in constant time; the timestamp
/// must be within `tolerance_secs` of `now_secs` either way. The HMAC is
/// computed once whatever the header holds, and compared with at most
/// `limits.max_signatures` non-empty `v1=` values (issue 15: one HMAC per
/// value let a long header cost seconds of CPU).
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_secs: i64,
    tolerance_secs: i64,
    limits: SignatureLimits,
) -> Result<(), SignatureError> {
    if header.len() > limits.max_bytes {
        return Err(SignatureError::Invalid);
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) if !v.is_empty() && candidates.len() < limits.max_signatures => {
                candidates.extend(unhex(v));
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Invalid)?;
    if candidates.is_empty() {
        return Err(SignatureError::Invalid);
    }
    let expected = mac(secret, timestamp, body).finalize().into_bytes();
    let authentic = candidates.iter().fold(subtle::Choice::from(0), |any, c| {
        any | subtle::ConstantTimeEq::ct_eq(expected.as_slice(), c.as_slice())
    });
    if !bool::from(authentic) {
        return Err(SignatureError::Invalid);
    }
    if (now_secs - timestamp).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The Standard Webhooks key of a merchant's webhook secret: the bytes of
/// the base64 after `whsec_`, as the official libraries read it. `None`
/// when the secret is not in that form (then only `Kasir-Signature` is sent).
pub fn standard_key(secret: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let encoded = secret.strip_prefix("whsec_")?;
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    (!key.is_empty()).then_some(key)
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>`.
pub fn standard_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    use base64::Engine;
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable_hmac(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: SignatureLimits = SignatureLimits { max_bytes: 2_048, max_signatures: 3 };

    #[test]
    fn a_long_header_or_many_signatures_cost_one_hmac_at_most() {
        let body = vec![b'x'; 64 * 1024];
        let good = sign(b"k", 1_000, &body);
        let sig = good.split_once("v1=").unwrap().1.to_owned();
        // The good signature after three bad ones is not even looked at.
        let bad = "00".repeat(32);
        let header = format!("t=1000,v1={bad},v1={bad},v1=,v1={bad},v1={sig}");
        assert_eq!(verify(b"k", &header, &body, 1_000, 300, L), Err(SignatureError::Invalid));
        let header = format!("t=1000,v1=,v1={bad},v1={sig}");
        assert_eq!(verify(b"k", &header, &body, 1_000, 300, L), Ok(()));
        // Longer than allowed: refused unread.
        let long = format!("t=1000,{}v1={sig}", "v1=,".repeat(600));
        assert_eq!(verify(b"k", &long, &body, 1_000, 300, L), Err(SignatureError::Invalid));
    }

    #[test]
    fn signs_and_verifies_exact_bytes_only() {
        let header = sign(b"whsec_x", 1_700_000_000, br#"{"a":1}"#);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(verify(b"whsec_x", &header, br#"{"a":1}"#, 1_700_000_010, 300, L), Ok(()));
        assert_eq!(
            verify(b"whsec_x", &header, br#"{"a": 1}"#, 1_700_000_010, 300, L),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(b"whsec_y", &header, br#"{"a":1}"#, 1_700_000_010, 300, L),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            verify(b"whsec_x", &header, br#"{"a":1}"#, 1_700_001_000, 300, L),
            Err(SignatureError::Stale)
        );
        assert_eq!(verify(b"whsec_x", "v1=00", b"", 0, 300, L), Err(SignatureError::Invalid));
        assert_eq!(verify(b"whsec_x", "garbage", b"", 0, 300, L), Err(SignatureError::Invalid));
        // A known vector computed independently (Python hmac):
        // hmac.new(b"k", b"1.x", sha256).hexdigest()
        assert_eq!(
            sign(b"k", 1, b"x"),
            "t=1,v1=976cb87e4f568d1c0f03f32859e90af8597cf00b978ba37c229c97d3a15b8449"
        );
    }

    /// The example of the Standard Webhooks specification (and of its
    /// official libraries' tests): this secret, id, timestamp and payload
    /// sign to this value.
    #[test]
    fn standard_webhooks_matches_the_specification_example() {
        let key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            standard_signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(standard_key("whsec_test_merchant_a_0123456789").is_none(), "not base64");
        assert!(standard_key("sk_not_a_webhook_secret").is_none());
    }
}
