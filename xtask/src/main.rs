//! `cargo xtask <command>`: the project's two commands and their helpers.
//!
//! - `serve`: build and run the server (prints the URLs).
//! - `test`: everything CI runs: formatting, clippy, every test, and the
//!   wasm32 build of the shared crate and the widget.
//! - `widget`, `dist`, `bench`, `soak`, `fuzz`: the widget build, the
//!   release binary, the benchmarks, the long crash run, the parser fuzzing.

mod run;
mod widget;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <serve|test>

  serve   build and run the Kasir server on http://127.0.0.1:8080
          (--simulate: against provider simulators instead of the sandbox;
          --simulate --midtrans: every method through the Midtrans simulator)
  test    fmt check, clippy -D warnings, all tests, wasm32 checks
  widget  build the checkout widget into dist/ (cargo, wasm-bindgen as a
          library, npm binaryen's wasm-opt; no Trunk)
  dist    the release kasir-server with the widget inside, in target/kasir-dist/
          with its SHA-256; deploy/ has the systemd, container and Caddy files
  bench   widget bytes, time to an interactive card form, and server
          throughput and latency beside a baseline (BENCHMARKS.md)
  soak    the long crash run: 1,000 checkouts, 8 SIGKILLs, SQLite and
          PostgreSQL (RELIABILITY.md); cargo xtask test runs a short one
  fuzz    [SECONDS] [TARGET…] every kasir-shared parser under libFuzzer
          for SECONDS each (default 60), corpus in fuzz/corpus (SECURITY.md)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => run::test(),
        Some("serve") => run::serve(&args[1..]),
        Some("widget") => widget::build(),
        Some("dist") => run::dist(),
        Some("bench") => run::bench(),
        Some("soak") => run::soak(),
        Some("fuzz") => run::fuzz(&args[1..]),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
