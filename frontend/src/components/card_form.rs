use kasir_shared::ValidationError;
use kasir_shared::card::{CardNumberInput, CardNumberState, Cvv, Expiry, format_card_number, format_expiry};
use kasir_shared::customer::{FullName, Nik};
use kasir_shared::{ErrorCode, Locale};
use leptos::prelude::*;

use super::Field;
use crate::i18n::texts;

/// Card number, expiry, security code and name, each checked as typed with
/// the same parsers the server runs. Errors appear once a field is left,
/// or at once when the input can no longer become valid.
#[component]
pub fn CardForm(
    /// The current language.
    locale: ReadSignal<Locale>,
    /// The pay button's text (with the amount).
    #[prop(into)]
    pay_label: Signal<String>,
    /// A payment is being sent: the button is disabled (no double submit).
    #[prop(into)]
    busy: Signal<bool>,
    /// Called with the attempt's JSON when every field is valid.
    on_pay: Callback<String>,
    /// The routed provider needs the shopper's NIK (Smart Glocal).
    #[prop(into)]
    needs_nik: Signal<bool>,
    /// Installment plans offered (months); empty: none.
    #[prop(into)]
    installments: Signal<Vec<u8>>,
) -> impl IntoView {
    // For the benchmark: when the card form first exists (BENCHMARKS.md).
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("kasir-card-form");
    }
    let nik = RwSignal::new(String::new());
    let nik_touched = RwSignal::new(false);
    let months = RwSignal::new(0u8);
    let nik_error = Signal::derive(move || {
        (needs_nik.get() && nik_touched.get()).then(|| Nik::parse(&nik.get()).err()).flatten()
    });
    let keep_16: fn(&str) -> String = |s| s.chars().filter(char::is_ascii_digit).take(16).collect();
    let number = RwSignal::new(String::new());
    let expiry = RwSignal::new(String::new());
    let cvv = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let touched = [RwSignal::new(false), RwSignal::new(false), RwSignal::new(false), RwSignal::new(false)];

    let assessed = Memo::new(move |_| CardNumberInput::assess(&number.get(), touched[0].get()));
    let brand = move || assessed.get().brand;
    let number_error = Signal::derive(move || match assessed.get().state {
        CardNumberState::Invalid(e) => Some(e),
        CardNumberState::Empty if touched[0].get() => Some(ValidationError::new(ErrorCode::CardNumberEmpty)),
        CardNumberState::Empty | CardNumberState::Incomplete | CardNumberState::Complete => None,
    });
    let expiry_error =
        Signal::derive(move || touched[1].get().then(|| Expiry::parse(&expiry.get()).err()).flatten());
    let cvv_error =
        Signal::derive(move || touched[2].get().then(|| Cvv::parse(&cvv.get(), brand()).err()).flatten());
    let name_error =
        Signal::derive(move || touched[3].get().then(|| FullName::parse(&name.get()).err()).flatten());
    let keep_digits: fn(&str) -> String = |s| s.chars().filter(char::is_ascii_digit).take(4).collect();
    let keep: fn(&str) -> String = str::to_owned;
    let t = move || texts(locale.get());

    view! {
        <form class="kasir-card" novalidate=true on:submit=move |ev| {
            ev.prevent_default();
            for t in touched {
                t.set(true);
            }
            nik_touched.set(true);
            let valid = matches!(assessed.get_untracked().state, CardNumberState::Complete)
                && expiry_error.get_untracked().is_none()
                && cvv_error.get_untracked().is_none()
                && name_error.get_untracked().is_none()
                && nik_error.get_untracked().is_none();
            if valid && !busy.get_untracked() {
                let mut body = serde_json::json!({"method": "card", "card": {
                    "number": number.get_untracked(), "expiry": expiry.get_untracked(),
                    "cvv": cvv.get_untracked(), "holder_name": name.get_untracked()}});
                if needs_nik.get_untracked() {
                    body["nik"] = serde_json::json!(nik.get_untracked());
                }
                if months.get_untracked() > 0 {
                    body["installment_months"] = serde_json::json!(months.get_untracked());
                }
                on_pay.run(body.to_string());
            }
        }>
            <Field id="card-number" label=Signal::derive(move || t().card_number) value=number
                format=format_card_number error=number_error touched=touched[0] locale=locale
                autocomplete="cc-number" inputmode="numeric" />
            <span class="kasir-brand" data-testid="card-brand">{move || brand().display_name()}</span>
            <div class="kasir-row">
                <Field id="card-expiry" label=Signal::derive(move || t().expiry) value=expiry
                    format=format_expiry error=expiry_error touched=touched[1] locale=locale
                    autocomplete="cc-exp" inputmode="numeric"
                    placeholder=Signal::derive(move || t().expiry_placeholder) />
                <Field id="card-cvv" label=Signal::derive(move || t().cvv) value=cvv
                    format=keep_digits error=cvv_error touched=touched[2] locale=locale
                    autocomplete="cc-csc" inputmode="numeric" />
            </div>
            <Field id="card-name" label=Signal::derive(move || t().holder_name) value=name
                format=keep error=name_error touched=touched[3] locale=locale
                autocomplete="cc-name" />
            <Show when=move || needs_nik.get()>
                <Field id="nik" label=Signal::derive(move || t().nik) value=nik
                    format=keep_16 error=nik_error touched=nik_touched locale=locale
                    autocomplete="off" inputmode="numeric" />
            </Show>
            <Show when=move || !installments.get().is_empty()>
                <div class="kasir-field">
                    <label for="installments">{move || t().installments}</label>
                    <select id="installments" data-testid="installments"
                        on:change=move |ev| months.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0">{move || t().pay_in_full}</option>
                        {move || installments.get().into_iter().map(|m| view! {
                            <option value=m.to_string()>{format!("{m} {}", t().months)}</option>
                        }).collect_view()}
                    </select>
                </div>
            </Show>
            <button type="submit" class="kasir-pay" data-testid="pay" disabled=move || busy.get()
                aria-busy=move || busy.get().to_string()>{move || pay_label.get()}</button>
        </form>
    }
}
