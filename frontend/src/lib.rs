//! # kasir-frontend
//!
//! The Kasir checkout widget: Leptos, client-side rendered, compiled to WASM.
//! It validates every field with `kasir-shared`, the same code the server
//! runs. On the hosted page (`/pay/{id}`) it loads the session with its
//! client secret, takes a card payment and shows the outcome or the 3DS
//! frame. QRIS, virtual accounts, e-wallets and live status come next.

pub mod api;
pub mod components;
pub mod embed;
pub mod i18n;

use kasir_shared::Locale;
use kasir_shared::money::Idr;
use leptos::prelude::*;
use leptos::task::spawn_local;

use api::{Attempt, CallError, NextAction, PageContext, Session};
use components::{CardForm, Field, LanguageSwitch, QrisView, VirtualAccountView};

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
    let parent = embed::Parent::detect();
    let ready_parent = parent.clone();
    if let Some(ctx) = ctx.clone() {
        spawn_local(async move {
            match api::session(&ctx, locale.get_untracked() == Locale::Id).await {
                Ok(s) => {
                    if let Some(l) = Locale::from_tag(&s.locale) {
                        locale.set(l);
                    }
                    if let Some(p) = &ready_parent {
                        p.post("kasir:ready", &[("session", s.id.as_str().into())]);
                    }
                    attempt.set(s.latest_attempt.clone());
                    session.set(Some(s));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    }
    // Live status over Server-Sent Events; while they are not flowing (a
    // proxy that buffers, a dropped connection), polling with backoff while
    // the payment waits.
    let live = RwSignal::new(false);
    let _events = ctx.as_ref().and_then(|ctx| {
        api::follow(ctx, move |s| {
            live.set(true);
            attempt.set(s.latest_attempt.clone());
            session.set(Some(s));
        })
    });
    let poll_ctx = ctx.clone();
    let ticks = RwSignal::new(0u32);
    let _ = set_interval_with_handle(
        move || {
            let waiting = matches!(
                attempt.get_untracked().map(|a| a.status).as_deref(),
                Some("requires_action" | "processing" | "unknown")
            );
            // Every 2 s at first, then every 4, 8, at most 16 s.
            let n = ticks.get_untracked() + 1;
            ticks.set(n);
            let every = 1u32 << (n / 8).min(3);
            let due = n.is_multiple_of(every);
            let Some(ctx) =
                poll_ctx.clone().filter(|_| waiting && due && !live.get_untracked() && !busy.get_untracked())
            else {
                return;
            };
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
    // Memos: a session pushed again with the same content must not rebuild
    // the form the shopper is typing in.
    let status = Memo::new(move |_| attempt.get().map(|a| a.status).unwrap_or_default());
    let next_action = Memo::new(move |_| {
        attempt.get().filter(|a| a.status == "requires_action").and_then(|a| a.next_action)
    });
    let error_text =
        move || error.get().map(|e| if e.code == "network" { t().network.to_owned() } else { e.message });
    let methods = Memo::new(move |_| session.get().map(|s| s.payment_methods).unwrap_or_default());
    let method = RwSignal::new(String::new());
    let chosen = Memo::new(move |_| {
        let m = method.get();
        if m.is_empty() { methods.get().first().cloned().unwrap_or_default() } else { m }
    });
    let card_needs = Memo::new(move |_| {
        session.get().and_then(|s| s.required_fields.get("card").cloned()).unwrap_or_default()
    });
    let installments = Memo::new(move |_| session.get().map(|s| s.installment_months).unwrap_or_default());
    let now = RwSignal::new(components::now_secs());
    // Each second: the countdowns' clock and, when embedded, each final
    // outcome told to the storefront once, and the page's height.
    let told = RwSignal::new(String::new());
    let height = RwSignal::new(0);
    let _ = set_interval_with_handle(
        move || {
            now.set(components::now_secs());
            let Some(parent) = &parent else { return };
            let status = attempt.get_untracked().map(|a| a.status).unwrap_or_default();
            if matches!(status.as_str(), "succeeded" | "failed" | "expired") && told.get_untracked() != status
            {
                told.set(status.clone());
                let id = attempt.get_untracked().map(|a| a.id).unwrap_or_default();
                parent.post(
                    &format!("kasir:{status}"),
                    &[("status", status.as_str().into()), ("attempt", id.as_str().into())],
                );
            }
            let h = document().document_element().map_or(0, |e| e.scroll_height());
            if h != height.get_untracked() {
                height.set(h);
                parent.post("kasir:resize", &[("height", h.into())]);
            }
        },
        std::time::Duration::from_secs(1),
    );
    let bank = RwSignal::new("bca".to_owned());
    let wallet = RwSignal::new("dana".to_owned());
    let phone = RwSignal::new(String::new());
    let phone_touched = RwSignal::new(false);
    // The wallet's phone: optional, except for OVO; checked like the server does.
    let phone_error = Signal::derive(move || {
        let p = phone.get();
        let w = wallet.get();
        let needed = !p.trim().is_empty()
            || kasir_shared::payment::Wallet::ALL.iter().any(|k| k.as_str() == w && k.needs_phone());
        (phone_touched.get() && needed)
            .then(|| kasir_shared::customer::PhoneNumber::parse_mobile(&p).err())
            .flatten()
    });
    let submit = move |body: serde_json::Value| on_pay.run(body.to_string());
    let merchant_name = move || session.get().map(|s| s.merchant.display_name).unwrap_or_default();
    let theme = move || session.get().and_then(|s| s.merchant.theme);
    let return_url = move || {
        session
            .get()
            .and_then(|s| s.return_url)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    };
    view! {
        <main class="kasir" lang=move || locale.get().as_str()
            style:--kasir-primary=move || theme().map(|t| t.primary_color)
            style:--kasir-radius=move || theme().map(|t| t.radius)
            style:--kasir-font=move || theme().map(|t| t.font)>
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
            {move || match (status.get().as_str(), next_action.get()) {
                ("succeeded", _) => view! {
                    <p class="kasir-done" role="status" data-testid="succeeded">{t().succeeded}</p>
                    {return_url().map(|u| view! { <a class="kasir-pay kasir-link-button" href=u target="_top" data-testid="return">{t().back_to_shop}</a> })}
                }.into_any(),
                // Sent, the outcome not known yet (a provider confirming
                // asynchronously, or a timeout being settled): never offer to
                // pay again meanwhile, so no one is charged twice.
                ("processing" | "unknown", None) => view! {
                    <p class="kasir-processing" role="status" data-testid="processing">{t().processing}</p>
                }.into_any(),
                ("expired", _) => view! { <p class="kasir-failed" role="status" data-testid="expired">{t().expired}</p> }.into_any(),
                (_, Some(NextAction::ThreeDs { url })) => view! {
                    <section class="kasir-3ds" aria-label=t().three_ds>
                        <h2>{t().three_ds}</h2>
                        <iframe src=url title=t().three_ds data-testid="three-ds"
                            sandbox="allow-forms allow-scripts"></iframe>
                    </section>
                }.into_any(),
                (_, Some(NextAction::ShowQr { qr_payload, image_url, expires_at })) => view! {
                    <QrisView locale=locale.read_only() payload=qr_payload image_url=image_url expires_at=expires_at
                        merchant=merchant_name() amount=amount() now=now.read_only() />
                }.into_any(),
                (_, Some(NextAction::ShowVirtualAccount { bank, number, expires_at })) => view! {
                    <VirtualAccountView locale=locale.read_only() bank=bank number=number expires_at=expires_at now=now.read_only() />
                }.into_any(),
                (_, Some(NextAction::Redirect { url })) => view! {
                    <a class="kasir-pay kasir-link-button" data-testid="wallet-link" href=url target="_blank" rel="noopener">{t().open_wallet}</a>
                }.into_any(),
                (s, None) => view! {
                    <div>
                        {(s == "failed").then(|| view! { <p class="kasir-failed" role="status" data-testid="failed">{t().failed}</p> })}
                        <fieldset class="kasir-methods">
                            <legend>{move || t().choose_method}</legend>
                            {move || methods.get().into_iter().map(|m| {
                                let label = kasir_shared::payment::PaymentMethodKind::parse(&m).map(|k| k.display_name()).unwrap_or("");
                                let value = m.clone();
                                let id = format!("method-{m}");
                                let (for_id, test_id) = (id.clone(), id.clone());
                                view! {
                                    <label class="kasir-method" for=for_id>
                                        <input type="radio" name="method" id=id data-testid=test_id value=m.clone()
                                            prop:checked=move || chosen.get() == value
                                            on:change=move |_| method.set(m.clone()) />
                                        {label}
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                        {move || match chosen.get().as_str() {
                            "card" => view! {
                                <CardForm locale=locale.read_only() pay_label=pay_label busy=busy on_pay=on_pay
                                    needs=card_needs installments=installments />
                            }.into_any(),
                            "qris" => view! {
                                <button type="button" class="kasir-pay" data-testid="pay-qris" disabled=move || busy.get()
                                    on:click=move |_| submit(serde_json::json!({"method": "qris"}))>{move || t().show_qr}</button>
                            }.into_any(),
                            "virtual_account" => view! {
                                <div class="kasir-field">
                                    <label for="bank">{move || t().bank}</label>
                                    <select id="bank" data-testid="bank" on:change=move |ev| bank.set(event_target_value(&ev))>
                                        {kasir_shared::payment::Bank::ALL.iter().map(|b| view! {
                                            <option value=b.as_str()>{b.display_name()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <button type="button" class="kasir-pay" data-testid="pay-va" disabled=move || busy.get()
                                    on:click=move |_| submit(serde_json::json!({"method": "virtual_account", "bank": bank.get_untracked()}))>
                                    {move || t().get_va}</button>
                            }.into_any(),
                            "ewallet" => view! {
                                <div class="kasir-field">
                                    <label for="wallet">{move || t().wallet}</label>
                                    <select id="wallet" data-testid="wallet" on:change=move |ev| wallet.set(event_target_value(&ev))>
                                        {kasir_shared::payment::Wallet::ALL.iter().map(|w| view! {
                                            <option value=w.as_str()>{w.display_name()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <Field id="phone" label=Signal::derive(move || t().phone) value=phone
                                    format=str::to_owned error=phone_error touched=phone_touched locale=locale.read_only()
                                    autocomplete="tel" inputmode="tel" />
                                <button type="button" class="kasir-pay" data-testid="pay-wallet" disabled=move || busy.get()
                                    on:click=move |_| {
                                        phone_touched.set(true);
                                        if phone_error.get_untracked().is_some() { return; }
                                        let mut body = serde_json::json!({"method": "ewallet", "wallet": wallet.get_untracked()});
                                        let p = phone.get_untracked();
                                        if !p.trim().is_empty() { body["phone"] = serde_json::json!(p); }
                                        submit(body)
                                    }>{move || t().pay_wallet}</button>
                            }.into_any(),
                            _ => view! { <p>{move || t().loading}</p> }.into_any(),
                        }}
                    </div>
                }.into_any(),
            }}
        </main>
    }
}
