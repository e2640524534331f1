//! # kasir-frontend
//!
//! The Kasir checkout widget: Leptos, client-side rendered, compiled to WASM.
//! It validates every field with `kasir-shared`, the same code the server
//! runs, and decodes the server's answers with `kasir-shared`'s wire types.
//! On the hosted page (`/pay/{id}`) it loads the session with its client
//! secret and shows one screen per stage (`screens`): the pay form with a
//! form per method, the 3DS frame, a QR, a virtual account, the wallet
//! link, processing, paid, or closed. `state` holds what the screens share
//! (a Leptos context); `live` keeps it current.

pub mod api;
pub mod components;
pub mod embed;
pub mod i18n;
pub mod live;
pub mod screens;
pub mod state;

use kasir_shared::api::Stage;
use leptos::prelude::*;

use api::PageContext;
use components::{LanguageSwitch, OrderSummary};
use screens::Screen;
use state::Checkout;

/// The whole widget.
#[component]
pub fn App() -> impl IntoView {
    let checkout = Checkout::new(PageContext::from_page());
    provide_context(checkout);
    let _events = live::start(checkout, embed::Parent::detect());
    let t = move || checkout.texts();
    // An error from this tab's own attempt means nothing once the session is
    // paid or closed (the other tab won the race): not shown above success.
    let error_text = move || {
        let settled = matches!(checkout.stage.get(), Some(Stage::Paid | Stage::Closed(_)));
        checkout
            .error
            .get()
            .filter(|_| !settled)
            .map(|e| if e.code == "network" { t().network.to_owned() } else { e.message })
    };
    let theme = move || checkout.session.get().map(|s| s.merchant.theme);
    view! {
        <main class="kasir" lang=move || checkout.locale.get().as_str()
            style:--kasir-primary=move || theme().map(|t| t.primary_color)
            style:--kasir-radius=move || theme().map(|t| t.radius)
            style:--kasir-font=move || theme().map(|t| t.font)>
            // Two columns on a wide screen (the order beside the payment),
            // one on a phone.
            <div class="kasir-summary">
                <header class="kasir-header">
                    <div class="kasir-identity">
                        {move || theme().and_then(|t| t.logo_url).map(|src| view! {
                            // Decorative: the merchant's name is beside it.
                            <img class="kasir-logo" data-testid="logo" src=src alt="" />
                        })}
                        <div>
                            <h1 class="kasir-merchant" data-testid="merchant">
                                {move || checkout.session.get().map(|s| s.merchant.display_name).unwrap_or_else(|| t().title.to_owned())}
                            </h1>
                            <p class="kasir-amount" data-testid="amount">{move || checkout.amount()}</p>
                        </div>
                    </div>
                    <LanguageSwitch locale=checkout.locale />
                </header>
                <OrderSummary />
            </div>
            <div class="kasir-body">
                <p class="kasir-alert" role="alert" aria-live="assertive" data-testid="alert">{error_text}</p>
                <Screen />
            </div>
        </main>
    }
}
