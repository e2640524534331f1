//! The checkout widget as `cargo xtask widget` built it into `dist/`,
//! carried inside release binaries so that `kasir-server` alone serves the
//! hosted page, the widget and its precompressed variants (issue 20). Empty
//! in debug builds, which read `dist/` from disk (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/files.rs"));
