//! Calendar arithmetic the providers need without a date crate: Jakarta
//! dates (UTC+7, no daylight saving), ISO 8601 timestamps with an offset
//! (`2020-12-17T10:55:00+07:00`) and parsing them back.

/// Jakarta's offset from UTC, in seconds (WIB; Indonesia keeps no DST).
pub const JAKARTA_OFFSET_SECS: i64 = 7 * 3600;

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

/// Days since 1970-01-01 of a civil date (`days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Jakarta's calendar date at `unix_secs`.
pub fn jakarta_date(unix_secs: i64) -> (i64, u32, u32) {
    civil_from_days((unix_secs + JAKARTA_OFFSET_SECS).div_euclid(86_400))
}

/// `YYYYMMDD` of Jakarta's date at `unix_secs`.
pub fn jakarta_yyyymmdd(unix_secs: i64) -> String {
    let (y, m, d) = jakarta_date(unix_secs);
    format!("{y:04}{m:02}{d:02}")
}

/// `yyyy-MM-ddTHH:mm:ss±HH:mm` at `unix_secs`, in the zone `offset_secs`
/// east of UTC (`Z` when zero and `zulu` is set).
pub fn iso8601(unix_secs: i64, offset_secs: i64, zulu: bool) -> String {
    let local = unix_secs + offset_secs;
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let s = local.rem_euclid(86_400);
    let (h, mi, se) = (s / 3600, s % 3600 / 60, s % 60);
    let zone = if offset_secs == 0 && zulu {
        "Z".to_owned()
    } else {
        let sign = if offset_secs < 0 { '-' } else { '+' };
        let off = offset_secs.abs();
        format!("{sign}{:02}:{:02}", off / 3600, off % 3600 / 60)
    };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}{zone}")
}

/// Unix seconds of `yyyy-MM-ddTHH:mm:ss` followed by `Z` or `±HH:mm`
/// (fractions of a second are ignored).
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_the_documents_examples() {
        // 2020-12-17T10:55:00+07:00 is 03:55:00 UTC.
        let t = parse_iso8601("2020-12-17T10:55:00+07:00").unwrap();
        assert_eq!(t, 1_608_177_300);
        assert_eq!(iso8601(t, JAKARTA_OFFSET_SECS, false), "2020-12-17T10:55:00+07:00");
        assert_eq!(iso8601(t, 0, true), "2020-12-17T03:55:00Z");
        assert_eq!(parse_iso8601("2024-12-30T18:30:36Z"), Some(1_735_583_436));
        assert_eq!(parse_iso8601("2025-05-27T02:03:00.000000Z"), Some(1_748_311_380));
        for bad in [
            "",
            "2020-12-17 10:55:00Z",
            "2020-13-17T10:55:00Z",
            "2020-12-17T10:55:00+0700",
            "x".repeat(25).as_str(),
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn jakarta_dates_turn_at_17_00_utc() {
        // 2026-11-23T16:59:59Z is still the 23rd in Jakarta; a second later the 24th.
        let t = parse_iso8601("2026-11-23T16:59:59Z").unwrap();
        assert_eq!(jakarta_yyyymmdd(t), "20261123");
        assert_eq!(jakarta_yyyymmdd(t + 1), "20261124");
        for days in [-800_000, -1, 0, 1, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
