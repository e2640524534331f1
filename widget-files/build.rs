//! Embeds the built widget (`dist/` at the workspace root, or
//! `KASIR_EMBED_WIDGET_DIR`) into this crate, one `include_bytes!` per file,
//! in release builds only.
//!
//! - Release: cargo rescans `dist/` on every build (`cargo xtask widget`
//!   rewrites only the files that changed), so the server is rebuilt when
//!   the widget changed and only then.
//! - Debug (development, tests): nothing is embedded and the server reads
//!   `dist/` from disk, so a new widget never recompiles the server.
//! - No `dist/` yet: nothing is embedded, and this script reruns only when
//!   `KASIR_EMBED_WIDGET_DIR` changes (`cargo xtask dist` sets it), not on
//!   every build.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=KASIR_EMBED_WIDGET_DIR");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dir = match std::env::var_os("KASIR_EMBED_WIDGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("..").join("dist"),
    };
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let embed = release && dir.join("index.html").is_file();
    if embed {
        // A directory is scanned for changes, recursively.
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    if embed && let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                names.push((entry.file_name().to_string_lossy().into_owned(), path));
            }
        }
    }
    names.sort();
    let mut code = String::from("/// The widget's files, name → bytes (empty when it was not built).\n");
    code.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (name, path) in &names {
        let _ = writeln!(code, "    ({name:?}, include_bytes!({:?})),", path.display().to_string());
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("files.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
