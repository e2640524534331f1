//! A Smilepayz Pay-In v2.0 simulator: `POST /v2.0/transaction/pay-in` and
//! `POST /v2.0/inquiry-status`, each checking `X-PARTNER-ID`, `X-TIMESTAMP`
//! (format and ±5 minutes) and `X-SIGNATURE` (SHA256withRSA over
//! `timestamp|merchantSecret|minify(body)`, verified with the merchant's
//! public key), then the body as the document states it: `orderNo` 6–32
//! alphanumerics and unique, `purpose` 1–64, `money` IDR 10,000–999,999,999,
//! a known `paymentMethod`, `payer.phone` for `W_OVO`, `expiryPeriod`
//! 300–86400, URLs ≤ 256. Callbacks are signed over `tradeNo|X-TIMESTAMP`
//! with the platform key and must be answered `SUCCESS`.
//!
//! Smilepayz publishes no v2.0 error-code table (FACTS.md §1.5): errors
//! here use the documented `{code, message}` shape with these codes of the
//! simulator's own, named below; Kasir treats any code other than `"00"`
//! alike.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kasir_shared::money::Idr;
use kasir_shared::qris::{MerchantCriteria, QrisMerchant};
use serde_json::{Value, json};

use super::common::{self, Scenario};

/// Missing or wrong `X-SIGNATURE`.
pub const SIGNATURE_INVALID: &str = "4010";
/// `X-TIMESTAMP` missing, malformed or more than 5 minutes off.
pub const TIMESTAMP_INVALID: &str = "4011";
/// `X-PARTNER-ID` is not this merchant.
pub const PARTNER_INVALID: &str = "4012";
/// A body field breaks the document's rules.
pub const FIELD_INVALID: &str = "4001";
/// `orderNo` was used before.
pub const DUPLICATE_ORDER: &str = "4002";
/// No such order.
pub const ORDER_NOT_FOUND: &str = "4004";

/// The simulator's keys and ids.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The merchant id Kasir must send.
    pub merchant_id: String,
    /// The merchant secret in the signed string.
    pub merchant_secret: String,
    /// The merchant's public key (PEM), to verify Kasir.
    pub merchant_public_pem: String,
    /// The platform's private key (PEM), to sign callbacks.
    pub platform_private_pem: String,
}

/// One pay-in in the simulator's ledger.
#[derive(Debug, Clone)]
pub struct Order {
    /// Kasir's order number.
    pub order_no: String,
    /// The simulator's id.
    pub trade_no: String,
    /// `QRIS`, `BCA`, …
    pub method: String,
    /// Whole rupiah.
    pub amount: u64,
    /// `PROCESSING`, `SUCCESS`, …
    pub status: String,
    /// Where callbacks go.
    pub callback_url: String,
}

#[derive(Debug, Default)]
struct Ledger {
    orders: HashMap<String, Order>,
    scenarios: VecDeque<Scenario>,
    /// Every error code answered, in order.
    rejections: Vec<String>,
    /// Serve QR codes as image URLs instead of payloads.
    qr_as_image: bool,
    /// Send callbacks here instead of the order's `callbackUrl`.
    callback_override: Option<String>,
    /// How long each status inquiry takes to answer.
    inquiry_delay: std::time::Duration,
    /// Answer status inquiries with a 500 (after the delay).
    inquiries_fail: bool,
    /// Every answered inquiry: order number, when it arrived, when answered.
    inquiries: Vec<Inquiry>,
}

/// One status inquiry as the simulator saw it.
#[derive(Debug, Clone)]
pub struct Inquiry {
    /// The order asked about.
    pub order_no: String,
    /// When the request arrived.
    pub started: std::time::Instant,
    /// When it was answered.
    pub answered: std::time::Instant,
}

/// A running simulator.
#[derive(Debug, Clone)]
pub struct SmilepayzSim {
    /// Base URL (`http://127.0.0.1:port`).
    pub url: String,
    keys: Keys,
    ledger: Arc<Mutex<Ledger>>,
    platform: Arc<rsa::PrivateKey>,
    http: reqwest::Client,
}

struct Shared {
    keys: Keys,
    merchant: rsa::PublicKey,
    ledger: Arc<Mutex<Ledger>>,
}

/// How a callback is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMode {
    /// Signed correctly, now.
    Valid,
    /// Signed with another key.
    Forged,
    /// Signed correctly, with a timestamp an hour old.
    Stale,
}

impl SmilepayzSim {
    /// Starts the simulator.
    pub async fn start(keys: Keys) -> SmilepayzSim {
        let ledger: Arc<Mutex<Ledger>> = Arc::default();
        let shared = Arc::new(Shared {
            merchant: common::public_key(&keys.merchant_public_pem),
            keys: keys.clone(),
            ledger: ledger.clone(),
        });
        let app = axum::Router::new()
            .route("/v2.0/transaction/pay-in", post(pay_in))
            .route("/v2.0/inquiry-status", post(inquiry))
            .with_state(shared);
        let url = common::serve(app).await;
        let platform = Arc::new(common::private_key(&keys.platform_private_pem));
        SmilepayzSim { url, keys, ledger, platform, http: reqwest::Client::new() }
    }

    /// What the next pay-in does.
    pub fn push_scenario(&self, scenario: Scenario) {
        self.ledger.lock().expect("ledger").scenarios.push_back(scenario);
    }

    /// How many pushed scenarios no pay-in has taken yet.
    pub fn scenarios_left(&self) -> usize {
        self.ledger.lock().expect("ledger").scenarios.len()
    }

    /// Serve QR codes as image URLs (the document's second form).
    pub fn qr_as_image(&self, on: bool) {
        self.ledger.lock().expect("ledger").qr_as_image = on;
    }

    /// Sends callbacks to `url` whatever `callbackUrl` said (tests run Kasir
    /// under a public URL that does not resolve).
    pub fn deliver_callbacks_to(&self, url: &str) {
        self.ledger.lock().expect("ledger").callback_override = Some(url.to_owned());
    }

    /// Makes every status inquiry take `delay` to answer.
    pub fn slow_inquiries(&self, delay: std::time::Duration) {
        self.ledger.lock().expect("ledger").inquiry_delay = delay;
    }

    /// Makes status inquiries fail (`500`) until called with `false`.
    pub fn fail_inquiries(&self, on: bool) {
        self.ledger.lock().expect("ledger").inquiries_fail = on;
    }

    /// Every status inquiry answered about a known order so far.
    pub fn inquiries(&self) -> Vec<Inquiry> {
        self.ledger.lock().expect("ledger").inquiries.clone()
    }

    /// Every error code answered so far.
    pub fn rejections(&self) -> Vec<String> {
        self.ledger.lock().expect("ledger").rejections.clone()
    }

    /// The order Kasir created for `attempt_id` (`pa_…`).
    pub fn order_for_attempt(&self, attempt_id: &str) -> Option<Order> {
        self.ledger.lock().expect("ledger").orders.get(&attempt_id.replace('_', "")).cloned()
    }

    /// All orders.
    pub fn orders(&self) -> Vec<Order> {
        self.ledger.lock().expect("ledger").orders.values().cloned().collect()
    }

    /// Sets an order's status (the shopper paid, or it expired).
    pub fn set_status(&self, order_no: &str, status: &str) {
        if let Some(o) = self.ledger.lock().expect("ledger").orders.get_mut(order_no) {
            o.status = status.to_owned();
        }
    }

    /// Sends the order's callback; returns Kasir's HTTP status and body
    /// (status 0 and the error when Kasir could not be reached).
    pub async fn send_callback(&self, order_no: &str, mode: CallbackMode) -> (u16, String) {
        let target = {
            let l = self.ledger.lock().expect("ledger");
            let order = l.orders.get(order_no).expect("known order");
            l.callback_override.clone().unwrap_or_else(|| order.callback_url.clone())
        };
        self.send_callback_to(&target, order_no, mode).await
    }

    /// Sends the order's callback to `target` (one of several Kasir
    /// instances behind a load balancer, say).
    pub async fn send_callback_to(&self, target: &str, order_no: &str, mode: CallbackMode) -> (u16, String) {
        let order = self.ledger.lock().expect("ledger").orders.get(order_no).cloned().expect("known order");
        let at = if mode == CallbackMode::Stale { common::now_secs() - 3600 } else { common::now_secs() };
        let timestamp = common::jakarta_timestamp(at);
        let message = format!("{}|{timestamp}", order.trade_no);
        let signature = match mode {
            CallbackMode::Forged => {
                // Signed with the merchant's own key pair's other half? No:
                // with a fresh key nobody registered.
                let other = common::private_key(FORGER_KEY);
                common::rsa_sign_base64(&other, message.as_bytes())
            }
            CallbackMode::Valid | CallbackMode::Stale => {
                common::rsa_sign_base64(&self.platform, message.as_bytes())
            }
        };
        let body = json!({
            "orderNo": order.order_no,
            "tradeNo": order.trade_no,
            "merchantId": self.keys.merchant_id,
            "merchantName": "Simulated merchant",
            "paymentMethod": order.method,
            "transactionTime": timestamp,
            "status": order.status,
            "money": {"currency": "IDR", "amount": order.amount},
        });
        let sent = self
            .http
            .post(target)
            .header("Content-Type", "application/json")
            .header("X-TIMESTAMP", &timestamp)
            .header("X-SIGNATURE", signature)
            .body(body.to_string())
            .send()
            .await;
        let res = match sent {
            Ok(res) => res,
            Err(e) => return (0, e.to_string()),
        };
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }

    /// The shopper pays: the order succeeds and its callback is sent.
    pub async fn pay(&self, order_no: &str) -> (u16, String) {
        self.set_status(order_no, "SUCCESS");
        self.send_callback(order_no, CallbackMode::Valid).await
    }
}

/// A key Smilepayz never issued (a forger's).
const FORGER_KEY: &str = include_str!("../../fixtures/providers/smartglocal_sg.key.pem");

fn error(ledger: &Mutex<Ledger>, status: StatusCode, code: &str, message: &str) -> Response {
    ledger.lock().expect("ledger").rejections.push(code.to_owned());
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// Checks the headers and signature; returns the error response if any.
fn authenticate(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let ledger = &shared.ledger;
    if header("content-type").is_none_or(|c| !c.starts_with("application/json")) {
        return Err(error(
            ledger,
            StatusCode::BAD_REQUEST,
            FIELD_INVALID,
            "Content-Type must be application/json",
        ));
    }
    if header("x-partner-id") != Some(shared.keys.merchant_id.as_str()) {
        return Err(error(ledger, StatusCode::UNAUTHORIZED, PARTNER_INVALID, "X-PARTNER-ID invalid"));
    }
    let Some(timestamp) = header("x-timestamp") else {
        return Err(error(ledger, StatusCode::BAD_REQUEST, TIMESTAMP_INVALID, "X-TIMESTAMP missing"));
    };
    match common::parse_timestamp(timestamp) {
        Some(t) if (common::now_secs() - t).abs() <= 300 => {}
        _ => return Err(error(ledger, StatusCode::BAD_REQUEST, TIMESTAMP_INVALID, "X-TIMESTAMP invalid")),
    }
    let mut signed = format!("{timestamp}|{}|", shared.keys.merchant_secret).into_bytes();
    signed.extend_from_slice(&common::minify(body));
    let valid =
        header("x-signature").is_some_and(|s| common::rsa_verify_base64(&shared.merchant, &signed, s));
    if !valid {
        return Err(error(ledger, StatusCode::UNAUTHORIZED, SIGNATURE_INVALID, "X-SIGNATURE invalid"));
    }
    Ok(())
}

const METHODS: &[&str] = &[
    "QRIS",
    "W_DANA",
    "W_OVO",
    "W_GOPAY",
    "W_SHOPEEPAY",
    "W_LINKAJA",
    "BCA",
    "CIMB",
    "BNI",
    "BRI",
    "MANDIRI",
    "PERMATA",
    "DANAMON",
    "BJB",
    "MAYBANK",
];

/// The document's body rules; `Err` names the field.
fn check_pay_in(v: &Value, merchant_id: &str) -> Result<(), &'static str> {
    let order_no = v["orderNo"].as_str().ok_or("orderNo")?;
    if !(6..=32).contains(&order_no.len()) || !order_no.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("orderNo");
    }
    let purpose = v["purpose"].as_str().ok_or("purpose")?;
    if purpose.is_empty() || purpose.chars().count() > 64 {
        return Err("purpose");
    }
    if v["merchant"]["merchantId"].as_str() != Some(merchant_id) {
        return Err("merchant.merchantId");
    }
    if v["money"]["currency"] != "IDR" {
        return Err("money.currency");
    }
    let amount = v["money"]["amount"].as_u64().ok_or("money.amount")?;
    if !(10_000..=999_999_999).contains(&amount) {
        return Err("money.amount");
    }
    let method = v["paymentMethod"].as_str().ok_or("paymentMethod")?;
    if !METHODS.contains(&method) {
        return Err("paymentMethod");
    }
    if method == "W_OVO" {
        let phone = v["payer"]["phone"].as_str().ok_or("payer.phone")?;
        let digits = phone.strip_prefix('+').unwrap_or("");
        if !digits.starts_with("62")
            || !(10..=15).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err("payer.phone");
        }
    }
    if let Some(period) = v.get("expiryPeriod") {
        let p = period.as_i64().ok_or("expiryPeriod")?;
        if !(300..=86_400).contains(&p) {
            return Err("expiryPeriod");
        }
    }
    for url in ["redirectUrl", "callbackUrl"] {
        if let Some(u) = v.get(url) {
            let u = u.as_str().ok_or(url)?;
            if u.len() > 256 || !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(url);
            }
        }
    }
    Ok(())
}

async fn pay_in(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authenticate(&shared, &headers, &body) {
        return r;
    }
    let ledger = &shared.ledger;
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(ledger, StatusCode::BAD_REQUEST, FIELD_INVALID, "body is not JSON");
    };
    if let Err(field) = check_pay_in(&v, &shared.keys.merchant_id) {
        return error(ledger, StatusCode::BAD_REQUEST, FIELD_INVALID, &format!("{field} invalid"));
    }
    let scenario = ledger.lock().expect("ledger").scenarios.pop_front().unwrap_or(Scenario::Normal);
    match scenario {
        Scenario::ServerError => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream error").into_response();
        }
        Scenario::Malformed => return (StatusCode::OK, "<html>gateway</html>").into_response(),
        Scenario::Swallow(hold) => {
            tokio::time::sleep(hold).await;
            return (StatusCode::GATEWAY_TIMEOUT, "upstream timeout").into_response();
        }
        Scenario::Normal | Scenario::NoAnswer(_) | Scenario::Trickle(_) => {}
    }
    let order_no = v["orderNo"].as_str().unwrap_or_default().to_owned();
    let amount = v["money"]["amount"].as_u64().unwrap_or_default();
    let method = v["paymentMethod"].as_str().unwrap_or_default().to_owned();
    let trade_no = format!("1012{}", common::random_id(20));
    let qr_as_image = {
        let mut l = ledger.lock().expect("ledger");
        if l.orders.contains_key(&order_no) {
            drop(l);
            return error(ledger, StatusCode::BAD_REQUEST, DUPLICATE_ORDER, "orderNo already used");
        }
        l.orders.insert(
            order_no.clone(),
            Order {
                order_no: order_no.clone(),
                trade_no: trade_no.clone(),
                method: method.clone(),
                amount,
                status: "PROCESSING".into(),
                callback_url: v["callbackUrl"].as_str().unwrap_or_default().to_owned(),
            },
        );
        l.qr_as_image
    };
    if let Scenario::NoAnswer(delay) = scenario {
        tokio::time::sleep(delay).await;
    }
    let mut channel = json!({
        "additionalInfo": {},
        "paymentMethod": method,
        "paymentUrl": format!("https://gateway.smilepayz.example/cashier/#/loading?tradeNo={trade_no}"),
    });
    if method == "QRIS" {
        channel["qrString"] = if qr_as_image {
            json!(format!("https://gateway.smilepayz.example/imge/{trade_no}.img"))
        } else {
            json!(qris(amount, &trade_no))
        };
    } else if method.starts_with("W_") {
        channel["additionalInfo"] =
            json!({"paymentUrl": format!("https://link.dana.example/pay?bizNo={trade_no}")});
    } else {
        channel["vaNumber"] = json!(format!(
            "1419{}",
            &trade_no[4..16].bytes().map(|b| char::from(b'0' + b % 10)).collect::<String>()
        ));
    }
    let answer = json!({
        "code": "00",
        "message": "Successful",
        "orderNo": order_no,
        "tradeNo": trade_no,
        "merchant": {"merchantId": shared.keys.merchant_id, "merchantName": "Simulated merchant", "accountNo": "1102000000000000"},
        "money": {"currency": "IDR", "amount": amount},
        "transactionTime": common::jakarta_timestamp(common::now_secs()),
        "channel": channel,
        "status": "PROCESSING",
    });
    if let Scenario::Trickle(every) = scenario {
        let bytes = answer.to_string().into_bytes();
        let stream = futures_util::stream::unfold((bytes, 0usize), move |(b, i)| async move {
            let byte = *b.get(i)?;
            tokio::time::sleep(every).await;
            Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![byte])), (b, i + 1)))
        });
        return (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            axum::body::Body::from_stream(stream),
        )
            .into_response();
    }
    Json(answer).into_response()
}

/// A dynamic QRIS payload for the amount, built with `kasir-shared`.
fn qris(amount: u64, trade_no: &str) -> String {
    let merchant = QrisMerchant {
        name: "SIMULATED SMILEPAYZ".into(),
        city: "Jakarta".into(),
        postal_code: None,
        nmid: "ID1020000000001".into(),
        mcc: "5999".into(),
        criteria: MerchantCriteria::Umi,
        acquirer_gui: "ID.CO.SMILEPAYZ.WWW".into(),
        merchant_pan: "936009150000000001".into(),
        merchant_id: "SMILEPAYZ0001".into(),
    };
    let bill: String = trade_no.chars().take(20).collect();
    merchant
        .dynamic_payload(Idr::new(amount).unwrap_or(Idr::ZERO), &bill)
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default()
}

async fn inquiry(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authenticate(&shared, &headers, &body) {
        return r;
    }
    let ledger = &shared.ledger;
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(ledger, StatusCode::BAD_REQUEST, FIELD_INVALID, "body is not JSON");
    };
    if v["tradeType"].as_u64() != Some(1) {
        return error(ledger, StatusCode::BAD_REQUEST, FIELD_INVALID, "tradeType invalid");
    }
    let (order_no, trade_no) = (v["orderNo"].as_str(), v["tradeNo"].as_str());
    if order_no.is_none() && trade_no.is_none() {
        return error(ledger, StatusCode::BAD_REQUEST, FIELD_INVALID, "orderNo or tradeNo required");
    }
    let started = std::time::Instant::now();
    let (found, delay) = {
        let l = ledger.lock().expect("ledger");
        let found = l
            .orders
            .values()
            .find(|o| Some(o.order_no.as_str()) == order_no || Some(o.trade_no.as_str()) == trade_no)
            .map(|o| o.order_no.clone());
        (found, l.inquiry_delay)
    };
    let Some(found) = found else {
        return error(ledger, StatusCode::OK, ORDER_NOT_FOUND, "order not found");
    };
    tokio::time::sleep(delay).await;
    // The status as it is when the answer leaves.
    let (order, fail) = {
        let mut l = ledger.lock().expect("ledger");
        l.inquiries.push(Inquiry { order_no: found.clone(), started, answered: std::time::Instant::now() });
        (l.orders.get(&found).cloned(), l.inquiries_fail)
    };
    if fail {
        return (StatusCode::INTERNAL_SERVER_ERROR, "upstream error").into_response();
    }
    let Some(order) = order else {
        return error(ledger, StatusCode::OK, ORDER_NOT_FOUND, "order not found");
    };
    Json(json!({
        "code": "00",
        "message": "Successful",
        "tradeNo": order.trade_no,
        "orderNo": order.order_no,
        "tradeType": 1,
        "paymentMethod": order.method,
        "money": {"currency": "IDR", "amount": order.amount},
        "status": order.status,
    }))
    .into_response()
}
