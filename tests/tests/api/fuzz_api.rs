//! Schemathesis (PyPI) generates requests from `/openapi.json` for every
//! endpoint and checks the answers: no 5xx, every status and body as
//! documented, bad input refused, good input accepted
//! (`tests/schemathesis/schemathesis.toml`). `.ci/run` installs it; without
//! it the test says so loudly and, when `CI` is set, fails.

use std::process::Command;

use crate::helpers::{Backend, KEY_A, spawn_app};

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let st = std::env::var("KASIR_SCHEMATHESIS").unwrap_or_else(|_| "st".into());
    if Command::new(&st).arg("--version").output().is_err() {
        if std::env::var_os("CI").is_some() {
            panic!("schemathesis ({st}) is needed in CI: pip install schemathesis");
        }
        eprintln!("\n!!! SKIPPING the API fuzz test: pip install schemathesis !!!\n");
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis/schemathesis.toml");
    let workdir = std::env::temp_dir().join(format!("kasir-st-{}", kasir_server::ids::random_token(8)));
    std::fs::create_dir_all(&workdir).unwrap();
    let examples = std::env::var("KASIR_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "25".into());
    let url = app.url("/openapi.json");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&st)
            .current_dir(&workdir)
            .args(["--config-file", config, "run", &url, "--max-examples", &examples, "--no-color"])
            .args(["-H", &format!("Authorization: Bearer {KEY_A}")])
            .output()
    })
    .await
    .unwrap()
    .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&out.stdout);
    let summary = report.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>();
    eprintln!("{}", summary.join("\n"));
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Tested: "), "schemathesis ran: {report}");
}
