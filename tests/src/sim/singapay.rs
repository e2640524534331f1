//! A SingaPay payment-b2b simulator: the v1.1 access token (HMAC-SHA512 of
//! `client_id_client_secret_YYYYMMDD` on Jakarta's date), and the card v2.0
//! payment, inquiry and cancel endpoints behind a Bearer token and
//! `X-PARTNER-ID`. It rejects what SingaPay rejects: a bad token signature
//! (`SP016`), a missing or expired token (`SP013`), a missing or too long
//! field or an amount outside 5,000–999,999,999 (`SP018`), an expiry that is
//! not YYMM (`SP001 Card Expiri Date Check Please.`, FACTS.md §2.2), a
//! reused reference (`SP004`), an unknown transaction (`SP009`).
//!
//! Cards (the simulator's own magic numbers): `4000000000003220` 3DS
//! (pending until `complete_3ds`), `4000000000000002` declined (`SP001`,
//! `failed`), `4000000000000119` charged but answered too late, any other
//! valid card accepted (`processing`, `success` on the next inquiry, as the
//! SDK author saw in SingaPay's sandbox). Inquiry accepts the transaction
//! id or the merchant's reference (an assumption: FACTS.md confirms only
//! transaction ids).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};

use super::common::{self, Scenario};

/// 3DS challenge.
pub const CARD_3DS: &str = "4000000000003220";
/// Declined by the issuer.
pub const CARD_DECLINED: &str = "4000000000000002";
/// Charged, answered after Kasir's timeout.
pub const CARD_SLOW: &str = "4000000000000119";

/// Credentials the simulator expects.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `X-PARTNER-ID`.
    pub partner_id: String,
    /// `X-CLIENT-ID`.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// The account in card paths.
    pub account_id: String,
}

/// A card transaction in the ledger (no card data is kept).
#[derive(Debug, Clone)]
pub struct Transaction {
    /// `99…`.
    pub transaction_id: String,
    /// Kasir's reference.
    pub reference_no: String,
    /// Whole rupiah.
    pub amount: u64,
    /// `pending`, `processing`, `success`, `failed`, `cancelled`, `refunded`.
    pub status: String,
    /// The YYMM expiry sent.
    pub card_expiry: String,
    /// Installment months, if any.
    pub installment_month: Option<String>,
}

#[derive(Debug, Default)]
struct Ledger {
    transactions: HashMap<String, Transaction>,
    tokens: HashMap<String, i64>,
    token_requests: usize,
    token_lifetime_secs: i64,
    scenarios: VecDeque<Scenario>,
    rejections: Vec<String>,
    /// The next refund is made, but answered `SP001` (FACTS §2.3: also the
    /// "outcome unknown, call inquiry-status" answer) with `processing`.
    refund_answer_unknown: bool,
}

struct Shared {
    credentials: Credentials,
    ledger: Arc<Mutex<Ledger>>,
}

/// A running simulator.
#[derive(Debug, Clone)]
pub struct SingapaySim {
    /// Base URL.
    pub url: String,
    credentials: Credentials,
    ledger: Arc<Mutex<Ledger>>,
    http: reqwest::Client,
}

impl SingapaySim {
    /// Starts the simulator; tokens live an hour.
    pub async fn start(credentials: Credentials) -> SingapaySim {
        let ledger = Arc::new(Mutex::new(Ledger { token_lifetime_secs: 3600, ..Ledger::default() }));
        let shared = Arc::new(Shared { credentials: credentials.clone(), ledger: ledger.clone() });
        let app = axum::Router::new()
            .route("/api/v1.1/access-token/b2b", post(token))
            .route("/api/v2.0/card/{account}/payment", post(payment))
            .route("/api/v2.0/card/{account}/inquiry-status/{id}", get(inquiry))
            .route("/api/v2.0/card/{account}/cancel/{id}", patch(cancel))
            .with_state(shared);
        let url = common::serve(app).await;
        SingapaySim { url, credentials, ledger, http: reqwest::Client::new() }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("ledger")
    }

    /// What the next payment call does.
    pub fn push_scenario(&self, s: Scenario) {
        self.ledger().scenarios.push_back(s);
    }
    /// The next refund is made, and answered `SP001` with status
    /// `processing`: the answer does not say it was made.
    pub fn answer_next_refund_unknown(&self) {
        self.ledger().refund_answer_unknown = true;
    }
    /// Every error code answered.
    pub fn rejections(&self) -> Vec<String> {
        self.ledger().rejections.clone()
    }
    /// How many tokens were issued.
    pub fn token_requests(&self) -> usize {
        self.ledger().token_requests
    }
    /// Revokes every token (the next call gets `SP013`).
    pub fn revoke_tokens(&self) {
        self.ledger().tokens.clear();
    }
    /// Every transaction (every card charged or tried).
    pub fn transactions(&self) -> Vec<Transaction> {
        self.ledger().transactions.values().cloned().collect()
    }
    /// The transaction made with Kasir's reference (test-side lookup only).
    pub fn transaction_for(&self, reference: &str) -> Option<Transaction> {
        self.ledger().transactions.values().find(|t| t.reference_no == reference).cloned()
    }
    /// The shopper finishes 3DS.
    pub fn complete_3ds(&self, transaction_id: &str, approve: bool) {
        if let Some(t) = self.ledger().transactions.get_mut(transaction_id) {
            t.status = if approve { "success" } else { "failed" }.into();
        }
    }

    /// Sends a signed webhook about a transaction to `url` (Kasir's
    /// `/webhooks/singapay`); `forge` signs with another secret.
    pub async fn send_webhook(&self, url: &str, transaction_id: &str, forge: bool) -> u16 {
        let t = self.ledger().transactions.get(transaction_id).cloned().expect("known transaction");
        let body = json!({"data": {"transaction_id": t.transaction_id, "reference_no": t.reference_no, "status": t.status}})
            .to_string();
        let timestamp = common::now_secs().to_string();
        let token = common::random_id(32);
        let path = url.splitn(4, '/').nth(3).map_or("/".to_owned(), |p| format!("/{p}"));
        let hash = common::hex(&<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
        let message = format!("POST:{path}:{token}:{hash}:{timestamp}");
        let secret = if forge { "not-the-secret" } else { self.credentials.client_secret.as_str() };
        let signature = common::hmac_sha512_hex(secret.as_bytes(), message.as_bytes());
        self.http
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Signature", signature)
            .header("X-Timestamp", timestamp)
            .header("Authorization", format!("Bearer {token}"))
            .header("X-PARTNER-ID", &self.credentials.partner_id)
            .header("User-Agent", "SingaPaymentGateway/1.0")
            .body(body)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }
}

fn error(ledger: &Mutex<Ledger>, status: StatusCode, code: &str, message: &str) -> Response {
    ledger.lock().expect("ledger").rejections.push(code.to_owned());
    (status, Json(json!({"response_code": code, "response_message": message}))).into_response()
}

fn jakarta_yyyymmdd(secs: i64) -> String {
    let (y, m, d) = common::civil((secs + 7 * 3600).div_euclid(86_400));
    format!("{y:04}{m:02}{d:02}")
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let c = &shared.credentials;
    let ledger = &shared.ledger;
    if header("x-partner-id") != Some(c.partner_id.as_str())
        || header("x-client-id") != Some(c.client_id.as_str())
    {
        return error(ledger, StatusCode::UNAUTHORIZED, "SP015", "Forbidden");
    }
    let message = format!("{}_{}_{}", c.client_id, c.client_secret, jakarta_yyyymmdd(common::now_secs()));
    let expected = common::hmac_sha512_hex(c.client_secret.as_bytes(), message.as_bytes());
    if header("x-signature") != Some(expected.as_str()) {
        return error(ledger, StatusCode::UNAUTHORIZED, "SP016", "Signature invalid");
    }
    let grant: Value = serde_json::from_slice(&body).unwrap_or_default();
    if grant["grant_type"] != "client_credentials" {
        return error(ledger, StatusCode::BAD_REQUEST, "SP018", "grant_type invalid");
    }
    let token = common::random_id(40);
    let mut l = ledger.lock().expect("ledger");
    let lifetime = l.token_lifetime_secs;
    l.tokens.insert(token.clone(), common::now_secs() + lifetime);
    l.token_requests += 1;
    Json(json!({"status": 200, "success": true, "data": {"access_token": token, "token_type": "Bearer", "expires_in": lifetime.to_string()}}))
        .into_response()
}

fn authorize(shared: &Shared, headers: &HeaderMap, account: &str) -> Result<(), Response> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let ledger = &shared.ledger;
    if header("x-partner-id") != Some(shared.credentials.partner_id.as_str()) {
        return Err(error(ledger, StatusCode::UNAUTHORIZED, "SP015", "Forbidden"));
    }
    let token = header("authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or("");
    let valid = ledger.lock().expect("ledger").tokens.get(token).is_some_and(|exp| *exp > common::now_secs());
    if !valid {
        return Err(error(ledger, StatusCode::UNAUTHORIZED, "SP013", "Unauthorized"));
    }
    if account != shared.credentials.account_id {
        return Err(error(ledger, StatusCode::NOT_FOUND, "SP020", "Merchant account not found"));
    }
    Ok(())
}

/// The document's field rules; `Err` names the field.
fn check_payment(v: &Value) -> Result<(), &'static str> {
    let text = |k: &'static str, max: usize| -> Result<&str, &'static str> {
        let s = v[k].as_str().ok_or(k)?;
        if s.trim().is_empty() || s.chars().count() > max { Err(k) } else { Ok(s) }
    };
    let amount = v["amount"].as_u64().ok_or("amount")?;
    if !(5_000..=999_999_999).contains(&amount) {
        return Err("amount");
    }
    text("goods_name", 255)?;
    text("customer_name", 255)?;
    for k in ["customer_email", "card_holder_email"] {
        let e = text(k, if k == "customer_email" { 255 } else { 100 })?;
        if !e.contains('@') {
            return Err(k);
        }
    }
    text("customer_phone", 50)?;
    text("customer_address", 500)?;
    text("customer_city", 100)?;
    text("customer_state", 100)?;
    text("customer_postal_code", 20)?;
    if text("customer_country", 2)?.len() != 2 {
        return Err("customer_country");
    }
    let number = text("card_number", 20)?;
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("card_number");
    }
    let cvv = text("card_cvv", 4)?;
    if cvv.len() < 3 || !cvv.bytes().all(|b| b.is_ascii_digit()) {
        return Err("card_cvv");
    }
    text("card_holder_name", 45)?;
    if v["installment"].as_bool() == Some(true)
        && !matches!(v["installment_month"].as_str(), Some("3" | "6" | "12"))
    {
        return Err("installment_month");
    }
    Ok(())
}

/// YYMM, a real month, not in the past (Jakarta).
fn expiry_ok(yymm: &str) -> bool {
    if yymm.len() != 4 || !yymm.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (yy, mm): (i64, i64) = (yymm[..2].parse().unwrap_or(0), yymm[2..].parse().unwrap_or(0));
    let (y, m, _) = common::civil((common::now_secs() + 7 * 3600).div_euclid(86_400));
    (1..=12).contains(&mm) && (2000 + yy, mm) >= (y, m)
}

async fn payment(
    State(shared): State<Arc<Shared>>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&shared, &headers, &account) {
        return r;
    }
    let ledger = &shared.ledger;
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(ledger, StatusCode::BAD_REQUEST, "SP012", "Bad request");
    };
    if let Err(field) = check_payment(&v) {
        return error(
            ledger,
            StatusCode::UNPROCESSABLE_ENTITY,
            "SP018",
            &format!("The {field} field is invalid."),
        );
    }
    let expiry = v["card_expiry"].as_str().unwrap_or_default().to_owned();
    if !expiry_ok(&expiry) {
        return error(ledger, StatusCode::OK, "SP001", "Card Expiri Date Check Please.");
    }
    let scenario = ledger.lock().expect("ledger").scenarios.pop_front().unwrap_or(Scenario::Normal);
    match scenario {
        Scenario::ServerError => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream error").into_response();
        }
        Scenario::Malformed => return (StatusCode::OK, "<html>").into_response(),
        // Only the Smilepayz simulator trickles and swallows; a test asking for it here
        // gets an answer it cannot mistake for success.
        Scenario::Trickle(_) | Scenario::Swallow(_) => {
            return (StatusCode::NOT_IMPLEMENTED, "trickle and swallow are simulated for Smilepayz only")
                .into_response();
        }
        Scenario::Normal | Scenario::NoAnswer(_) => {}
    }
    let reference = v["reference_no"].as_str().unwrap_or_default().to_owned();
    let number = v["card_number"].as_str().unwrap_or_default().to_owned();
    let status = match number.as_str() {
        CARD_3DS => "pending",
        CARD_DECLINED => "failed",
        _ => "processing",
    };
    let transaction = Transaction {
        transaction_id: format!("99{}", common::random_id(26)),
        reference_no: reference.clone(),
        amount: v["amount"].as_u64().unwrap_or_default(),
        status: status.into(),
        card_expiry: expiry,
        installment_month: v["installment_month"].as_str().map(str::to_owned),
    };
    {
        let mut l = ledger.lock().expect("ledger");
        if !reference.is_empty() && l.transactions.values().any(|t| t.reference_no == reference) {
            drop(l);
            return error(ledger, StatusCode::CONFLICT, "SP004", "Duplicate reference");
        }
        l.transactions.insert(transaction.transaction_id.clone(), transaction.clone());
    }
    if number == CARD_SLOW {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if let Scenario::NoAnswer(delay) = scenario {
        tokio::time::sleep(delay).await;
    }
    let masked = format!("{}******{}", &number[..6], &number[number.len() - 4..]);
    let data = match status {
        "pending" => json!({
            "transaction_id": transaction.transaction_id, "reference_no": reference, "status": "pending",
            "action": "redirect", "requires_3ds": true,
            "payment_url": "<html><body><form id=\"acs\" method=\"POST\" action=\"https://acs.singapay.example/3ds\"><input name=\"PaReq\" value=\"x\"></form><script>document.getElementById('acs').submit()</script></body></html>",
            "html_form": "<html><body><form id=\"acs\" method=\"POST\" action=\"https://acs.singapay.example/3ds\"><input name=\"PaReq\" value=\"x\"></form><script>document.getElementById('acs').submit()</script></body></html>",
        }),
        "failed" => {
            return Json(json!({"response_code": "SP001", "response_message": "Payment declined by issuer",
                "data": {"transaction_id": transaction.transaction_id, "reference_no": reference, "status": "failed"}}))
            .into_response();
        }
        _ => json!({
            "transaction_id": transaction.transaction_id, "reference_no": reference, "status": "processing",
            "action": "complete", "immediate_success": true, "provider_transaction_id": "IONPAYTEST01",
            "provider_auth_no": "123456", "card_masked": masked, "issuing_bank": "CIMB", "acquiring_bank": "CIMB",
            "result_code": "0000",
        }),
    };
    Json(json!({"response_code": "SP000", "response_message": "Successfully", "data": data})).into_response()
}

/// By SingaPay's transaction id only: FACTS.md §2.2 confirms lookups by
/// `transaction_id` / `provider_transaction_id`, not by the merchant's
/// reference, so the simulator takes the harshest reading and does not
/// find a transaction by Kasir's reference (`SP009`).
fn find(ledger: &Mutex<Ledger>, id: &str) -> Option<Transaction> {
    ledger.lock().expect("ledger").transactions.get(id).cloned()
}

fn envelope(t: &Transaction) -> Response {
    Json(json!({"response_code": "SP000", "response_message": "Successfully",
        "data": {"transaction_id": t.transaction_id, "reference_no": t.reference_no, "status": t.status, "amount": t.amount}}))
    .into_response()
}

async fn inquiry(
    State(shared): State<Arc<Shared>>,
    Path((account, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorize(&shared, &headers, &account) {
        return r;
    }
    let Some(mut t) = find(&shared.ledger, &id) else {
        return error(&shared.ledger, StatusCode::NOT_FOUND, "SP009", "Transaction not found");
    };
    if t.status == "processing" {
        // The sandbox settles accepted cards within seconds.
        t.status = "success".into();
        shared.ledger.lock().expect("ledger").transactions.insert(t.transaction_id.clone(), t.clone());
    }
    envelope(&t)
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path((account, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = authorize(&shared, &headers, &account) {
        return r;
    }
    let ledger = &shared.ledger;
    let kind = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["cancel_type"].as_str().map(str::to_owned));
    let Some(mut t) = find(ledger, &id) else {
        return error(ledger, StatusCode::NOT_FOUND, "SP009", "Transaction not found");
    };
    let next = match (kind.as_deref(), t.status.as_str()) {
        (Some("void"), "pending" | "processing") => "cancelled",
        (Some("refund"), "success") => "refunded",
        (Some("void" | "refund"), _) => {
            return Json(json!({"response_code": "SP001", "response_message": "Transaction cannot be cancelled",
                "data": {"transaction_id": t.transaction_id, "reference_no": t.reference_no, "status": t.status}}))
            .into_response();
        }
        _ => {
            return error(
                ledger,
                StatusCode::UNPROCESSABLE_ENTITY,
                "SP018",
                "The cancel_type field is invalid.",
            );
        }
    };
    t.status = next.into();
    let unknown = {
        let mut l = ledger.lock().expect("ledger");
        l.transactions.insert(t.transaction_id.clone(), t.clone());
        next == "refunded" && std::mem::take(&mut l.refund_answer_unknown)
    };
    if unknown {
        return Json(json!({"response_code": "SP001", "response_message": "Transaction failure",
            "data": {"transaction_id": t.transaction_id, "reference_no": t.reference_no, "status": "processing"}}))
        .into_response();
    }
    envelope(&t)
}
