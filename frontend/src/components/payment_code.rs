//! A convenience-store payment code: large, copyable, with the chain's
//! steps, the deadline counting down, and a printable view.

use kasir_shared::Locale;
use kasir_shared::payment::Store;
use leptos::prelude::*;

use super::qris::countdown;
use crate::i18n::texts;

/// The code the cashier types, and how to pay it.
#[component]
pub fn PaymentCodeView(
    locale: ReadSignal<Locale>,
    store: Store,
    code: String,
    expires_at: i64,
    /// The steps in the session's language, from the server.
    instructions: Vec<String>,
    amount: String,
    now: ReadSignal<i64>,
) -> impl IntoView {
    let t = move || texts(locale.get());
    let copied = RwSignal::new(false);
    let to_copy = code.clone();
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&to_copy);
            copied.set(true);
        }
    };
    // The page's language may differ from the session's: the shared table
    // has both, the server's copy is the fallback.
    let steps = move || {
        let own = store.steps(locale.get());
        if own.is_empty() { instructions.clone() } else { own.iter().map(|s| (*s).to_owned()).collect() }
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    view! {
        <section class="kasir-code" aria-label=move || t().payment_code>
            <p>{store.display_name()} " · " {move || t().payment_code}</p>
            <p class="kasir-code-number" data-testid="payment-code">{code}</p>
            <p class="kasir-code-amount">{amount}</p>
            <button type="button" class="kasir-secondary" data-testid="copy-code" on:click=copy>
                {move || if copied.get() { t().copied } else { t().copy }}
            </button>
            <h2 class="kasir-code-steps-title">{move || t().how_to_pay}</h2>
            <ol class="kasir-code-steps" data-testid="code-steps">
                {move || steps().into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}
            </ol>
            <p role="timer" data-testid="countdown">{move || format!("{} {}", t().expires_in, countdown(expires_at, now.get()))}</p>
            <button type="button" class="kasir-secondary" data-testid="print-code" on:click=print>{move || t().print_code}</button>
        </section>
    }
}
