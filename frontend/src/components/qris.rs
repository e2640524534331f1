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

/// A QRIS payload drawn as a PNG data URL (8 px a module, a 4-module quiet
/// zone, black on white) on a canvas, for saving to the phone's gallery.
pub fn qr_png(payload: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    let code = qrcode::QrCode::new(payload.as_bytes()).ok()?;
    let (width, scale, quiet) = (code.width(), 8usize, 4usize);
    let side = u32::try_from((width + 2 * quiet) * scale).ok()?;
    let canvas: web_sys::HtmlCanvasElement = document().create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(side);
    canvas.set_height(side);
    let context: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    context.set_fill_style_str("#ffffff");
    context.fill_rect(0.0, 0.0, f64::from(side), f64::from(side));
    context.set_fill_style_str("#000000");
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = ((i % width + quiet) * scale, (i / width + quiet) * scale);
            context.fill_rect(x as f64, y as f64, scale as f64, scale as f64);
        }
    }
    canvas.to_data_url_with_type("image/png").ok()
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
    // A PNG, which bank apps can import from the gallery (an SVG they cannot).
    let download = payload.as_deref().filter(|_| svg.is_some()).and_then(qr_png);
    let nmid = payload
        .as_deref()
        .and_then(|p| QrisPayload::parse(p).ok())
        .and_then(|qr| qr.nmid().map(str::to_owned));
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
            <p class="kasir-qris-mark">"QRIS" {nmid.map(|n| view! { " · NMID " <span data-testid="nmid">{n}</span> })}</p>
            <p>{move || t().scan_qr}</p>
            <p role="timer" data-testid="countdown">{move || format!("{} {}", t().expires_in, countdown(expires_at, now.get()))}</p>
            {download.map(|href| view! { <a class="kasir-link" data-testid="save-qr" href=href download="qris.png">{move || t().save_qr}</a> })}
        </section>
    }
}
