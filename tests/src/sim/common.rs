//! Pieces the simulators share.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use sha2::Digest;

/// What the simulator does with the next create-payment call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scenario {
    /// Behave like the provider.
    Normal,
    /// Record the payment, then answer only after this long (longer than
    /// Kasir's timeout: the answer is lost, the money may have moved).
    NoAnswer(Duration),
    /// Answer HTTP 500 without doing anything.
    ServerError,
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Record the payment and answer 200 at once, then send the body one
    /// byte every so often (a connection that trickles past Kasir's
    /// timeout). Smilepayz simulator only.
    Trickle(Duration),
    /// Hold the request this long without recording anything, then answer
    /// 504: the request never took effect (a caller killed meanwhile
    /// leaves an attempt the provider never had). Smilepayz simulator only.
    Swallow(Duration),
}

/// Starts `app` on 127.0.0.1 with a free port; returns its base URL.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a simulator");
    let url = format!("http://{}", listener.local_addr().expect("simulator address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Reads a PEM private key.
pub fn private_key(pem: &str) -> rsa::PrivateKey {
    rsa::PrivateKey::from_pkcs8_pem(pem).expect("a PKCS#8 PEM private key")
}

/// Reads a PEM public key.
pub fn public_key(pem: &str) -> rsa::PublicKey {
    rsa::PublicKey::from_public_key_pem(pem).expect("an SPKI PEM public key")
}

/// Base64 SHA256withRSA (PKCS#1 v1.5).
pub fn rsa_sign_base64(key: &rsa::PrivateKey, message: &[u8]) -> String {
    let digest = sha2::Sha256::digest(message);
    let signature = key.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest).expect("sign");
    STANDARD.encode(signature)
}

/// Whether `signature` (base64) is SHA256withRSA of `message`.
pub fn rsa_verify_base64(key: &rsa::PublicKey, message: &[u8], signature: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(signature.trim()) else { return false };
    let digest = sha2::Sha256::digest(message);
    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &bytes).is_ok()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex HMAC-SHA512.
pub fn hmac_sha512_hex(key: &[u8], message: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key).expect("any key length");
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

/// Removes whitespace outside JSON strings (Smilepayz's `minify`).
pub fn minify(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !b.is_ascii_whitespace() {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
    out
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// (year, month, day) from days since 1970-01-01.
pub fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `yyyy-MM-ddTHH:mm:ss+07:00` at `secs`.
pub fn jakarta_timestamp(secs: i64) -> String {
    let local = secs + 7 * 3600;
    let (y, m, d) = civil(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+07:00", s / 3600, s % 3600 / 60, s % 60)
}

/// Unix seconds of `yyyy-MM-ddTHH:mm:ss` + `Z` or `±HH:mm`, strictly.
pub fn parse_timestamp(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if !(b.len() == 20 || b.len() == 25)
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let n = |a: usize, z: usize| {
        t.get(a..z).filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?.parse::<i64>().ok()
    };
    let (y, mo, d, h, mi, s) = (n(0, 4)?, n(5, 7)?, n(8, 10)?, n(11, 13)?, n(14, 16)?, n(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let offset = match &t[19..] {
        "Z" => 0,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) && &z[3..4] == ":" => {
            let v = n(20, 22)? * 3600 + n(23, 25)? * 60;
            if z.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    // days_from_civil
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s - offset)
}

/// Random alphanumerics.
pub fn random_id(len: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = vec![0u8; len];
    getrandom_fill(&mut bytes);
    bytes.iter().map(|b| char::from(A[usize::from(*b) % A.len()])).collect()
}

fn getrandom_fill(buf: &mut [u8]) {
    getrandom::fill(buf).expect("OS randomness");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings() {
        assert_eq!(
            minify(b"{ \"a b\" : [1, 2],\n\"c\":\"x \\\" y\" }"),
            b"{\"a b\":[1,2],\"c\":\"x \\\" y\"}".to_vec()
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("2020-12-17T10:55:00+07:00"), Some(1_608_177_300));
        assert_eq!(jakarta_timestamp(1_608_177_300), "2020-12-17T10:55:00+07:00");
        assert_eq!(parse_timestamp("2020-12-17T03:55:00Z"), Some(1_608_177_300));
        assert_eq!(parse_timestamp("2020-12-17 03:55:00Z"), None);
    }
}
