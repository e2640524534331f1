//! Building the widget into `dist/` without Trunk (issue 20): cargo builds
//! the wasm, wasm-bindgen runs as a library linked into xtask (pinned to
//! Cargo.lock's wasm-bindgen, so there is nothing to `cargo install`),
//! wasm-opt comes from npm `binaryen@132.0.0` (Debian's 108 breaks the
//! output), then content-hashed names, the page with its one inline loader
//! and Subresource Integrity values, and `.gz`/`.br` beside every file.
//!
//! The steps and flags are the ones Trunk 0.21.14 ran for `index.html`'s
//! old `<link data-trunk rel="rust" data-wasm-opt="z" …>`, so the wasm and
//! its JavaScript glue come out byte for byte as before (BENCHMARKS.md).
//!
//! `dist/` is written file by file, and a file whose bytes did not change is
//! left alone, so the server (which embeds `dist/` at build time, see
//! `widget-files/`) is rebuilt only when the widget really changed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use base64::Engine;
use sha2::{Digest, Sha256, Sha384};

use crate::run::{Result, cargo, root, step, target_dir};

/// Where the pages fetch the widget's files from (the server's route).
const PUBLIC_URL: &str = "/assets/";
/// The bin target and the base of its files' names.
const NAME: &str = "kasir-frontend";
/// The cargo profile tuned for size (the workspace Cargo.toml).
const PROFILE: &str = "wasm-release";
/// Binaryen's features that wasm-bindgen 0.2.130's output uses; without them
/// wasm-opt refuses the module.
const WASM_OPT_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

fn version_of(tool: &Path) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Adds the wasm32 target and installs binaryen's wasm-opt (and axe-core,
/// for the browser tests) from the lock file when missing.
pub fn ensure_tools() -> Result<()> {
    // rust-toolchain.toml names the target, but rustup only adds it when it
    // installs the toolchain itself, not to a toolchain already present.
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    if let Ok(out) = installed
        && !String::from_utf8_lossy(&out.stdout).lines().any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        let mut c = Command::new("rustup");
        c.current_dir(root()).args(["target", "add", "wasm32-unknown-unknown"]);
        step("add the wasm32-unknown-unknown target", c)?;
    }
    let wasm_opt = root().join("node_modules/.bin/wasm-opt");
    // axe-core (the browser tests' accessibility checks) comes from the same lock file.
    let axe = root().join("node_modules/axe-core/axe.min.js");
    if !version_of(&wasm_opt).is_some_and(|v| v.contains("version 132")) || !axe.exists() {
        let mut c = Command::new("npm");
        c.current_dir(root()).args(["ci", "--no-audit", "--no-fund"]);
        step("install binaryen 132 (npm ci)", c)?;
    }
    Ok(())
}

/// `cargo xtask widget`: builds the widget into `dist/`.
pub fn build() -> Result<()> {
    ensure_tools()?;
    let mut wasm = cargo();
    wasm.args([
        "build",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        PROFILE,
        "-p",
        NAME,
        "--bin",
        NAME,
    ]);
    step("build the widget's wasm (cargo, wasm-release profile)", wasm)?;

    let target = target_dir();
    let input = target.join("wasm32-unknown-unknown").join(PROFILE).join(format!("{NAME}.wasm"));
    let staging = target.join("widget-staging");
    let optimised = staging.join(format!("{NAME}_bg.opt.wasm"));
    let glue = staging.join(format!("{NAME}.js"));
    // wasm-bindgen and wasm-opt are pure functions of the wasm cargo made
    // (and the pinned tools): when it has not changed, their output stands.
    let input_bytes = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    let stamp = staging.join("input.sha256");
    let fingerprint = format!("{}\n{WASM_OPT_FEATURES:?}", content_hash(&input_bytes));
    let fresh = std::fs::read_to_string(&stamp).is_ok_and(|s| s == fingerprint)
        && optimised.is_file()
        && glue.is_file();
    if fresh {
        println!("\n==> wasm-bindgen and wasm-opt: the wasm is unchanged, their output stands");
    } else {
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
        println!("\n==> wasm-bindgen (the library, pinned in xtask/Cargo.toml; --target web)");
        let started = Instant::now();
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&input)
            .out_name(NAME)
            .web(true)
            .map_err(|e| format!("wasm-bindgen: {e:#}"))?
            .typescript(false)
            .generate(&staging)
            .map_err(|e| format!("wasm-bindgen on {}: {e:#}", input.display()))?;
        println!("==> wasm-bindgen: ok ({:.1}s)", started.elapsed().as_secs_f32());
        if staging.join("snippets").exists() {
            return Err("the widget has wasm-bindgen snippets (inline_js / module): teach xtask/src/widget.rs to ship them".into());
        }
        let bindgen_wasm = staging.join(format!("{NAME}_bg.wasm"));
        let mut opt = Command::new(root().join("node_modules/.bin/wasm-opt"));
        opt.arg("-Oz").args(WASM_OPT_FEATURES).arg(&bindgen_wasm).arg("-o").arg(&optimised);
        step("optimise the wasm for size (wasm-opt -Oz, binaryen 132)", opt)?;
        std::fs::write(&stamp, &fingerprint).map_err(|e| format!("{}: {e}", stamp.display()))?;
    }

    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let files = site(
        &read(&root().join("index.html"))?,
        &read(&glue)?,
        &read(&optimised)?,
        &read(&root().join("frontend/style.css"))?,
    )?;
    write_dist(&root().join("dist"), &files)
}

/// 16 hex digits of the SHA-256 of `bytes`: the name changes when the bytes do.
fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// `sha384-…`, the Subresource Integrity value.
fn integrity(bytes: &[u8]) -> String {
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)))
}

/// The page's first script, run as `<head>` is read: it asks for the
/// session's widget view at once, beside the wasm's download instead of
/// after it, keeps the answer for the widget (`window.kasirView`, taken once
/// by `api::session`), and shows the merchant, the amount and the order in
/// the loading screen as soon as it arrives. The client secret comes from
/// the URL's fragment, as in the widget; the page itself holds nothing of
/// the session but its id (issue 15). Plain DOM text, no HTML.
const PREFETCH: &str = "(function(){\
var m=function(n){var e=document.querySelector('meta[name=\"'+n+'\"]');return e&&e.content},\
s=m('kasir-session'),a=m('kasir-api'),k=location.hash.slice(1).split('&')[0];\
if(!s||!a||!/^[A-Za-z0-9_]+$/.test(k))return;\
var v=fetch(a+'/v1/widget/sessions/'+encodeURIComponent(s),{headers:{Authorization:'Bearer '+k}})\
.then(function(r){return r.text().then(function(t){return{ok:r.ok,text:t}})});\
window.kasirView=v;\
v.then(function(r){if(!r.ok)return;var d=JSON.parse(r.text),f=function(){\
var put=function(i,t){var e=document.getElementById(i);if(e&&t)e.textContent=t};\
put('kasir-boot-merchant',d.merchant&&d.merchant.display_name);\
put('kasir-boot-amount','Rp'+Number(d.amount).toLocaleString('id-ID'));\
put('kasir-boot-order',[d.description,d.reference].filter(Boolean).join(' \\u00b7 '))};\
document.readyState==='loading'?document.addEventListener('DOMContentLoaded',f):f()})\
.catch(function(){})})();";

/// The files of `dist/` (name → bytes), before compression: the hashed JS,
/// wasm and CSS, and `index.html` pointing at them.
fn site(index: &[u8], js: &[u8], wasm: &[u8], css: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let index = std::str::from_utf8(index).map_err(|e| format!("index.html: {e}"))?;
    let js_name = format!("{NAME}-{}.js", content_hash(js));
    let wasm_name = format!("{NAME}-{}_bg.wasm", content_hash(wasm));
    // The style sheet goes into the page itself: a slow network's first
    // paint then waits for no other request (the page's CSP allows this
    // one <style> by its hash).
    let css = std::str::from_utf8(css).map_err(|e| format!("style.css: {e}"))?;
    if css.contains("</") {
        return Err("style.css must not contain \"</\" (it is inlined in a <style> element)".into());
    }
    let head = format!(
        "<style>{css}</style>\n\
         <link rel=\"modulepreload\" href=\"{PUBLIC_URL}{js_name}\" crossorigin=\"anonymous\" integrity=\"{}\">\n\
         <link rel=\"preload\" href=\"{PUBLIC_URL}{wasm_name}\" crossorigin=\"anonymous\" integrity=\"{}\" as=\"fetch\" type=\"application/wasm\">\n\
         <script>{PREFETCH}</script>\n\
         <script type=\"module\">\n\
         import init from '{PUBLIC_URL}{js_name}';\n\
         await init({{ module_or_path: '{PUBLIC_URL}{wasm_name}' }});\n\
         </script>\n",
        integrity(js),
        integrity(wasm),
    );
    // index.html marks where the widget goes with one comment in <head>.
    const MARK: &str = "<!-- kasir:widget -->";
    if index.matches(MARK).count() != 1 {
        return Err(format!("index.html must hold {MARK} exactly once, in <head>"));
    }
    let html = index.replacen(MARK, head.trim_end(), 1);
    let mut files = BTreeMap::new();
    files.insert("index.html".to_owned(), html.into_bytes());
    files.insert(js_name, js.to_vec());
    files.insert(wasm_name, wasm.to_vec());
    Ok(files)
}

fn compress(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).map_err(|e| format!("gzip: {e}"))?;
    let gz = gz.finish().map_err(|e| format!("gzip: {e}"))?;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        w.write_all(bytes).map_err(|e| format!("brotli: {e}"))?;
    }
    Ok((gz, br))
}

/// Makes `dist/` hold exactly `files` and their `.gz`/`.br`, writing only
/// what changed, and prints the sizes.
fn write_dist(dist: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
    std::fs::create_dir_all(dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    let mut wanted = BTreeMap::new();
    let mut rows = Vec::new();
    for (name, bytes) in files {
        // Unchanged since the last build: its compressed forms stand (brotli
        // at quality 11 is most of a rebuild's time).
        let existing = |suffix: &str| std::fs::read(dist.join(format!("{name}{suffix}"))).ok();
        let (gz, br) = match (existing(""), existing(".gz"), existing(".br")) {
            (Some(raw), Some(gz), Some(br)) if raw == *bytes => (gz, br),
            _ => compress(bytes)?,
        };
        rows.push((name.clone(), bytes.len(), gz.len(), br.len()));
        wanted.insert(format!("{name}.gz"), gz);
        wanted.insert(format!("{name}.br"), br);
        wanted.insert(name.clone(), bytes.clone());
    }
    let mut written = 0;
    for (name, bytes) in &wanted {
        let path = dist.join(name);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            written += 1;
        }
    }
    let entries = std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !wanted.contains_key(&name) {
            let path = entry.path();
            let removed =
                if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    println!("\n==> dist/: {written} of {} files changed", wanted.len());
    println!("\nwidget files (bytes)                          raw      gzip    brotli");
    let (mut raw, mut gzip, mut brotli) = (0, 0, 0);
    for (name, r, g, b) in &rows {
        println!("  {name:<40} {r:>8} {g:>9} {b:>9}");
        raw += r;
        gzip += g;
        brotli += b;
    }
    println!("  {:<40} {raw:>8} {gzip:>9} {brotli:>9}", "total");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_points_at_hashed_files_with_their_integrity() {
        let index = b"<html><head><title>x</title>\n<!-- kasir:widget -->\n</head><body></body></html>";
        let files = site(index, b"export default 1;", b"\0asm", b"p{}").unwrap();
        assert_eq!(files.len(), 3);
        let html = String::from_utf8(files["index.html"].clone()).unwrap();
        let js = files.keys().find(|n| n.ends_with(".js")).unwrap();
        let wasm = files.keys().find(|n| n.ends_with("_bg.wasm")).unwrap();
        assert!(html.contains(&format!("import init from '/assets/{js}'")), "{html}");
        assert!(html.contains(&format!("module_or_path: '/assets/{wasm}'")), "{html}");
        assert!(html.contains(&integrity(b"\0asm")));
        assert!(!html.contains("kasir:widget"));
        assert!(html.contains("<style>p{}</style>"), "{html}");
        assert!(site(index, b"", b"", b"p{} </style><script>").is_err());
        // Other bytes, another name.
        let again = site(index, b"export default 2;", b"\0asm", b"p{}").unwrap();
        assert!(!again.contains_key(js.as_str()));
        assert!(site(b"<head></head>", b"", b"", b"").is_err());
    }
}
