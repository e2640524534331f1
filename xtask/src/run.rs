//! The steps behind each command.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// A step failed; the message says which and how to rerun it.
pub type Result<T> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where cargo builds (`CARGO_TARGET_DIR`, or `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs one step, timing it, and fails with the command line if it fails.
pub fn step(name: &str, mut cmd: Command) -> Result<()> {
    println!("\n==> {name}");
    let started = Instant::now();
    let status = cmd.status().map_err(|e| format!("{name}: cannot start {cmd:?}: {e}"))?;
    let secs = started.elapsed().as_secs_f32();
    if status.success() {
        println!("==> {name}: ok ({secs:.1}s)");
        Ok(())
    } else {
        Err(format!("{name} failed ({status}) after {secs:.1}s; rerun: {cmd:?}"))
    }
}

/// `cargo xtask test`.
pub fn test() -> Result<()> {
    let started = Instant::now();
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    step("format (cargo fmt --check)", fmt)?;

    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    step("lint (cargo clippy -D warnings)", clippy)?;

    crate::widget::build()?;

    let postgres = postgres_reachable();
    if !postgres {
        println!("\n!!! PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL half of the");
        println!("!!! store tests will be SKIPPED (set KASIR_TEST_POSTGRES_URL, or start it).");
    }
    let mut tests = cargo();
    tests.args(["test", "--workspace", "--all-targets"]);
    step("tests (unit, property, integration, browser; SQLite and PostgreSQL)", tests)?;

    let mut wasm = cargo();
    wasm.args(["check", "--target", "wasm32-unknown-unknown", "-p", "kasir-shared", "-p", "kasir-frontend"]);
    step("wasm32 build of kasir-shared and the widget", wasm)?;

    println!("\nall checks passed in {:.0}s", started.elapsed().as_secs_f32());
    if !postgres {
        println!("!!! but the PostgreSQL store tests were SKIPPED: PostgreSQL was unreachable.");
    }
    Ok(())
}

/// Whether the test PostgreSQL accepts TCP connections.
fn postgres_reachable() -> bool {
    let url = std::env::var("KASIR_TEST_POSTGRES_URL").unwrap_or_default();
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .filter(|hp| hp.contains(':'))
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    use std::net::ToSocketAddrs;
    host_port.to_socket_addrs().ok().and_then(|mut a| a.next()).is_some_and(|addr| {
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok()
    })
}

/// `cargo xtask serve [--simulate [--card singapay|smartglocal]]`.
pub fn serve(extra: &[String]) -> Result<()> {
    if extra.first().map(String::as_str) == Some("--simulate") {
        crate::widget::build()?;
        let mut build = cargo();
        build.args(["build", "-p", "kasir-tests", "--bin", "kasir-simulate"]);
        step("build the server and the provider simulators", build)?;
        println!(
            "\nStarting Kasir on SQLite (./data/kasir.db) with QRIS, virtual accounts and e-wallets\n\
             routed to a Smilepayz simulator and cards to a SingaPay (or Smart Glocal) simulator.\n\
             Stop with Ctrl-C.\n"
        );
        let mut run = cargo();
        run.args(["run", "--quiet", "-p", "kasir-tests", "--bin", "kasir-simulate", "--"]).args(&extra[1..]);
        return step("kasir-simulate", run);
    }
    crate::widget::build()?;
    let mut build = cargo();
    build.args(["build", "-p", "kasir-server"]);
    step("build the server", build)?;
    println!(
        "\nStarting Kasir on SQLite (./data/kasir.db) with the built-in sandbox provider.\n\
         The merchant API, widget API, webhooks, /openapi.json and the hosted checkout\n\
         page (/pay/{{id}}, card payments) are live; the README's curl walkthrough takes\n\
         a payment end to end. Stop with Ctrl-C.\n"
    );
    let mut run = cargo();
    run.args(["run", "--quiet", "-p", "kasir-server", "--"]).args(extra);
    step("kasir-server", run)
}

/// `cargo xtask dist`: the widget, then the release server that carries it
/// (profile `dist`: release without debug info), copied to
/// `target/kasir-dist/` with its SHA-256; the files to run it are in
/// `deploy/` (systemd unit, container file, Caddy).
pub fn dist() -> Result<()> {
    crate::widget::build()?;
    let mut build = cargo();
    // Named explicitly, so the embedding crate rebuilds even if a release
    // build ran before dist/ existed (widget-files/build.rs).
    build.env("KASIR_EMBED_WIDGET_DIR", root().join("dist")).args([
        "build",
        "--profile",
        "dist",
        "-p",
        "kasir-server",
        "--bin",
        "kasir-server",
    ]);
    step("build the release server (profile dist; it embeds dist/)", build)?;
    let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let binary = read(&target_dir().join("dist").join("kasir-server"))?;
    // The page names the content-hashed wasm and JS, so finding the built
    // page inside the binary shows it carries this very widget.
    let page = read(&root().join("dist").join("index.html"))?;
    if page.is_empty() || !binary.windows(page.len()).any(|w| w == page.as_slice()) {
        return Err("the release binary does not carry the widget just built in dist/".into());
    }
    let out = target_dir().join("kasir-dist");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join("kasir-server");
    std::fs::write(&path, &binary).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&binary).iter().map(|b| format!("{b:02x}")).collect();
    let sums = out.join("SHA256SUMS");
    std::fs::write(&sums, format!("{sha}  kasir-server\n"))
        .map_err(|e| format!("{}: {e}", sums.display()))?;
    println!(
        "\n{}\n  {} bytes ({:.1} MiB), widget inside\n  sha256 {sha}\n\nRun it: {} (with kasir.toml or KASIR_* variables;\n\
         deploy/ has a systemd unit, a container file and a Caddy example).",
        path.display(),
        binary.len(),
        binary.len() as f64 / (1024.0 * 1024.0),
        path.display(),
    );
    Ok(())
}

/// The crash test at full size: 1,000 checkouts with 8 SIGKILLs and
/// restarts, on SQLite and PostgreSQL.
pub fn soak() -> Result<()> {
    let mut run = cargo();
    run.env("KASIR_CRASH_CHECKOUTS", "1000").env("KASIR_CRASH_KILLS", "8").args([
        "test",
        "-p",
        "kasir-tests",
        "--test",
        "api",
        "crash::",
        "--",
        "--nocapture",
    ]);
    step("crash soak: 1,000 checkouts, 8 SIGKILLs, SQLite and PostgreSQL", run)
}

/// `cargo xtask bench`: the widget's bytes (printed by the build) and its
/// time to an interactive card form in headless Chromium; the server's
/// throughput and latency against an axum echo, end to end, and as stored
/// rows and live listeners grow; crypto against OpenSSL.
pub fn bench() -> Result<()> {
    crate::widget::build()?;
    let mut run = cargo();
    run.args(["run", "--quiet", "-p", "kasir-tests", "--bin", "kasir-bench-widget", "--", "20"]);
    step("widget: navigation to interactive card form (20 cold loads)", run)?;
    // Release build: the figures are for the server as it is deployed.
    let mut run = cargo();
    run.args([
        "run",
        "--quiet",
        "--release",
        "-p",
        "kasir-tests",
        "--bin",
        "kasir-bench-server",
        "--",
        "10000",
    ]);
    step("server: throughput and latency against an axum echo baseline (release build)", run)?;
    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "kasir-tests",
        "--bin",
        "kasir-server-under-test",
        "--bin",
        "kasir-bench-scaling",
    ]);
    step("build the server and the scaling benchmark (release)", build)?;
    let mut run = cargo();
    run.args(["run", "--quiet", "--release", "-p", "kasir-tests", "--bin", "kasir-bench-scaling"]);
    step("server: scaling with stored sessions (10k-1M) and live SSE streams (100-10,000)", run)?;
    let mut run = cargo();
    run.args([
        "bench",
        "-p",
        "kasir-server",
        "--bench",
        "crypto",
        "--",
        "--warm-up-time",
        "1",
        "--measurement-time",
        "3",
    ]);
    step("crypto: RSA-2048 and HMAC as Kasir calls them (criterion)", run)?;
    // The baseline, in the same run on the same machine.
    for args in [&["speed", "-seconds", "3", "rsa2048"][..], &["speed", "-seconds", "2", "-hmac", "sha512"]] {
        let mut openssl = Command::new("openssl");
        openssl.args(args);
        if let Err(e) = step(&format!("baseline: openssl {}", args.join(" ")), openssl) {
            eprintln!("xtask: the OpenSSL baseline could not run ({e}); install openssl to compare");
        }
    }
    Ok(())
}

/// The fuzz targets (`fuzz/fuzz_targets/*.rs`): one per `kasir-shared` parser,
/// and the webhook verifiers.
const FUZZ_TARGETS: [&str; 10] =
    ["card_number", "expiry", "cvv", "nik", "phone", "email", "money", "qris", "billing", "webhooks"];

/// `cargo xtask fuzz [SECONDS] [TARGET…]`: builds the targets with
/// libFuzzer's coverage instrumentation on the stable toolchain (the flags
/// `cargo fuzz` passes, without a sanitizer: the parsers are safe Rust, so
/// what the fuzzer hunts is panics, which abort), then runs each for
/// SECONDS, growing its corpus in `fuzz/corpus/<target>`. A crash stops
/// the run and leaves the input in `fuzz/artifacts/<target>`.
pub fn fuzz(args: &[String]) -> Result<()> {
    let seconds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(60);
    let named: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let targets: Vec<&str> =
        FUZZ_TARGETS.iter().copied().filter(|t| named.is_empty() || named.contains(t)).collect();
    let flags = [
        "--cfg fuzzing",
        "-Cpasses=sancov-module",
        "-Cllvm-args=-sanitizer-coverage-level=4",
        "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
        "-Cllvm-args=-sanitizer-coverage-pc-table",
        "-Cllvm-args=-sanitizer-coverage-trace-compares",
        "-Cdebug-assertions",
        "-Coverflow-checks",
    ];
    // An explicit --target keeps the flags off build scripts and proc
    // macros, which run on the host without libFuzzer.
    let host = Command::new("rustc")
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.lines().find_map(|l| l.strip_prefix("host: ").map(str::to_owned)))
        .ok_or("cannot tell the host target from rustc -vV")?;
    let fuzz_dir = root().join("fuzz");
    let target_dir = root().join("target").join("fuzz");
    let mut build = cargo();
    build
        .env("RUSTFLAGS", flags.join(" "))
        .args(["build", "--release", "--target", &host, "--manifest-path"])
        .arg(fuzz_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    for t in &targets {
        build.args(["--bin", t]);
    }
    step("build the fuzz targets (libFuzzer, coverage-instrumented)", build)?;
    for t in &targets {
        let corpus = fuzz_dir.join("corpus").join(t);
        let artifacts = fuzz_dir.join("artifacts").join(t);
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mut run = Command::new(target_dir.join(&host).join("release").join(t));
        run.arg(&corpus)
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-max_len=512")
            .arg("-print_final_stats=1");
        step(&format!("fuzz {t} for {seconds} s"), run)?;
    }
    Ok(())
}
