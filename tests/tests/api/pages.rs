//! The hosted payment page and the widget's assets: the session and client
//! secret reach the page, the page's CSP allows no inline script but the
//! ones Trunk wrote (by hash) and only the merchant's origins may frame it,
//! and hashed assets are cached for a year and served precompressed.

use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::*;

const BOOT: &str =
    "import init from '/assets/kasir-frontend-abc.js'; init('/assets/kasir-frontend-abc_bg.wasm');";

const STYLE: &str = ".kasir { color: #1a1a1a; }";

fn fake_dist() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kasir_dist_{}", kasir_server::ids::random_token(8)));
    std::fs::create_dir_all(&dir).unwrap();
    let index = format!(
        "<!DOCTYPE html><html><head><script type=\"module\">{BOOT}</script><style>{STYLE}</style></head><body>\
         <p id=\"m\"><!-- kasir:merchant --></p><p id=\"a\"><!-- kasir:amount --></p><p id=\"o\"><!-- kasir:order --></p>\
         </body></html>"
    );
    std::fs::write(dir.join("index.html"), index).unwrap();
    std::fs::write(dir.join("kasir-frontend-abc.js"), "export default function init() {}").unwrap();
    std::fs::write(dir.join("kasir-frontend-abc.js.gz"), b"\x1f\x8bfake-gzip").unwrap();
    dir
}

#[tokio::test]
async fn the_hosted_page_carries_the_session_and_a_strict_policy() {
    let dist = fake_dist();
    let database_url = fresh_database_url(Backend::Sqlite).await;
    let dir = dist.clone();
    let app = spawn_with(database_url, Receiver::start().await, move |c| c.widget_dir = Some(dir)).await;
    let s: Value = app
        .post_a(
            "/v1/checkout_sessions",
            &json!({"amount": 150000, "reference": "INV-P", "description": "Kopi <b>Gayo</b> & teh",
                "customer": {"email": "siti@example.com", "name": "Siti Rahma", "phone": "+6281234567890"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = s["id"].as_str().unwrap();
    let secret = s["client_secret"].as_str().unwrap();
    // The page's secret rides in the fragment, never sent to a server.
    assert_eq!(s["url"], format!("{PUBLIC_URL}/pay/{id}#{secret}"));

    let res = app.client.get(app.url(&format!("/pay/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let header = |n: &str| res.headers().get(n).unwrap().to_str().unwrap().to_owned();
    let csp = header("content-security-policy");
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(BOOT.as_bytes()));
    assert!(csp.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{hash}'")), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The style sheet is in the page (a slow network's first paint waits for
    // no other request), allowed by its hash alone.
    let style = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE.as_bytes()));
    assert!(csp.contains(&format!("style-src 'self' 'sha256-{style}';")), "{csp}");
    assert!(csp.contains("frame-ancestors https://toko-a.example"), "{csp}");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!("<meta name=\"kasir-session\" content=\"{id}\">")), "{html}");
    // Knowing the session id (in every webhook) does not give the secret.
    assert!(!html.contains(secret), "{html}");
    // Something meaningful at once (issue 19): the loading screen names the
    // merchant, the amount and the order, as text; nothing of the customer.
    assert!(html.contains("<p id=\"m\">Toko A</p><p id=\"a\">Rp150.000</p>"), "{html}");
    assert!(html.contains("<p id=\"o\">Kopi &lt;b&gt;Gayo&lt;/b&gt; &amp; teh \u{b7} INV-P</p>"), "{html}");
    for private in ["siti@example.com", "Siti Rahma", "1234567890"] {
        assert!(!html.contains(private), "{private} in {html}");
    }
    // And no event (webhook) carries it: its `url` has no fragment.
    assert_eq!(app.post_a(&format!("/v1/checkout_sessions/{id}/cancel"), &json!({})).await.status(), 200);
    let events = app.get_as(KEY_A, "/v1/events").await.text().await.unwrap();
    assert!(events.contains(&format!("{PUBLIC_URL}/pay/{id}\"")) && !events.contains(secret), "{events}");

    // Merchant B allows no origin: nobody may frame its page.
    let res = app
        .client
        .post(app.url("/v1/checkout_sessions"))
        .bearer_auth(KEY_B)
        .json(&json!({"amount": 1000, "reference": "B"}))
        .send()
        .await
        .unwrap();
    let b: Value = res.json().await.unwrap();
    let res = app.client.get(app.url(&format!("/pay/{}", b["id"].as_str().unwrap()))).send().await.unwrap();
    assert!(res.headers()["content-security-policy"].to_str().unwrap().ends_with("frame-ancestors 'none'"));
    assert_eq!(app.client.get(app.url("/pay/cs_nope")).send().await.unwrap().status(), 404);

    // Assets: a year, immutable, precompressed when accepted.
    let res = app
        .client
        .get(app.url("/assets/kasir-frontend-abc.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.headers()["content-type"], "text/javascript; charset=utf-8");
    let res = app.client.get(app.url("/assets/kasir-frontend-abc.js")).send().await.unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.text().await.unwrap(), "export default function init() {}");
    for bad in ["/assets/..%2Findex.html", "/assets/index.html", "/assets/.hidden", "/assets/missing.js"] {
        assert_eq!(app.client.get(app.url(bad)).send().await.unwrap().status(), 404, "{bad}");
    }
    app.stop().await;
    let _ = std::fs::remove_dir_all(dist);
}

#[tokio::test]
async fn without_a_built_widget_the_page_says_so() {
    let database_url = fresh_database_url(Backend::Sqlite).await;
    let app = spawn_with(database_url, Receiver::start().await, |c| {
        c.widget_dir = Some("/nonexistent/kasir-dist".into())
    })
    .await;
    let s: Value = app
        .post_a(
            "/v1/checkout_sessions",
            &json!({"amount": 150000, "reference": "INV-P", "description": "Kopi <b>Gayo</b> & teh",
                "customer": {"email": "siti@example.com", "name": "Siti Rahma", "phone": "+6281234567890"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app.client.get(app.url(&format!("/pay/{}", s["id"].as_str().unwrap()))).send().await.unwrap();
    assert_eq!(res.status(), 503);
    app.stop().await;
}

#[tokio::test]
async fn the_loader_and_the_demo_storefront() {
    let database_url = fresh_database_url(Backend::Sqlite).await;
    let app =
        spawn_with(database_url, Receiver::start().await, |c| c.demo_merchant = Some("merchant_a".into()))
            .await;
    let js = app.client.get(app.url("/embed.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(js.headers()["cross-origin-resource-policy"], "cross-origin");
    let body = js.text().await.unwrap();
    assert!(
        body.contains("event.origin !== kasirOrigin") && !body.contains("\"*\""),
        "explicit origins only"
    );

    let page = app.client.get(app.url("/demo")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-testid=\"demo-embed\"") && page.contains("/demo/checkout"));
    let page = app.client.get(app.url("/demo?mode=embed")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("data-kasir-checkout=\"{PUBLIC_URL}/pay/cs_")), "{page}");
    assert!(page.contains("_secret_"), "the embed carries the page's secret in the fragment: {page}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client.post(app.url("/demo/checkout")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{PUBLIC_URL}/pay/cs_")) && location.contains("#cs_"),
        "{location}"
    );
    let list: Value = app.get_as(KEY_A, "/v1/checkout_sessions").await.json().await.unwrap();
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        2,
        "the demo created its sessions through the merchant API"
    );
    app.stop().await;

    // Off unless configured.
    let database_url = fresh_database_url(Backend::Sqlite).await;
    let app = spawn_with(database_url, Receiver::start().await, |_| {}).await;
    assert_eq!(app.client.get(app.url("/demo")).send().await.unwrap().status(), 404);
    assert_eq!(app.client.post(app.url("/demo/checkout")).send().await.unwrap().status(), 404);
    app.stop().await;
}
