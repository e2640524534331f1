//! A Smart Glocal API v1 simulator for local card payments in Indonesia:
//! `session/create`, `session/start/payment`, `session/init/payment`,
//! `session/status`, `session/confirm`, `session/cancel`, `session/refund`.
//! Every call must carry `X-PARTNER-PROJECT` and `X-PARTNER-SIGN` (RSA
//! SHA-256, base64, over the raw body; FACTS.md §3 marks hash and encoding
//! unconfirmed, Kasir's defaults are assumed), and the Indonesian rules:
//! currency `idr`, at least 11,000 IDR (whole rupiah, or ×100 when the
//! simulator runs in minor units), sender full name 3–50, email with ≤ 64
//! before the `@`, a 16-digit NIK, a card number, `MM`/`YY` expiry, a CVV.
//! Errors use the documented `{"status":"error","error":{"code","description"}}`
//! with the simulator's own codes (Smart Glocal's table is not public).
//!
//! Webhooks (`action_required`, `ready_to_confirm`, `payment_finished`) are
//! signed with Smart Glocal's key over the raw body and sent when a test
//! calls `advance`/`complete_3ds`, or after `session/confirm`.
//! Cards: `4000000000003220` needs 3DS, `4000000000000002` is declined,
//! others are approved.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::common::{self, Scenario};

/// 3DS challenge.
pub const CARD_3DS: &str = "4000000000003220";
/// Declined.
pub const CARD_DECLINED: &str = "4000000000000002";
/// Missing or wrong signature.
pub const SIGNATURE_INVALID: &str = "invalid_signature";
/// Unknown project.
pub const PROJECT_INVALID: &str = "invalid_project";
/// A field breaks the rules.
pub const VALIDATION: &str = "validation_error";
/// No such session.
pub const NOT_FOUND: &str = "session_not_found";
/// The session is not in a state for this call.
pub const WRONG_STATE: &str = "invalid_session_status";

/// The simulator's keys.
#[derive(Debug, Clone)]
pub struct Keys {
    /// `X-PARTNER-PROJECT`.
    pub project: String,
    /// The partner's public key (PEM), to verify Kasir.
    pub partner_public_pem: String,
    /// Smart Glocal's private key (PEM), to sign webhooks.
    pub sg_private_pem: String,
    /// Amounts in hundredths instead of whole rupiah.
    pub minor_units: bool,
}

/// A session in the ledger (no card data is kept).
#[derive(Debug, Clone)]
pub struct SgSession {
    /// `ps_…`.
    pub id: String,
    /// `created`, `in_progress`, `accepted`, `cancelled`.
    pub status: String,
    /// `in_progress`, `pending`, `succeeded`, `failed`; none before start.
    pub payment_status: Option<String>,
    /// As sent.
    pub amount: u64,
    /// Kasir's attempt id.
    pub reference: String,
    /// Needs 3DS and has not done it.
    pub needs_3ds: bool,
    /// Declined card.
    pub declined: bool,
    /// The sender's NIK as sent.
    pub nik: Option<String>,
    /// `MM`, `YY`.
    pub expiry: Option<(String, String)>,
    /// Refunded so far (accepted refunds, finished or not).
    pub refunded: u64,
    /// Refund operations: Kasir's id (`metadata`), amount, status.
    pub refunds: Vec<(String, u64, String)>,
}

#[derive(Debug, Default)]
struct Ledger {
    sessions: HashMap<String, SgSession>,
    scenarios: VecDeque<Scenario>,
    rejections: Vec<String>,
    webhook_url: Option<String>,
    /// Every method called, in order.
    calls: Vec<String>,
}

#[derive(Debug, Default)]
struct Harsh {
    /// Every amount in answers and webhooks is multiplied by this (0: 1):
    /// a provider echoing other units than it was sent.
    echo_factor: std::sync::atomic::AtomicU64,
    /// Refunds are answered `in_progress`; the next `session/status`
    /// finds them `succeeded`.
    slow_refunds: std::sync::atomic::AtomicBool,
    /// `session/cancel` is refused while the shopper is in 3DS.
    refuse_cancel_in_3ds: std::sync::atomic::AtomicBool,
    /// `session/refund` is answered `{"status":"error"}` (the method and its
    /// errors are undocumented): 1 after making the refund (listed, by its
    /// metadata, in `session/status`), 2 without making it.
    refund_error: std::sync::atomic::AtomicU8,
    /// The account has auto-confirm (FACTS.md §3): an authorised payment
    /// is charged at once, with no `ready_to_confirm`.
    auto_confirm: std::sync::atomic::AtomicBool,
}

struct Shared {
    harsh: Harsh,
    keys: Keys,
    partner: rsa::PublicKey,
    sg: rsa::PrivateKey,
    ledger: Arc<Mutex<Ledger>>,
    http: reqwest::Client,
}

/// A running simulator.
#[derive(Clone)]
pub struct SmartGlocalSim {
    /// Base URL.
    pub url: String,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SmartGlocalSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmartGlocalSim({})", self.url)
    }
}

impl SmartGlocalSim {
    /// Starts the simulator.
    pub async fn start(keys: Keys) -> SmartGlocalSim {
        let shared = Arc::new(Shared {
            harsh: Harsh::default(),
            partner: common::public_key(&keys.partner_public_pem),
            sg: common::private_key(&keys.sg_private_pem),
            keys,
            ledger: Arc::default(),
            http: reqwest::Client::new(),
        });
        let app =
            axum::Router::new().route("/api/v1/session/{*method}", post(call)).with_state(shared.clone());
        SmartGlocalSim { url: common::serve(app).await, shared }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.shared.ledger.lock().expect("ledger")
    }

    /// Echo every amount multiplied by `factor` (another unit than sent).
    pub fn echo_amounts_times(&self, factor: u64) {
        self.shared.harsh.echo_factor.store(factor, std::sync::atomic::Ordering::SeqCst);
    }
    /// Answer refunds `in_progress` (finished by the next status call).
    pub fn slow_refunds(&self, on: bool) {
        self.shared.harsh.slow_refunds.store(on, std::sync::atomic::Ordering::SeqCst);
    }
    /// Answer `session/refund` with an error: after making the refund
    /// (`made`), or without making it; `None` answers normally again.
    pub fn answer_refunds_with_error(&self, made: Option<bool>) {
        let mode = match made {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        self.shared.harsh.refund_error.store(mode, std::sync::atomic::Ordering::SeqCst);
    }
    /// Refuse `session/cancel` while the shopper is in 3DS.
    pub fn refuse_cancel_during_3ds(&self, on: bool) {
        self.shared.harsh.refuse_cancel_in_3ds.store(on, std::sync::atomic::Ordering::SeqCst);
    }
    /// Charge an authorised payment at once (auto-confirm), without
    /// `ready_to_confirm`.
    pub fn auto_confirm(&self, on: bool) {
        self.shared.harsh.auto_confirm.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Where webhooks go (Kasir's `/webhooks/smartglocal`).
    pub fn deliver_webhooks_to(&self, url: &str) {
        self.ledger().webhook_url = Some(url.to_owned());
    }
    /// What the next start/init does.
    pub fn push_scenario(&self, s: Scenario) {
        self.ledger().scenarios.push_back(s);
    }
    /// Every error code answered.
    pub fn rejections(&self) -> Vec<String> {
        self.ledger().rejections.clone()
    }
    /// Every method called (`create`, `start/payment`, `confirm`, …), in order.
    pub fn calls(&self) -> Vec<String> {
        self.ledger().calls.clone()
    }
    /// The session for Kasir's attempt.
    pub fn session_for(&self, attempt_id: &str) -> Option<SgSession> {
        self.ledger().sessions.values().find(|s| s.reference == attempt_id).cloned()
    }
    /// Sets a session's status as Smart Glocal would report it (`error`).
    pub fn set_session_status(&self, session_id: &str, status: &str) {
        if let Some(s) = self.ledger().sessions.get_mut(session_id) {
            s.status = status.to_owned();
        }
    }
    /// Sets a session's payment outcome directly (for lost-answer tests).
    pub fn settle(&self, session_id: &str, succeeded: bool) {
        if let Some(s) = self.ledger().sessions.get_mut(session_id) {
            s.payment_status = Some(if succeeded { "succeeded" } else { "failed" }.into());
            s.status = if succeeded { "accepted" } else { "cancelled" }.into();
        }
    }

    /// Sends the webhook the session's state calls for: `action_required`
    /// (3DS pending), `ready_to_confirm` (authorised), or `payment_finished`
    /// (declined). Returns Kasir's HTTP status.
    pub async fn advance(&self, session_id: &str) -> u16 {
        let kind = {
            let mut l = self.ledger();
            let s = l.sessions.get_mut(session_id).expect("known session");
            if s.declined {
                s.payment_status = Some("failed".into());
                s.status = "cancelled".into();
                "payment_finished"
            } else if s.needs_3ds {
                s.payment_status = Some("in_progress".into());
                "action_required"
            } else if self.shared.harsh.auto_confirm.load(std::sync::atomic::Ordering::SeqCst) {
                s.payment_status = Some("succeeded".into());
                s.status = "accepted".into();
                "payment_finished"
            } else {
                s.payment_status = Some("pending".into());
                "ready_to_confirm"
            }
        };
        self.send(kind, session_id, false).await
    }

    /// The shopper finishes 3DS; the next webhook follows.
    pub async fn complete_3ds(&self, session_id: &str, approve: bool) -> u16 {
        {
            let mut l = self.ledger();
            let s = l.sessions.get_mut(session_id).expect("known session");
            s.needs_3ds = false;
            s.declined = !approve;
        }
        self.advance(session_id).await
    }

    /// Sends a webhook of `kind` about the session; `forge` signs with a key
    /// Smart Glocal never had.
    pub async fn send(&self, kind: &str, session_id: &str, forge: bool) -> u16 {
        send_webhook(&self.shared, kind, session_id, forge).await
    }
}

fn session_json(shared: &Shared, s: &SgSession, with_interaction: bool) -> Value {
    let factor = shared.harsh.echo_factor.load(std::sync::atomic::Ordering::SeqCst).max(1);
    let amount = json!({"amount": s.amount * factor, "currency": "idr"});
    let mut payments = Vec::new();
    if let Some(status) = &s.payment_status {
        let mut p = json!({
            "id": format!("pm_{}", &s.id[3..]), "status": status, "created_at": "2026-11-24T00:00:00.000000Z",
            "customer": {"reference": s.reference}, "amount_details": amount,
            "payment_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        });
        if with_interaction {
            let _ = shared;
            p["customer_interaction"] = json!({"type": "redirect", "redirect": {
                "url": "https://acs.smartglocal.example/3ds?txn=1", "base_url": "https://acs.smartglocal.example/3ds",
                "method": "POST", "qs": {"txn": "1"}, "params": {"PaReq": "eJzVWNtyo", "MD": s.id}}});
        }
        payments.push(p);
    }
    let refunds: Vec<Value> = s
        .refunds
        .iter()
        .enumerate()
        .map(|(i, (metadata, amount, status))| {
            json!({"id": format!("rf_{}", i + 1), "status": status, "metadata": metadata,
                "amount_details": {"amount": amount * factor, "currency": "idr"}})
        })
        .collect();
    json!({"id": s.id, "status": s.status, "created_at": "2026-11-24T00:00:00.000000Z",
        "updated_at": "2026-11-24T00:00:00.000000Z", "acquiring_payments": payments, "refunds": refunds})
}

async fn send_webhook(shared: &Shared, kind: &str, session_id: &str, forge: bool) -> u16 {
    let (session, url) = {
        let l = shared.ledger.lock().expect("ledger");
        (
            l.sessions.get(session_id).cloned().expect("known session"),
            l.webhook_url.clone().expect("webhook url"),
        )
    };
    let mut body =
        json!({"type": kind, "session": session_json(shared, &session, kind == "action_required")});
    if kind == "ready_to_confirm" {
        body["session"]["next_action"] = json!("confirm");
    }
    let raw = body.to_string();
    let signature = if forge {
        common::rsa_sign_base64(&common::private_key(FORGER_KEY), raw.as_bytes())
    } else {
        common::rsa_sign_base64(&shared.sg, raw.as_bytes())
    };
    shared
        .http
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-PARTNER-SIGN", signature)
        .body(raw)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// A key Smart Glocal never issued.
const FORGER_KEY: &str = include_str!("../../fixtures/providers/platform.key.pem");

fn error(shared: &Shared, status: StatusCode, code: &str, description: &str) -> Response {
    shared.ledger.lock().expect("ledger").rejections.push(code.to_owned());
    (status, Json(json!({"status": "error", "error": {"code": code, "description": description}})))
        .into_response()
}

fn ok(shared: &Shared, s: &SgSession) -> Response {
    Json(json!({"status": "ok", "session": session_json(shared, s, false)})).into_response()
}

fn min_amount(keys: &Keys) -> u64 {
    if keys.minor_units { 1_100_000 } else { 11_000 }
}

fn check_amount(keys: &Keys, v: &Value) -> Result<u64, &'static str> {
    let a = &v["amount_details"];
    if !a["currency"].as_str().is_some_and(|c| c.eq_ignore_ascii_case("idr")) {
        return Err("amount_details.currency");
    }
    let amount = a["amount"].as_u64().ok_or("amount_details.amount")?;
    if amount < min_amount(keys) || (keys.minor_units && amount % 100 != 0) {
        return Err("amount_details.amount");
    }
    Ok(amount)
}

/// The card and sender rules; returns (number, nik, expiry).
fn check_details(v: &Value) -> Result<(String, String, (String, String)), &'static str> {
    let d = &v["payment_details"];
    if d["type"] != "card" || d["card"]["type"] != "bank_card" {
        return Err("payment_details.type");
    }
    let c = &d["card"]["bank_card"];
    let number = c["number"].as_str().ok_or("number")?;
    if !(12..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bank_card.number");
    }
    let month = c["expiration_month"].as_str().ok_or("expiration_month")?;
    let year = c["expiration_year"].as_str().ok_or("expiration_year")?;
    let m: u32 = month.parse().map_err(|_| "bank_card.expiration_month")?;
    if month.len() != 2 || !(1..=12).contains(&m) {
        return Err("bank_card.expiration_month");
    }
    if year.len() != 2 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bank_card.expiration_year");
    }
    let cvv = c["security_code"].as_str().ok_or("security_code")?;
    if !(3..=4).contains(&cvv.len()) || !cvv.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bank_card.security_code");
    }
    let s = &d["sender"];
    let name = s["full_name"].as_str().ok_or("sender.full_name")?;
    if !(3..=50).contains(&name.chars().count()) {
        return Err("sender.full_name");
    }
    let email = s["email"].as_str().ok_or("sender.email")?;
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && local.len() <= 64 && domain.contains('.') => {}
        _ => return Err("sender.email"),
    }
    let nik = s["identity_document"].as_str().ok_or("sender.identity_document")?;
    if nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()) {
        return Err("sender.identity_document");
    }
    Ok((number.to_owned(), nik.to_owned(), (month.to_owned(), year.to_owned())))
}

async fn call(
    State(shared): State<Arc<Shared>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if header("x-partner-project") != Some(shared.keys.project.as_str()) {
        return error(&shared, StatusCode::UNAUTHORIZED, PROJECT_INVALID, "unknown project");
    }
    if !header("x-partner-sign").is_some_and(|s| common::rsa_verify_base64(&shared.partner, &body, s)) {
        return error(
            &shared,
            StatusCode::UNAUTHORIZED,
            SIGNATURE_INVALID,
            "signature does not match the body",
        );
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(&shared, StatusCode::BAD_REQUEST, VALIDATION, "body is not JSON");
    };
    shared.ledger.lock().expect("ledger").calls.push(method.clone());
    match method.as_str() {
        "create" => create(&shared, &v),
        "start/payment" | "init/payment" => start(&shared, &v, method == "init/payment").await,
        "status" | "confirm" | "cancel" | "refund" => {
            let Some(id) = v["session_id"].as_str() else {
                return error(&shared, StatusCode::BAD_REQUEST, VALIDATION, "session_id required");
            };
            let found = shared.ledger.lock().expect("ledger").sessions.get(id).cloned();
            let Some(s) = found else {
                return error(&shared, StatusCode::NOT_FOUND, NOT_FOUND, "no such session");
            };
            match method.as_str() {
                "status" => {
                    let mut s = s;
                    for r in &mut s.refunds {
                        if r.2 == "in_progress" {
                            r.2 = "succeeded".into();
                        }
                    }
                    shared.ledger.lock().expect("ledger").sessions.insert(s.id.clone(), s.clone());
                    ok(&shared, &s)
                }
                "confirm" => confirm(&shared, s),
                "cancel" => cancel(&shared, s),
                _ => refund(&shared, s, &v),
            }
        }
        _ => error(&shared, StatusCode::NOT_FOUND, VALIDATION, "unknown method"),
    }
}

fn create(shared: &Shared, v: &Value) -> Response {
    let amount = match check_amount(&shared.keys, v) {
        Ok(a) => a,
        Err(field) => return error(shared, StatusCode::BAD_REQUEST, VALIDATION, &format!("{field} invalid")),
    };
    let s = SgSession {
        id: format!("ps_{}", common::random_id(12)),
        status: "created".into(),
        payment_status: None,
        amount,
        reference: v["customer"]["reference"].as_str().unwrap_or_default().to_owned(),
        needs_3ds: false,
        declined: false,
        nik: None,
        expiry: None,
        refunded: 0,
        refunds: Vec::new(),
    };
    shared.ledger.lock().expect("ledger").sessions.insert(s.id.clone(), s.clone());
    ok(shared, &s)
}

async fn start(shared: &Shared, v: &Value, init: bool) -> Response {
    let existing = v["session_id"]
        .as_str()
        .and_then(|id| shared.ledger.lock().expect("ledger").sessions.get(id).cloned());
    let mut s = match (init, existing) {
        (false, None) => return error(shared, StatusCode::NOT_FOUND, NOT_FOUND, "no such session"),
        (false, Some(s)) if s.status != "created" => {
            return error(shared, StatusCode::CONFLICT, WRONG_STATE, "session already started");
        }
        (false, Some(s)) => s,
        (true, _) => SgSession {
            id: format!("ps_{}", common::random_id(12)),
            status: "created".into(),
            payment_status: None,
            amount: 0,
            reference: String::new(),
            needs_3ds: false,
            declined: false,
            nik: None,
            expiry: None,
            refunded: 0,
            refunds: Vec::new(),
        },
    };
    if init || v.get("amount_details").is_some() {
        match check_amount(&shared.keys, v) {
            Ok(a) => s.amount = a,
            Err(field) => {
                return error(shared, StatusCode::BAD_REQUEST, VALIDATION, &format!("{field} invalid"));
            }
        }
    }
    if let Some(r) = v["customer"]["reference"].as_str() {
        s.reference = r.to_owned();
    }
    let (number, nik, expiry) = match check_details(v) {
        Ok(d) => d,
        Err(field) => return error(shared, StatusCode::BAD_REQUEST, VALIDATION, &format!("{field} invalid")),
    };
    let scenario = shared.ledger.lock().expect("ledger").scenarios.pop_front().unwrap_or(Scenario::Normal);
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
    s.status = "in_progress".into();
    s.payment_status = Some("in_progress".into());
    s.needs_3ds = number == CARD_3DS;
    s.declined = number == CARD_DECLINED;
    s.nik = Some(nik);
    s.expiry = Some(expiry);
    shared.ledger.lock().expect("ledger").sessions.insert(s.id.clone(), s.clone());
    if let Scenario::NoAnswer(delay) = scenario {
        tokio::time::sleep(delay).await;
    }
    ok(shared, &s)
}

fn confirm(shared: &Arc<Shared>, mut s: SgSession) -> Response {
    if s.payment_status.as_deref() != Some("pending") {
        return error(shared, StatusCode::CONFLICT, WRONG_STATE, "nothing to confirm");
    }
    s.payment_status = Some("in_progress".into());
    shared.ledger.lock().expect("ledger").sessions.insert(s.id.clone(), s.clone());
    // The acquirer finishes a moment later and says so by webhook.
    let (shared2, id) = (shared.clone(), s.id.clone());
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Some(s) = shared2.ledger.lock().expect("ledger").sessions.get_mut(&id) {
            s.payment_status = Some("succeeded".into());
            s.status = "accepted".into();
        }
        send_webhook(&shared2, "payment_finished", &id, false).await;
    });
    ok(shared, &s)
}

fn cancel(shared: &Shared, mut s: SgSession) -> Response {
    if matches!(s.status.as_str(), "accepted" | "cancelled") {
        return error(shared, StatusCode::CONFLICT, WRONG_STATE, "session is final");
    }
    if s.needs_3ds && shared.harsh.refuse_cancel_in_3ds.load(std::sync::atomic::Ordering::SeqCst) {
        return error(shared, StatusCode::CONFLICT, WRONG_STATE, "the customer is authenticating");
    }
    s.status = "cancelled".into();
    if s.payment_status.is_some() {
        s.payment_status = Some("failed".into());
    }
    shared.ledger.lock().expect("ledger").sessions.insert(s.id.clone(), s.clone());
    ok(shared, &s)
}

fn refund(shared: &Shared, mut s: SgSession, v: &Value) -> Response {
    if s.status != "accepted" {
        return error(shared, StatusCode::CONFLICT, WRONG_STATE, "only a paid session can be refunded");
    }
    let amount = v["amount_details"]["amount"].as_u64().unwrap_or(s.amount - s.refunded);
    if amount == 0 || s.refunded + amount > s.amount {
        return error(shared, StatusCode::BAD_REQUEST, VALIDATION, "amount_details.amount invalid");
    }
    let failing = shared.harsh.refund_error.load(std::sync::atomic::Ordering::SeqCst);
    let answer_error = || {
        let body =
            json!({"status": "error", "error": {"code": "internal_error", "description": "try later"}});
        (StatusCode::OK, Json(body)).into_response()
    };
    if failing == 2 {
        return answer_error();
    }
    s.refunded += amount;
    let slow = shared.harsh.slow_refunds.load(std::sync::atomic::Ordering::SeqCst);
    let metadata = v["metadata"].as_str().unwrap_or_default().to_owned();
    s.refunds.push((metadata, amount, if slow { "in_progress" } else { "succeeded" }.to_owned()));
    shared.ledger.lock().expect("ledger").sessions.insert(s.id.clone(), s.clone());
    if failing == 1 {
        return answer_error();
    }
    ok(shared, &s)
}
