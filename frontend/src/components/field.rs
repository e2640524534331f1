use kasir_shared::{Locale, ValidationError};
use leptos::prelude::*;

/// A labelled input whose error is shown inline and announced to screen readers.
#[component]
pub fn Field(
    /// Element id; the error element is `{id}-error`.
    id: &'static str,
    /// The label text.
    #[prop(into)]
    label: Signal<&'static str>,
    /// The current value.
    value: RwSignal<String>,
    /// Reformats what was typed (e.g. groups card digits).
    format: fn(&str) -> String,
    /// The error to show, if any.
    #[prop(into)]
    error: Signal<Option<ValidationError>>,
    /// Set once the shopper leaves the field.
    touched: RwSignal<bool>,
    /// The current language.
    locale: ReadSignal<Locale>,
    /// `autocomplete` hint.
    autocomplete: &'static str,
    /// `inputmode` hint.
    #[prop(default = "text")]
    inputmode: &'static str,
    /// Placeholder.
    #[prop(into, default = Signal::stored(""))]
    placeholder: Signal<&'static str>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let message = move || error.get().map(|e| e.message(locale.get()).to_owned()).unwrap_or_default();
    view! {
        <div class="kasir-field">
            <label for=id>{move || label.get()}</label>
            <input
                id=id
                data-testid=id
                autocomplete=autocomplete
                inputmode=inputmode
                placeholder=move || placeholder.get()
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(format(&event_target_value(&ev)))
                on:blur=move |_| touched.set(true)
            />
            <p id=error_id class="kasir-error" data-testid=format!("{id}-error") aria-live="polite">
                {message}
            </p>
        </div>
    }
}
