//! What is being paid for: the description, the merchant's order number and
//! the session's deadline, on every screen, so that the page is recognisably
//! the shopper's own order and not a bare amount.

use leptos::prelude::*;

use crate::state::Checkout;

/// The order, under the merchant and the amount.
#[component]
pub fn OrderSummary() -> impl IntoView {
    let checkout = Checkout::get();
    let t = move || checkout.texts();
    let session = move || checkout.session.get();
    move || {
        session().map(|s| {
            let deadline = local_time(s.expires_at, checkout.locale.get().as_str());
            view! {
                <section class="kasir-order" data-testid="order">
                    {s.description.map(|d| view! { <p class="kasir-order-description" data-testid="description">{d}</p> })}
                    <dl>
                        <div><dt>{t().order}</dt><dd data-testid="reference">{s.reference}</dd></div>
                        <div><dt>{t().pay_before}</dt><dd data-testid="deadline">{deadline}</dd></div>
                    </dl>
                </section>
            }
        })
    }
}

/// `expires_at` in the shopper's own time zone and language, e.g.
/// "1 Des, 14.35".
fn local_time(unix_secs: i64, locale: &str) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_secs as f64 * 1000.0));
    let options = js_sys::Object::new();
    for (key, value) in [("day", "numeric"), ("month", "short"), ("hour", "2-digit"), ("minute", "2-digit")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_string(locale, &options).as_string().unwrap_or_default()
}
