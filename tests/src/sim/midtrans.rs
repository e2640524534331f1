//! A strict Midtrans Core API v2 simulator (GATEWAYS.md §1, §4, §6; the
//! digest in `docs/providers/midtrans.md`). Where the documents are silent
//! it takes the harshest reading (`shared/providers/README.md`): every such
//! choice is listed below under "Harshest readings".
//!
//! # Routes
//!
//! - `GET /v2/token?client_key=&card_number=&card_exp_month=&card_exp_year=&card_cvv=`:
//!   the client key as a query parameter and no `Authorization` header.
//!   Checks Luhn, a `MM` month and `YYYY` year not in the past (Jakarta), a
//!   3-digit CVV. Answers `{status_code:"200", token_id:"<BIN8>-<last4>-<uuid>", hash}`.
//!   Card data is never recorded: only BIN8, last 4 and the sandbox outcome
//!   per token; no query string is logged or kept.
//! - `POST /v2/charge`: Basic `base64(server_key + ":")`, `Content-Type:
//!   application/json`, `Idempotency-Key` ≤ 46, `X-Override-Notification` /
//!   `X-Append-Notification` ≤ 3 comma-separated http(s) URLs. Methods
//!   `credit_card`, `bank_transfer` (bca, bni, bri, cimb, permata), `permata`,
//!   `echannel`, `qris`, `gopay`, `shopeepay`, `cstore` (GATEWAYS §1.3), with
//!   `custom_expiry`, `item_details`, `customer_details`.
//! - `GET /v2/{order_id|transaction_id}/status`: the transaction as a
//!   notification carries it, `signature_key` included; `"404"` "Transaction
//!   doesn't exist."; `"407"` + `expire` for an expired one; `refund_amount`
//!   and `refunds[]` after refunds.
//! - `POST /v2/{id}/cancel` (`"200"`, `cancel`), `/expire` (`"407"`, `expire`),
//!   `/refund` and `/refund/online/direct` (`{refund_key?, amount?, reason?}`),
//!   `/approve`, `/deny` (only for `fraud_status: challenge`).
//! - `GET /v2/3ds/redirect/{token}`: the issuer's 3DS page, two forms posting
//!   back to the same path (`result=approve` with `otp=112233`, or
//!   `result=deny`); the outcome is sent by notification only.
//! - `GET /deeplink/{transaction_id}` (+ `POST`): the GoPay/ShopeePay app
//!   stand-in; posting pays.
//! - `GET /v2/qris/{trx}/qr-code`, `/v4/qris/{trx}/qr-code`,
//!   `/v2/gopay/{trx}/qr-code`: a PNG (a fixed 1×1 image, not a scannable QR).
//!
//! # Sandbox cards (GATEWAYS §1.6; CVV `123`, OTP `112233`)
//!
//! [`CARD_3DS`] and [`CARD_3DS2_CHALLENGE`]: pending `"201"` + `redirect_url`,
//! `three_ds_version "2"`. [`CARD_FRICTIONLESS`], [`CARD_MC_ACCEPT`],
//! [`CARD_ATTEMPTED_3DS`]: synchronous `capture` + `accept` (`"200"`).
//! [`CARD_BANK_DENY`], [`CARD_BANK_DENY_2`], [`CARD_MC_DENY`]: synchronous
//! `deny` (`"202"`). [`CARD_FDS_DENY`]: `deny` with `fraud_status: deny`.
//! [`CARD_RC51`]: `deny`, `channel_response_code "51"`. [`CARD_DELAYED`]:
//! pending (no `redirect_url`), `capture` + `accept` after
//! [`MidtransSim::set_delayed_card_after`] (default 60 s).
//!
//! # Control API (tests)
//!
//! Start and scripting: [`MidtransSim::start`], [`MidtransSim::push_scenario`]
//! (`NoAnswer(d)`: record, answer after `d`, `"404"` on status and on every
//! modification meanwhile; `ServerError`: HTTP 500, nothing recorded;
//! `Malformed`: record, answer 200 with a body that is not JSON;
//! `Trickle`/`Swallow` are Smilepayz-only and answer 501),
//! [`MidtransSim::scenarios_left`], [`MidtransSim::notify_before_answer`],
//! [`MidtransSim::fraud_challenge_next_charge`], [`MidtransSim::error_style`].
//!
//! Modes: [`MidtransSim::omit_qr_string`], [`MidtransSim::qr_amount_after_62`],
//! [`MidtransSim::omit_expiry_time`], [`MidtransSim::expire_earlier_by`],
//! [`MidtransSim::set_refunds_pending`], [`MidtransSim::auto_notify`],
//! [`MidtransSim::set_delayed_card_after`], [`MidtransSim::set_afi_fee`].
//!
//! Notifications: [`MidtransSim::deliver_notifications_to`],
//! [`MidtransSim::set_retry_schedule`], [`MidtransSim::set_time_scale`],
//! [`MidtransSim::set_receiver_timeout`], [`MidtransSim::send_notification`],
//! [`MidtransSim::send_notification_with`], [`MidtransSim::sign`],
//! [`MidtransSim::notifications`].
//!
//! Payer and back-office events (each sends a notification, returns Kasir's
//! first answer): [`MidtransSim::pay`], [`MidtransSim::complete_3ds`],
//! [`MidtransSim::challenge`], [`MidtransSim::reverse`],
//! [`MidtransSim::expire_now`],
//! [`MidtransSim::send_pending_then_settlement_out_of_order`],
//! [`MidtransSim::finish_pending_refunds`]; without a notification:
//! [`MidtransSim::set_status`].
//!
//! Records: [`MidtransSim::transaction`], [`MidtransSim::transactions`],
//! [`MidtransSim::charges_received`], [`MidtransSim::status_calls`],
//! [`MidtransSim::refund_calls`], [`MidtransSim::token_calls`],
//! [`MidtransSim::tokens_issued`], [`MidtransSim::rejections`].
//!
//! # Notifications
//!
//! `POST` with `Content-Type: application/json`, `Accept: application/json`,
//! `User-Agent: Veritrans` and nothing else; `signature_key` = lower hex
//! SHA-512 of `order_id + status_code + gross_amount + server_key` over the
//! strings as sent. Sent to the first `X-Override-Notification` URL of the
//! charge, else to [`MidtransSim::deliver_notifications_to`]. Retries by
//! Kasir's answer (GATEWAYS §1.4): 2xx none, 500 one, 503 four, 400/404
//! two, 301–303 none, 307/308 followed (≤ 5 hops, same POST), anything else
//! (a timeout or refused connection too) five. Receiver timeout 15 s.
//!
//! # Harshest readings (the documents are silent; the simulator hurts)
//!
//! - Token: any `Authorization` header is refused (`"401"`): a server key
//!   leaking to the token endpoint must fail a test. The month must be two
//!   digits, the year four (a 2-digit year is refused), the CVV exactly three
//!   digits. A repeated query parameter is refused. Non-sandbox Luhn-valid
//!   cards need the full 3DS (like `4811…`). Token lifetime is not modelled.
//! - Tokens are single use and bound to the amount of the first charge that
//!   presents them (even one answered with `ServerError`, which consumes
//!   nothing); an unknown, used or other-amount token is `"400"`.
//! - `credit_card.authentication` must be `true` (the simulated merchant
//!   requires 3DS). `custom_expiry` on a card is `"400"`.
//! - A duplicate `order_id` is `"406"` whatever became of the first charge
//!   (denied, failed, still processing).
//! - `item_details`: each item needs an integer `price` (negative allowed,
//!   for discounts), an integer `quantity` ≥ 1 and a `name` of 1–50
//!   characters; a longer name is refused, not truncated.
//! - `custom_expiry` needs all three fields; `order_time` must end in exactly
//!   `+0700`; `unit` is singular and exact; an expiry already past gives a
//!   transaction that is born expired.
//! - `bank_transfer.bank`, `qris.acquirer`, `cstore.store` (any case for the
//!   store) are checked exactly. `qris.acquirer` is required, as are the
//!   `qris`, `gopay` and `shopeepay` objects and `shopeepay.callback_url`.
//! - A custom `va_number` is trimmed to the bank's length keeping its leading
//!   digits, zero-padded on the left, and replaced by a random one when in
//!   use; the answer's number is what counts. Permata's custom number must be
//!   exactly 10 digits.
//! - Every non-error answer is HTTP 200, whatever its `status_code` (`"201"`,
//!   `"202"`); errors alternate (see [`ErrorStyle`]) between the proper HTTP
//!   status and HTTP 200, and so do `"407"` answers.
//! - `Idempotency-Key`: global across POST endpoints for 5 minutes; a repeat
//!   replays the first answer whatever its body or endpoint; while the first
//!   is still being processed, HTTP 202 with no `status_code`; 5xx answers
//!   are not kept; ignored for Permata and Indomaret (GATEWAYS §1.1).
//! - `X-Append-Notification` is checked (≤ 3 URLs) but nothing is sent there.
//! - GET status carries no `actions`, no `qr_string`, no `redirect_url`.
//! - Refunds: VA, `echannel` and `cstore` are `"412"`; only `settlement`,
//!   `capture`+`accept` and `partial_refund` can be refunded; a `refund_key`
//!   already used by a successful refund (of any transaction) is `"406"`;
//!   an amount above what is left, counting refunds still pending, or below
//!   1 is `"414"`; a refund without a key gets one of the simulator's.
//! - Pending refunds ([`MidtransSim::set_refunds_pending`]): the answer
//!   claims success (`"200"`, `refund`/`partial_refund`), but GET status shows
//!   neither the refund nor the new status until
//!   [`MidtransSim::finish_pending_refunds`].
//! - cancel: only `pending` or `capture`+`challenge`; expire: only `pending`;
//!   anything else `"412"`. After either, [`MidtransSim::pay`] still pays
//!   (a QR paid after it was cancelled): `pay` ignores the current status.
//! - QRIS settlement with the GoPay acquirer comes from another app (issuer
//!   `dana`, `transaction_type: off-us`).
//! - Retries: the count is fixed by Kasir's first answer; the default gaps
//!   are 200 ms doubling ([`MidtransSim::set_time_scale`] gives the
//!   documented 2/10/30/90/210-minute shape, scaled).
//! - AFI: the fee is added to `gross_amount` (signed so) and the original
//!   sits in `metadata.extra_info.gross_amount_info` (its exact shape is not
//!   documented; the simulator's own).
//! - The 3DS page denies on a wrong OTP.
//! - Notifications about changes the simulator makes by itself (expiry
//!   timers, the delayed card, cancel/expire/refund/approve/deny calls, the
//!   pending charge) are off by default, so that a test sees only the
//!   notifications it asked for; [`MidtransSim::auto_notify`] turns them on.
//!
//! # Not modelled
//!
//! OVO, DANA, Snap, `/v2/capture` (pre-auth), BCA `sub_company_code`, token
//! lifetime, TLS ≤ 1.2 and source IPs, per-wallet refund windows, the
//! browser return after 3DS (`callback_type`), installments on debit cards,
//! chargebacks, a scannable QR image.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use sha2::Digest;

use super::common::{self, Scenario};

/// Full 3DS, accepted (GATEWAYS §1.6).
pub const CARD_3DS: &str = "4811111111111114";
/// Denied by the bank.
pub const CARD_BANK_DENY: &str = "4911111111111113";
/// Denied by the bank.
pub const CARD_BANK_DENY_2: &str = "4711111111111115";
/// Mastercard, denied.
pub const CARD_MC_DENY: &str = "5111111111111118";
/// Denied by fraud detection.
pub const CARD_FDS_DENY: &str = "4611111111111116";
/// 3DS2 frictionless, accepted synchronously.
pub const CARD_FRICTIONLESS: &str = "4556557955726624";
/// Mastercard, accepted synchronously.
pub const CARD_MC_ACCEPT: &str = "5211111111111117";
/// Attempted 3DS, accepted synchronously.
pub const CARD_ATTEMPTED_3DS: &str = "4411111111111118";
/// 3DS2 challenge, accepted after the page.
pub const CARD_3DS2_CHALLENGE: &str = "4916994064252017";
/// Pending, accepted after a delay (60 s by default).
pub const CARD_DELAYED: &str = "4024007176265022";
/// Insufficient funds (RC 51).
pub const CARD_RC51: &str = "4472429869996670";
/// The sandbox CVV.
pub const SANDBOX_CVV: &str = "123";
/// The sandbox 3DS one-time password.
pub const SANDBOX_OTP: &str = "112233";
/// The Mandiri bill company code.
pub const BILLER_CODE: &str = "70012";
/// The merchant id in answers.
pub const MERCHANT_ID: &str = "G000000001";

/// How errors travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorStyle {
    /// The first error with its proper HTTP status, the next with HTTP 200,
    /// and so on (GATEWAYS §1.1: "sometimes with HTTP 200").
    #[default]
    Alternate,
    /// Always the proper HTTP status.
    HttpStatus,
    /// Always HTTP 200 with the error in the body's `status_code`.
    Http200,
}

/// How a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationMode {
    /// As Midtrans sends it.
    Normal,
    /// Signed with a server key that is not the merchant's.
    Forged,
    /// `gross_amount` as a JSON number (`150000.0`); signed over `"150000.00"`.
    AmountAsNumber,
    /// Sent twice, identically (each with its own retries).
    Duplicate,
    /// Automatic Fee Imposition: `gross_amount` includes a fee, signed so.
    Afi,
}

/// One refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// Kasir's key, or the simulator's when none was sent.
    pub refund_key: String,
    /// Whole rupiah.
    pub amount: i64,
    /// As sent.
    pub reason: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// The simulator's id.
    pub refund_chargeback_id: u64,
}

/// One notification attempt and what Kasir answered.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The order.
    pub order_id: String,
    /// Where it went (after redirects).
    pub url: String,
    /// 0 for the first attempt, then 1… for retries.
    pub attempt: u32,
    /// How it was sent.
    pub mode: NotificationMode,
    /// `transaction_status` in the body.
    pub transaction_status: String,
    /// `status_code` in the body.
    pub status_code: String,
    /// The body sent.
    pub body: String,
    /// Kasir's HTTP status; 0 when it did not answer (or no URL was known).
    pub http_status: u16,
    /// Kasir's body, or the transport error.
    pub answer: String,
    /// 307/308 hops followed.
    pub redirects: u32,
    /// When the attempt finished.
    pub at: Instant,
}

/// One card token (no card data: BIN8 and last 4 only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// `<BIN8>-<last4>-<uuid>`.
    pub token_id: String,
    /// First 8 digits.
    pub bin8: String,
    /// Last 4 digits.
    pub last4: String,
    /// The amount of the first charge that presented it.
    pub bound_amount: Option<i64>,
    /// A charge took it.
    pub used: bool,
}

/// A transaction in the simulator's ledger.
#[derive(Debug, Clone, Default)]
pub struct Transaction {
    /// Kasir's order id.
    pub order_id: String,
    /// The simulator's uuid.
    pub transaction_id: String,
    /// As answered (`bank_transfer` for both Permata forms).
    pub payment_type: String,
    /// As requested (`permata` for the Permata sample form).
    pub requested_payment_type: String,
    /// Whole rupiah.
    pub gross_amount: i64,
    /// `pending`, `capture`, `settlement`, `deny`, `cancel`, `expire`,
    /// `refund`, `partial_refund`.
    pub status: String,
    /// `accept`, `challenge`, `deny`; none for cstore.
    pub fraud_status: Option<String>,
    /// VA bank, or the card's bank.
    pub bank: Option<String>,
    /// VA number (also Permata's).
    pub va_number: Option<String>,
    /// Mandiri bill company code.
    pub biller_code: Option<String>,
    /// Mandiri bill key.
    pub bill_key: Option<String>,
    /// Convenience-store payment code.
    pub payment_code: Option<String>,
    /// `indomaret` or `alfamart`.
    pub store: Option<String>,
    /// QRIS acquirer.
    pub acquirer: Option<String>,
    /// QRIS issuer after payment.
    pub issuer: Option<String>,
    /// `on-us` / `off-us` after a QRIS payment.
    pub transaction_type: Option<String>,
    /// The QRIS payload (kept even when the answer omitted it).
    pub qr_string: Option<String>,
    /// The 3DS page.
    pub redirect_url: Option<String>,
    /// Finished refunds, in rupiah.
    pub refunded: i64,
    /// Finished refunds.
    pub refunds: Vec<Refund>,
    /// Refunds accepted but not yet finished.
    pub pending_refunds: Vec<Refund>,
    /// Installment months.
    pub installment_term: Option<u32>,
    /// Card BIN (8 digits).
    pub card_bin8: Option<String>,
    /// Card last 4.
    pub card_last4: Option<String>,
    /// Went through 3DS.
    pub three_ds: bool,
    /// Card channel answer.
    pub channel_response_code: Option<String>,
    /// Card channel message.
    pub channel_response_message: Option<String>,
    /// Card approval code.
    pub approval_code: Option<String>,
    /// Unix seconds.
    pub transaction_time: i64,
    /// Unix seconds.
    pub settlement_time: Option<i64>,
    /// When it expires (unix milliseconds).
    pub expiry_ms: Option<i64>,
    /// The first `X-Override-Notification` URL.
    pub notification_url: Option<String>,
    /// GoPay/ShopeePay `callback_url`.
    pub callback_url: Option<String>,
    /// The `Idempotency-Key` the charge came with.
    pub idempotency_key: Option<String>,
    processing: bool,
    three_ds_token: Option<String>,
    capture_at: Option<Instant>,
    challenge_on_capture: bool,
    timed_change_unsent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CardKind {
    ThreeDs,
    Frictionless,
    BankDeny,
    FdsDeny,
    InsufficientFunds,
    Delayed,
}

#[derive(Debug, Clone)]
struct CardToken {
    issued: IssuedToken,
    kind: CardKind,
}

#[derive(Debug, Clone)]
struct Reply {
    status: StatusCode,
    body: String,
    content_type: &'static str,
}

impl Reply {
    fn json(status: StatusCode, v: &Value) -> Reply {
        Reply { status, body: v.to_string(), content_type: "application/json" }
    }
    fn text(status: StatusCode, s: &str) -> Reply {
        Reply { status, body: s.to_owned(), content_type: "text/plain; charset=utf-8" }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        (self.status, [(header::CONTENT_TYPE, self.content_type)], self.body).into_response()
    }
}

#[derive(Debug)]
struct Ledger {
    txs: HashMap<String, Transaction>,
    tokens: HashMap<String, CardToken>,
    used_refund_keys: HashSet<String>,
    idempotency: HashMap<String, (Instant, Option<Reply>)>,
    scenarios: VecDeque<Scenario>,
    rejections: Vec<String>,
    deliveries: Vec<Delivery>,
    refund_calls: Vec<(String, Option<i64>, Option<String>)>,
    charges_received: usize,
    status_calls: usize,
    failing_status_calls: usize,
    failing_voids: usize,
    token_calls: usize,
    error_style: ErrorStyle,
    styled_answers: usize,
    omit_qr_string: bool,
    omit_expiry_time: bool,
    qr_amount_after_62: bool,
    refunds_pending: bool,
    /// Every `refund_amount` echoed multiplied by this (0: 1).
    refund_echo_factor: i64,
    notify_before_answer: bool,
    auto_notify: bool,
    challenge_next: bool,
    notification_url: Option<String>,
    reroute: Option<(String, String)>,
    refund_answer_hold: Option<Duration>,
    retry_schedule: Vec<Duration>,
    receiver_timeout: Duration,
    delayed_card_after: Duration,
    afi_fee: i64,
    expire_earlier_by: Duration,
    refund_seq: u64,
}

impl Default for Ledger {
    fn default() -> Ledger {
        Ledger {
            txs: HashMap::new(),
            tokens: HashMap::new(),
            used_refund_keys: HashSet::new(),
            idempotency: HashMap::new(),
            scenarios: VecDeque::new(),
            rejections: Vec::new(),
            deliveries: Vec::new(),
            refund_calls: Vec::new(),
            charges_received: 0,
            status_calls: 0,
            failing_status_calls: 0,
            failing_voids: 0,
            token_calls: 0,
            error_style: ErrorStyle::Alternate,
            styled_answers: 0,
            omit_qr_string: false,
            omit_expiry_time: false,
            qr_amount_after_62: false,
            refunds_pending: false,
            refund_echo_factor: 0,
            notify_before_answer: false,
            auto_notify: false,
            challenge_next: false,
            notification_url: None,
            reroute: None,
            refund_answer_hold: None,
            retry_schedule: (0..5).map(|n| Duration::from_millis(200 << n)).collect(),
            receiver_timeout: Duration::from_secs(15),
            delayed_card_after: Duration::from_secs(60),
            afi_fee: 4_000,
            expire_earlier_by: Duration::ZERO,
            refund_seq: 0,
        }
    }
}

impl Ledger {
    /// By order id or transaction id, with timed changes applied.
    fn find_mut(&mut self, id: &str) -> Option<&mut Transaction> {
        find_in(&mut self.txs, id)
    }
}

fn find_in<'a>(txs: &'a mut HashMap<String, Transaction>, id: &str) -> Option<&'a mut Transaction> {
    let key = if txs.contains_key(id) {
        id.to_owned()
    } else {
        txs.values().find(|t| t.transaction_id == id)?.order_id.clone()
    };
    let t = txs.get_mut(&key)?;
    tick(t);
    Some(t)
}

#[derive(Debug)]
struct Shared {
    server_key: String,
    client_key: String,
    base: OnceLock<String>,
    ledger: Mutex<Ledger>,
    http: reqwest::Client,
}

impl Shared {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().expect("ledger")
    }
    fn base(&self) -> String {
        self.base.get().cloned().unwrap_or_default()
    }
}

/// A running simulator.
#[derive(Debug, Clone)]
pub struct MidtransSim {
    /// Base URL (`http://127.0.0.1:port`), the Core API host.
    pub url: String,
    shared: Arc<Shared>,
}

impl MidtransSim {
    /// Starts the simulator for these keys.
    pub async fn start(server_key: &str, client_key: &str) -> MidtransSim {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let shared = Arc::new(Shared {
            server_key: server_key.to_owned(),
            client_key: client_key.to_owned(),
            base: OnceLock::new(),
            ledger: Mutex::new(Ledger::default()),
            http,
        });
        let app = axum::Router::new()
            .route("/v2/token", get(token))
            .route("/v2/charge", post(charge))
            .route("/v2/{id}/{action}", get(status).post(modify))
            .route("/v2/{id}/refund/online/direct", post(direct_refund))
            .route("/v2/3ds/redirect/{token}", get(three_ds_page).post(three_ds_submit))
            .route("/v2/qris/{trx}/qr-code", get(qr_image))
            .route("/v4/qris/{trx}/qr-code", get(qr_image))
            .route("/v2/gopay/{trx}/qr-code", get(qr_image))
            .route("/deeplink/{trx}", get(deeplink_page).post(deeplink_submit))
            .with_state(shared.clone());
        let url = common::serve(app).await;
        let _ = shared.base.set(url.clone());
        MidtransSim { url, shared }
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.shared.ledger()
    }

    // ----- scripting -----

    /// What the next charge does.
    pub fn push_scenario(&self, scenario: Scenario) {
        self.ledger().scenarios.push_back(scenario);
    }
    /// How many pushed scenarios no charge has taken yet.
    pub fn scenarios_left(&self) -> usize {
        self.ledger().scenarios.len()
    }
    /// Send each charge's notification (its state at creation) before
    /// answering the charge, until turned off.
    pub fn notify_before_answer(&self, on: bool) {
        self.ledger().notify_before_answer = on;
    }
    /// The next card charge captures with `fraud_status: challenge`
    /// (`"201"`), at once or after 3DS.
    pub fn fraud_challenge_next_charge(&self) {
        self.ledger().challenge_next = true;
    }
    /// How errors travel (default [`ErrorStyle::Alternate`]).
    pub fn error_style(&self, style: ErrorStyle) {
        let mut l = self.ledger();
        l.error_style = style;
        l.styled_answers = 0;
    }

    // ----- modes -----

    /// Leave `qr_string` out of QRIS/GoPay answers (the doc sample has none).
    pub fn omit_qr_string(&self, on: bool) {
        self.ledger().omit_qr_string = on;
    }
    /// Put tags 53/54 after 62 in QRIS payloads.
    pub fn qr_amount_after_62(&self, on: bool) {
        self.ledger().qr_amount_after_62 = on;
    }
    /// Leave `expiry_time` out of answers, status and notifications.
    pub fn omit_expiry_time(&self, on: bool) {
        self.ledger().omit_expiry_time = on;
    }
    /// Expire each new transaction this much earlier than it asked.
    pub fn expire_earlier_by(&self, by: Duration) {
        self.ledger().expire_earlier_by = by;
    }
    /// Refunds stay pending (absent from status) until
    /// [`MidtransSim::finish_pending_refunds`].
    pub fn set_refunds_pending(&self, on: bool) {
        self.ledger().refunds_pending = on;
    }
    /// Echo every `refund_amount` (the refund answer's and the status
    /// listing's) multiplied by `factor`: another unit than asked.
    pub fn echo_refund_amounts_times(&self, factor: i64) {
        self.ledger().refund_echo_factor = factor;
    }
    /// Notify about changes the simulator makes by itself (expiry, the
    /// delayed card, API cancel/expire/refund/approve/deny, new pending
    /// charges), as Midtrans does. Off by default.
    pub fn auto_notify(&self, on: bool) {
        self.ledger().auto_notify = on;
    }
    /// When [`CARD_DELAYED`] captures (default 60 s).
    pub fn set_delayed_card_after(&self, after: Duration) {
        self.ledger().delayed_card_after = after;
    }
    /// The fee [`NotificationMode::Afi`] adds (default 4,000).
    pub fn set_afi_fee(&self, fee: i64) {
        self.ledger().afi_fee = fee;
    }

    // ----- notifications -----

    /// Where notifications go when the charge had no `X-Override-Notification`
    /// (the dashboard's notification URL).
    pub fn deliver_notifications_to(&self, url: &str) {
        self.ledger().notification_url = Some(url.to_owned());
    }
    /// The next refund is made, but its answer comes only after `hold`
    /// (longer than the caller's timeout: the caller never learns it).
    pub fn hold_next_refund_answer(&self, hold: Duration) {
        self.ledger().refund_answer_hold = Some(hold);
    }
    /// The network's view of a host: notifications for URLs starting with
    /// `from` (Kasir's public URL in tests, not routable) go to the same
    /// path under `to`. The `X-Override-Notification` Kasir sent still
    /// decides the path.
    pub fn reroute(&self, from: &str, to: &str) {
        self.ledger().reroute =
            Some((from.trim_end_matches('/').to_owned(), to.trim_end_matches('/').to_owned()));
    }
    /// Gaps before each retry (the last one repeats).
    pub fn set_retry_schedule(&self, gaps: Vec<Duration>) {
        self.ledger().retry_schedule = gaps;
    }
    /// The documented retry shape (about 2, 10, 30, 90, 210 minutes after
    /// the first attempt) multiplied by `scale` (1/600 gives 200 ms … 21 s).
    pub fn set_time_scale(&self, scale: f64) {
        let gaps = [2.0_f64, 8.0, 20.0, 60.0, 120.0]
            .iter()
            .map(|m| Duration::from_secs_f64((m * 60.0 * scale).max(0.0)))
            .collect();
        self.set_retry_schedule(gaps);
    }
    /// How long Kasir has to answer a notification (default 15 s).
    pub fn set_receiver_timeout(&self, timeout: Duration) {
        self.ledger().receiver_timeout = timeout;
    }
    /// Sends the order's current state; returns Kasir's first answer
    /// (status 0 and the error when it did not answer). Retries follow in
    /// the background.
    pub async fn send_notification(&self, order_id: &str, mode: NotificationMode) -> (u16, String) {
        self.send_notification_with(order_id, mode, Value::Null).await
    }
    /// Like [`MidtransSim::send_notification`], with `overrides` (a JSON
    /// object) merged into the body before it is signed (a `signature_key`
    /// among them replaces the computed one).
    pub async fn send_notification_with(
        &self,
        order_id: &str,
        mode: NotificationMode,
        overrides: Value,
    ) -> (u16, String) {
        let snapshot = self.ledger().find_mut(order_id).cloned().expect("known order");
        deliver_snapshot(&self.shared, &snapshot, mode, &overrides).await
    }
    /// `signature_key` for these strings with the merchant's server key.
    pub fn sign(&self, order_id: &str, status_code: &str, gross_amount: &str) -> String {
        signature_key(order_id, status_code, gross_amount, &self.shared.server_key)
    }
    /// Every notification attempt so far.
    pub fn notifications(&self) -> Vec<Delivery> {
        self.ledger().deliveries.clone()
    }

    // ----- payer and back-office events -----

    async fn change(&self, order_id: &str, f: impl FnOnce(&mut Transaction)) -> (u16, String) {
        let snapshot = {
            let mut l = self.ledger();
            let t = l.find_mut(order_id).expect("known order");
            f(t);
            t.clone()
        };
        deliver_snapshot(&self.shared, &snapshot, NotificationMode::Normal, &Value::Null).await
    }

    /// The payer pays, whatever the status (even expired or cancelled):
    /// `settlement` (a card: `capture`); the notification is sent.
    pub async fn pay(&self, order_id: &str) -> (u16, String) {
        self.change(order_id, settle).await
    }
    /// The payer finishes 3DS: `capture` + `accept` (or `challenge` after
    /// [`MidtransSim::fraud_challenge_next_charge`]), or `deny`.
    pub async fn complete_3ds(&self, order_id: &str, approve: bool) -> (u16, String) {
        self.change(order_id, |t| finish_3ds(t, approve)).await
    }
    /// Fraud detection challenges the card: `capture` + `challenge` (`"201"`).
    pub async fn challenge(&self, order_id: &str) -> (u16, String) {
        self.change(order_id, |t| {
            t.challenge_on_capture = true;
            capture(t);
        })
        .await
    }
    /// A settled payment is reversed (Indomaret, GATEWAYS §1.3): `deny`.
    pub async fn reverse(&self, order_id: &str) -> (u16, String) {
        self.change(order_id, |t| {
            t.status = "deny".into();
            if t.fraud_status.is_some() {
                t.fraud_status = Some("accept".into());
            }
        })
        .await
    }
    /// A pending transaction expires now (`expire`, `"202"` in the
    /// notification); another status is sent as it is.
    pub async fn expire_now(&self, order_id: &str) -> (u16, String) {
        self.change(order_id, |t| {
            if t.status == "pending" {
                t.status = "expire".into();
            }
        })
        .await
    }
    /// Pays, sends the `settlement` notification, then a `pending` one (the
    /// older state) after it; returns both answers.
    pub async fn send_pending_then_settlement_out_of_order(&self, order_id: &str) -> Vec<(u16, String)> {
        let (before, after) = {
            let mut l = self.ledger();
            let t = l.find_mut(order_id).expect("known order");
            let mut before = t.clone();
            before.status = "pending".into();
            before.settlement_time = None;
            settle(t);
            (before, t.clone())
        };
        let first = deliver_snapshot(&self.shared, &after, NotificationMode::Normal, &Value::Null).await;
        let second = deliver_snapshot(&self.shared, &before, NotificationMode::Normal, &Value::Null).await;
        vec![first, second]
    }
    /// Finishes every pending refund (each sends a notification); returns
    /// Kasir's answers.
    pub async fn finish_pending_refunds(&self) -> Vec<(u16, String)> {
        let snapshots: Vec<Transaction> = {
            let mut l = self.ledger();
            l.txs
                .values_mut()
                .filter(|t| !t.pending_refunds.is_empty())
                .map(|t| {
                    for r in std::mem::take(&mut t.pending_refunds) {
                        apply_refund(t, r);
                    }
                    t.clone()
                })
                .collect()
        };
        let mut answers = Vec::new();
        for t in snapshots {
            answers.push(deliver_snapshot(&self.shared, &t, NotificationMode::Normal, &Value::Null).await);
        }
        answers
    }
    /// Sets the status (and fraud status) without a notification.
    pub fn set_status(&self, order_id: &str, transaction_status: &str, fraud_status: Option<&str>) {
        let mut l = self.ledger();
        let t = l.find_mut(order_id).expect("known order");
        t.status = transaction_status.to_owned();
        if t.payment_type != "cstore" {
            t.fraud_status = fraud_status.map(str::to_owned);
        }
        if transaction_status == "settlement" && t.settlement_time.is_none() {
            t.settlement_time = Some(common::now_secs());
        }
    }

    // ----- records -----

    /// The transaction by order id or transaction id.
    pub fn transaction(&self, id: &str) -> Option<Transaction> {
        self.ledger().find_mut(id).cloned()
    }
    /// Every transaction, oldest first.
    pub fn transactions(&self) -> Vec<Transaction> {
        let mut l = self.ledger();
        let ids: Vec<String> = l.txs.keys().cloned().collect();
        let mut all: Vec<Transaction> = ids.iter().filter_map(|id| l.find_mut(id).cloned()).collect();
        all.sort_by(|a, b| (a.transaction_time, &a.order_id).cmp(&(b.transaction_time, &b.order_id)));
        all
    }
    /// `POST /v2/charge` requests received (refused ones too).
    pub fn charges_received(&self) -> usize {
        self.ledger().charges_received
    }
    /// The next `n` status inquiries answer HTTP 503 (Midtrans down while
    /// the money has moved).
    pub fn fail_status_calls(&self, n: usize) {
        self.ledger().failing_status_calls = n;
    }

    /// The next `n` cancel or expire calls answer HTTP 200 with
    /// `status_code` "500" in the body (GATEWAYS §1.1: errors "sometimes
    /// with HTTP 200") and change nothing: the code stays payable.
    pub fn fail_voids(&self, n: usize) {
        self.ledger().failing_voids = n;
    }

    /// `GET /v2/{id}/status` requests received.
    pub fn status_calls(&self) -> usize {
        self.ledger().status_calls
    }
    /// Authorised refund calls: the path id, `amount` and `refund_key` sent.
    pub fn refund_calls(&self) -> Vec<(String, Option<i64>, Option<String>)> {
        self.ledger().refund_calls.clone()
    }
    /// `GET /v2/token` requests received.
    pub fn token_calls(&self) -> usize {
        self.ledger().token_calls
    }
    /// Every token issued (BIN8 and last 4 only).
    pub fn tokens_issued(&self) -> Vec<IssuedToken> {
        self.ledger().tokens.values().map(|t| t.issued.clone()).collect()
    }
    /// Every request refused: `"<endpoint> <status_code>: <reason>"`.
    pub fn rejections(&self) -> Vec<String> {
        self.ledger().rejections.clone()
    }
}

// ----- small helpers -----

/// Lower hex SHA-512 of `order_id + status_code + gross_amount + server_key`.
pub fn signature_key(order_id: &str, status_code: &str, gross_amount: &str, server_key: &str) -> String {
    let digest =
        sha2::Sha512::digest(format!("{order_id}{status_code}{gross_amount}{server_key}").as_bytes());
    common::hex(&digest)
}

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection).
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// Whether `digits` passes the Luhn check.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("OS randomness");
    b
}

fn uuid() -> String {
    let mut b: [u8; 16] = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = common::hex(&b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn random_digits(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("OS randomness");
    bytes.iter().map(|b| char::from(b'0' + b % 10)).collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `"N.00"`.
fn money(n: i64) -> String {
    format!("{n}.00")
}

/// The whole rupiah of a `money` string (`"5000.00"` → 5000).
fn whole(text: &str) -> i64 {
    text.split('.').next().and_then(|w| w.parse().ok()).unwrap_or(0)
}

/// `YYYY-MM-DD HH:MM:SS` in WIB (GMT+7).
fn wib(secs: i64) -> String {
    let local = secs + 7 * 3600;
    let (y, m, d) = common::civil(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// Unix seconds of `YYYY-MM-DD HH:MM:SS +0700`, strictly.
fn parse_order_time(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() != 25 || b[10] != b' ' || b[19] != b' ' || &t[20..] != "+0700" {
        return None;
    }
    common::parse_timestamp(&format!("{}T{}+07:00", &t[..10], &t[11..19]))
}

/// `a=b&c=d` with percent-decoding; `None` when malformed or a name repeats.
fn parse_form(q: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if out.insert(percent_decode(k)?, percent_decode(v)?).is_some() {
            return None;
        }
    }
    Some(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn http_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && s.len() > 8 && !s.contains(char::is_whitespace)
}

fn card_kind(pan: &str) -> CardKind {
    match pan {
        CARD_FRICTIONLESS | CARD_MC_ACCEPT | CARD_ATTEMPTED_3DS => CardKind::Frictionless,
        CARD_BANK_DENY | CARD_BANK_DENY_2 | CARD_MC_DENY => CardKind::BankDeny,
        CARD_FDS_DENY => CardKind::FdsDeny,
        CARD_RC51 => CardKind::InsufficientFunds,
        CARD_DELAYED => CardKind::Delayed,
        // CARD_3DS, CARD_3DS2_CHALLENGE, and (harshest) any other card.
        _ => CardKind::ThreeDs,
    }
}

// ----- state changes -----

/// Applies changes that were due (the delayed card, expiry).
fn tick(t: &mut Transaction) -> bool {
    if t.status != "pending" {
        return false;
    }
    if let Some(at) = t.capture_at
        && Instant::now() >= at
    {
        t.capture_at = None;
        capture(t);
        t.timed_change_unsent = true;
        return true;
    }
    if let Some(e) = t.expiry_ms
        && now_ms() >= e
    {
        t.status = "expire".into();
        t.timed_change_unsent = true;
        return true;
    }
    false
}

fn capture(t: &mut Transaction) {
    t.status = "capture".into();
    t.fraud_status = Some(if t.challenge_on_capture { "challenge" } else { "accept" }.into());
    t.approval_code = Some(random_digits(6));
    t.channel_response_code = Some("00".into());
    t.channel_response_message = Some("Approved".into());
    t.capture_at = None;
}

fn finish_3ds(t: &mut Transaction, approve: bool) {
    if approve {
        capture(t);
    } else {
        t.status = "deny".into();
        t.fraud_status = Some("accept".into());
        t.channel_response_code = Some("05".into());
        t.channel_response_message = Some("3DS authentication failed".into());
    }
}

fn settle(t: &mut Transaction) {
    if t.payment_type == "credit_card" {
        capture(t);
        return;
    }
    t.status = "settlement".into();
    t.settlement_time = Some(common::now_secs());
    if t.payment_type == "qris" {
        if t.acquirer.as_deref() == Some("airpay shopee") {
            t.issuer = Some("airpay shopee".into());
            t.transaction_type = Some("on-us".into());
        } else {
            t.issuer = Some("dana".into());
            t.transaction_type = Some("off-us".into());
        }
    }
}

fn apply_refund(t: &mut Transaction, r: Refund) {
    t.refunded += r.amount;
    t.refunds.push(r);
    t.status = if t.refunded >= t.gross_amount { "refund" } else { "partial_refund" }.into();
}

// ----- JSON shapes -----

fn put(m: &mut Map<String, Value>, k: &str, v: impl Into<Value>) {
    m.insert(k.to_owned(), v.into());
}

fn status_code_of(t: &Transaction, status_api: bool) -> &'static str {
    match t.status.as_str() {
        "pending" => "201",
        "capture" if t.fraud_status.as_deref() == Some("challenge") => "201",
        "capture" | "settlement" | "cancel" | "refund" | "partial_refund" => "200",
        "expire" if status_api => "407",
        _ => "202",
    }
}

/// The fields every shape shares (no `status_code`, no `installment_term`).
fn transaction_fields(t: &Transaction, omit_expiry: bool) -> Map<String, Value> {
    let mut m = Map::new();
    put(&mut m, "transaction_id", t.transaction_id.as_str());
    put(&mut m, "order_id", t.order_id.as_str());
    put(&mut m, "merchant_id", MERCHANT_ID);
    put(&mut m, "gross_amount", money(t.gross_amount));
    put(&mut m, "currency", "IDR");
    put(&mut m, "payment_type", t.payment_type.as_str());
    put(&mut m, "transaction_time", wib(t.transaction_time));
    put(&mut m, "transaction_status", t.status.as_str());
    if let Some(f) = &t.fraud_status {
        put(&mut m, "fraud_status", f.as_str());
    }
    match t.payment_type.as_str() {
        "bank_transfer" if t.bank.as_deref() == Some("permata") => {
            put(&mut m, "permata_va_number", t.va_number.clone().unwrap_or_default());
        }
        "bank_transfer" => {
            put(
                &mut m,
                "va_numbers",
                json!([{"bank": t.bank.clone().unwrap_or_default(), "va_number": t.va_number.clone().unwrap_or_default()}]),
            );
            put(&mut m, "payment_amounts", json!([]));
        }
        "echannel" => {
            put(&mut m, "biller_code", t.biller_code.clone().unwrap_or_default());
            put(&mut m, "bill_key", t.bill_key.clone().unwrap_or_default());
        }
        "cstore" => {
            put(&mut m, "payment_code", t.payment_code.clone().unwrap_or_default());
            put(&mut m, "store", t.store.clone().unwrap_or_default());
        }
        "qris" => {
            put(&mut m, "acquirer", t.acquirer.clone().unwrap_or_default());
            if let Some(i) = &t.issuer {
                put(&mut m, "issuer", i.as_str());
            }
            if let Some(tt) = &t.transaction_type {
                put(&mut m, "transaction_type", tt.as_str());
            }
            if t.issuer.as_deref() == Some("airpay shopee") {
                put(&mut m, "shopeepay_reference_number", format!("{}-ref", &t.transaction_id[..8]));
                put(&mut m, "reference_id", format!("SPQ{}", &t.transaction_id[..8]));
            }
        }
        "credit_card" => {
            if let (Some(b), Some(l4)) = (&t.card_bin8, &t.card_last4) {
                put(&mut m, "masked_card", format!("{b}-{l4}"));
            }
            put(&mut m, "card_type", "credit");
            put(&mut m, "bank", t.bank.clone().unwrap_or_default());
            if let Some(c) = &t.channel_response_code {
                put(&mut m, "channel_response_code", c.as_str());
                put(
                    &mut m,
                    "channel_response_message",
                    t.channel_response_message.clone().unwrap_or_default(),
                );
            }
            if let Some(a) = &t.approval_code {
                put(&mut m, "approval_code", a.as_str());
            }
            if t.three_ds {
                put(&mut m, "three_ds_version", "2");
                put(&mut m, "eci", "05");
            }
        }
        _ => {}
    }
    if let Some(e) = t.expiry_ms
        && !omit_expiry
    {
        put(&mut m, "expiry_time", wib(e.div_euclid(1000)));
    }
    if let Some(s) = t.settlement_time {
        put(&mut m, "settlement_time", wib(s));
    }
    if !t.refunds.is_empty() {
        put(&mut m, "refund_amount", money(t.refunded));
        let refunds: Vec<Value> = t
            .refunds
            .iter()
            .map(|r| {
                json!({"refund_chargeback_id": r.refund_chargeback_id, "refund_amount": money(r.amount),
                    "created_at": wib(r.created_at), "reason": r.reason.clone().unwrap_or_default(),
                    "refund_key": r.refund_key})
            })
            .collect();
        put(&mut m, "refunds", refunds);
    }
    m
}

fn charge_message(t: &Transaction) -> String {
    match (t.payment_type.as_str(), t.status.as_str()) {
        ("bank_transfer", _) => "Success, Bank Transfer transaction is created".into(),
        ("echannel", _) => "OK, Mandiri Bill transaction is successful".into(),
        ("cstore", _) => "Success, cstore transaction is successful".into(),
        ("qris", _) => "QRIS transaction is created".into(),
        ("gopay", _) => "GoPay transaction is created".into(),
        ("shopeepay", _) => "ShopeePay transaction is created".into(),
        (_, "pending") if t.redirect_url.is_some() => "OK, please continue with 3DS authentication".into(),
        (_, "pending") => "Success, Credit Card transaction is pending".into(),
        (_, "capture") if t.fraud_status.as_deref() == Some("challenge") => "Challenge by FDS".into(),
        (_, "capture") => "Success, Credit Card transaction is successful".into(),
        (_, "deny") if t.fraud_status.as_deref() == Some("deny") => "Deny by FDS".into(),
        _ => format!(
            "Deny by Bank [{}] with code [{}] and message [{}]",
            t.bank.clone().unwrap_or_default().to_uppercase(),
            t.channel_response_code.clone().unwrap_or_default(),
            t.channel_response_message.clone().unwrap_or_default()
        ),
    }
}

fn charge_answer(base: &str, t: &Transaction, omit_qr: bool, omit_expiry: bool) -> Value {
    let mut m = transaction_fields(t, omit_expiry);
    put(&mut m, "status_code", status_code_of(t, false));
    put(&mut m, "status_message", charge_message(t));
    if let Some(term) = t.installment_term {
        put(&mut m, "installment_term", term.to_string());
    }
    if let Some(r) = &t.redirect_url {
        put(&mut m, "redirect_url", r.as_str());
    }
    let trx = &t.transaction_id;
    let action = |name: &str, method: &str, url: String| json!({"name": name, "method": method, "url": url});
    match t.payment_type.as_str() {
        "qris" => {
            put(
                &mut m,
                "actions",
                json!([
                    action("generate-qr-code", "GET", format!("{base}/v2/qris/{trx}/qr-code")),
                    action("generate-qr-code-v2", "GET", format!("{base}/v4/qris/{trx}/qr-code")),
                ]),
            );
        }
        "gopay" => {
            put(
                &mut m,
                "actions",
                json!([
                    action("generate-qr-code", "GET", format!("{base}/v2/gopay/{trx}/qr-code")),
                    action("deeplink-redirect", "GET", format!("{base}/deeplink/{trx}")),
                    action("get-status", "GET", format!("{base}/v2/{trx}/status")),
                    action("cancel", "POST", format!("{base}/v2/{trx}/cancel")),
                ]),
            );
        }
        "shopeepay" => {
            put(
                &mut m,
                "actions",
                json!([action("deeplink-redirect", "GET", format!("{base}/deeplink/{trx}"))]),
            );
            put(&mut m, "channel_response_code", "0");
            put(&mut m, "channel_response_message", "success");
        }
        _ => {}
    }
    if let Some(q) = &t.qr_string
        && !omit_qr
    {
        put(&mut m, "qr_string", q.as_str());
    }
    Value::Object(m)
}

fn status_body(key: &str, t: &Transaction, omit_expiry: bool) -> Value {
    let mut m = transaction_fields(t, omit_expiry);
    let code = status_code_of(t, true);
    put(&mut m, "status_code", code);
    put(&mut m, "status_message", "Success, transaction is found");
    if let Some(term) = t.installment_term {
        put(&mut m, "installment_term", term);
    }
    put(&mut m, "signature_key", signature_key(&t.order_id, code, &money(t.gross_amount), key));
    Value::Object(m)
}

fn notification_body(
    key: &str,
    t: &Transaction,
    mode: NotificationMode,
    fee: i64,
    omit_expiry: bool,
    overrides: &Value,
) -> String {
    let mut m = transaction_fields(t, omit_expiry);
    put(&mut m, "status_code", status_code_of(t, false));
    put(&mut m, "status_message", "midtrans payment notification");
    if let Some(term) = t.installment_term {
        put(&mut m, "installment_term", term);
    }
    if mode == NotificationMode::Afi {
        put(&mut m, "gross_amount", money(t.gross_amount + fee));
        put(
            &mut m,
            "metadata",
            json!({"extra_info": {"gross_amount_info": {"original_gross_amount": money(t.gross_amount), "fee_amount": money(fee)}}}),
        );
    }
    if let Value::Object(o) = overrides {
        for (k, v) in o {
            m.insert(k.clone(), v.clone());
        }
    }
    let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let signing_key = if mode == NotificationMode::Forged { "SB-Mid-server-NotTheMerchantsKey" } else { key };
    let signature =
        signature_key(&text("order_id"), &text("status_code"), &text("gross_amount"), signing_key);
    if mode == NotificationMode::AmountAsNumber {
        put(&mut m, "gross_amount", t.gross_amount as f64);
    }
    if !m.contains_key("signature_key") {
        put(&mut m, "signature_key", signature);
    }
    Value::Object(m).to_string()
}

// ----- QRIS -----

fn tlv(tag: &str, value: &str) -> String {
    format!("{tag}{:02}{value}", value.len())
}

/// A dynamic QRIS payload (GATEWAYS §4) with a valid CRC.
fn qris_payload(amount: i64, reference: &str, acquirer: &str, amount_after_62: bool) -> String {
    let (gui, nns) = if acquirer == "airpay shopee" {
        ("ID.CO.SHOPEE.WWW", "93600918")
    } else {
        ("COM.GO-JEK.WWW", "93600914")
    };
    let pjsp =
        [tlv("00", gui), tlv("01", &format!("{nns}0000000001")), tlv("02", MERCHANT_ID), tlv("03", "UMI")]
            .concat();
    let national = [tlv("00", "ID.CO.QRIS.WWW"), tlv("02", "ID1020000000001"), tlv("03", "UMI")].concat();
    let label: String = reference.chars().filter(char::is_ascii_alphanumeric).take(25).collect();
    let additional = [tlv("05", &label), tlv("07", "A01")].concat();
    let amount_tags = [tlv("53", "360"), tlv("54", &amount.to_string())].concat();
    let mut s = [tlv("00", "01"), tlv("01", "12"), tlv("26", &pjsp), tlv("51", &national), tlv("52", "5999")]
        .concat();
    if !amount_after_62 {
        s.push_str(&amount_tags);
    }
    s.push_str(
        &[
            tlv("58", "ID"),
            tlv("59", "KASIR SIMULATED MERCHANT"),
            tlv("60", "JAKARTA SELATAN"),
            tlv("61", "12190"),
        ]
        .concat(),
    );
    s.push_str(&tlv("62", &additional));
    if amount_after_62 {
        s.push_str(&amount_tags);
    }
    s.push_str("6304");
    let crc = crc16_ccitt_false(s.as_bytes());
    format!("{s}{crc:04X}")
}

/// A 1×1 PNG.
const PNG_1X1: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

// ----- refusals -----

type Invalid = (&'static str, String);

fn bad(message: impl Into<String>) -> Invalid {
    ("400", message.into())
}

/// The HTTP status an answer with this body `status_code` travels with.
fn styled_status(l: &mut Ledger, code: &str) -> StatusCode {
    let proper = code
        .parse::<u16>()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let n = l.styled_answers;
    l.styled_answers += 1;
    match l.error_style {
        ErrorStyle::HttpStatus => proper,
        ErrorStyle::Http200 => StatusCode::OK,
        ErrorStyle::Alternate if n.is_multiple_of(2) => proper,
        ErrorStyle::Alternate => StatusCode::OK,
    }
}

fn refuse(s: &Shared, endpoint: &str, code: &str, message: &str) -> Reply {
    let mut l = s.ledger();
    l.rejections.push(format!("{endpoint} {code}: {message}"));
    let status = styled_status(&mut l, code);
    let mut body = json!({"status_code": code, "status_message": message, "id": uuid()});
    if code == "400" {
        body["validation_messages"] = json!([message]);
    }
    Reply::json(status, &body)
}

fn authorized(s: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    let Some(b64) = value.strip_prefix("Basic ") else { return false };
    STANDARD.decode(b64.trim()).is_ok_and(|d| d == format!("{}:", s.server_key).as_bytes())
}

const UNAUTHORIZED: &str = "Access denied due to unauthorized transaction, please check client or server key";

fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("application/json"))
}

/// `Idempotency-Key`, checked; `Err` is the refusal.
fn idempotency_key(s: &Shared, headers: &HeaderMap, endpoint: &str) -> Result<Option<String>, Reply> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 46 => Ok(Some(k.to_owned())),
        _ => Err(refuse(s, endpoint, "400", "Idempotency-Key must be 1 to 46 characters")),
    }
}

/// Replays or holds a repeated key; `None` to go on (the key is now held).
fn begin_idempotent(s: &Shared, key: &str, endpoint: &str) -> Option<Reply> {
    let mut l = s.ledger();
    let now = Instant::now();
    l.idempotency.retain(|_, (at, _)| now.duration_since(*at) < Duration::from_secs(300));
    match l.idempotency.get(key) {
        Some((_, Some(reply))) => Some(reply.clone()),
        Some((_, None)) => {
            l.rejections.push(format!("{endpoint} HTTP 202: Idempotency-Key still being processed"));
            Some(Reply::json(
                StatusCode::ACCEPTED,
                &json!({"status_message": "The request with this Idempotency-Key is still being processed"}),
            ))
        }
        None => {
            l.idempotency.insert(key.to_owned(), (now, None));
            None
        }
    }
}

fn finish_idempotent(s: &Shared, key: &str, reply: &Reply) {
    let mut l = s.ledger();
    if reply.status.is_server_error() {
        l.idempotency.remove(key);
    } else if let Some(entry) = l.idempotency.get_mut(key) {
        entry.1 = Some(reply.clone());
    }
}

/// The notification URLs header; `Ok(first URL)`.
fn notification_header(s: &Shared, headers: &HeaderMap, name: &str) -> Result<Option<String>, Reply> {
    let Some(v) = headers.get(name) else { return Ok(None) };
    let urls: Vec<&str> = v.to_str().unwrap_or("").split(',').map(str::trim).collect();
    if urls.len() > 3 {
        return Err(refuse(s, "charge", "400", &format!("{name} accepts at most 3 URLs")));
    }
    if !urls.iter().all(|u| http_url(u)) {
        return Err(refuse(s, "charge", "400", &format!("{name} must be comma-separated http(s) URLs")));
    }
    Ok(urls.first().map(|u| (*u).to_owned()))
}

// ----- the token endpoint -----

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Reply {
    s.ledger().token_calls += 1;
    if headers.contains_key(header::AUTHORIZATION) {
        return refuse(
            &s,
            "token",
            "401",
            "an Authorization header was sent to /v2/token: only client_key belongs there",
        );
    }
    let Some(params) = query.as_deref().and_then(parse_form) else {
        return refuse(&s, "token", "400", "the query string is missing or malformed");
    };
    if params.get("client_key").map(String::as_str) != Some(s.client_key.as_str()) {
        return refuse(&s, "token", "401", UNAUTHORIZED);
    }
    let field = |k: &str| params.get(k).map_or("", String::as_str);
    let number = field("card_number");
    let mut problems = Vec::new();
    if !(12..=19).contains(&number.len()) || !luhn(number) {
        problems.push("card_number is invalid");
    }
    let (month, year) = (field("card_exp_month"), field("card_exp_year"));
    let month_ok =
        month.len() == 2 && month.bytes().all(|b| b.is_ascii_digit()) && ("01"..="12").contains(&month);
    let year_ok = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit());
    if !month_ok {
        problems.push("card_exp_month must be two digits, 01 to 12");
    }
    if !year_ok {
        problems.push("card_exp_year must be four digits");
    }
    if month_ok && year_ok {
        let (y, m, _) = common::civil((common::now_secs() + 7 * 3600).div_euclid(86_400));
        let exp = (year.parse::<i64>().unwrap_or(0), month.parse::<i64>().unwrap_or(0));
        if exp < (y, m) {
            problems.push("the card has expired");
        }
    }
    let cvv = field("card_cvv");
    if cvv.len() != 3 || !cvv.bytes().all(|b| b.is_ascii_digit()) {
        problems.push("card_cvv must be three digits");
    }
    if !problems.is_empty() {
        let mut l = s.ledger();
        l.rejections.push(format!("token 400: {}", problems.join("; ")));
        let status = styled_status(&mut l, "400");
        return Reply::json(
            status,
            &json!({"status_code": "400", "status_message": "One or more parameters in the payload is invalid.",
                "validation_messages": problems, "id": uuid()}),
        );
    }
    let (bin8, last4) = (number[..8].to_owned(), number[number.len() - 4..].to_owned());
    let token_id = format!("{bin8}-{last4}-{}", uuid());
    let hash = format!("{bin8}-{last4}-{}", common::hex(&random_bytes::<8>()));
    let issued = IssuedToken { token_id: token_id.clone(), bin8, last4, bound_amount: None, used: false };
    s.ledger().tokens.insert(token_id.clone(), CardToken { issued, kind: card_kind(number) });
    Reply::json(
        StatusCode::OK,
        &json!({"status_code": "200", "status_message": "OK, success request new token",
            "token_id": token_id, "hash": hash}),
    )
}

// ----- the charge -----

#[derive(Debug)]
enum Method {
    Card { token_id: String, installment_term: Option<u32>, bank: Option<String> },
    Va { bank: String, va_number: Option<String> },
    Permata,
    Echannel { bill_key: Option<String> },
    Qris { acquirer: String },
    Gopay { callback_url: Option<String> },
    Shopeepay { callback_url: String },
    Cstore { store: String },
}

#[derive(Debug)]
struct ChargeRequest {
    payment_type: String,
    order_id: String,
    gross: i64,
    method: Method,
    expiry: Option<(i64, i64)>,
}

const PAYMENT_TYPES: &[&str] =
    &["credit_card", "bank_transfer", "permata", "echannel", "qris", "gopay", "shopeepay", "cstore"];

fn object<'a>(v: &'a Value, name: &str, payment_type: &str) -> Result<&'a Value, Invalid> {
    v.get(name).filter(|o| o.is_object()).ok_or_else(|| bad(format!("{name} is required for {payment_type}")))
}

fn optional_str<'a>(v: &'a Value, key: &str, path: &str) -> Result<Option<&'a str>, Invalid> {
    match v.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad(format!("{path} must be a string"))),
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_charge(v: &Value) -> Result<ChargeRequest, Invalid> {
    if !v.is_object() {
        return Err(bad("the body must be a JSON object"));
    }
    let payment_type = v["payment_type"].as_str().ok_or_else(|| bad("payment_type is required"))?;
    if !PAYMENT_TYPES.contains(&payment_type) {
        return Err(bad("payment_type is not supported"));
    }
    let td = v.get("transaction_details").filter(|t| t.is_object());
    let td = td.ok_or_else(|| bad("transaction_details is required"))?;
    let order_id = td["order_id"].as_str().ok_or_else(|| bad("transaction_details.order_id is required"))?;
    if order_id.is_empty()
        || order_id.len() > 50
        || !order_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_~.".contains(&b))
    {
        return Err(bad("transaction_details.order_id must be 1 to 50 of A-Z a-z 0-9 - _ ~ ."));
    }
    let gross = td["gross_amount"]
        .as_i64()
        .ok_or_else(|| bad("transaction_details.gross_amount must be an integer"))?;
    if gross < 1 {
        return Err(bad("transaction_details.gross_amount must be at least 1"));
    }
    check_items(v, gross)?;
    if let Some(c) = v.get("customer_details") {
        if !c.is_object() {
            return Err(bad("customer_details must be an object"));
        }
        if let Some(e) = optional_str(c, "email", "customer_details.email")?
            && !e.contains('@')
        {
            return Err(bad("customer_details.email is invalid"));
        }
    }
    let expiry = parse_custom_expiry(v, payment_type)?;
    let method = parse_method(v, payment_type)?;
    Ok(ChargeRequest {
        payment_type: payment_type.to_owned(),
        order_id: order_id.to_owned(),
        gross,
        method,
        expiry,
    })
}

fn check_items(v: &Value, gross: i64) -> Result<(), Invalid> {
    let Some(items) = v.get("item_details") else { return Ok(()) };
    let items = items.as_array().ok_or_else(|| bad("item_details must be an array"))?;
    let mut sum: i64 = 0;
    for (i, item) in items.iter().enumerate() {
        let price = item["price"]
            .as_i64()
            .ok_or_else(|| bad(format!("item_details[{i}].price must be an integer")))?;
        let quantity = item["quantity"]
            .as_i64()
            .filter(|q| *q >= 1)
            .ok_or_else(|| bad(format!("item_details[{i}].quantity must be an integer of at least 1")))?;
        let name = item["name"].as_str().unwrap_or("");
        if name.is_empty() || name.chars().count() > 50 {
            return Err(bad(format!("item_details[{i}].name must be 1 to 50 characters")));
        }
        optional_str(item, "id", &format!("item_details[{i}].id"))?;
        sum = price
            .checked_mul(quantity)
            .and_then(|p| sum.checked_add(p))
            .ok_or_else(|| bad("item_details amounts overflow"))?;
    }
    if sum != gross {
        return Err(bad("transaction_details.gross_amount is not equal to the sum of item_details"));
    }
    Ok(())
}

fn parse_custom_expiry(v: &Value, payment_type: &str) -> Result<Option<(i64, i64)>, Invalid> {
    let Some(ce) = v.get("custom_expiry") else { return Ok(None) };
    if payment_type == "credit_card" {
        return Err(bad("custom_expiry is not allowed for credit_card"));
    }
    if !ce.is_object() {
        return Err(bad("custom_expiry must be an object"));
    }
    let order_time = ce["order_time"]
        .as_str()
        .and_then(parse_order_time)
        .ok_or_else(|| bad("custom_expiry.order_time must be YYYY-MM-DD HH:MM:SS +0700"))?;
    let duration = ce["expiry_duration"]
        .as_i64()
        .filter(|d| *d >= 1)
        .ok_or_else(|| bad("custom_expiry.expiry_duration must be a positive integer"))?;
    let unit = match ce["unit"].as_str() {
        Some("second") => 1,
        Some("minute") => 60,
        Some("hour") => 3600,
        Some("day") => 86_400,
        _ => return Err(bad("custom_expiry.unit must be second, minute, hour or day")),
    };
    let secs = duration.checked_mul(unit).ok_or_else(|| bad("custom_expiry is too long"))?;
    match payment_type {
        "cstore" if !(20..=180 * 86_400).contains(&secs) => {
            Err(bad("custom_expiry for cstore must be between 20 seconds and 180 days"))
        }
        "shopeepay" if secs > 5 * 86_400 => Err(bad("custom_expiry for shopeepay must be at most 5 days")),
        _ => Ok(Some((order_time, secs))),
    }
}

fn parse_method(v: &Value, payment_type: &str) -> Result<Method, Invalid> {
    Ok(match payment_type {
        "credit_card" => {
            let cc = object(v, "credit_card", payment_type)?;
            let token_id = cc["token_id"]
                .as_str()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| bad("credit_card.token_id is required"))?;
            if cc.get("authentication") != Some(&Value::Bool(true)) {
                return Err(bad("credit_card.authentication must be true: this merchant requires 3DS"));
            }
            if let Some(ct) = cc.get("callback_type")
                && !matches!(ct.as_str(), Some("js_event" | "form"))
            {
                return Err(bad("credit_card.callback_type must be js_event or form"));
            }
            let bank = optional_str(cc, "bank", "credit_card.bank")?;
            if bank.is_some_and(|b| b.is_empty() || !b.bytes().all(|c| c.is_ascii_alphanumeric())) {
                return Err(bad("credit_card.bank is invalid"));
            }
            let bins = match cc.get("bins") {
                None => None,
                Some(Value::Array(a))
                    if !a.is_empty() && a.iter().all(|b| b.as_str().is_some_and(digits)) =>
                {
                    Some(a.len())
                }
                Some(_) => return Err(bad("credit_card.bins must be an array of digit strings")),
            };
            let installment_term = match cc.get("installment_term") {
                None => None,
                Some(t) => {
                    let term = t
                        .as_i64()
                        .filter(|n| matches!(n, 3 | 6 | 12))
                        .ok_or_else(|| bad("credit_card.installment_term must be 3, 6 or 12"))?;
                    if bank.is_none() && bins.is_none() {
                        return Err(bad(
                            "credit_card.installment_term needs credit_card.bank or credit_card.bins",
                        ));
                    }
                    u32::try_from(term).ok()
                }
            };
            Method::Card { token_id: token_id.to_owned(), installment_term, bank: bank.map(str::to_owned) }
        }
        "bank_transfer" => {
            let bt = object(v, "bank_transfer", payment_type)?;
            let bank = bt["bank"]
                .as_str()
                .filter(|b| ["bca", "bni", "bri", "cimb", "permata"].contains(b))
                .ok_or_else(|| bad("bank_transfer.bank must be bca, bni, bri, cimb or permata"))?;
            let va_number = optional_str(bt, "va_number", "bank_transfer.va_number")?;
            if va_number.is_some_and(|n| !digits(n)) {
                return Err(bad("bank_transfer.va_number must be digits"));
            }
            if bank == "permata" && va_number.is_none_or(|n| n.len() != 10) {
                return Err(bad("bank_transfer.va_number of 10 digits is required for permata"));
            }
            Method::Va { bank: bank.to_owned(), va_number: va_number.map(str::to_owned) }
        }
        "permata" => Method::Permata,
        "echannel" => {
            let ec = object(v, "echannel", payment_type)?;
            let info1 = ec["bill_info1"].as_str().unwrap_or("");
            if info1.is_empty() || info1.chars().count() > 10 {
                return Err(bad("echannel.bill_info1 is required, at most 10 characters"));
            }
            let info2 = ec["bill_info2"].as_str().unwrap_or("");
            if info2.is_empty() || info2.chars().count() > 30 {
                return Err(bad("echannel.bill_info2 is required, at most 30 characters"));
            }
            let bill_key = optional_str(ec, "bill_key", "echannel.bill_key")?;
            if bill_key.is_some_and(|k| !digits(k) || !(6..=12).contains(&k.len())) {
                return Err(bad("echannel.bill_key must be 6 to 12 digits"));
            }
            Method::Echannel { bill_key: bill_key.map(str::to_owned) }
        }
        "qris" => {
            let q = object(v, "qris", payment_type)?;
            let acquirer = q["acquirer"]
                .as_str()
                .filter(|a| matches!(*a, "gopay" | "airpay shopee"))
                .ok_or_else(|| bad("qris.acquirer must be gopay or airpay shopee"))?;
            Method::Qris { acquirer: acquirer.to_owned() }
        }
        "gopay" => {
            let g = object(v, "gopay", payment_type)?;
            let enable = match g.get("enable_callback") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(bad("gopay.enable_callback must be a boolean")),
            };
            let callback_url = optional_str(g, "callback_url", "gopay.callback_url")?;
            if callback_url.is_some_and(|u| !http_url(u)) || (enable && callback_url.is_none()) {
                return Err(bad("gopay.callback_url must be an http(s) URL"));
            }
            Method::Gopay { callback_url: callback_url.map(str::to_owned) }
        }
        "shopeepay" => {
            let sp = object(v, "shopeepay", payment_type)?;
            let callback_url = sp["callback_url"]
                .as_str()
                .filter(|u| http_url(u))
                .ok_or_else(|| bad("shopeepay.callback_url must be an http(s) URL"))?;
            Method::Shopeepay { callback_url: callback_url.to_owned() }
        }
        _ => {
            let c = object(v, "cstore", payment_type)?;
            let store = c["store"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .filter(|s| matches!(s.as_str(), "indomaret" | "alfamart"))
                .ok_or_else(|| bad("cstore.store must be indomaret or alfamart"))?;
            if optional_str(c, "message", "cstore.message")?.is_some_and(|m| m.chars().count() > 255) {
                return Err(bad("cstore.message is too long"));
            }
            for k in ["alfamart_free_text_1", "alfamart_free_text_2", "alfamart_free_text_3"] {
                if optional_str(c, k, k)?.is_some_and(|m| m.chars().count() > 40) {
                    return Err(bad(format!("cstore.{k} must be at most 40 characters")));
                }
            }
            Method::Cstore { store }
        }
    })
}

/// Whether Midtrans ignores `Idempotency-Key` for this body (Permata VA,
/// Indomaret: GATEWAYS §1.1).
fn idempotency_unsupported(v: &Value) -> bool {
    v["payment_type"] == "permata"
        || (v["payment_type"] == "bank_transfer" && v["bank_transfer"]["bank"] == "permata")
        || (v["payment_type"] == "cstore"
            && v["cstore"]["store"].as_str().is_some_and(|s| s.eq_ignore_ascii_case("indomaret")))
}

async fn charge(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    s.ledger().charges_received += 1;
    if !authorized(&s, &headers) {
        return refuse(&s, "charge", "401", UNAUTHORIZED);
    }
    if !json_content_type(&headers) {
        return refuse(&s, "charge", "400", "Content-Type must be application/json");
    }
    let key = match idempotency_key(&s, &headers, "charge") {
        Ok(k) => k,
        Err(r) => return r,
    };
    let notify_to = match notification_header(&s, &headers, "x-override-notification") {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Err(r) = notification_header(&s, &headers, "x-append-notification") {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return refuse(&s, "charge", "400", "the body is not JSON");
    };
    let key = key.filter(|_| !idempotency_unsupported(&v));
    if let Some(k) = &key
        && let Some(reply) = begin_idempotent(&s, k, "charge")
    {
        return reply;
    }
    let reply = charge_inner(&s, &v, notify_to, key.clone()).await;
    if let Some(k) = &key {
        finish_idempotent(&s, k, &reply);
    }
    reply
}

/// Duplicate order, token rules, then the scenario.
fn admit(l: &mut Ledger, req: &ChargeRequest) -> Result<(Scenario, Option<CardToken>), Invalid> {
    if l.txs.contains_key(&req.order_id) {
        return Err(("406", "transaction_details.order_id has already been utilized".into()));
    }
    let card = if let Method::Card { token_id, .. } = &req.method {
        let t = l.tokens.get_mut(token_id).ok_or_else(|| bad("credit_card.token_id is invalid"))?;
        if t.issued.used {
            return Err(bad("credit_card.token_id has already been used"));
        }
        if t.issued.bound_amount.is_some_and(|a| a != req.gross) {
            return Err(bad("credit_card.token_id was first presented for another amount"));
        }
        t.issued.bound_amount = Some(req.gross);
        Some(t.clone())
    } else {
        None
    };
    Ok((l.scenarios.pop_front().unwrap_or(Scenario::Normal), card))
}

fn assign_va(l: &Ledger, bank: &str, wanted: Option<&str>) -> String {
    let len = match bank {
        "bca" => 11,
        "bni" => 8,
        "bri" => 13,
        "cimb" => 12,
        _ => 10,
    };
    let in_use = |n: &str| {
        l.txs.values().any(|t| t.bank.as_deref() == Some(bank) && t.va_number.as_deref() == Some(n))
    };
    if let Some(w) = wanted {
        let trimmed: String = w.chars().take(len).collect();
        let n = format!("{trimmed:0>len$}");
        if !in_use(&n) {
            return n;
        }
    }
    loop {
        let n = random_digits(len);
        if !in_use(&n) {
            return n;
        }
    }
}

fn build_transaction(
    l: &mut Ledger,
    base: &str,
    req: &ChargeRequest,
    card: Option<&CardToken>,
) -> Transaction {
    let now = common::now_secs();
    let mut t = Transaction {
        order_id: req.order_id.clone(),
        transaction_id: uuid(),
        payment_type: if req.payment_type == "permata" {
            "bank_transfer".into()
        } else {
            req.payment_type.clone()
        },
        requested_payment_type: req.payment_type.clone(),
        gross_amount: req.gross,
        status: "pending".into(),
        fraud_status: Some("accept".into()),
        transaction_time: now,
        ..Transaction::default()
    };
    let default_expiry = match &req.method {
        Method::Card { installment_term, bank, .. } => {
            t.installment_term = *installment_term;
            t.bank = Some(bank.clone().unwrap_or_else(|| "bni".into()));
            t.challenge_on_capture = std::mem::take(&mut l.challenge_next);
            if let Some(c) = card {
                t.card_bin8 = Some(c.issued.bin8.clone());
                t.card_last4 = Some(c.issued.last4.clone());
                match c.kind {
                    CardKind::ThreeDs => {
                        let token = uuid();
                        t.redirect_url = Some(format!("{base}/v2/3ds/redirect/{token}"));
                        t.three_ds_token = Some(token);
                        t.three_ds = true;
                    }
                    CardKind::Frictionless => {
                        t.three_ds = true;
                        capture(&mut t);
                    }
                    CardKind::BankDeny | CardKind::InsufficientFunds => {
                        t.status = "deny".into();
                        let (code, message) = if c.kind == CardKind::BankDeny {
                            ("05", "Do not honor")
                        } else {
                            ("51", "Insufficient funds")
                        };
                        t.channel_response_code = Some(code.into());
                        t.channel_response_message = Some(message.into());
                    }
                    CardKind::FdsDeny => {
                        t.status = "deny".into();
                        t.fraud_status = Some("deny".into());
                    }
                    CardKind::Delayed => t.capture_at = Some(Instant::now() + l.delayed_card_after),
                }
            }
            None
        }
        Method::Va { bank, va_number } => {
            t.va_number = Some(assign_va(l, bank, va_number.as_deref()));
            t.bank = Some(bank.clone());
            Some(86_400)
        }
        Method::Permata => {
            t.va_number = Some(assign_va(l, "permata", None));
            t.bank = Some("permata".into());
            Some(86_400)
        }
        Method::Echannel { bill_key } => {
            t.biller_code = Some(BILLER_CODE.into());
            t.bill_key = Some(bill_key.clone().unwrap_or_else(|| random_digits(12)));
            Some(86_400)
        }
        Method::Qris { acquirer } => {
            t.acquirer = Some(acquirer.clone());
            t.qr_string = Some(qris_payload(req.gross, &t.transaction_id, acquirer, l.qr_amount_after_62));
            Some(15 * 60)
        }
        Method::Gopay { callback_url } => {
            t.callback_url = callback_url.clone();
            t.qr_string = Some(qris_payload(req.gross, &t.transaction_id, "gopay", l.qr_amount_after_62));
            Some(15 * 60)
        }
        Method::Shopeepay { callback_url } => {
            t.callback_url = Some(callback_url.clone());
            Some(15 * 60)
        }
        Method::Cstore { store } => {
            t.fraud_status = None;
            t.store = Some(store.clone());
            t.payment_code = Some(random_digits(if store == "indomaret" { 14 } else { 16 }));
            Some(86_400)
        }
    };
    if let Some(default) = default_expiry {
        let (start, secs) = req.expiry.unwrap_or((now, default));
        t.expiry_ms = Some((start + secs) * 1000 - millis(l.expire_earlier_by));
    }
    t
}

async fn charge_inner(s: &Arc<Shared>, v: &Value, notify_to: Option<String>, key: Option<String>) -> Reply {
    let req = match parse_charge(v) {
        Ok(r) => r,
        Err((code, m)) => return refuse(s, "charge", code, &m),
    };
    let admitted = admit(&mut s.ledger(), &req);
    let (scenario, card) = match admitted {
        Ok(x) => x,
        Err((code, m)) => return refuse(s, "charge", code, &m),
    };
    match scenario {
        Scenario::ServerError => return Reply::text(StatusCode::INTERNAL_SERVER_ERROR, "upstream error"),
        // Only the Smilepayz simulator trickles and swallows; a test asking
        // for it here gets an answer it cannot mistake for success.
        Scenario::Trickle(_) | Scenario::Swallow(_) => {
            return Reply::text(
                StatusCode::NOT_IMPLEMENTED,
                "trickle and swallow are simulated for Smilepayz only",
            );
        }
        Scenario::Normal | Scenario::NoAnswer(_) | Scenario::Malformed => {}
    }
    let base = s.base();
    let (t, answer, before) = {
        let mut l = s.ledger();
        if let Method::Card { token_id, .. } = &req.method
            && let Some(tok) = l.tokens.get_mut(token_id)
        {
            tok.issued.used = true;
        }
        let mut t = build_transaction(&mut l, &base, &req, card.as_ref());
        t.notification_url = notify_to;
        t.idempotency_key = key;
        t.processing = matches!(scenario, Scenario::NoAnswer(_));
        let answer = charge_answer(&base, &t, l.omit_qr_string, l.omit_expiry_time);
        l.txs.insert(t.order_id.clone(), t.clone());
        (t, answer, l.notify_before_answer)
    };
    spawn_timers(s, &t);
    if let Scenario::NoAnswer(hold) = scenario {
        // Midtrans finishes the charge whether or not the caller is still
        // there: a caller that gave up (and so cancelled this handler) must
        // not leave the transaction processing for ever.
        let shared = s.clone();
        let order_id = t.order_id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            if let Some(tx) = shared.ledger().txs.get_mut(&order_id) {
                tx.processing = false;
            }
        });
        tokio::time::sleep(hold).await;
    }
    if scenario == Scenario::Malformed {
        return Reply {
            status: StatusCode::OK,
            body: "<html><body>upstream</body>".into(),
            content_type: "application/json",
        };
    }
    if before {
        deliver_snapshot(s, &t, NotificationMode::Normal, &Value::Null).await;
    } else if s.ledger().auto_notify {
        let (s, t) = (s.clone(), t.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            deliver_snapshot(&s, &t, NotificationMode::Normal, &Value::Null).await;
        });
    }
    Reply::json(StatusCode::OK, &answer)
}

/// Wakes at the delayed capture and at expiry; notifies when asked to.
fn spawn_timers(s: &Arc<Shared>, t: &Transaction) {
    let mut due = Vec::new();
    if let Some(at) = t.capture_at {
        due.push(at.saturating_duration_since(Instant::now()));
    }
    if let Some(e) = t.expiry_ms {
        due.push(Duration::from_millis(u64::try_from(e - now_ms()).unwrap_or(0)));
    }
    for wait in due {
        let (s, order_id) = (s.clone(), t.order_id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(wait + Duration::from_millis(5)).await;
            let snapshot = {
                let mut l = s.ledger();
                let auto = l.auto_notify;
                l.find_mut(&order_id)
                    .filter(|t| t.timed_change_unsent)
                    .map(|t| {
                        t.timed_change_unsent = false;
                        t.clone()
                    })
                    .filter(|_| auto)
            };
            if let Some(t) = snapshot {
                deliver_snapshot(&s, &t, NotificationMode::Normal, &Value::Null).await;
            }
        });
    }
}

// ----- status and modifications -----

async fn status(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    if action != "status" {
        return Reply::text(StatusCode::NOT_FOUND, "not found");
    }
    {
        let mut l = s.ledger();
        l.status_calls += 1;
        if l.failing_status_calls > 0 {
            l.failing_status_calls -= 1;
            return Reply::text(StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable");
        }
    }
    if !authorized(&s, &headers) {
        return refuse(&s, "status", "401", UNAUTHORIZED);
    }
    let found = {
        let mut l = s.ledger();
        let omit = l.omit_expiry_time;
        let echo = l.refund_echo_factor.max(1);
        let body = l.find_mut(&id).filter(|t| !t.processing).map(|t| {
            let mut body = status_body(&s.server_key, t, omit);
            if echo != 1 {
                // Each listed refund's amount, and the total, in other units.
                if let Some(list) = body["refunds"].as_array_mut() {
                    for r in list {
                        r["refund_amount"] =
                            json!(money(r["refund_amount"].as_str().map_or(0, whole) * echo));
                    }
                }
                body["refund_amount"] = json!(money(t.refunded * echo));
            }
            body
        });
        body.map(|b| {
            let http = if b["status_code"] == "407" { styled_status(&mut l, "407") } else { StatusCode::OK };
            (http, b)
        })
    };
    match found {
        Some((http, body)) => Reply::json(http, &body),
        None => refuse(&s, "status", "404", "Transaction doesn't exist."),
    }
}

async fn direct_refund(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    modify_checked(&s, &id, "refund", &headers, &body).await
}

async fn modify(
    State(s): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    if !matches!(action.as_str(), "cancel" | "expire" | "refund" | "approve" | "deny") {
        return Reply::text(StatusCode::NOT_FOUND, "not found");
    }
    modify_checked(&s, &id, &action, &headers, &body).await
}

async fn modify_checked(s: &Arc<Shared>, id: &str, action: &str, headers: &HeaderMap, body: &[u8]) -> Reply {
    if !authorized(s, headers) {
        return refuse(s, action, "401", UNAUTHORIZED);
    }
    if matches!(action, "cancel" | "expire") {
        let mut l = s.ledger();
        if l.failing_voids > 0 {
            l.failing_voids -= 1;
            return Reply::json(
                StatusCode::OK,
                &json!({"status_code": "500", "status_message": "Sorry. Our system is recovering from unexpected issues. Please retry."}),
            );
        }
    }
    let has_body = !body.iter().all(u8::is_ascii_whitespace);
    let parsed = if has_body {
        if !json_content_type(headers) {
            return refuse(s, action, "400", "Content-Type must be application/json");
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(v) if v.is_object() => v,
            _ => return refuse(s, action, "400", "the body must be a JSON object"),
        }
    } else {
        json!({})
    };
    if action == "refund" {
        s.ledger().refund_calls.push((
            id.to_owned(),
            parsed["amount"].as_i64(),
            parsed["refund_key"].as_str().map(str::to_owned),
        ));
    }
    let key = match idempotency_key(s, headers, action) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if let Some(k) = &key
        && let Some(reply) = begin_idempotent(s, k, action)
    {
        return reply;
    }
    let reply = modify_inner(s, id, action, &parsed);
    if let Some(k) = &key {
        finish_idempotent(s, k, &reply);
    }
    let hold = if action == "refund" { s.ledger().refund_answer_hold.take() } else { None };
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    reply
}

/// A refund body: `refund_key`, `amount`, `reason`.
type RefundBody = (Option<String>, Option<i64>, Option<String>);

fn check_refund_body(v: &Value) -> Result<RefundBody, Invalid> {
    let key = optional_str(v, "refund_key", "refund_key")?;
    if key.is_some_and(|k| {
        k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(bad("refund_key may hold only letters, digits, - and _"));
    }
    let amount = match v.get("amount") {
        None => None,
        Some(a) => Some(a.as_i64().ok_or_else(|| bad("amount must be an integer"))?),
    };
    let reason = optional_str(v, "reason", "reason")?;
    Ok((key.map(str::to_owned), amount, reason.map(str::to_owned)))
}

fn modify_inner(s: &Arc<Shared>, id: &str, action: &str, body: &Value) -> Reply {
    let refund = if action == "refund" {
        match check_refund_body(body) {
            Ok(r) => Some(r),
            Err((code, m)) => return refuse(s, action, code, &m),
        }
    } else {
        None
    };
    let outcome: Result<(Value, Transaction, bool), Invalid> = {
        let mut guard = s.ledger();
        let l = &mut *guard;
        let pending_mode = l.refunds_pending;
        let echo = l.refund_echo_factor.max(1);
        let auto = l.auto_notify;
        match find_in(&mut l.txs, id).filter(|t| !t.processing) {
            None => Err(("404", "Transaction doesn't exist.".into())),
            Some(t) => {
                let challenged = t.status == "capture" && t.fraud_status.as_deref() == Some("challenge");
                let cannot = || ("412", "Merchant cannot modify the status of the transaction".to_owned());
                let result = match action {
                    "cancel" if t.status == "pending" || challenged => {
                        t.status = "cancel".into();
                        Ok(("200", "Success, transaction is canceled".to_owned(), None))
                    }
                    "expire" if t.status == "pending" => {
                        t.status = "expire".into();
                        Ok(("407", "Success, transaction has expired".to_owned(), None))
                    }
                    "approve" if challenged => {
                        t.fraud_status = Some("accept".into());
                        Ok(("200", "Success, transaction is approved".to_owned(), None))
                    }
                    "deny" if challenged => {
                        t.status = "deny".into();
                        t.fraud_status = Some("deny".into());
                        Ok(("200", "Success, transaction is denied".to_owned(), None))
                    }
                    "refund" => {
                        let (key, amount, reason) = refund.unwrap_or_default();
                        refund_transaction(
                            t,
                            &mut l.used_refund_keys,
                            &mut l.refund_seq,
                            pending_mode,
                            key,
                            amount,
                            reason,
                        )
                        .map(|(status, r)| {
                            ("200", "Success, refund request is approved".to_owned(), Some((status, r)))
                        })
                    }
                    _ => Err(cannot()),
                };
                result.map(|(code, message, refund)| {
                    let mut m = transaction_fields(t, true);
                    put(&mut m, "status_code", code);
                    put(&mut m, "status_message", message);
                    if let Some((status, r)) = refund {
                        put(&mut m, "transaction_status", status);
                        put(&mut m, "refund_amount", money(r.amount * echo));
                        put(&mut m, "refund_key", r.refund_key);
                        put(&mut m, "refund_chargeback_id", r.refund_chargeback_id);
                        m.remove("refunds");
                    }
                    (Value::Object(m), t.clone(), auto && !(action == "refund" && pending_mode))
                })
            }
        }
    };
    match outcome {
        Err((code, m)) => refuse(s, action, code, &m),
        Ok((answer, t, notify)) => {
            let http = if answer["status_code"] == "407" {
                styled_status(&mut s.ledger(), "407")
            } else {
                StatusCode::OK
            };
            // A pending refund changes nothing visible yet: nothing to tell.
            if notify {
                let s = s.clone();
                tokio::spawn(async move {
                    deliver_snapshot(&s, &t, NotificationMode::Normal, &Value::Null).await;
                });
            }
            Reply::json(http, &answer)
        }
    }
}

/// Refund rules; `Ok((transaction_status as answered, refund))`.
fn refund_transaction(
    t: &mut Transaction,
    used_keys: &mut HashSet<String>,
    seq: &mut u64,
    pending_mode: bool,
    key: Option<String>,
    amount: Option<i64>,
    reason: Option<String>,
) -> Result<(String, Refund), Invalid> {
    if matches!(t.payment_type.as_str(), "bank_transfer" | "echannel" | "cstore") {
        return Err(("412", format!("{} cannot be refunded through the API", t.payment_type)));
    }
    let succeeded = matches!(t.status.as_str(), "settlement" | "partial_refund")
        || (t.status == "capture" && t.fraud_status.as_deref() == Some("accept"));
    if !succeeded {
        return Err(("412", "Merchant cannot modify the status of the transaction".into()));
    }
    if let Some(k) = &key
        && used_keys.contains(k)
    {
        return Err(("406", "refund_key has already been used".into()));
    }
    let pending: i64 = t.pending_refunds.iter().map(|r| r.amount).sum();
    let remaining = t.gross_amount - t.refunded - pending;
    let amount = amount.unwrap_or(remaining);
    if amount < 1 || amount > remaining {
        return Err(("414", "Refund amount must be between 1 and the amount not yet refunded".into()));
    }
    *seq += 1;
    let key = key.unwrap_or_else(|| format!("sim-{}", uuid()));
    used_keys.insert(key.clone());
    let refund = Refund {
        refund_key: key,
        amount,
        reason,
        created_at: common::now_secs(),
        refund_chargeback_id: *seq,
    };
    let status = if t.refunded + pending + amount >= t.gross_amount { "refund" } else { "partial_refund" };
    if pending_mode {
        t.pending_refunds.push(refund.clone());
    } else {
        apply_refund(t, refund.clone());
    }
    Ok((status.to_owned(), refund))
}

// ----- notifications -----

#[derive(Debug, Clone)]
struct DeliveryMeta {
    order_id: String,
    mode: NotificationMode,
    transaction_status: String,
    status_code: String,
}

async fn deliver_snapshot(
    s: &Arc<Shared>,
    t: &Transaction,
    mode: NotificationMode,
    overrides: &Value,
) -> (u16, String) {
    let (target, body, schedule, timeout) = {
        let l = s.ledger();
        (
            t.notification_url.clone().or_else(|| l.notification_url.clone()).map(|url| match &l.reroute {
                Some((from, to)) if url.starts_with(from.as_str()) => format!("{to}{}", &url[from.len()..]),
                _ => url,
            }),
            notification_body(&s.server_key, t, mode, l.afi_fee, l.omit_expiry_time, overrides),
            l.retry_schedule.clone(),
            l.receiver_timeout,
        )
    };
    let sent: Value = serde_json::from_str(&body).unwrap_or_default();
    let meta = DeliveryMeta {
        order_id: t.order_id.clone(),
        mode,
        transaction_status: sent["transaction_status"].as_str().unwrap_or_default().to_owned(),
        status_code: sent["status_code"].as_str().unwrap_or_default().to_owned(),
    };
    let copies = if mode == NotificationMode::Duplicate { 2 } else { 1 };
    let mut first = None;
    for _ in 0..copies {
        let answer = send_with_retries(s, &meta, target.as_deref(), &body, &schedule, timeout).await;
        first.get_or_insert(answer);
    }
    first.unwrap_or_default()
}

fn retries_for(status: u16) -> u32 {
    match status {
        200..=299 | 301..=303 => 0,
        500 => 1,
        503 => 4,
        400 | 404 => 2,
        _ => 5,
    }
}

async fn send_with_retries(
    s: &Arc<Shared>,
    meta: &DeliveryMeta,
    target: Option<&str>,
    body: &str,
    schedule: &[Duration],
    timeout: Duration,
) -> (u16, String) {
    let Some(url) = target else {
        let answer =
            "no notification URL: no X-Override-Notification and no deliver_notifications_to".to_owned();
        record(s, meta, "", 0, 0, &answer, body, 0);
        return (0, answer);
    };
    let (status, answer) = attempt(s, meta, url, body, 0, timeout).await;
    let retries = retries_for(status);
    if retries > 0 {
        let (s, meta, url, body, schedule) =
            (s.clone(), meta.clone(), url.to_owned(), body.to_owned(), schedule.to_vec());
        tokio::spawn(async move {
            for n in 1..=retries {
                let index = usize::try_from(n - 1).unwrap_or(usize::MAX);
                let wait =
                    schedule.get(index).or(schedule.last()).copied().unwrap_or(Duration::from_millis(200));
                tokio::time::sleep(wait).await;
                let (status, _) = attempt(&s, &meta, &url, &body, n, timeout).await;
                if retries_for(status) == 0 {
                    break;
                }
            }
        });
    }
    (status, answer)
}

async fn attempt(
    s: &Arc<Shared>,
    meta: &DeliveryMeta,
    url: &str,
    body: &str,
    n: u32,
    timeout: Duration,
) -> (u16, String) {
    let mut url = url.to_owned();
    let mut hops = 0u32;
    let (status, answer) = loop {
        let sent = s
            .http
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, "Veritrans")
            .timeout(timeout)
            .body(body.to_owned())
            .send()
            .await;
        let res = match sent {
            Ok(res) => res,
            Err(e) => break (0, e.to_string()),
        };
        let status = res.status().as_u16();
        if matches!(status, 307 | 308) && hops < 5 {
            let next = res
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| res.url().join(l).ok());
            if let Some(next) = next {
                url = next.to_string();
                hops += 1;
                continue;
            }
        }
        break (status, res.text().await.unwrap_or_default());
    };
    record(s, meta, &url, n, status, &answer, body, hops);
    (status, answer)
}

#[allow(clippy::too_many_arguments)]
fn record(
    s: &Shared,
    meta: &DeliveryMeta,
    url: &str,
    attempt: u32,
    http_status: u16,
    answer: &str,
    body: &str,
    redirects: u32,
) {
    s.ledger().deliveries.push(Delivery {
        order_id: meta.order_id.clone(),
        url: url.to_owned(),
        attempt,
        mode: meta.mode,
        transaction_status: meta.transaction_status.clone(),
        status_code: meta.status_code.clone(),
        body: body.to_owned(),
        http_status,
        answer: answer.to_owned(),
        redirects,
        at: Instant::now(),
    });
}

// ----- pages the payer sees -----

fn page(title: &str, inner: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>{inner}</body></html>"
    )
}

async fn three_ds_page(State(s): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    let amount = {
        let l = s.ledger();
        l.txs.values().find(|t| t.three_ds_token.as_deref() == Some(token.as_str())).map(|t| t.gross_amount)
    };
    let Some(amount) = amount else {
        return (StatusCode::NOT_FOUND, Html(page("Unknown 3DS session", ""))).into_response();
    };
    let action = format!("/v2/3ds/redirect/{token}");
    Html(page(
        "3D Secure (simulated issuer)",
        &format!(
            "<p>Amount: IDR {amount}</p>\
             <form id=\"approve\" method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"result\" value=\"approve\">\
             <label>OTP <input name=\"otp\" value=\"{SANDBOX_OTP}\"></label><button type=\"submit\">Authenticate</button></form>\
             <form id=\"deny\" method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"result\" value=\"deny\">\
             <button type=\"submit\">Fail authentication</button></form>"
        ),
    ))
    .into_response()
}

async fn three_ds_submit(State(s): State<Arc<Shared>>, Path(token): Path<String>, body: Bytes) -> Response {
    let form = std::str::from_utf8(&body).ok().and_then(parse_form).unwrap_or_default();
    let approve = form.get("result").map(String::as_str) == Some("approve")
        && form.get("otp").map(String::as_str) == Some(SANDBOX_OTP);
    let snapshot = {
        let mut l = s.ledger();
        l.txs
            .values_mut()
            .find(|t| t.three_ds_token.as_deref() == Some(token.as_str()) && t.status == "pending")
            .map(|t| {
                finish_3ds(t, approve);
                t.clone()
            })
    };
    let Some(t) = snapshot else {
        return (StatusCode::CONFLICT, Html(page("This 3DS session is no longer waiting", "")))
            .into_response();
    };
    tokio::spawn(async move {
        deliver_snapshot(&s, &t, NotificationMode::Normal, &Value::Null).await;
    });
    let outcome = if approve { "Authentication complete." } else { "Authentication failed." };
    Html(page("3D Secure (simulated issuer)", &format!("<p id=\"done\">{outcome}</p>"))).into_response()
}

async fn deeplink_page(State(s): State<Arc<Shared>>, Path(trx): Path<String>) -> Response {
    let found = s.ledger().find_mut(&trx).map(|t| (t.payment_type.clone(), t.gross_amount));
    let Some((kind, amount)) = found else {
        return (StatusCode::NOT_FOUND, Html(page("Unknown payment", ""))).into_response();
    };
    Html(page(
        &format!("{kind} (simulated app)"),
        &format!(
            "<p>Amount: IDR {amount}</p><form id=\"pay\" method=\"post\" action=\"/deeplink/{trx}\">\
             <button type=\"submit\">Pay</button></form>"
        ),
    ))
    .into_response()
}

async fn deeplink_submit(State(s): State<Arc<Shared>>, Path(trx): Path<String>) -> Response {
    let snapshot = {
        let mut l = s.ledger();
        l.find_mut(&trx).filter(|t| t.status == "pending").map(|t| {
            settle(t);
            t.clone()
        })
    };
    let Some(t) = snapshot else {
        return (StatusCode::CONFLICT, Html(page("This payment is no longer waiting", ""))).into_response();
    };
    tokio::spawn(async move {
        deliver_snapshot(&s, &t, NotificationMode::Normal, &Value::Null).await;
    });
    Html(page("Paid", "<p id=\"done\">Payment complete.</p>")).into_response()
}

async fn qr_image(State(s): State<Arc<Shared>>, Path(trx): Path<String>) -> Response {
    let known = s.ledger().txs.values().any(|t| t.transaction_id == trx && t.qr_string.is_some());
    if !known {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let png = STANDARD.decode(PNG_1X1).unwrap_or_default();
    (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], png).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_reference_vector() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
    }

    #[test]
    fn sandbox_cards_pass_luhn() {
        for card in [
            CARD_3DS,
            CARD_BANK_DENY,
            CARD_BANK_DENY_2,
            CARD_MC_DENY,
            CARD_FDS_DENY,
            CARD_FRICTIONLESS,
            CARD_MC_ACCEPT,
            CARD_ATTEMPTED_3DS,
            CARD_3DS2_CHALLENGE,
            CARD_DELAYED,
            CARD_RC51,
        ] {
            assert!(luhn(card), "{card}");
        }
        assert!(!luhn("4811111111111115"));
    }

    #[test]
    fn qris_payload_is_well_formed() {
        for after in [false, true] {
            let p = qris_payload(150_000, "0b4b1e5c-aaaa-4bbb-8ccc-123456789012", "gopay", after);
            let (body, crc) = p.split_at(p.len() - 4);
            assert_eq!(crc, format!("{:04X}", crc16_ccitt_false(body.as_bytes())));
            // Walk the TLV.
            let mut tags = Vec::new();
            let mut i = 0;
            while i < p.len() {
                let tag = &p[i..i + 2];
                let len: usize = p[i + 2..i + 4].parse().unwrap();
                tags.push((tag.to_owned(), p[i + 4..i + 4 + len].to_owned()));
                i += 4 + len;
            }
            let get = |t: &str| tags.iter().find(|(k, _)| k == t).map(|(_, v)| v.clone()).unwrap();
            assert_eq!(get("00"), "01");
            assert_eq!(get("01"), "12");
            assert!(get("26").contains("COM.GO-JEK.WWW"));
            assert!(get("51").contains("ID.CO.QRIS.WWW"));
            assert_eq!(get("53"), "360");
            assert_eq!(get("54"), "150000");
            assert_eq!(tags.last().unwrap().0, "63");
            let pos = |t: &str| tags.iter().position(|(k, _)| k == t).unwrap();
            assert_eq!(pos("54") > pos("62"), after);
        }
    }

    #[test]
    fn order_time_and_wib() {
        let t = parse_order_time("2020-12-17 10:55:00 +0700").unwrap();
        assert_eq!(t, 1_608_177_300);
        assert_eq!(wib(t), "2020-12-17 10:55:00");
        assert_eq!(parse_order_time("2020-12-17 10:55:00 +0000"), None);
        assert_eq!(parse_order_time("2020-12-17T10:55:00 +0700"), None);
    }

    #[test]
    fn signature_is_sha512_hex() {
        let s = signature_key("pa_X", "200", "150000.00", "SB-Mid-server-abc");
        assert_eq!(s.len(), 128);
        assert_eq!(s, common::hex(&sha2::Sha512::digest(b"pa_X200150000.00SB-Mid-server-abc")));
    }

    fn basic(key: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{key}:")))
    }

    #[tokio::test]
    async fn card_token_charge_status_refund() {
        let sim = MidtransSim::start("SB-Mid-server-k", "SB-Mid-client-k").await;
        sim.error_style(ErrorStyle::HttpStatus);
        let http = reqwest::Client::new();
        let tok = |pan: &str, year: &str| {
            format!(
                "{}/v2/token?client_key=SB-Mid-client-k&card_number={pan}&card_exp_month=12&card_exp_year={year}&card_cvv=123",
                sim.url
            )
        };
        // A 2-digit year and a server key are refused.
        let r: Value = http.get(tok(CARD_FRICTIONLESS, "39")).send().await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "400");
        let r = http.get(tok(CARD_FRICTIONLESS, "2039")).header("Authorization", basic("SB-Mid-server-k"));
        assert_eq!(r.send().await.unwrap().status(), 401);
        let r: Value = http.get(tok(CARD_FRICTIONLESS, "2039")).send().await.unwrap().json().await.unwrap();
        let token_id = r["token_id"].as_str().unwrap().to_owned();
        assert!(token_id.starts_with("45565579-6624-"));
        let charge = |order: &str, amount: Value| {
            http.post(format!("{}/v2/charge", sim.url))
                .header("Authorization", basic("SB-Mid-server-k"))
                .header("Content-Type", "application/json")
                .body(
                    json!({"payment_type": "credit_card",
                        "transaction_details": {"order_id": order, "gross_amount": amount},
                        "credit_card": {"token_id": token_id, "authentication": true}})
                    .to_string(),
                )
                .send()
        };
        let r = charge("pa_1", json!(150_000.0)).await.unwrap();
        assert_eq!(r.status(), 400);
        let r: Value = charge("pa_1", json!(150_000)).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "200");
        assert_eq!(r["transaction_status"], "capture");
        assert_eq!(r["gross_amount"], "150000.00");
        assert_eq!(r["masked_card"], "45565579-6624");
        // Single use.
        let r: Value = charge("pa_2", json!(150_000)).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "400");
        let status: Value = http
            .get(format!("{}/v2/pa_1/status", sim.url))
            .header("Authorization", basic("SB-Mid-server-k"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(status["signature_key"], sim.sign("pa_1", "200", "150000.00"));
        let refund = |key: &str, amount: i64| {
            http.post(format!("{}/v2/pa_1/refund", sim.url))
                .header("Authorization", basic("SB-Mid-server-k"))
                .header("Content-Type", "application/json")
                .body(json!({"refund_key": key, "amount": amount}).to_string())
                .send()
        };
        let r: Value = refund("rf_1", 50_000).await.unwrap().json().await.unwrap();
        assert_eq!(r["transaction_status"], "partial_refund");
        assert_eq!(r["refund_amount"], "50000.00");
        let r: Value = refund("rf_1", 50_000).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "406");
        let r: Value = refund("rf_2", 100_001).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "414");
        assert_eq!(sim.transaction("pa_1").unwrap().refunded, 50_000);
        assert_eq!(sim.refund_calls().len(), 3);
        assert!(!sim.rejections().iter().any(|r| r.contains(CARD_FRICTIONLESS)));
    }

    type Seen = Arc<Mutex<(Vec<(HeaderMap, String)>, VecDeque<u16>)>>;

    /// A receiver answering the queued statuses (then 200), keeping what came.
    async fn receiver(statuses: &[u16]) -> (String, Seen) {
        let seen: Seen = Arc::new(Mutex::new((Vec::new(), statuses.iter().copied().collect())));
        let app = axum::Router::new()
            .route(
                "/hook",
                post(|State(seen): State<Seen>, headers: HeaderMap, body: String| async move {
                    let mut s = seen.lock().unwrap();
                    s.0.push((headers, body));
                    StatusCode::from_u16(s.1.pop_front().unwrap_or(200)).unwrap()
                }),
            )
            .with_state(seen.clone());
        (format!("{}/hook", common::serve(app).await), seen)
    }

    async fn eventually(mut f: impl FnMut() -> bool) {
        for _ in 0..100 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("condition never held");
    }

    #[tokio::test]
    async fn notifications_holds_expiry_refunds_3ds_idempotency() {
        let sim = MidtransSim::start("SB-Mid-server-k", "SB-Mid-client-k").await;
        sim.error_style(ErrorStyle::HttpStatus);
        sim.set_retry_schedule(vec![Duration::from_millis(20)]);
        let (hook, seen) = receiver(&[503, 503, 200]).await;
        let http = reqwest::Client::new();
        let charge = |body: Value, extra: Vec<(&'static str, String)>| {
            let mut r = http
                .post(format!("{}/v2/charge", sim.url))
                .header("Authorization", basic("SB-Mid-server-k"))
                .header("Content-Type", "application/json");
            for (k, v) in extra {
                r = r.header(k, v);
            }
            r.body(body.to_string()).send()
        };
        let va = |order: &str| {
            json!({"payment_type": "bank_transfer", "transaction_details": {"order_id": order, "gross_amount": 10_000},
                "bank_transfer": {"bank": "bca"}})
        };
        // Four URLs are refused; the first of three is used.
        let urls = |n: usize| vec![("X-Override-Notification", vec![hook.clone(); n].join(","))];
        assert_eq!(charge(va("o1"), urls(4)).await.unwrap().status(), 400);
        let r: Value = charge(va("o1"), urls(3)).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "201");
        assert_eq!(r["va_numbers"][0]["bank"], "bca");
        assert_eq!(r["va_numbers"][0]["va_number"].as_str().unwrap().len(), 11);
        assert!(r.get("fraud_status").is_some());
        // Duplicate order, even with another body.
        let r: Value = charge(va("o1"), vec![]).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "406");
        // Pay: 503, then 4 retries allowed; the second retry gets 200.
        assert_eq!(sim.pay("o1").await.0, 503);
        eventually(|| seen.lock().unwrap().0.len() == 3).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(seen.lock().unwrap().0.len(), 3);
        let deliveries = sim.notifications();
        assert_eq!(deliveries.iter().map(|d| d.http_status).collect::<Vec<_>>(), vec![503, 503, 200]);
        let (headers, body) = seen.lock().unwrap().0[0].clone();
        assert_eq!(headers["user-agent"], "Veritrans");
        assert_eq!(headers["accept"], "application/json");
        assert!(headers.get("authorization").is_none());
        let n: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(n["transaction_status"], "settlement");
        assert_eq!(n["signature_key"], sim.sign("o1", "200", "10000.00"));
        // Refunding a VA is refused.
        let refund = |id: &str, b: Value| {
            http.post(format!("{}/v2/{id}/refund", sim.url))
                .header("Authorization", basic("SB-Mid-server-k"))
                .header("Content-Type", "application/json")
                .body(b.to_string())
                .send()
        };
        let r: Value = refund("o1", json!({"refund_key": "k1"})).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "412");

        // NoAnswer: 404 on status meanwhile, then the answer.
        sim.push_scenario(Scenario::NoAnswer(Duration::from_millis(400)));
        let qris = json!({"payment_type": "qris", "transaction_details": {"order_id": "o2", "gross_amount": 25_000},
            "qris": {"acquirer": "gopay"}});
        let pending = tokio::spawn(charge(qris, vec![]));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let status = |id: &str| {
            http.get(format!("{}/v2/{id}/status", sim.url))
                .header("Authorization", basic("SB-Mid-server-k"))
                .send()
        };
        let r: Value = status("o2").await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "404");
        let r: Value = pending.await.unwrap().unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "201");
        assert!(r["qr_string"].as_str().unwrap().starts_with("000201010212"));
        assert_eq!(r["actions"][1]["name"], "generate-qr-code-v2");
        let img = http.get(r["actions"][0]["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(img.headers()["content-type"], "image/png");
        // Expire, 407 on status, then a late payment still lands.
        let r: Value = http
            .post(format!("{}/v2/o2/expire", sim.url))
            .header("Authorization", basic("SB-Mid-server-k"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["status_code"], "407");
        let r: Value = status("o2").await.unwrap().json().await.unwrap();
        assert_eq!(
            (r["status_code"].as_str(), r["transaction_status"].as_str()),
            (Some("407"), Some("expire"))
        );
        sim.deliver_notifications_to(&hook);
        assert_eq!(sim.pay("o2").await.0, 200);
        // A pending refund is absent from status until finished.
        sim.set_refunds_pending(true);
        let r: Value =
            refund("o2", json!({"refund_key": "k2", "amount": 5_000})).await.unwrap().json().await.unwrap();
        assert_eq!(r["transaction_status"], "partial_refund");
        let r: Value = status("o2").await.unwrap().json().await.unwrap();
        assert!(r.get("refunds").is_none());
        assert_eq!(r["transaction_status"], "settlement");
        let r: Value =
            refund("o2", json!({"refund_key": "k3", "amount": 20_001})).await.unwrap().json().await.unwrap();
        assert_eq!(r["status_code"], "414");
        sim.finish_pending_refunds().await;
        let r: Value = status("o2").await.unwrap().json().await.unwrap();
        assert_eq!(r["refunds"][0]["refund_key"], "k2");
        assert_eq!(r["refund_amount"], "5000.00");

        // The 3DS page posts back; the outcome comes by notification.
        let tok: Value = http
            .get(format!(
                "{}/v2/token?client_key=SB-Mid-client-k&card_number={CARD_3DS}&card_exp_month=01&card_exp_year=2099&card_cvv=123",
                sim.url
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let card = json!({"payment_type": "credit_card", "transaction_details": {"order_id": "o3", "gross_amount": 7_000},
            "credit_card": {"token_id": tok["token_id"], "authentication": true, "installment_term": 6, "bank": "bni"}});
        // Idempotency: a retry while the first is held gets HTTP 202.
        sim.push_scenario(Scenario::NoAnswer(Duration::from_millis(300)));
        let first = tokio::spawn(charge(card.clone(), vec![("Idempotency-Key", "idem-1".into())]));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            charge(card.clone(), vec![("Idempotency-Key", "idem-1".into())]).await.unwrap().status(),
            202
        );
        let r: Value = first.await.unwrap().unwrap().json().await.unwrap();
        assert_eq!((r["status_code"].as_str(), r["installment_term"].as_str()), (Some("201"), Some("6")));
        let again: Value =
            charge(card, vec![("Idempotency-Key", "idem-1".into())]).await.unwrap().json().await.unwrap();
        assert_eq!(again["transaction_id"], r["transaction_id"]);
        let redirect = r["redirect_url"].as_str().unwrap();
        assert!(http.get(redirect).send().await.unwrap().text().await.unwrap().contains("Authenticate"));
        let before = seen.lock().unwrap().0.len();
        let page = http
            .post(redirect)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("result=approve&otp={SANDBOX_OTP}"))
            .send()
            .await
            .unwrap();
        assert!(page.status().is_success());
        eventually(|| seen.lock().unwrap().0.len() > before).await;
        let n: Value = serde_json::from_str(&seen.lock().unwrap().0[before].1).unwrap();
        assert_eq!(
            (n["transaction_status"].as_str(), n["fraud_status"].as_str()),
            (Some("capture"), Some("accept"))
        );
        assert_eq!(n["installment_term"], 6);
        // Forged and AmountAsNumber are sent as asked.
        sim.send_notification("o3", NotificationMode::AmountAsNumber).await;
        let n: Value = serde_json::from_str(&seen.lock().unwrap().0.last().unwrap().1).unwrap();
        assert!(n["gross_amount"].is_f64());
    }
}
