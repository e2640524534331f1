//! All HTTP the widget does: the widget API with the session's client
//! secret (never a merchant key), read from the hosted page's `<meta>` tags.

use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// What the hosted page tells the widget.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// Kasir's base URL.
    pub api: String,
    /// `cs_…`.
    pub session_id: String,
    /// The session's client secret.
    pub client_secret: String,
}

impl PageContext {
    /// Reads `kasir-api` and `kasir-session` from the page, and the client
    /// secret from the URL's fragment (`/pay/{id}#{client_secret}`), which
    /// the browser never sends to a server.
    pub fn from_page() -> Option<PageContext> {
        let window = web_sys::window()?;
        let document = window.document()?;
        let fragment = window.location().hash().ok().unwrap_or_default();
        let client_secret = fragment
            .trim_start_matches('#')
            .split('&')
            .next()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))?
            .to_owned();
        let meta = |name: &str| {
            document
                .query_selector(&format!("meta[name=\"{name}\"]"))
                .ok()
                .flatten()
                .and_then(|e| e.get_attribute("content"))
                .filter(|v| !v.is_empty())
        };
        Some(PageContext { api: meta("kasir-api")?, session_id: meta("kasir-session")?, client_secret })
    }
}

/// The merchant, as the widget shows it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Merchant {
    /// Shown at the top.
    pub display_name: String,
    /// Colours, radius and font (checked by the server).
    #[serde(default)]
    pub theme: Option<Theme>,
}

/// The merchant's look, as CSS variable values.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Theme {
    /// `#rrggbb`.
    pub primary_color: String,
    /// A CSS length.
    pub radius: String,
    /// A font family.
    pub font: String,
}

/// The next step an attempt asks of the shopper.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Kasir's one-time sandboxed 3DS page.
    ThreeDs {
        /// Its URL.
        url: String,
    },
    /// A QRIS code.
    ShowQr {
        /// The payload.
        #[serde(default)]
        qr_payload: Option<String>,
        /// Or an image.
        #[serde(default)]
        image_url: Option<String>,
        /// Unix seconds.
        expires_at: i64,
    },
    /// A virtual account.
    ShowVirtualAccount {
        /// Bank code.
        bank: String,
        /// The number.
        number: String,
        /// Unix seconds.
        expires_at: i64,
    },
    /// Go to the wallet.
    Redirect {
        /// Where.
        url: String,
    },
}

/// An attempt.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Attempt {
    /// `pa_…`.
    pub id: String,
    /// Attempt status.
    pub status: String,
    /// What to do next.
    #[serde(default)]
    pub next_action: Option<NextAction>,
    /// Why it failed.
    #[serde(default)]
    pub failure_code: Option<String>,
}

/// The session as the widget API shows it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Session {
    /// `cs_…`.
    pub id: String,
    /// Session status.
    pub status: String,
    /// Whole rupiah.
    pub amount: i64,
    /// The merchant.
    pub merchant: Merchant,
    /// Allowed methods.
    pub payment_methods: Vec<String>,
    /// `id` or `en`.
    pub locale: String,
    /// Where to go back to.
    #[serde(default)]
    pub return_url: Option<String>,
    /// The latest attempt.
    #[serde(default)]
    pub latest_attempt: Option<Attempt>,
    /// Per method, the fields the routed provider needs (`nik`, `email`, …).
    #[serde(default)]
    pub required_fields: std::collections::BTreeMap<String, Vec<String>>,
    /// Installment plans (months) offered on cards.
    #[serde(default)]
    pub installment_months: Vec<u8>,
}

impl Session {
    /// Whether the routed provider for `method` needs `field`.
    pub fn needs(&self, method: &str, field: &str) -> bool {
        self.required_fields.get(method).is_some_and(|f| f.iter().any(|x| x == field))
    }
}

/// A failed call: Kasir's error body, or no answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    /// Kasir's stable code (`network` when there was no answer).
    pub code: String,
    /// The message in the page's language.
    pub message: String,
    /// The field concerned.
    pub field: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    message_id: String,
    #[serde(default)]
    field: Option<String>,
}

fn network(_: wasm_bindgen::JsValue) -> CallError {
    CallError { code: "network".into(), message: String::new(), field: None }
}

async fn call<T: serde::de::DeserializeOwned>(
    ctx: &PageContext,
    method: &str,
    path: &str,
    body: Option<String>,
    indonesian: bool,
) -> Result<T, CallError> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = &body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(&format!("{}{path}", ctx.api), &init).map_err(network)?;
    let headers = request.headers();
    headers.set("Authorization", &format!("Bearer {}", ctx.client_secret)).map_err(network)?;
    headers.set("Content-Type", "application/json").map_err(network)?;
    let window = web_sys::window().ok_or_else(|| network(wasm_bindgen::JsValue::NULL))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        serde_json::from_str(&text).map_err(|_| CallError {
            code: "network".into(),
            message: String::new(),
            field: None,
        })
    } else {
        let e =
            serde_json::from_str::<ErrorBody>(&text).map_err(|_| network(wasm_bindgen::JsValue::NULL))?.error;
        Err(CallError {
            code: e.code,
            message: if indonesian { e.message_id } else { e.message },
            field: e.field,
        })
    }
}

/// `GET /v1/widget/sessions/{id}`.
pub async fn session(ctx: &PageContext, indonesian: bool) -> Result<Session, CallError> {
    call(ctx, "GET", &format!("/v1/widget/sessions/{}", ctx.session_id), None, indonesian).await
}

/// `POST /v1/widget/sessions/{id}/attempts`; `body` is the attempt's JSON.
pub async fn attempt(ctx: &PageContext, body: String, indonesian: bool) -> Result<Attempt, CallError> {
    call(ctx, "POST", &format!("/v1/widget/sessions/{}/attempts", ctx.session_id), Some(body), indonesian)
        .await
}

/// Follows the session over Server-Sent Events (`event: session`), calling
/// `on_update` with each view; returns the `EventSource` (dropped: closed).
pub fn follow(ctx: &PageContext, on_update: impl Fn(Session) + 'static) -> Option<web_sys::EventSource> {
    let url = format!(
        "{}/v1/widget/sessions/{}/events?client_secret={}",
        ctx.api,
        ctx.session_id,
        js_sys::encode_uri_component(&ctx.client_secret)
    );
    let source = web_sys::EventSource::new(&url).ok()?;
    let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            if let Some(session) =
                event.data().as_string().and_then(|d| serde_json::from_str::<Session>(&d).ok())
            {
                on_update(session);
            }
        },
    );
    source.add_event_listener_with_callback("session", listener.as_ref().unchecked_ref()).ok()?;
    // The page lives as long as the listener is needed.
    listener.forget();
    Some(source)
}
