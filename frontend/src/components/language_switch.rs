use kasir_shared::Locale;
use leptos::prelude::*;

use crate::i18n::texts;

/// Switches between Bahasa Indonesia and English.
#[component]
pub fn LanguageSwitch(locale: RwSignal<Locale>) -> impl IntoView {
    let button = move |target: Locale, label: &'static str| {
        view! {
            <button
                type="button"
                data-testid=format!("lang-{}", target.as_str())
                aria-pressed=move || (locale.get() == target).to_string()
                on:click=move |_| locale.set(target)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="kasir-lang" role="group" aria-label=move || texts(locale.get()).language>
            {button(Locale::Id, "ID")}
            {button(Locale::En, "EN")}
        </div>
    }
}
