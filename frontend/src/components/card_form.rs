use kasir_shared::ValidationError;
use kasir_shared::api::{AttemptRequest, CardFields};
use kasir_shared::card::{CardNumberInput, CardNumberState, Cvv, Expiry, format_card_number, format_expiry};
use kasir_shared::customer::BillingFields;
use kasir_shared::customer::{BillingPart, Email, FullName, Nik, PhoneNumber};
use kasir_shared::secret::SecretString;
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
    /// Called with the attempt when every field is valid.
    on_pay: Callback<AttemptRequest>,
    /// What the routed provider needs beyond the card and the session's
    /// data: `nik` (Smart Glocal), `email`, `phone`, `billing` (SingaPay).
    #[prop(into)]
    needs: Signal<Vec<String>>,
    /// Installment plans offered (months); empty: none.
    #[prop(into)]
    installments: Signal<Vec<u8>>,
) -> impl IntoView {
    // For the benchmark: when the card form first exists (BENCHMARKS.md).
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("kasir-card-form");
    }
    let wants = move |field: &'static str| Signal::derive(move || needs.get().iter().any(|f| f == field));
    let (needs_nik, needs_email, needs_phone, needs_billing) =
        (wants("nik"), wants("email"), wants("phone"), wants("billing"));
    // Each extra field: its value, whether it was left, and its error (only
    // when the provider needs it).
    let extra = || (RwSignal::new(String::new()), RwSignal::new(false));
    let check = |needed: Signal<bool>,
                 (value, touched): (RwSignal<String>, RwSignal<bool>),
                 parse: fn(&str) -> Option<ValidationError>| {
        Signal::derive(move || (needed.get() && touched.get()).then(|| parse(&value.get())).flatten())
    };
    let (nik, email, phone) = (extra(), extra(), extra());
    let nik_error = check(needs_nik, nik, |v| Nik::parse(v).err());
    let email_error = check(needs_email, email, |v| Email::parse(v).err());
    let phone_error = check(needs_phone, phone, |v| PhoneNumber::parse_mobile(v).err());
    let billing = BillingPart::ALL.map(|part| (part, extra()));
    let billing_errors = billing.map(|(part, (value, touched))| {
        Signal::derive(move || {
            (needs_billing.get() && touched.get()).then(|| part.check(&value.get()).err()).flatten()
        })
    });
    let months = RwSignal::new(0u8);
    let keep_16: fn(&str) -> String = |s| s.chars().filter(char::is_ascii_digit).take(16).collect();
    // After a decline the form comes back with what was sent, except the CVV.
    let checkout = crate::state::Checkout::get();
    let [kept_number, kept_expiry, kept_name] = checkout.card_draft.get_value();
    let number = RwSignal::new(kept_number);
    let expiry = RwSignal::new(kept_expiry);
    let cvv = RwSignal::new(String::new());
    let name = RwSignal::new(kept_name);
    // "3 bulan · Rp50.000/bulan": what the shopper pays each month (before
    // any interest the bank adds), rounded up to the rupiah.
    let per_month = move |m: u8| {
        let monthly = checkout
            .session
            .get()
            .and_then(|s| s.amount.rupiah().checked_add(u64::from(m) - 1).map(|a| a / u64::from(m.max(1))))
            .and_then(kasir_shared::money::Idr::new);
        match monthly {
            Some(each) => {
                format!("{m} {} · {each}/{}", texts(locale.get()).months, texts(locale.get()).month)
            }
            None => format!("{m} {}", texts(locale.get()).months),
        }
    };
    let touched = [RwSignal::new(false), RwSignal::new(false), RwSignal::new(false), RwSignal::new(false)];

    let assessed = Memo::new(move |_| CardNumberInput::assess(&number.get(), touched[0].get()));
    let brand = move || assessed.get().brand;
    let number_error = Signal::derive(move || match assessed.get().state {
        CardNumberState::Invalid(e) => Some(e),
        CardNumberState::Empty if touched[0].get() => Some(ValidationError::new(ErrorCode::CardNumberEmpty)),
        CardNumberState::Empty | CardNumberState::Incomplete | CardNumberState::Complete => None,
    });
    // Checked against this month as the server checks it, so a card that
    // has expired (01/20) is refused here, before it is sent.
    let expiry_error = Signal::derive(move || {
        touched[1]
            .get()
            .then(|| Expiry::parse(&expiry.get()).and_then(|e| e.check_at(this_year(), this_month())).err())
            .flatten()
    });
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
            for (_, touched) in [nik, email, phone].into_iter().chain(billing.map(|(_, f)| f)) {
                touched.set(true);
            }
            let valid = matches!(assessed.get_untracked().state, CardNumberState::Complete)
                && [expiry_error, cvv_error, name_error, nik_error, email_error, phone_error]
                    .into_iter()
                    .chain(billing_errors)
                    .all(|e| e.get_untracked().is_none());
            if !valid {
                // To the first field in error, once the errors are drawn.
                request_animation_frame(|| {
                    let first = document().query_selector(".kasir-card [aria-invalid=true]").ok().flatten();
                    if let Some(input) =
                        first.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
                    {
                        let _ = input.focus();
                    }
                });
            }
            if valid && !busy.get_untracked() {
                let extra = |needed: Signal<bool>, (value, _): (RwSignal<String>, RwSignal<bool>)| {
                    needed.get_untracked().then(|| value.get_untracked())
                };
                let address = needs_billing.get_untracked().then(|| {
                    let mut fields = BillingFields::default();
                    for (part, (value, _)) in billing {
                        fields.set(part, value.get_untracked());
                    }
                    Box::new(fields)
                });
                checkout
                    .card_draft
                    .set_value([number.get_untracked(), expiry.get_untracked(), name.get_untracked()]);
                on_pay.run(AttemptRequest::Card {
                    card: CardFields {
                        number: SecretString::new(number.get_untracked()),
                        expiry: SecretString::new(expiry.get_untracked()),
                        cvv: SecretString::new(cvv.get_untracked()),
                        holder_name: name.get_untracked(),
                    },
                    nik: extra(needs_nik, nik),
                    email: extra(needs_email, email),
                    phone: extra(needs_phone, phone),
                    billing: address,
                    installment_months: Some(months.get_untracked()).filter(|m| *m > 0),
                });
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
                <Field id="nik" label=Signal::derive(move || t().nik) value=nik.0
                    format=keep_16 error=nik_error touched=nik.1 locale=locale
                    autocomplete="off" inputmode="numeric" />
            </Show>
            <Show when=move || needs_email.get()>
                <Field id="contact-email" label=Signal::derive(move || t().email) value=email.0
                    format=keep error=email_error touched=email.1 locale=locale
                    autocomplete="email" inputmode="email" />
            </Show>
            <Show when=move || needs_phone.get()>
                <Field id="contact-phone" label=Signal::derive(move || t().phone) value=phone.0
                    format=keep error=phone_error touched=phone.1 locale=locale
                    autocomplete="tel" inputmode="tel" />
            </Show>
            <Show when=move || needs_billing.get()>
                <fieldset class="kasir-billing">
                    <legend>{move || t().billing}</legend>
                    {billing.into_iter().zip(billing_errors).map(|((part, (value, touched)), error)| {
                        let (id, autocomplete) = match part {
                            BillingPart::Address => ("billing-address", "billing street-address"),
                            BillingPart::City => ("billing-city", "billing address-level2"),
                            BillingPart::State => ("billing-state", "billing address-level1"),
                            BillingPart::PostalCode => ("billing-postal-code", "billing postal-code"),
                        };
                        let label = Signal::derive(move || match part {
                            BillingPart::Address => t().address,
                            BillingPart::City => t().city,
                            BillingPart::State => t().province,
                            BillingPart::PostalCode => t().postal_code,
                        });
                        view! {
                            <Field id=id label=label value=value format=keep error=error touched=touched
                                locale=locale autocomplete=autocomplete />
                        }
                    }).collect_view()}
                </fieldset>
            </Show>
            <Show when=move || !installments.get().is_empty()>
                <div class="kasir-field">
                    <label for="installments">{move || t().installments}</label>
                    <select id="installments" data-testid="installments"
                        on:change=move |ev| months.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0">{move || t().pay_in_full}</option>
                        {move || installments.get().into_iter().map(|m| view! {
                            <option value=m.to_string()>{per_month(m)}</option>
                        }).collect_view()}
                    </select>
                </div>
            </Show>
            <button type="submit" class="kasir-pay" data-testid="pay" disabled=move || busy.get()
                aria-busy=move || busy.get().to_string()>{move || pay_label.get()}</button>
        </form>
    }
}

/// The browser's year and month, in Jakarta (UTC+7) as the server counts
/// them; an expiry is valid through the end of its month.
fn this_year_month() -> (u16, u8) {
    let jakarta =
        js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(js_sys::Date::now() + 7.0 * 3_600_000.0));
    (
        u16::try_from(jakarta.get_utc_full_year()).unwrap_or(u16::MAX),
        u8::try_from(jakarta.get_utc_month() + 1).unwrap_or(1),
    )
}

fn this_year() -> u16 {
    this_year_month().0
}

fn this_month() -> u8 {
    this_year_month().1
}
