//! The pay form: why the shopper is here again (if they are), the method
//! picker, and the chosen method's own form.

use kasir_shared::api::PayAgain;
use kasir_shared::payment::PaymentMethodKind;
use leptos::prelude::*;

use crate::components::{CardForm, ConvenienceStorePay, EwalletPay, QrisPay, VirtualAccountPay};
use crate::state::Checkout;

/// Choose a method and pay; `back` offers the way back to a code still
/// waiting (the shopper only looked at other methods).
#[component]
pub fn PayForm(after: Option<PayAgain>, back: bool) -> impl IntoView {
    let checkout = Checkout::get();
    let t = move || checkout.texts();
    let methods = Memo::new(move |_| checkout.session.get().map(|s| s.payment_methods).unwrap_or_default());
    let method = RwSignal::new(None::<PaymentMethodKind>);
    let chosen = Memo::new(move |_| method.get().or_else(|| methods.get().first().copied()));
    let card_needs = Memo::new(move |_| {
        checkout
            .session
            .get()
            .and_then(|s| s.required_fields.get(PaymentMethodKind::Card.as_str()).cloned())
            .unwrap_or_default()
    });
    let installments =
        Memo::new(move |_| checkout.session.get().map(|s| s.installment_months).unwrap_or_default());
    let pay_label = Signal::derive(move || format!("{} {}", t().pay, checkout.amount()).trim().to_owned());
    let on_pay = Callback::new(move |request| checkout.pay(request));
    view! {
        <div>
            {match after {
                Some(PayAgain::Failed { method, code }) => Some({
                    let code_attr = code.clone().unwrap_or_default();
                    view! {
                    <p class="kasir-failed" role="status" data-testid="failed" data-code=code_attr
                        tabindex="-1" data-focus>
                        {move || t().failure(method, code.as_deref())}
                    </p>
                }.into_any()}),
                Some(PayAgain::Expired) => Some(view! {
                    <p class="kasir-failed" role="status" data-testid="code-expired" tabindex="-1" data-focus>{move || t().code_expired}</p>
                }.into_any()),
                None => None,
            }}
            <fieldset class="kasir-methods" tabindex="-1" data-focus=back.then_some("")>
                <legend>{move || t().choose_method}</legend>
                {move || methods.get().into_iter().map(|m| {
                    let id = format!("method-{m}");
                    let (for_id, test_id) = (id.clone(), id.clone());
                    view! {
                        <label class="kasir-method" for=for_id>
                            <input type="radio" name="method" id=id data-testid=test_id value=m.as_str()
                                prop:checked=move || chosen.get() == Some(m)
                                on:change=move |_| method.set(Some(m)) />
                            {move || if m == PaymentMethodKind::Card { t().method_card } else { m.display_name() }}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            {move || match chosen.get() {
                Some(PaymentMethodKind::Card) => view! {
                    <CardForm locale=checkout.locale.read_only() pay_label=pay_label busy=checkout.busy on_pay=on_pay
                        needs=card_needs installments=installments />
                }.into_any(),
                Some(PaymentMethodKind::Qris) => view! { <QrisPay /> }.into_any(),
                Some(PaymentMethodKind::VirtualAccount) => view! { <VirtualAccountPay /> }.into_any(),
                Some(PaymentMethodKind::Ewallet) => view! { <EwalletPay /> }.into_any(),
                Some(PaymentMethodKind::ConvenienceStore) => view! { <ConvenienceStorePay /> }.into_any(),
                None => view! { <p>{move || t().loading}</p> }.into_any(),
            }}
            {back.then(|| view! {
                <button type="button" class="kasir-secondary kasir-change" data-testid="back-to-code"
                    on:click=move |_| checkout.switching.set(false)>{move || t().back_to_code}</button>
            })}
        </div>
    }
}
