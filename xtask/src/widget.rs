//! Building the widget with Trunk, with exactly the pinned tools (installed
//! when missing), precompressing its files and measuring them.
//!
//! Pins (see issue 5's measured facts): Trunk 0.21.14 (0.22 needs a newer
//! rustc), wasm-bindgen-cli equal to Cargo.lock's wasm-bindgen (0.2.130,
//! installed unlocked because its locked build misses a crate on the index),
//! and wasm-opt from npm `binaryen@132.0.0` (Debian's 108 breaks the output).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run::{Result, cargo, root, step};

const TRUNK: &str = "0.21.14";
const WASM_BINDGEN: &str = "0.2.130";

fn version_of(tool: &Path) -> Option<String> {
    let out = Command::new(tool).arg("--version").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin").join(name)
}

/// Installs Trunk, wasm-bindgen-cli and binaryen's wasm-opt at their pins
/// when they are missing or another version.
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
    if !version_of(&cargo_bin("trunk")).is_some_and(|v| v.contains(TRUNK)) {
        let mut c = cargo();
        c.args(["install", "--locked", &format!("trunk@{TRUNK}")]);
        step(&format!("install trunk {TRUNK} (12-14 min the first time)"), c)?;
    }
    if !version_of(&cargo_bin("wasm-bindgen")).is_some_and(|v| v.contains(WASM_BINDGEN)) {
        let mut c = cargo();
        c.args(["install", "--force", &format!("wasm-bindgen-cli@{WASM_BINDGEN}")]);
        step(&format!("install wasm-bindgen-cli {WASM_BINDGEN} (about 5 min the first time)"), c)?;
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

/// `trunk build --release` into `dist/`, then `.gz` and `.br` beside each file.
pub fn build() -> Result<()> {
    ensure_tools()?;
    // Trunk.toml sets offline = true, which makes cargo offline too.
    let mut fetch = cargo();
    fetch.args(["fetch"]);
    step("cargo fetch (Trunk builds offline)", fetch)?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![root().join("node_modules/.bin"), cargo_bin("")];
    dirs.extend(std::env::split_paths(&path));
    let path = std::env::join_paths(dirs).map_err(|e| format!("PATH: {e}"))?;
    let mut trunk = Command::new(cargo_bin("trunk"));
    trunk.current_dir(root()).env("PATH", path).args(["build", "--release"]);
    step("build the widget (trunk build --release)", trunk)?;
    precompress(&root().join("dist"))
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

/// Writes `.gz` and `.br` beside every file Trunk made and prints the sizes.
fn precompress(dist: &Path) -> Result<()> {
    let mut rows = Vec::new();
    let entries = std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".gz") || name.ends_with(".br") || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
        let (gz, br) = compress(&bytes)?;
        std::fs::write(dist.join(format!("{name}.gz")), &gz).map_err(|e| format!("{name}.gz: {e}"))?;
        std::fs::write(dist.join(format!("{name}.br")), &br).map_err(|e| format!("{name}.br: {e}"))?;
        rows.push((name, bytes.len(), gz.len(), br.len()));
    }
    rows.sort();
    println!("\nwidget files (bytes)          raw      gzip    brotli");
    let (mut raw, mut gzip, mut brotli) = (0, 0, 0);
    for (name, r, g, b) in &rows {
        println!("  {name:<26} {r:>8} {g:>9} {b:>9}");
        raw += r;
        gzip += g;
        brotli += b;
    }
    println!("  {:<26} {raw:>8} {gzip:>9} {brotli:>9}", "total");
    Ok(())
}
