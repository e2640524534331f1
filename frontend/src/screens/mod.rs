//! The screens, one per [`Stage`]: the one exhaustive choice of what the
//! shopper sees, made from the session first and its attempt second.

mod pay;

use kasir_shared::api::{AttemptRequest, ClosedReason, NextAction, Stage};
use leptos::prelude::*;

use crate::components::{PaymentCodeView, QrisView, VirtualAccountView, on_phone, qr_svg};
use crate::state::Checkout;
pub use pay::PayForm;

/// The screen for the checkout's stage. Each new screen takes the focus
/// (its `data-focus` element), so a screen reader and the keyboard start
/// there instead of at the page's top, or at nothing.
#[component]
pub fn Screen() -> impl IntoView {
    let checkout = Checkout::get();
    let shown = StoredValue::new(None::<Stage>);
    Effect::new(move |_| {
        let stage = checkout.stage.get();
        let switching = checkout.switching.get();
        let moved = shown.with_value(|s| {
            s.as_ref().map(std::mem::discriminant) != stage.as_ref().map(std::mem::discriminant)
        });
        shown.set_value(stage);
        // A new screen takes the focus. So does a screen drawn again with the
        // focus gone to nowhere (the element that had it was replaced, as
        // when a later update redraws the same screen): never left on <body>.
        request_animation_frame(move || {
            let lost = document().active_element().is_none_or(|e| e.tag_name() == "BODY");
            if !(moved || switching || lost) {
                return;
            }
            let target = document().query_selector("main [data-focus]").ok().flatten();
            if let Some(element) =
                target.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                let _ = element.focus();
            }
        });
    });
    move || match checkout.stage.get() {
        None => view! { <p role="status">{move || checkout.texts().loading}</p> }.into_any(),
        Some(Stage::Paid) => view! { <Paid /> }.into_any(),
        Some(Stage::Processing) => view! { <Processing /> }.into_any(),
        Some(Stage::Closed(reason)) => view! { <Closed reason=reason /> }.into_any(),
        // The shopper chose to leave the waiting code for another method.
        Some(Stage::Waiting(_)) if checkout.switching.get() => {
            view! { <PayForm after=None back=true /> }.into_any()
        }
        Some(Stage::Waiting(action)) => view! { <Waiting action=action /> }.into_any(),
        Some(Stage::Pay { after }) => view! { <PayForm after=after back=false /> }.into_any(),
    }
}

/// The way back to the shop, when the merchant gave one.
#[component]
fn ReturnLink() -> impl IntoView {
    let checkout = Checkout::get();
    move || {
        checkout.return_url().map(|u| {
            view! {
                <a class="kasir-pay kasir-link-button" href=u target="_top" data-testid="return">
                    {move || checkout.texts().back_to_shop}
                </a>
            }
        })
    }
}

#[component]
fn Paid() -> impl IntoView {
    let checkout = Checkout::get();
    view! {
        <p class="kasir-done" role="status" data-testid="succeeded" tabindex="-1" data-focus>{move || checkout.texts().succeeded}</p>
        <ReturnLink />
    }
}

/// Sent, the outcome not known yet (a provider confirming asynchronously,
/// or a timeout being settled): never an offer to pay again meanwhile, so
/// no one is charged twice.
#[component]
fn Processing() -> impl IntoView {
    let checkout = Checkout::get();
    view! {
        <p class="kasir-processing" role="status" data-testid="processing" tabindex="-1" data-focus>{move || checkout.texts().processing}</p>
    }
}

/// Closed for good: why, and the way back to the shop; no way to pay.
#[component]
fn Closed(reason: ClosedReason) -> impl IntoView {
    let checkout = Checkout::get();
    let (text, test_id): (fn(&crate::i18n::Texts) -> &'static str, _) = match reason {
        ClosedReason::Expired => (|t| t.expired, "expired"),
        ClosedReason::Cancelled => (|t| t.cancelled, "cancelled"),
        ClosedReason::Refunded => (|t| t.refunded, "refunded"),
    };
    view! {
        <p class="kasir-closed" role="status" data-testid=test_id tabindex="-1" data-focus>{move || text(checkout.texts())}</p>
        <ReturnLink />
    }
}

/// An attempt waiting for the shopper: the bank's 3DS page, a QR, a virtual
/// account, or the way to the wallet; always with a way to another method,
/// and a QR or VA that runs out while the session is open offers a new one
/// in one tap (never a dead end).
#[component]
fn Waiting(action: NextAction) -> impl IntoView {
    let checkout = Checkout::get();
    let t = move || checkout.texts();
    let session = checkout.session.get_untracked();
    let merchant = session.as_ref().map(|s| s.merchant.display_name.clone()).unwrap_or_default();
    let amount = session.as_ref().map(|s| s.amount.to_string()).unwrap_or_default();
    let rupiah = session.map_or(0, |s| s.amount.rupiah());
    let locale = checkout.locale.read_only();
    let now = checkout.now.read_only();
    // What to ask for again when the code runs out: the same method.
    let again = match &action {
        NextAction::ShowQr { expires_at, .. } => Some((*expires_at, AttemptRequest::Qris)),
        NextAction::ShowVirtualAccount { bank, expires_at, .. } => {
            Some((*expires_at, AttemptRequest::VirtualAccount { bank: *bank }))
        }
        NextAction::ShowPaymentCode { store, expires_at, .. } => {
            Some((*expires_at, AttemptRequest::ConvenienceStore { store: *store }))
        }
        NextAction::ThreeDs { .. } | NextAction::Redirect { .. } => None,
    };
    let deadline = again.as_ref().map_or(i64::MAX, |(at, _)| *at);
    // The bank's 3DS page ends by itself; everything else is paid elsewhere
    // (an app, an ATM, a till), so the shopper may ask whether it arrived.
    let kind = if matches!(action, NextAction::ThreeDs { .. }) { Kind::ThreeDs } else { Kind::PaidElsewhere };
    let timed_out = Memo::new(move |_| now.get() >= deadline);
    let shown = match action {
        NextAction::ThreeDs { url } => {
            // The page is served only with the session's secret (an iframe
            // cannot send headers): without it, someone who learned the
            // attempt's id could take the one-time page first.
            let secret = checkout.page().map(|p| p.client_secret).unwrap_or_default();
            let url = format!("{url}?client_secret={}", js_sys::encode_uri_component(&secret));
            view! {
            <section class="kasir-3ds" aria-label=move || t().three_ds>
                <h2>{move || t().three_ds}</h2>
                <iframe src=url title=move || t().three_ds data-testid="three-ds"
                    sandbox="allow-forms allow-scripts"></iframe>
            </section>
            }
            .into_any()
        }
        NextAction::ShowQr { qr_payload, image_url, expires_at } => view! {
            <QrisView locale=locale payload=qr_payload image_url=image_url expires_at=expires_at
                merchant=merchant amount=amount now=now />
        }
        .into_any(),
        NextAction::ShowVirtualAccount { bank, number, biller_code, expires_at, steps } => view! {
            <VirtualAccountView locale=locale bank=bank number=number biller_code=biller_code steps=steps expires_at=expires_at
                amount=amount rupiah=rupiah now=now />
        }
        .into_any(),
        NextAction::Redirect { url, qr_payload, qr_image_url } => {
            let qr = match (qr_payload.as_deref().and_then(qr_svg), qr_image_url) {
                (Some(svg), _) => Some(view! {
                    <div class="kasir-qr" data-testid="wallet-qr" data-payload=qr_payload.unwrap_or_default()
                        role="img" aria-label="QR" inner_html=svg></div>
                }.into_any()),
                (None, Some(src)) => Some(view! {
                    <img class="kasir-qr" data-testid="wallet-qr-image" src=src alt="QR" />
                }.into_any()),
                (None, None) => None,
            };
            match qr {
                // A computer: the QR first, scanned with the wallet on the phone.
                Some(qr) if !on_phone() => view! {
                    <section class="kasir-wallet" aria-label=move || t().wallet>
                        <p>{move || t().scan_wallet}</p>
                        {qr}
                        <a class="kasir-secondary kasir-change" data-testid="wallet-link" href=url target="_blank"
                            rel="noopener">{move || t().open_here}</a>
                    </section>
                }.into_any(),
                // A phone: the app link first, the QR on request.
                qr => view! {
                    <a class="kasir-pay kasir-link-button" data-testid="wallet-link" href=url target="_blank" rel="noopener">
                        {move || t().open_wallet}
                    </a>
                    {qr.map(|qr| view! {
                        <details class="kasir-wallet-qr"><summary>{move || t().show_wallet_qr}</summary>{qr}</details>
                    })}
                }.into_any(),
            }
        }
        NextAction::ShowPaymentCode { store, code, expires_at, instructions } => view! {
            <PaymentCodeView locale=locale store=store code=code expires_at=expires_at
                instructions=instructions amount=amount now=now />
        }
        .into_any(),
    };
    let again = StoredValue::new(again.map(|(_, request)| request));
    view! {
        // Hidden, not just stale, once past its time: a code that has run
        // out must not be scanned or paid.
        <div hidden=move || timed_out.get() tabindex="-1" data-focus>{shown}</div>
        {move || timed_out.get().then(|| view! {
            <p class="kasir-failed" role="status" data-testid="code-timed-out">{move || t().code_timed_out}</p>
            <button type="button" class="kasir-pay" data-testid="new-code" disabled=move || checkout.busy.get()
                on:click=move |_| { if let Some(r) = again.get_value() { checkout.pay(r) } }>
                {move || t().new_code}</button>
        })}
        {(!matches!(kind, Kind::ThreeDs)).then(|| view! {
            <button type="button" class="kasir-secondary kasir-change" data-testid="check-status"
                on:click=move |_| checkout.refresh()>{move || t().check_status}</button>
        })}
        <button type="button" class="kasir-secondary kasir-change" data-testid="change-method"
            on:click=move |_| checkout.switching.set(true)>{move || t().change_method}</button>
    }
}

/// What kind of waiting screen: for the "check status" button.
#[derive(Debug, Clone, Copy)]
enum Kind {
    ThreeDs,
    PaidElsewhere,
}
