//! # kasir-frontend
//!
//! The Kasir checkout widget: Leptos, client-side rendered, compiled to WASM.
//! It validates every field with `kasir-shared`, the same code the server
//! runs. On the hosted page (`/pay/{id}`) it loads the session with its
//! client secret, takes a card payment and shows the outcome or the 3DS
//! frame. QRIS, virtual accounts, e-wallets and live status come next.

pub mod api;
pub mod components;
pub mod i18n;

use kasir_shared::Locale;
use kasir_shared::money::Idr;
use leptos::prelude::*;
use leptos::task::spawn_local;

use api::{Attempt, CallError, NextAction, PageContext, Session};
use components::{CardForm, LanguageSwitch};

/// The whole widget.
#[component]
pub fn App() -> impl IntoView {
    let browser_locale = window().navigator().language().and_then(|tag| Locale::from_tag(&tag));
    let locale = RwSignal::new(browser_locale.unwrap_or_default());
    let ctx = PageContext::from_page();
    let session = RwSignal::new(None::<Session>);
    let attempt = RwSignal::new(None::<Attempt>);
    let error = RwSignal::new(None::<CallError>);
    let busy = RwSignal::new(false);
    if let Some(ctx) = ctx.clone() {
        spawn_local(async move {
            match api::session(&ctx, locale.get_untracked() == Locale::Id).await {
                Ok(s) => {
                    if let Some(l) = Locale::from_tag(&s.locale) {
                        locale.set(l);
                    }
                    attempt.set(s.latest_attempt.clone());
                    session.set(Some(s));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    }
    // Live status: poll while the payment waits (3DS, processing). Server-Sent
    // Events come with the full widget; polling is their fallback anyway.
    let poll_ctx = ctx.clone();
    let _ = set_interval_with_handle(
        move || {
            let waiting = matches!(
                attempt.get_untracked().map(|a| a.status).as_deref(),
                Some("requires_action" | "processing" | "unknown")
            );
            let Some(ctx) = poll_ctx.clone().filter(|_| waiting && !busy.get_untracked()) else { return };
            spawn_local(async move {
                if let Ok(s) = api::session(&ctx, true).await {
                    attempt.set(s.latest_attempt.clone());
                    session.set(Some(s));
                }
            });
        },
        std::time::Duration::from_secs(2),
    );
    let on_pay = Callback::new(move |body: String| {
        let Some(ctx) = ctx.clone() else { return };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::attempt(&ctx, body, locale.get_untracked() == Locale::Id).await {
                Ok(a) => attempt.set(Some(a)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    });
    let t = move || i18n::texts(locale.get());
    let amount = move || {
        session.get().and_then(|s| Idr::from_i64(s.amount)).map(|a| a.to_string()).unwrap_or_default()
    };
    let pay_label = Signal::derive(move || format!("{} {}", t().pay, amount()).trim().to_owned());
    let status = move || attempt.get().map(|a| a.status).unwrap_or_default();
    let three_ds = move || match attempt.get().and_then(|a| a.next_action) {
        Some(NextAction::ThreeDs { url }) => Some(url),
        _ => None,
    };
    let error_text =
        move || error.get().map(|e| if e.code == "network" { t().network.to_owned() } else { e.message });
    view! {
        <main class="kasir" lang=move || locale.get().as_str()>
            <header class="kasir-header">
                <div>
                    <p class="kasir-merchant" data-testid="merchant">
                        {move || session.get().map(|s| s.merchant.display_name).unwrap_or_else(|| t().title.to_owned())}
                    </p>
                    <p class="kasir-amount" data-testid="amount">{amount}</p>
                </div>
                <LanguageSwitch locale=locale />
            </header>
            <p class="kasir-alert" role="alert" aria-live="assertive" data-testid="alert">{error_text}</p>
            {move || match (status().as_str(), three_ds()) {
                ("succeeded", _) => view! { <p class="kasir-done" role="status" data-testid="succeeded">{t().succeeded}</p> }.into_any(),
                (_, Some(url)) => view! {
                    <section class="kasir-3ds" aria-label=t().three_ds>
                        <h2>{t().three_ds}</h2>
                        <iframe src=url title=t().three_ds data-testid="three-ds"
                            sandbox="allow-forms allow-scripts"></iframe>
                    </section>
                }.into_any(),
                (s, None) => view! {
                    <div>
                        {(s == "failed").then(|| view! { <p class="kasir-failed" role="status" data-testid="failed">{t().failed}</p> })}
                        <CardForm locale=locale.read_only() pay_label=pay_label busy=busy on_pay=on_pay />
                    </div>
                }.into_any(),
            }}
        </main>
    }
}
