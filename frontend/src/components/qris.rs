use kasir_shared::Locale;
use kasir_shared::qris::QrisPayload;
use leptos::prelude::*;

use crate::i18n::texts;

/// Seconds since the epoch, from the browser's clock.
pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// `mm:ss` (or `h:mm:ss`) left until `expires_at`.
pub fn countdown(expires_at: i64, now: i64) -> String {
    let left = (expires_at - now).max(0);
    let (h, m, s) = (left / 3600, left % 3600 / 60, left % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m:02}:{s:02}") }
}

/// A QRIS payload drawn as SVG, after `kasir-shared` validated it (TLV and
/// CRC); `None` for anything that does not parse.
pub fn qr_svg(payload: &str) -> Option<String> {
    QrisPayload::parse(payload).ok()?;
    let code = qrcode::QrCode::new(payload.as_bytes()).ok()?;
    Some(code.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build())
}

/// Whether the page runs on a phone or tablet (a coarse pointer), where a
/// wallet's app link beats a QR code the shopper cannot scan with the same
/// device.
pub fn on_phone() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(pointer: coarse)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The QRIS code, rendered here as SVG from the payload after `kasir-shared`
/// validated it (TLV and CRC), or the provider's image; with the merchant,
/// the amount, a countdown and a way to save it.
#[component]
pub fn QrisView(
    locale: ReadSignal<Locale>,
    payload: Option<String>,
    image_url: Option<String>,
    expires_at: i64,
    merchant: String,
    amount: String,
    now: ReadSignal<i64>,
) -> impl IntoView {
    let t = move || texts(locale.get());
    let svg = payload.as_deref().and_then(qr_svg);
    let download =
        svg.as_ref().map(|s| format!("data:image/svg+xml;charset=utf-8,{}", js_sys::encode_uri_component(s)));
    let payload_attr = payload.clone().unwrap_or_default();
    view! {
        <section class="kasir-qris" aria-label="QRIS">
            <p class="kasir-qris-merchant">{merchant}</p>
            <p class="kasir-qris-amount">{amount}</p>
            {match (svg, image_url) {
                (Some(svg), _) => view! { <div class="kasir-qr" data-testid="qr" data-payload=payload_attr role="img" aria-label="QRIS" inner_html=svg></div> }.into_any(),
                (None, Some(url)) => view! { <img class="kasir-qr" data-testid="qr-image" src=url alt="QRIS" /> }.into_any(),
                (None, None) => view! { <p class="kasir-failed">{move || t().failed}</p> }.into_any(),
            }}
            <p>{move || t().scan_qr}</p>
            <p role="timer" data-testid="countdown">{move || format!("{} {}", t().expires_in, countdown(expires_at, now.get()))}</p>
            {download.map(|href| view! { <a class="kasir-link" href=href download="qris.svg">{move || t().save_qr}</a> })}
        </section>
    }
}
