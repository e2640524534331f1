//! The provider and webhook cryptography Kasir runs per request, as Kasir
//! calls it: RSA-2048 SHA256withRSA signing (Smilepayz requests, with
//! blinding) and verifying (provider callbacks), HMAC-SHA512 (SingaPay) and
//! HMAC-SHA256 (merchant webhooks). `cargo xtask bench` runs `openssl speed`
//! in the same run for the baseline (BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // A benchmark may panic: that is how it fails.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kasir_server::providers::crypto::{RsaHash, RsaSigner, RsaVerifier, hmac_sha512_hex};
use std::hint::black_box;

const KEY: &str = include_str!("../../tests/fixtures/providers/merchant.key.pem");
const PUB: &str = include_str!("../../tests/fixtures/providers/merchant.pub.pem");

fn crypto(c: &mut Criterion) {
    // A Smilepayz string-to-sign: timestamp|secret|minified body.
    let message = br#"2026-11-24T10:00:00+07:00|sandbox-secret-0123|{"orderNo":"pa0123456789abcdef","purpose":"Order 1","merchant":{"merchantId":"sandbox-20001"},"money":{"currency":"IDR","amount":150000},"paymentMethod":"QRIS","expiryPeriod":900}"#;
    let signer = RsaSigner::from_text(KEY).unwrap();
    let verifier = RsaVerifier::from_text(PUB).unwrap();
    let signature = signer.sign(RsaHash::Sha256, message).unwrap();
    assert!(verifier.verify(RsaHash::Sha256, message, &signature));

    let mut g = c.benchmark_group("crypto");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rsa2048_sha256_sign", |b| {
        b.iter(|| signer.sign(RsaHash::Sha256, black_box(message)).unwrap())
    });
    g.bench_function("rsa2048_sha256_verify", |b| {
        b.iter(|| verifier.verify(RsaHash::Sha256, black_box(message), black_box(&signature)))
    });
    g.bench_function("hmac_sha512_hex", |b| {
        b.iter(|| hmac_sha512_hex(b"singapay-client-secret", black_box(message)))
    });
    g.bench_function("hmac_sha256_webhook", |b| {
        b.iter(|| kasir_server::signing::sign(b"whsec_0123456789", 1_795_500_000, black_box(message)))
    });
    g.finish();
}

/// Never called: the type that says "no blinding" to the `rsa` crate.
struct NoRng;

impl rsa::rand_core::TryRng for NoRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        unreachable!("no blinding asked for")
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        unreachable!("no blinding asked for")
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
        unreachable!("no blinding asked for")
    }
}

impl rsa::rand_core::TryCryptoRng for NoRng {}

/// Diagnosis, not what Kasir runs: the same signature without the `rsa`
/// crate's blinding (base, exponent and modulus), to see what blinding costs.
fn unblinded(c: &mut Criterion) {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::SignatureScheme;
    use sha2::Digest;
    let key = rsa::PrivateKey::from_pkcs8_pem(KEY).unwrap();
    let digest = sha2::Sha256::digest(b"2026-11-24T10:00:00+07:00|sandbox-secret-0123|{}");
    let mut g = c.benchmark_group("crypto");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rsa2048_sha256_sign_unblinded_diagnosis", |b| {
        b.iter(|| {
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>()
                .sign(Option::<&mut NoRng>::None, &key, black_box(&digest))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, crypto, unblinded);
criterion_main!(benches);
