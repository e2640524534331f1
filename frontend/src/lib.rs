//! # kasir-frontend
//!
//! The Kasir checkout widget: Leptos, client-side rendered, compiled to WASM.
//! It validates every field with `kasir-shared`, the same code the server
//! runs. Today it holds the card form and both languages; the session,
//! payment methods and next actions arrive with the widget issue.

pub mod components;
pub mod i18n;

use kasir_shared::Locale;
use leptos::prelude::*;

use components::{CardForm, LanguageSwitch};

/// The whole widget.
#[component]
pub fn App() -> impl IntoView {
    let browser_locale = window().navigator().language().and_then(|tag| Locale::from_tag(&tag));
    let locale = RwSignal::new(browser_locale.unwrap_or_default());
    view! {
        <main class="kasir" lang=move || locale.get().as_str()>
            <header class="kasir-header">
                <h1>{move || i18n::texts(locale.get()).title}</h1>
                <LanguageSwitch locale=locale />
            </header>
            <CardForm locale=locale.read_only() />
        </main>
    }
}
