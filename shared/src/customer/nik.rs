//! NIK, the 16-digit Indonesian national identity number (Nomor Induk
//! Kependudukan): `PPRRDDddmmyySSSS` = province, regency/city, district,
//! birth date (day + 40 for women), and a sequence number.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, ValidationError, reject};

/// A province, by its Kemendagri code (the NIK's first two digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Province {
    /// The two-digit code, e.g. 31.
    pub code: u8,
    /// The province's name, e.g. "DKI Jakarta".
    pub name: &'static str,
}

/// Every province code in use, including the Papua provinces created in 2022.
const PROVINCES: &[(u8, &str)] = &[
    (11, "Aceh"),
    (12, "Sumatera Utara"),
    (13, "Sumatera Barat"),
    (14, "Riau"),
    (15, "Jambi"),
    (16, "Sumatera Selatan"),
    (17, "Bengkulu"),
    (18, "Lampung"),
    (19, "Kepulauan Bangka Belitung"),
    (21, "Kepulauan Riau"),
    (31, "DKI Jakarta"),
    (32, "Jawa Barat"),
    (33, "Jawa Tengah"),
    (34, "DI Yogyakarta"),
    (35, "Jawa Timur"),
    (36, "Banten"),
    (51, "Bali"),
    (52, "Nusa Tenggara Barat"),
    (53, "Nusa Tenggara Timur"),
    (61, "Kalimantan Barat"),
    (62, "Kalimantan Tengah"),
    (63, "Kalimantan Selatan"),
    (64, "Kalimantan Timur"),
    (65, "Kalimantan Utara"),
    (71, "Sulawesi Utara"),
    (72, "Sulawesi Tengah"),
    (73, "Sulawesi Selatan"),
    (74, "Sulawesi Tenggara"),
    (75, "Gorontalo"),
    (76, "Sulawesi Barat"),
    (81, "Maluku"),
    (82, "Maluku Utara"),
    (91, "Papua"),
    (92, "Papua Barat"),
    (93, "Papua Selatan"),
    (94, "Papua Tengah"),
    (95, "Papua Pegunungan"),
    (96, "Papua Barat Daya"),
];

impl Province {
    /// The province with this code, if there is one.
    pub fn from_code(code: u8) -> Option<Province> {
        PROVINCES.iter().find(|(c, _)| *c == code).map(|&(code, name)| Province { code, name })
    }
}

/// The sex encoded in the NIK's birth day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Birth day 01-31.
    Male,
    /// Birth day 41-71 (day + 40).
    Female,
}

/// A structurally valid NIK. Personal data: `Debug` shows only the province.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nik(String);

impl Nik {
    /// 16 digits (spaces and dots ignored), a real province, non-zero regency,
    /// district and sequence, and a possible birth day and month.
    pub fn parse(input: &str) -> Result<Nik, ValidationError> {
        let mut digits = String::with_capacity(16);
        for c in input.trim().chars() {
            match c {
                '0'..='9' if digits.len() < 32 => digits.push(c),
                '0'..='9' => return reject(ErrorCode::NikLength),
                ' ' | '.' => {}
                _ => return reject(ErrorCode::NikCharacters),
            }
        }
        if digits.is_empty() {
            return reject(ErrorCode::NikEmpty);
        }
        if digits.len() != 16 {
            return reject(ErrorCode::NikLength);
        }
        let nik = Nik(digits);
        if Province::from_code(nik.pair(0)).is_none() {
            return reject(ErrorCode::NikProvince);
        }
        if nik.pair(2) == 0 || nik.pair(4) == 0 {
            return reject(ErrorCode::NikRegion);
        }
        let month = nik.pair(8);
        if !(1..=12).contains(&month) {
            return reject(ErrorCode::NikBirthMonth);
        }
        let day = nik.pair(6);
        let day = if day > 40 { day - 40 } else { day };
        if day == 0 || day > days_in_month(month, nik.pair(10)) {
            return reject(ErrorCode::NikBirthDay);
        }
        if &nik.0[12..] == "0000" {
            return reject(ErrorCode::NikSequence);
        }
        Ok(nik)
    }

    /// The two digits at `at` as a number.
    fn pair(&self, at: usize) -> u8 {
        let b = self.0.as_bytes();
        (b[at] - b'0') * 10 + (b[at + 1] - b'0')
    }

    /// The 16 digits, for the provider that needs them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province of registration.
    pub fn province(&self) -> Province {
        // Checked in `parse`; a fallback keeps this total without a panic.
        Province::from_code(self.pair(0)).unwrap_or(Province { code: self.pair(0), name: "" })
    }

    /// Regency or city code within the province.
    pub fn regency_code(&self) -> u8 {
        self.pair(2)
    }

    /// District (kecamatan) code within the regency.
    pub fn district_code(&self) -> u8 {
        self.pair(4)
    }

    /// The sex encoded in the birth day.
    pub fn sex(&self) -> Sex {
        if self.pair(6) > 40 { Sex::Female } else { Sex::Male }
    }

    /// Day of birth, 1-31.
    pub fn birth_day(&self) -> u8 {
        let d = self.pair(6);
        if d > 40 { d - 40 } else { d }
    }

    /// Month of birth, 1-12.
    pub fn birth_month(&self) -> u8 {
        self.pair(8)
    }

    /// The last two digits of the year of birth.
    pub fn birth_year_2digit(&self) -> u8 {
        self.pair(10)
    }
}

/// The longest the month can be in year `yy` of either century: the NIK does
/// not say whether `00` is 1900 or 2000, so February 29 is possible when
/// either reading is a leap year.
const fn days_in_month(month: u8, yy: u8) -> u8 {
    match month {
        2 if is_leap(1900 + yy as u16) || is_leap(2000 + yy as u16) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Gregorian leap year.
const fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

impl TryFrom<String> for Nik {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Nik::parse(&s)
    }
}

impl From<Nik> for String {
    fn from(n: Nik) -> String {
        n.0
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", super::mask_tail(&self.0, 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_decodes() {
        let nik = Nik::parse("3201 0145 0890 0001").unwrap();
        assert_eq!(nik.province().name, "Jawa Barat");
        assert_eq!((nik.regency_code(), nik.district_code()), (1, 1));
        assert_eq!(nik.sex(), Sex::Female);
        assert_eq!((nik.birth_day(), nik.birth_month(), nik.birth_year_2digit()), (5, 8, 90));
        assert_eq!(format!("{nik:?}"), "Nik(32**************)");
        let man = Nik::parse("3174092902000123").unwrap();
        assert_eq!(man.sex(), Sex::Male);
        assert_eq!(man.province().name, "DKI Jakarta");
        assert!(Nik::parse("9601017112990001").is_ok(), "Papua Barat Daya, 31 Dec, woman");
    }

    #[test]
    fn rejects_with_stable_codes() {
        let code = |s: &str| Nik::parse(s).unwrap_err().code();
        assert_eq!(code(""), "nik.empty");
        assert_eq!(code("3201a14508900001"), "nik.characters");
        assert_eq!(code("320101450890001"), "nik.length");
        assert_eq!(code("32010145089000011"), "nik.length");
        assert_eq!(code("2001014508900001"), "nik.province");
        assert_eq!(code("9901014508900001"), "nik.province");
        assert_eq!(code("3200014508900001"), "nik.region");
        assert_eq!(code("3201004508900001"), "nik.region");
        assert_eq!(code("3201013208900001"), "nik.birth_day");
        assert_eq!(code("3201014008900001"), "nik.birth_day");
        assert_eq!(code("3201017208900001"), "nik.birth_day");
        assert_eq!(code("3201013002900001"), "nik.birth_day");
        assert_eq!(code("3201010013900001"), "nik.birth_month");
        assert_eq!(code("3201010500900001"), "nik.birth_month");
        assert_eq!(code("3201010508900000"), "nik.sequence");
    }

    #[test]
    fn february_29_needs_a_leap_year_in_either_century() {
        let code = |s: &str| Nik::parse(s).unwrap_err().code();
        // yy = 00: 1900 is not a leap year, 2000 is.
        assert!(Nik::parse("3201012902000001").is_ok());
        assert!(Nik::parse("3201016902000001").is_ok(), "woman, day 29 + 40");
        assert!(Nik::parse("3201012902040001").is_ok());
        assert!(Nik::parse("3201016902960001").is_ok());
        assert_eq!(code("3201012902010001"), "nik.birth_day");
        assert_eq!(code("3201016902010001"), "nik.birth_day");
        assert_eq!(code("3201012902990001"), "nik.birth_day");
        assert_eq!(code("3201016902990001"), "nik.birth_day");
        assert!(Nik::parse("3201012802010001").is_ok());
        assert!(Nik::parse("3201016802010001").is_ok());
        assert_eq!(code("3201013002000001"), "nik.birth_day");
        assert_eq!(code("3201017002000001"), "nik.birth_day");
    }

    #[test]
    fn february_29_is_accepted_for_every_year_a_multiple_of_four() {
        // 19yy or 20yy is a leap year exactly when yy is a multiple of 4 (2000 was one).
        for year in 0..=99u8 {
            for day in [29, 69] {
                let accepted = Nik::parse(&format!("320101{day}02{year:02}0001")).is_ok();
                assert_eq!(accepted, year.is_multiple_of(4), "day {day}, year {year:02}");
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = Nik::parse(&s);
        }

        #[test]
        fn valid_niks_round_trip(
            p in prop::sample::select(PROVINCES.iter().map(|(c, _)| *c).collect::<Vec<_>>()),
            regency in 1u8..=99, district in 1u8..=99,
            day in 1u8..=28, female in any::<bool>(), month in 1u8..=12, year in 0u8..=99,
            seq in 1u16..=9999,
        ) {
            let day = if female { day + 40 } else { day };
            let s = format!("{p:02}{regency:02}{district:02}{day:02}{month:02}{year:02}{seq:04}");
            let nik = Nik::parse(&s).unwrap();
            prop_assert_eq!(nik.as_str(), s.as_str());
            prop_assert_eq!(nik.sex() == Sex::Female, female);
            let json = serde_json::to_string(&nik).unwrap();
            prop_assert_eq!(serde_json::from_str::<Nik>(&json).unwrap(), nik);
        }
    }
}
