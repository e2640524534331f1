//! A small WebDriver (W3C) client for chromedriver, spoken with reqwest:
//! enough to load pages, type, click, read, switch frames and take
//! screenshots. Used by the browser tests and the widget benchmark.

use std::time::Duration;

use serde_json::{Value, json};

/// The W3C element key.
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session.
#[derive(Debug)]
pub struct Driver {
    http: reqwest::Client,
    base: String,
    child: std::process::Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Chromium is chromedriver's child: killing chromedriver alone left
        // every browser running (hundreds after a benchmark, eating the CPU
        // of whatever ran next). Ending the WebDriver session quits it.
        self.quit_browser();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// `DELETE /session/{id}`, synchronously (from `Drop`), bounded in time.
    fn quit_browser(&self) {
        use std::io::{Read, Write};
        let Some(rest) = self.base.strip_prefix("http://") else { return };
        let Some((host, path)) = rest.split_once('/') else { return };
        let Ok(addr) = host.parse::<std::net::SocketAddr>() else { return };
        let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!("DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Driver {
    /// Starts chromedriver and a headless Chromium (`None` when not installed).
    pub async fn start() -> Option<Driver> {
        let driver = std::env::var("KASIR_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        if !std::path::Path::new(&driver).exists() {
            return None;
        }
        let port = free_port();
        let child = std::process::Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let http = reqwest::Client::new();
        let status = format!("http://127.0.0.1:{port}/status");
        for _ in 0..100 {
            if http.get(&status).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let browser = std::env::var("KASIR_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": browser,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                "--window-size=390,844"]}}}});
        let res =
            crate::load::json_of(http.post(format!("http://127.0.0.1:{port}/session")).json(&caps)).await?;
        let session = res["value"]["sessionId"].as_str()?.to_owned();
        Some(Driver { http, base: format!("http://127.0.0.1:{port}/session/{session}"), child })
    }

    pub async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url})).await;
    }

    pub async fn find(&self, css: &str) -> Option<String> {
        let v = self.cmd("POST", "/element", json!({"using": "css selector", "value": css})).await;
        v[ELEMENT].as_str().map(str::to_owned)
    }

    /// Waits up to 15 s for `css` to exist.
    pub async fn wait(&self, css: &str) -> String {
        for _ in 0..150 {
            if let Some(e) = self.find(css).await {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let html = self.script("return document.body.innerHTML").await;
        panic!("{css} never appeared; page: {html}");
    }

    /// Waits up to 15 s for `css` to exist with some text, and returns it.
    pub async fn wait_text(&self, css: &str) -> String {
        for _ in 0..150 {
            if let Some(e) = self.find(css).await {
                let text = self.text(&e).await;
                if !text.trim().is_empty() {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let html = self.script("return document.body.innerHTML").await;
        panic!("{css} never showed a text; page: {html}");
    }

    pub async fn text(&self, element: &str) -> String {
        self.cmd("GET", &format!("/element/{element}/text"), Value::Null)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        self.cmd("POST", &format!("/element/{e}/value"), json!({"text": text})).await;
    }

    pub async fn click(&self, css: &str) {
        let e = self.wait(css).await;
        self.cmd("POST", &format!("/element/{e}/click"), json!({})).await;
    }

    pub async fn script(&self, script: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": script, "args": []})).await
    }

    /// Runs axe-core (the pinned npm package) on the page as it stands and
    /// returns its WCAG 2.1 A/AA violations, one line each (rule: targets).
    /// Panics when axe-core is not installed (`npm ci` at the root).
    pub async fn axe(&self) -> Vec<String> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("axe-core is missing ({}: {e}); run npm ci at the root", path.display())
        });
        self.script(&format!("if (!window.axe) {{ {source} }}")).await;
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})\
              .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\
              .catch(e => done(['axe failed: ' + e]));";
        let found = self.cmd("POST", "/execute/async", json!({"script": script, "args": []})).await;
        let list = found.as_array().unwrap_or_else(|| panic!("axe-core did not run: {found}"));
        list.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect()
    }

    pub async fn frame(&self, css: Option<&str>) {
        let id = match css {
            Some(css) => json!({ELEMENT: self.wait(css).await}),
            None => Value::Null,
        };
        self.cmd("POST", "/frame", json!({"id": id})).await;
    }

    /// The element's pixels, as a PNG the browser took.
    pub async fn element_png(&self, element: &str) -> Vec<u8> {
        use base64::Engine;
        let png = self.cmd("GET", &format!("/element/{element}/screenshot"), Value::Null).await;
        base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap()
    }

    pub async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self.cmd("GET", "/screenshot", Value::Null).await;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screens");
        let _ = std::fs::create_dir_all(&dir);
        if let Some(bytes) =
            png.as_str().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        {
            let _ = std::fs::write(dir.join(format!("{name}.png")), bytes);
        }
    }
}
