//! `kasir-parse`: kasir-shared's verdicts for the differential check
//! (`tests/differential/check.py`), which sends the same inputs to reference
//! libraries. Reads JSON lines `{"parser": "...", "input": ...}` on stdin and
//! writes one JSON line per input: `{"ok": true, ...normalised fields}` or
//! `{"ok": false, "code": "<machine code>"}`.
//!
//! Parsers: `card`, `phone`, `phone_mobile`, `email`, `nik`, `qris` (input a
//! string) and `qris_build` (input an object: see [`build_qris`]).

use std::io::{BufRead, BufWriter, Write};

use kasir_shared::ValidationError;
use kasir_shared::card::{CardBrand, CardNumber};
use kasir_shared::customer::{Email, Nik, PhoneNumber, PostalCode};
use kasir_shared::money::Idr;
use kasir_shared::qris::{MerchantCriteria, QrisMerchant, QrisPayload};
use serde_json::{Value, json};

fn main() -> std::process::ExitCode {
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let answer = match line {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => match serde_json::from_str::<Value>(&line) {
                Ok(request) => answer(&request),
                Err(e) => bad_request(&format!("not JSON: {e}")),
            },
            Err(e) => bad_request(&format!("unreadable line: {e}")),
        };
        if writeln!(out, "{answer}").is_err() {
            return std::process::ExitCode::from(1);
        }
    }
    if out.flush().is_err() {
        return std::process::ExitCode::from(1);
    }
    std::process::ExitCode::SUCCESS
}

/// Kasir's verdict on one request.
fn answer(request: &Value) -> Value {
    let parser = request["parser"].as_str().unwrap_or("");
    let input = &request["input"];
    if parser == "qris_build" {
        return build_qris(input);
    }
    let Some(text) = input.as_str() else {
        return bad_request("input must be a string");
    };
    match parser {
        "card" => card(text),
        "phone" => phone(PhoneNumber::parse(text)),
        "phone_mobile" => phone(PhoneNumber::parse_mobile(text)),
        "email" => verdict(Email::parse(text), |e| json!({"email": e.as_str()})),
        "nik" => verdict(Nik::parse(text), |_| json!({})),
        "qris" => verdict(QrisPayload::parse(text), qris_fields),
        other => bad_request(&format!("unknown parser {other:?}")),
    }
}

/// The brand is reported for refused numbers too (`detected`), so that brand
/// labels can be compared where the verdicts differ only on length.
fn card(text: &str) -> Value {
    let detected = CardBrand::detect(text).as_str();
    let mut v = verdict(CardNumber::parse(text), |c| json!({"brand": c.brand().as_str()}));
    v["detected"] = detected.into();
    v
}

fn phone(result: Result<PhoneNumber, ValidationError>) -> Value {
    verdict(result, |p| json!({"e164": p.e164(), "mobile": p.is_mobile()}))
}

fn qris_fields(q: &QrisPayload) -> Value {
    json!({
        "merchant_name": q.merchant_name(),
        "merchant_city": q.merchant_city(),
        "amount": q.amount().map(Idr::rupiah),
        "nmid": q.nmid(),
        "dynamic": q.is_dynamic(),
    })
}

/// Builds a payload with Kasir's builder from `{"name", "city", "postal_code"?,
/// "nmid", "mcc", "criteria": "UMI"|…, "acquirer_gui", "merchant_pan",
/// "merchant_id", "amount"? (rupiah), "bill_number"?}`; answers the payload.
fn build_qris(input: &Value) -> Value {
    let text = |key: &str| input[key].as_str().unwrap_or("").to_owned();
    let criteria = match input["criteria"].as_str() {
        Some("UMI") => MerchantCriteria::Umi,
        Some("UKE") => MerchantCriteria::Uke,
        Some("UME") => MerchantCriteria::Ume,
        Some("UBE") => MerchantCriteria::Ube,
        Some("URE") => MerchantCriteria::Ure,
        _ => return bad_request("criteria must be UMI, UKE, UME, UBE or URE"),
    };
    let postal_code = match input["postal_code"].as_str().map(PostalCode::parse).transpose() {
        Ok(postal) => postal,
        Err(e) => return refused(&e),
    };
    let merchant = QrisMerchant {
        name: text("name"),
        city: text("city"),
        postal_code,
        nmid: text("nmid"),
        mcc: text("mcc"),
        criteria,
        acquirer_gui: text("acquirer_gui"),
        merchant_pan: text("merchant_pan"),
        merchant_id: text("merchant_id"),
    };
    let built = match input["amount"].as_u64() {
        None => merchant.static_payload(),
        Some(rupiah) => match Idr::new(rupiah) {
            Some(amount) => merchant.dynamic_payload(amount, input["bill_number"].as_str().unwrap_or("")),
            None => return bad_request("amount out of range"),
        },
    };
    verdict(built, |q| json!({"payload": q.as_str()}))
}

/// `{"ok": true, ..fields}` or `{"ok": false, "code": ...}`.
fn verdict<T>(result: Result<T, ValidationError>, fields: impl FnOnce(&T) -> Value) -> Value {
    match result {
        Ok(value) => {
            let mut v = fields(&value);
            v["ok"] = true.into();
            v
        }
        Err(e) => refused(&e),
    }
}

fn refused(e: &ValidationError) -> Value {
    json!({"ok": false, "code": e.code()})
}

/// A request this tool cannot read: the check reports it as its own bug.
fn bad_request(detail: &str) -> Value {
    json!({"ok": false, "code": "kasir-parse.bad_request", "detail": detail})
}
