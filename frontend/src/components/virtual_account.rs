use kasir_shared::Locale;
use leptos::prelude::*;

use super::qris::countdown;
use crate::i18n::texts;

/// A virtual account number with a copy button and how to pay it.
#[component]
pub fn VirtualAccountView(
    locale: ReadSignal<Locale>,
    bank: kasir_shared::payment::Bank,
    number: String,
    expires_at: i64,
    now: ReadSignal<i64>,
) -> impl IntoView {
    let t = move || texts(locale.get());
    let copied = RwSignal::new(false);
    let to_copy = number.clone();
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&to_copy);
            copied.set(true);
        }
    };
    let bank_name = bank.display_name();
    view! {
        <section class="kasir-va" aria-label=move || t().va_number>
            <p>{bank_name} " · " {move || t().va_number}</p>
            <p class="kasir-va-number" data-testid="va-number">{number}</p>
            <button type="button" class="kasir-secondary" on:click=copy>
                {move || if copied.get() { t().copied } else { t().copy }}
            </button>
            <p>{move || t().va_howto}</p>
            <p role="timer">{move || format!("{} {}", t().expires_in, countdown(expires_at, now.get()))}</p>
        </section>
    }
}
