//! All HTTP the widget does: the widget API with the session's client
//! secret (never a merchant key), read from the hosted page's `<meta>` tags.

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

// The wire types are `kasir-shared`'s, the very ones the server serialises.
pub use kasir_shared::api::{
    AttemptRequest, NextAction, PaymentAttempt as Attempt, WidgetMerchant as Merchant,
    WidgetSession as Session,
};

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
    decode(response.ok(), &text, indonesian)
}

/// An answer's body: the value, or Kasir's error in the page's language.
fn decode<T: serde::de::DeserializeOwned>(ok: bool, text: &str, indonesian: bool) -> Result<T, CallError> {
    if ok {
        serde_json::from_str(text).map_err(|_| CallError {
            code: "network".into(),
            message: String::new(),
            field: None,
        })
    } else {
        let e = serde_json::from_str::<kasir_shared::api::ErrorResponse>(text)
            .map_err(|_| network(wasm_bindgen::JsValue::NULL))?
            .error;
        Err(CallError {
            code: e.code,
            message: if indonesian { e.message_id } else { e.message },
            field: e.field,
        })
    }
}

/// The view the page's loader asked for before the wasm arrived
/// (`window.kasirView`: `{ok, text}`), taken once: later calls ask again.
async fn prefetched<T: serde::de::DeserializeOwned>(indonesian: bool) -> Option<Result<T, CallError>> {
    let window = web_sys::window()?;
    let key = wasm_bindgen::JsValue::from_str("kasirView");
    let promise = js_sys::Reflect::get(&window, &key).ok()?.dyn_into::<js_sys::Promise>().ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    // A failed prefetch (offline, say) is simply asked again.
    let answer = JsFuture::from(promise).await.ok()?;
    let ok = js_sys::Reflect::get(&answer, &wasm_bindgen::JsValue::from_str("ok")).ok()?.as_bool()?;
    let text = js_sys::Reflect::get(&answer, &wasm_bindgen::JsValue::from_str("text")).ok()?.as_string()?;
    Some(decode(ok, &text, indonesian))
}

/// `GET /v1/widget/sessions/{id}`.
pub async fn session(ctx: &PageContext, indonesian: bool) -> Result<Session, CallError> {
    if let Some(answer) = prefetched(indonesian).await {
        return answer;
    }
    call(ctx, "GET", &format!("/v1/widget/sessions/{}", ctx.session_id), None, indonesian).await
}

/// `POST /v1/widget/sessions/{id}/attempts`.
pub async fn attempt(
    ctx: &PageContext,
    request: &AttemptRequest,
    indonesian: bool,
) -> Result<Attempt, CallError> {
    let body = serde_json::to_string(request).map_err(|_| network(wasm_bindgen::JsValue::NULL))?;
    call(ctx, "POST", &format!("/v1/widget/sessions/{}/attempts", ctx.session_id), Some(body), indonesian)
        .await
}

/// Follows the session over Server-Sent Events (`event: session`), calling
/// `on_update` with each view and `on_error` when the stream breaks (the
/// browser then reconnects by itself). Once the session can change no more
/// (paid, cancelled, expired, refunded), the stream is closed: the server
/// ends it, and the browser would otherwise reconnect every few seconds
/// for nothing. Returns the `EventSource` (dropped: closed).
pub fn follow(
    ctx: &PageContext,
    on_update: impl Fn(Session) + 'static,
    on_error: impl Fn() + 'static,
) -> Option<web_sys::EventSource> {
    use kasir_shared::payment::SessionStatus;
    let url = format!(
        "{}/v1/widget/sessions/{}/events?client_secret={}",
        ctx.api,
        ctx.session_id,
        js_sys::encode_uri_component(&ctx.client_secret)
    );
    let source = web_sys::EventSource::new(&url).ok()?;
    let closer = source.clone();
    let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(
        move |event: web_sys::MessageEvent| {
            if let Some(session) =
                event.data().as_string().and_then(|d| serde_json::from_str::<Session>(&d).ok())
            {
                let done = session.status.is_final()
                    || matches!(session.status, SessionStatus::Succeeded | SessionStatus::PartiallyRefunded);
                on_update(session);
                if done {
                    closer.close();
                }
            }
        },
    );
    source.add_event_listener_with_callback("session", listener.as_ref().unchecked_ref()).ok()?;
    let broken = wasm_bindgen::closure::Closure::<dyn Fn()>::new(on_error);
    source.set_onerror(Some(broken.as_ref().unchecked_ref()));
    // The page lives as long as the listeners are needed.
    listener.forget();
    broken.forget();
    Some(source)
}
