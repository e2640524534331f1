//! EMVCo tag-length-value fields and the CRC that closes a payload.

use crate::error::{ErrorCode, ValidationError, reject};

/// One field: a two-digit tag and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    pub tag: u8,
    pub value: &'a str,
}

/// Splits ASCII text into fields: `TT LL value`, `TT` and `LL` decimal digits.
pub(crate) fn fields(s: &str) -> Result<Vec<Field<'_>>, ValidationError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let head = b.get(i..i + 4).ok_or(ValidationError::new(ErrorCode::QrisTlv))?;
        if !head.iter().all(u8::is_ascii_digit) {
            return reject(ErrorCode::QrisTlv);
        }
        let tag = (head[0] - b'0') * 10 + (head[1] - b'0');
        let len = usize::from((head[2] - b'0') * 10 + (head[3] - b'0'));
        let start = i + 4;
        let value = s.get(start..start + len).ok_or(ValidationError::new(ErrorCode::QrisTlv))?;
        out.push(Field { tag, value });
        i = start + len;
    }
    Ok(out)
}

/// Appends one field, refusing values longer than two digits can say.
pub(crate) fn push(out: &mut String, tag: u8, value: &str) -> Result<(), ValidationError> {
    if value.len() > 99 {
        return reject(ErrorCode::QrisFieldTooLong);
    }
    out.push_str(&format!("{tag:02}{:02}{value}", value.len()));
    Ok(())
}

/// CRC-16/CCITT-FALSE (also called CRC-16/IBM-3740): poly 0x1021, init 0xFFFF,
/// no reflection, no final xor. QRIS computes it over the whole payload up to
/// and including the literal `6304` (FACTS.md section 5).
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
        assert_eq!(crc16_ccitt_false(b""), 0xFFFF);
    }

    #[test]
    fn splits_fields() {
        let f = fields("000201010212").unwrap();
        assert_eq!(f, vec![Field { tag: 0, value: "01" }, Field { tag: 1, value: "12" }]);
        assert!(fields("0002").is_err());
        assert!(fields("00020").is_err());
        assert!(fields("0a0201").is_err());
        assert_eq!(fields("").unwrap(), vec![]);
    }
}
