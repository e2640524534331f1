//! One small form per method besides the card (which has its own file):
//! each builds its request from `kasir-shared`'s wire type.

use kasir_shared::api::AttemptRequest;
use kasir_shared::customer::PhoneNumber;
use kasir_shared::payment::{Bank, Store, Wallet};
use leptos::prelude::*;

use super::Field;
use crate::state::Checkout;

/// QRIS: one button that asks for the code.
#[component]
pub fn QrisPay() -> impl IntoView {
    let checkout = Checkout::get();
    view! {
        <button type="button" class="kasir-pay" data-testid="pay-qris" disabled=move || checkout.busy.get()
            on:click=move |_| checkout.pay(AttemptRequest::Qris)>{move || checkout.texts().show_qr}</button>
    }
}

/// Virtual account: the bank, then a button that asks for the number.
#[component]
pub fn VirtualAccountPay() -> impl IntoView {
    let checkout = Checkout::get();
    let t = move || checkout.texts();
    let bank = RwSignal::new(Bank::Bca);
    view! {
        <div class="kasir-field">
            <label for="bank">{move || t().bank}</label>
            <select id="bank" data-testid="bank" on:change=move |ev| {
                if let Ok(b) = Bank::parse(&event_target_value(&ev)) { bank.set(b) }
            }>
                {Bank::ALL.iter().map(|b| view! { <option value=b.as_str()>{b.display_name()}</option> }).collect_view()}
            </select>
        </div>
        <button type="button" class="kasir-pay" data-testid="pay-va" disabled=move || checkout.busy.get()
            on:click=move |_| checkout.pay(AttemptRequest::VirtualAccount { bank: bank.get_untracked() })>
            {move || t().get_va}</button>
    }
}

/// E-wallet: the wallet and, for those that need it (OVO), the phone,
/// checked as the server checks it.
#[component]
pub fn EwalletPay() -> impl IntoView {
    let checkout = Checkout::get();
    let t = move || checkout.texts();
    let wallet = RwSignal::new(Wallet::Dana);
    let phone = RwSignal::new(String::new());
    let touched = RwSignal::new(false);
    // The number on the order, if any (its last four digits): OVO uses it
    // when the shopper types none.
    let on_file = move || checkout.session.get().and_then(|s| s.phone_hint);
    // Optional, except for OVO with no number on the order; a number typed
    // anyway must be valid.
    let phone_error = Signal::derive(move || {
        let p = phone.get();
        let needed = !p.trim().is_empty() || (wallet.get().needs_phone() && on_file().is_none());
        (touched.get() && needed).then(|| PhoneNumber::parse_mobile(&p).err()).flatten()
    });
    view! {
        <div class="kasir-field">
            <label for="wallet">{move || t().wallet}</label>
            <select id="wallet" data-testid="wallet" on:change=move |ev| {
                if let Ok(w) = Wallet::parse(&event_target_value(&ev)) { wallet.set(w) }
            }>
                {Wallet::ALL.iter().map(|w| view! { <option value=w.as_str()>{w.display_name()}</option> }).collect_view()}
            </select>
        </div>
        <Field id="phone" label=Signal::derive(move || t().phone) value=phone
            format=str::to_owned error=phone_error touched=touched locale=checkout.locale.read_only()
            autocomplete="tel" inputmode="tel" />
        {move || on_file().filter(|_| wallet.get().needs_phone()).map(|digits| view! {
            <p class="kasir-hint" data-testid="phone-on-file">{format!("{} {digits}.", t().phone_on_file)}</p>
        })}
        <button type="button" class="kasir-pay" data-testid="pay-wallet" disabled=move || checkout.busy.get()
            on:click=move |_| {
                touched.set(true);
                if phone_error.get_untracked().is_some() { return; }
                let p = phone.get_untracked();
                checkout.pay(AttemptRequest::Ewallet {
                    wallet: wallet.get_untracked(),
                    phone: Some(p).filter(|p| !p.trim().is_empty()),
                });
            }>{move || format!("{} {}", t().pay_wallet, wallet.get().display_name())}</button>
    }
}

/// Convenience store: the chain, then a button that asks for the code.
#[component]
pub fn ConvenienceStorePay() -> impl IntoView {
    let checkout = Checkout::get();
    let t = move || checkout.texts();
    let store = RwSignal::new(Store::Indomaret);
    view! {
        <div class="kasir-field">
            <label for="store">{move || t().store}</label>
            <select id="store" data-testid="store" on:change=move |ev| {
                if let Ok(s) = Store::parse(&event_target_value(&ev)) { store.set(s) }
            }>
                {Store::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.display_name()}</option> }).collect_view()}
            </select>
        </div>
        <button type="button" class="kasir-pay" data-testid="pay-store" disabled=move || checkout.busy.get()
            on:click=move |_| checkout.pay(AttemptRequest::ConvenienceStore { store: store.get_untracked() })>
            {move || t().get_code}</button>
    }
}
