//! QRIS tests: the provider document's payload, every rejection, the builder.

use proptest::prelude::*;

use super::*;
use crate::money::Idr;

/// The `qrString` from the Smilepayz Pay-In document
/// (`../shared/providers/docs/002_5456a85ee8b2e59c.txt`); its CRC is 51D5.
const SMILEPAYZ_DOC_PAYLOAD: &str = "00020101021226570011ID.DANA.WWW011893600915069533479502096953347950303UME51440014ID.CO.QRIS.WWW0215ID20243302250440303UME5204739953033605405100005802ID5919DP Mega Jaya Makmur6015Kota Jakarta Se61051221062750118pay_JXlS1MtBUk931660490011ID.DANA.WWW0425MER202110293394047135422905011630451D5";

fn merchant() -> QrisMerchant {
    QrisMerchant {
        name: "Toko Kasir Demo".into(),
        city: "Jakarta".into(),
        postal_code: Some(crate::customer::PostalCode::parse("12210").unwrap()),
        nmid: "ID1020030040050".into(),
        mcc: "5999".into(),
        criteria: MerchantCriteria::Umi,
        acquirer_gui: "ID.CO.KASIR.WWW".into(),
        merchant_pan: "936000000000000017".into(),
        merchant_id: "KASIRDEMO01".into(),
    }
}

/// Re-computes the CRC so a changed payload fails on what it changed, not on the CRC.
fn with_fixed_crc(body_without_crc: &str) -> String {
    let crc = crc16_ccitt_false(body_without_crc.as_bytes());
    format!("{body_without_crc}{crc:04X}")
}

#[test]
fn the_provider_documents_payload_parses() {
    let p = QrisPayload::parse(SMILEPAYZ_DOC_PAYLOAD).unwrap();
    assert_eq!(p.merchant_name(), "DP Mega Jaya Makmur");
    assert_eq!(p.merchant_city(), "Kota Jakarta Se");
    assert_eq!(p.nmid(), Some("ID2024330225044"));
    assert_eq!(p.criteria(), Some("UME"));
    assert_eq!(p.amount(), Some(Idr::new(10_000).unwrap()));
    assert_eq!(p.mcc(), "7399");
    assert_eq!(p.postal_code(), Some("12210"));
    assert!(p.is_dynamic());
    assert_eq!(p.account_guis(), ["ID.DANA.WWW", "ID.CO.QRIS.WWW"]);
    assert_eq!(p.bill_number(), Some("pay_JXlS1MtBUk9316"));
    assert_eq!(p.as_str(), SMILEPAYZ_DOC_PAYLOAD);
}

#[test]
fn the_payload_in_the_document_itself_parses_when_the_document_is_beside_the_repo() {
    // CI clones the repo next to `shared/`; a bare checkout has only the copy above.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/providers/docs/002_5456a85ee8b2e59c.txt");
    let Ok(doc) = std::fs::read_to_string(path) else {
        return;
    };
    let line = doc.lines().find(|l| l.contains("\"qrString\": \"000201")).expect("qrString line");
    let payload = line.split('"').nth(3).expect("quoted payload");
    assert_eq!(payload, SMILEPAYZ_DOC_PAYLOAD);
}

#[test]
fn every_single_character_change_is_rejected() {
    let original = SMILEPAYZ_DOC_PAYLOAD.as_bytes();
    for i in 0..original.len() {
        for replacement in [b'0', b'7', b'A', b'z', b' '] {
            if original[i] == replacement {
                continue;
            }
            let mut changed = original.to_vec();
            changed[i] = replacement;
            let changed = String::from_utf8(changed).unwrap();
            assert!(QrisPayload::parse(&changed).is_err(), "accepted a change at {i}: {changed}");
        }
    }
}

#[test]
fn rejects_with_stable_codes() {
    let code = |s: &str| QrisPayload::parse(s).unwrap_err().code();
    assert_eq!(code(""), "qris.empty");
    assert_eq!(code(&"0".repeat(600)), "qris.too_long");
    assert_eq!(code("000201\u{e9}"), "qris.characters");
    assert_eq!(code("000201\n6304ABCD"), "qris.characters");
    assert_eq!(code("00020"), "qris.tlv");
    assert_eq!(code("000202010211"), "qris.format");
    assert_eq!(code("010211000201"), "qris.format");
    assert_eq!(code("000201010211"), "qris.crc_missing");
    let body = &SMILEPAYZ_DOC_PAYLOAD[..SMILEPAYZ_DOC_PAYLOAD.len() - 4];
    assert_eq!(code(&format!("{body}51D6")), "qris.crc");
    assert_eq!(code(&format!("{body}51d5")), "qris.crc");
    // Structural errors behind a correct CRC.
    assert_eq!(code(&with_fixed_crc("0002010102135802ID6304")), "qris.point_of_initiation");
    assert_eq!(code(&with_fixed_crc("0002010102115802ID5802ID6304")), "qris.tlv");
    assert_eq!(code(&with_fixed_crc("0002010102112604010252045999530336058 02ID5901A6001B6304")), "qris.tlv");
    assert_eq!(
        code(&with_fixed_crc(
            "00020101021126080104ABCD52045999530336058 02ID5901A6001B6304".replace(' ', "").as_str()
        )),
        "qris.template"
    );
    let good = "0002010102112619 0015ID.CO.KASIR.WWW5204599953033605802ID5901A6001B".replace(' ', "");
    assert!(QrisPayload::parse(&with_fixed_crc(&format!("{good}6304"))).is_ok());
    assert_eq!(
        code(&with_fixed_crc(&format!("{}6304", good.replace("5303360", "5303840")))),
        "qris.currency"
    );
    assert_eq!(
        code(&with_fixed_crc(&format!("{}6304", good.replace("5901A", "5900")))),
        "qris.missing_field"
    );
    assert_eq!(code(&with_fixed_crc(&format!("{good}54051000.6304"))), "qris.amount");
    // EMVCo: tag 54 is at most 13 characters (issue 16).
    assert_eq!(
        QrisPayload::parse(&with_fixed_crc(&format!("{good}541399999999999996304"))).unwrap().amount(),
        Some(Idr::new(9_999_999_999_999).unwrap())
    );
    for bad_amount in
        ["5404-100", "54010", "540510.50", "5403abc", "541410000000000000", "541410000000000.00"]
    {
        let payload = with_fixed_crc(&format!("{good}{bad_amount}6304"));
        assert_eq!(code(&payload), "qris.amount", "{bad_amount}");
    }
    assert_eq!(
        QrisPayload::parse(&with_fixed_crc(&format!("{good}540710000.06304"))).unwrap().amount(),
        Some(Idr::new(10_000).unwrap())
    );
    assert_eq!(
        code(&with_fixed_crc("00020101021152045999530336058 02ID5901A6001B6304".replace(' ', "").as_str())),
        "qris.missing_field"
    );
}

#[test]
fn builder_makes_payloads_that_parse_back() {
    let amount = Idr::new(150_000).unwrap();
    let p = merchant().dynamic_payload(amount, "cs_123").unwrap();
    assert!(p.is_dynamic());
    assert_eq!(p.amount(), Some(amount));
    assert_eq!(p.merchant_name(), "Toko Kasir Demo");
    assert_eq!(p.nmid(), Some("ID1020030040050"));
    assert_eq!(p.bill_number(), Some("cs_123"));
    assert_eq!(p.postal_code(), Some("12210"));
    assert!(p.as_str().starts_with("000201010212"));
    let s = merchant().static_payload().unwrap();
    assert!(!s.is_dynamic());
    assert_eq!(s.amount(), None);
}

#[test]
fn builder_rejects_what_a_payload_cannot_hold() {
    let mut m = merchant();
    m.name = "A name far longer than twenty-five".into();
    assert_eq!(m.static_payload().unwrap_err().code(), "qris.field_too_long");
    let mut m = merchant();
    m.city = "Kota Administrasi Jakarta".into();
    assert_eq!(m.static_payload().unwrap_err().code(), "qris.field_too_long");
    let mut m = merchant();
    m.name = "Toko Ümlaut".into();
    assert_eq!(m.static_payload().unwrap_err().code(), "qris.characters");
    let mut m = merchant();
    m.nmid = String::new();
    assert_eq!(m.static_payload().unwrap_err().code(), "qris.missing_field");
    assert_eq!(merchant().dynamic_payload(Idr::ZERO, "x").unwrap_err().code(), "qris.amount");
}

#[test]
fn builder_refuses_an_amount_longer_than_thirteen_characters() {
    // EMVCo tag 54 holds at most 13 characters.
    let longest = Idr::new(9_999_999_999_999).unwrap();
    assert_eq!(merchant().dynamic_payload(longest, "x").unwrap().amount(), Some(longest));
    for rupiah in [10_000_000_000_000, 123_456_789_012_345, Idr::MAX.rupiah()] {
        let amount = Idr::new(rupiah).unwrap();
        assert_eq!(merchant().dynamic_payload(amount, "x").unwrap_err().code(), "qris.amount", "{rupiah}");
    }
}

#[test]
fn builder_refuses_an_empty_bill_number_and_a_pan_with_letters() {
    // Found by the differential check against qriskit (issue 16).
    assert_eq!(
        merchant().dynamic_payload(Idr::new(15_000).unwrap(), "").unwrap_err().code(),
        "qris.missing_field"
    );
    let mut m = merchant();
    m.merchant_pan = "93600014ABC".into();
    assert_eq!(m.static_payload().unwrap_err().code(), "qris.merchant_account");
}

#[test]
fn builder_checks_the_merchant_account_limits() {
    let code = |m: QrisMerchant| m.static_payload().map(|_| "ok").unwrap_or_else(|e| e.code());
    let with = |change: &dyn Fn(&mut QrisMerchant)| {
        let mut m = merchant();
        change(&mut m);
        m
    };
    // Sub-tag 00, the globally unique identifier: at most 32 characters.
    assert_eq!(code(with(&|m| m.acquirer_gui = format!("ID.CO.{}.WWW", "K".repeat(22)))), "ok");
    assert_eq!(
        code(with(&|m| m.acquirer_gui = format!("ID.CO.{}.WWW", "K".repeat(23)))),
        "qris.merchant_account"
    );
    // Sub-tag 01, the merchant PAN: at most 19 characters.
    assert_eq!(code(with(&|m| m.merchant_pan = "9360000000000000017".into())), "ok");
    assert_eq!(code(with(&|m| m.merchant_pan = "93600000000000000017".into())), "qris.merchant_account");
    // Sub-tag 02, the merchant ID: at most 15 characters.
    assert_eq!(code(with(&|m| m.merchant_id = "KASIRDEMO012345".into())), "ok");
    assert_eq!(code(with(&|m| m.merchant_id = "KASIRDEMO0123456".into())), "qris.merchant_account");
    // NMID: `ID` and 13 digits.
    for bad in [
        "ID102003004005",
        "ID10200300400500",
        "XX1020030040050",
        "id1020030040050",
        "ID10200300400A0",
        "ID 102003004005",
    ] {
        assert_eq!(code(with(&|m| m.nmid = bad.into())), "qris.merchant_account", "{bad}");
    }
    assert_eq!(code(with(&|m| m.nmid = "ID2024330225044".into())), "ok");
}

#[test]
fn serde_is_the_payload_string() {
    let p = QrisPayload::parse(SMILEPAYZ_DOC_PAYLOAD).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(json, format!("\"{SMILEPAYZ_DOC_PAYLOAD}\""));
    assert_eq!(serde_json::from_str::<QrisPayload>(&json).unwrap(), p);
    assert!(serde_json::from_str::<QrisPayload>("\"000201\"").is_err());
}

proptest! {
    #[test]
    fn never_panics(s in ".*") {
        let _ = QrisPayload::parse(&s);
    }

    #[test]
    fn never_panics_on_tlv_like_input(s in "[0-9]{2}[0-9]{2}[ -~]{0,120}") {
        let _ = QrisPayload::parse(&s);
        let _ = QrisPayload::parse(&with_fixed_crc(&format!("000201{s}6304")));
    }

    #[test]
    fn built_payloads_round_trip(amount in 1u64..=9_999_999_999_999, bill in "[A-Za-z0-9_]{1,25}", name in "[A-Za-z][A-Za-z .]{0,24}") {
        let mut m = merchant();
        m.name = name.clone();
        let p = m.dynamic_payload(Idr::new(amount).unwrap(), &bill).unwrap();
        let again = QrisPayload::parse(p.as_str()).unwrap();
        prop_assert_eq!(again.amount(), Some(Idr::new(amount).unwrap()));
        prop_assert_eq!(again.bill_number(), Some(bill.as_str()));
        prop_assert_eq!(again.merchant_name(), name.as_str());
        prop_assert_eq!(&again, &p);
    }

    #[test]
    fn the_builder_never_writes_an_amount_longer_than_thirteen_characters(amount in 10_000_000_000_000u64..=i64::MAX as u64) {
        let refused = merchant().dynamic_payload(Idr::new(amount).unwrap(), "x").unwrap_err();
        prop_assert_eq!(refused.code(), "qris.amount");
    }
}
