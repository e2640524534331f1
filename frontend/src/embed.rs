//! Talking to the storefront when the page is embedded (`?embed=1`, loaded
//! by `/embed.js`): `postMessage` with an explicit target origin, and only
//! to a parent whose origin is one of the merchant's allowed origins (the
//! server lists them in `kasir-parent-origins`), never `"*"`.

use wasm_bindgen::JsValue;

/// The storefront that embeds the checkout.
#[derive(Debug, Clone)]
pub struct Parent {
    origin: String,
}

fn meta(name: &str) -> Option<String> {
    let document = web_sys::window()?.document()?;
    document.query_selector(&format!("meta[name=\"{name}\"]")).ok().flatten()?.get_attribute("content")
}

impl Parent {
    /// The embedding storefront, if this page is embedded by an allowed origin.
    pub fn detect() -> Option<Parent> {
        let window = web_sys::window()?;
        let location = window.location();
        if !location.search().ok()?.contains("embed=1") {
            return None;
        }
        // `location.ancestorOrigins` (Chromium, WebKit) names the parent
        // reliably; elsewhere the referrer's origin stands in.
        let ancestors = js_sys::Reflect::get(location.as_ref(), &"ancestorOrigins".into()).ok();
        let origin = ancestors
            .filter(|list| !list.is_undefined() && !list.is_null())
            .and_then(|list| js_sys::Reflect::get(&list, &0.into()).ok())
            .and_then(|first| first.as_string())
            .or_else(|| {
                let referrer = window.document()?.referrer();
                let rest = referrer.split_once("://")?;
                let host = rest.1.split('/').next()?;
                Some(format!("{}://{host}", rest.0))
            })?;
        let allowed = meta("kasir-parent-origins").unwrap_or_default();
        allowed.split_whitespace().any(|o| o == origin).then_some(Parent { origin })
    }

    /// Posts `{type, ...fields}` to the storefront.
    pub fn post(&self, kind: &str, fields: &[(&str, JsValue)]) {
        let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) else { return };
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
        for (key, value) in fields {
            let _ = js_sys::Reflect::set(&message, &(*key).into(), value);
        }
        let _ = parent.post_message(&message, &self.origin);
    }
}
