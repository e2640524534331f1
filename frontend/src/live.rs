//! Keeping the page current: the first load, live updates over
//! Server-Sent Events, polling with backoff while they do not flow, the
//! countdowns' clock, and the messages an embedding storefront hears.

use kasir_shared::payment::PaymentStatus;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::embed::Parent;
use crate::state::Checkout;

/// Starts everything that keeps `checkout` current. The returned event
/// source must live as long as the page.
pub fn start(checkout: Checkout, parent: Option<Parent>) -> Option<web_sys::EventSource> {
    let page = checkout.page();
    if let Some(page) = page.clone() {
        let ready = parent.clone();
        spawn_local(async move {
            match api::session(&page, checkout.indonesian()).await {
                Ok(s) => {
                    checkout.locale.set(s.locale);
                    if let Some(p) = &ready {
                        p.post("kasir:ready", &[("session", s.id.as_str().into())]);
                    }
                    checkout.show(s);
                }
                Err(e) => checkout.error.set(Some(e)),
            }
        });
    }
    poll(checkout);
    tick(checkout, parent);
    page.as_ref().and_then(|page| {
        api::follow(
            page,
            move |s| {
                checkout.live.set(true);
                checkout.show(s);
            },
            // A broken stream: poll until it flows again.
            move || checkout.live.set(false),
        )
    })
}

/// While a payment waits and live updates are not flowing (a proxy that
/// buffers, a dropped connection): every 2 s at first, then every 4, 8, at
/// most 16 s.
fn poll(checkout: Checkout) {
    let ticks = StoredValue::new(0u32);
    let _ = set_interval_with_handle(
        move || {
            let waiting = matches!(
                checkout.attempt.get_untracked().map(|a| a.status),
                Some(PaymentStatus::RequiresAction | PaymentStatus::Processing | PaymentStatus::Unknown)
            );
            let n = ticks.get_value() + 1;
            ticks.set_value(n);
            let every = 1u32 << (n / 8).min(3);
            let quiet = !checkout.live.get_untracked() && !checkout.busy.get_untracked();
            let Some(page) = checkout.page().filter(|_| waiting && quiet && n.is_multiple_of(every)) else {
                return;
            };
            spawn_local(async move {
                if let Ok(s) = api::session(&page, true).await {
                    checkout.show(s);
                }
            });
        },
        std::time::Duration::from_secs(2),
    );
}

/// Each second: the clock and, when embedded, each final outcome told to
/// the storefront once, and the page's height.
fn tick(checkout: Checkout, parent: Option<Parent>) {
    let told = StoredValue::new(String::new());
    let height = StoredValue::new(0);
    let _ = set_interval_with_handle(
        move || {
            checkout.now.set(crate::components::now_secs());
            let Some(parent) = &parent else { return };
            let attempt = checkout.attempt.get_untracked();
            let status = attempt.as_ref().map(|a| a.status.as_str()).unwrap_or_default();
            if matches!(status, "succeeded" | "failed" | "expired") && told.get_value() != status {
                told.set_value(status.to_owned());
                let id = attempt.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
                parent.post(&format!("kasir:{status}"), &[("status", status.into()), ("attempt", id.into())]);
            }
            // The page's own content, not the document (which never gets
            // shorter than the frame): the frame shrinks when a screen does.
            let h = document().query_selector("main").ok().flatten().map_or(0, |main| {
                (main.get_bounding_client_rect().height().ceil() as i32).saturating_add(32)
            });
            if h != height.get_value() {
                height.set_value(h);
                parent.post("kasir:resize", &[("height", h.into())]);
            }
        },
        std::time::Duration::from_secs(1),
    );
}
