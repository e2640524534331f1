use kasir_shared::Locale;
use kasir_shared::payment::Channel;
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
    /// The bank's steps per channel, in both languages, from the server
    /// (kept out of the wasm: 54 lists of text).
    steps: Vec<kasir_shared::api::VaChannelSteps>,
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
            <h2 class="kasir-code-steps-title">{move || t().how_to_pay}</h2>
            // Each channel's steps for this bank (kasir-shared's one table);
            // the phone's banking app first, open: most shoppers are there.
            <div class="kasir-va-steps" data-testid="va-steps">
                {steps
                    .into_iter()
                    .map(|channel| {
                        let open = channel.channel == Channel::Mobile;
                        let name = channel.channel;
                        view! {
                            <details open=open data-testid=format!("va-steps-{name:?}")>
                                <summary>{move || name.label(locale.get())}</summary>
                                <ol class="kasir-code-steps">
                                    {move || {
                                        let list = match locale.get() {
                                            Locale::Id => channel.id.clone(),
                                            Locale::En => channel.en.clone(),
                                        };
                                        list.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()
                                    }}
                                </ol>
                            </details>
                        }
                    })
                    .collect_view()}
            </div>
            <p role="timer">{move || format!("{} {}", t().expires_in, countdown(expires_at, now.get()))}</p>
        </section>
    }
}
