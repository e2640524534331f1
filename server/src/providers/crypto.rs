//! The signing primitives the provider adapters share: RSA PKCS#1 v1.5 keys
//! read from PEM or base64 DER (as providers hand them out), SHA-256/512
//! signatures, HMAC-SHA512, hex and base64. Keys are parsed once, at start-up;
//! signing uses blinding (the operating system's RNG), in AWS-LC.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Pkcs1v15Sign, PrivateKey, PublicKey};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The hash under an RSA signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RsaHash {
    /// SHA-256 (`SHA256withRSA`).
    Sha256,
    /// SHA-512.
    Sha512,
}

/// How a signature is written into a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureEncoding {
    /// Standard base64 with padding.
    Base64,
    /// Lowercase hex.
    Hex,
}

/// A key could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// Strips PEM armour if present and decodes the base64 body to DER.
fn der_of(text: &str) -> Result<Vec<u8>, KeyError> {
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    BASE64.decode(body.as_bytes()).map_err(|_| KeyError("not PEM or base64 DER".into()))
}

/// An RSA private key that signs.
///
/// AWS-LC (through `aws-lc-rs`, already linked for TLS) does the private-key
/// operation: blinded, constant-time, and about 15 times faster than the
/// `rsa` crate's (BENCHMARKS.md). Keys AWS-LC will not take (under 2048
/// bits, say) fall back to the `rsa` crate, which also blinds.
#[derive(Clone)]
pub struct RsaSigner {
    key: SignerKey,
}

#[derive(Clone)]
enum SignerKey {
    AwsLc(std::sync::Arc<aws_lc_rs::signature::RsaKeyPair>),
    RustCrypto(Box<PrivateKey>),
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaSigner(***)")
    }
}

impl RsaSigner {
    /// Reads a PKCS#8 key (or PKCS#1, `BEGIN RSA PRIVATE KEY`), PEM or base64 DER.
    pub fn from_text(text: &str) -> Result<RsaSigner, KeyError> {
        use aws_lc_rs::signature::RsaKeyPair;
        let der = der_of(text)?;
        if let Ok(pair) = RsaKeyPair::from_pkcs8(&der).or_else(|_| RsaKeyPair::from_der(&der)) {
            return Ok(RsaSigner { key: SignerKey::AwsLc(std::sync::Arc::new(pair)) });
        }
        let key = PrivateKey::from_pkcs8_der(&der)
            .or_else(|_| PrivateKey::from_pkcs1_der(&der))
            .map_err(|_| KeyError("not an RSA private key in PKCS#8 or PKCS#1".into()))?;
        Ok(RsaSigner { key: SignerKey::RustCrypto(Box::new(key)) })
    }

    /// PKCS#1 v1.5 signature of `message` hashed with `hash`.
    pub fn sign(&self, hash: RsaHash, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |_| KeyError("RSA signing failed".into());
        match &self.key {
            SignerKey::AwsLc(pair) => {
                let scheme = match hash {
                    RsaHash::Sha256 => &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    RsaHash::Sha512 => &aws_lc_rs::signature::RSA_PKCS1_SHA512,
                };
                let mut signature = vec![0; pair.public_modulus_len()];
                let rng = aws_lc_rs::rand::SystemRandom::new();
                pair.sign(scheme, &rng, message, &mut signature).map_err(failed)?;
                Ok(signature)
            }
            SignerKey::RustCrypto(key) => match hash {
                RsaHash::Sha256 => key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message)),
                RsaHash::Sha512 => key.sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(message)),
            }
            .map_err(|_| KeyError("RSA signing failed".into())),
        }
    }

    /// `sign`, encoded.
    pub fn sign_encoded(
        &self,
        hash: RsaHash,
        encoding: SignatureEncoding,
        message: &[u8],
    ) -> Result<String, KeyError> {
        let signature = self.sign(hash, message)?;
        Ok(match encoding {
            SignatureEncoding::Base64 => BASE64.encode(signature),
            SignatureEncoding::Hex => hex(&signature),
        })
    }
}

/// An RSA public key that verifies.
#[derive(Clone)]
pub struct RsaVerifier {
    key: PublicKey,
}

impl fmt::Debug for RsaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaVerifier")
    }
}

impl RsaVerifier {
    /// Reads an X.509 SubjectPublicKeyInfo key (or PKCS#1), PEM or base64 DER.
    pub fn from_text(text: &str) -> Result<RsaVerifier, KeyError> {
        let der = der_of(text)?;
        let key = PublicKey::from_public_key_der(&der)
            .or_else(|_| PublicKey::from_pkcs1_der(&der))
            .map_err(|_| KeyError("not an RSA public key in SPKI or PKCS#1".into()))?;
        Ok(RsaVerifier { key })
    }

    /// Whether `signature` is a PKCS#1 v1.5 signature of `message`.
    pub fn verify(&self, hash: RsaHash, message: &[u8], signature: &[u8]) -> bool {
        match hash {
            RsaHash::Sha256 => {
                self.key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message), signature).is_ok()
            }
            RsaHash::Sha512 => {
                self.key.verify(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(message), signature).is_ok()
            }
        }
    }

    /// `verify` of an encoded signature; anything undecodable is simply invalid.
    pub fn verify_encoded(
        &self,
        hash: RsaHash,
        encoding: SignatureEncoding,
        message: &[u8],
        signature: &str,
    ) -> bool {
        let bytes = match encoding {
            SignatureEncoding::Base64 => BASE64.decode(signature.trim().as_bytes()).ok(),
            SignatureEncoding::Hex => unhex(signature.trim()),
        };
        bytes.is_some_and(|b| self.verify(hash, message, &b))
    }
}

/// Lowercase hex HMAC-SHA512 of `message` keyed with `key`.
pub fn hmac_sha512_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match <Hmac<Sha512> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Constant-time comparison of two strings (lengths may leak; contents don't).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Hex (either case) to bytes.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// Standard base64.
pub fn base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Standard base64 to bytes.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.trim().as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS-LC and the `rsa` crate fallback sign identically (PKCS#1 v1.5 is
    /// deterministic), and the verifier accepts both.
    #[test]
    fn both_signing_backends_agree() {
        let pem = crate::providers::fixture("merchant.key.pem");
        let fast = RsaSigner::from_text(&pem).unwrap();
        assert!(matches!(fast.key, SignerKey::AwsLc(_)), "a 2048-bit key goes to AWS-LC");
        let der = der_of(&pem).unwrap();
        let fallback =
            RsaSigner { key: SignerKey::RustCrypto(Box::new(PrivateKey::from_pkcs8_der(&der).unwrap())) };
        let verifier = RsaVerifier::from_text(&crate::providers::fixture("merchant.pub.pem")).unwrap();
        for hash in [RsaHash::Sha256, RsaHash::Sha512] {
            let a = fast.sign(hash, b"tradeNo|2026-11-24T10:00:00+07:00").unwrap();
            let b = fallback.sign(hash, b"tradeNo|2026-11-24T10:00:00+07:00").unwrap();
            assert_eq!(a, b, "{hash:?}");
            assert!(verifier.verify(hash, b"tradeNo|2026-11-24T10:00:00+07:00", &a));
        }
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(unhex("000FfF"), Some(vec![0, 15, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[test]
    fn garbage_keys_are_refused() {
        assert!(RsaSigner::from_text("not a key").is_err());
        assert!(
            RsaVerifier::from_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err()
        );
        assert!(!format!("{:?}", RsaSigner::from_text("x").err()).is_empty());
    }
}
