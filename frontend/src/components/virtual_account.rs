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
    /// Mandiri bill payment: the company code, entered before the number.
    biller_code: Option<String>,
    expires_at: i64,
    /// The amount to transfer, formatted (`Rp150.000`).
    amount: String,
    /// The amount in whole rupiah, as typed into a banking app.
    rupiah: u64,
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
    // Read and typed in groups of four; copied as the bare digits.
    let grouped = number
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let amount_copied = RwSignal::new(false);
    let copy_amount = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&rupiah.to_string());
            amount_copied.set(true);
        }
    };
    view! {
        <section class="kasir-va" aria-label=move || t().va_number>
            {match biller_code {
                Some(code) => view! {
                    <p>{bank_name} " · " {move || t().biller_code}</p>
                    <p class="kasir-va-number" data-testid="biller-code">{code}</p>
                    <p>{move || t().bill_key}</p>
                }.into_any(),
                None => view! { <p>{bank_name} " · " {move || t().va_number}</p> }.into_any(),
            }}
            <p class="kasir-va-number" data-testid="va-number" data-number=number>{grouped}</p>
            <button type="button" class="kasir-secondary" data-testid="copy-va" on:click=copy>
                {move || if copied.get() { t().copied } else { t().copy }}
            </button>
            <p class="kasir-va-amount" data-testid="va-amount">{amount}</p>
            <button type="button" class="kasir-secondary" data-testid="copy-amount" on:click=copy_amount>
                {move || if amount_copied.get() { t().copied } else { t().copy_amount }}
            </button>
            <p>{move || t().va_howto}</p>
            <p role="timer">{move || format!("{} {}", t().expires_in, countdown(expires_at, now.get()))}</p>
        </section>
    }
}
