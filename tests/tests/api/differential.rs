//! kasir-shared's parsers against reference libraries (issue 16):
//! `tests/differential/check.py` feeds generated and hand-picked inputs to
//! the `kasir-parse` binary and to libphonenumber, email-validator,
//! python-stdnum, qriskit and Braintree's card-validator, and fails on any
//! difference not explained in `tests/differential/allowlist.toml`.
//! `.ci/run` installs the references; without them the test says so loudly
//! and, when `CI` is set, fails.

use std::process::Command;

#[test]
fn kasir_shared_agrees_with_the_reference_libraries() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/differential/check.py");
    let python = std::env::var("KASIR_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python).args([script, "--check-references"]).output();
    let missing = match &probe {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(e) => Some(format!("{python}: {e}")),
    };
    if let Some(missing) = missing {
        if std::env::var_os("CI").is_some() {
            panic!("the differential check needs its reference libraries in CI (see .ci/run):\n{missing}");
        }
        eprintln!("\n!!! SKIPPING the differential check: {missing} !!!\n");
        return;
    }
    let out = Command::new(&python)
        .args([script, "--kasir-parse", env!("CARGO_BIN_EXE_kasir-parse")])
        .output()
        .expect("python3 runs the differential check");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}");
    assert!(
        out.status.success(),
        "kasir-shared disagrees with a reference library beyond tests/differential/allowlist.toml:\n\
         {report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("\n0 unexplained differences"), "the check ran to its end: {report}");
}
