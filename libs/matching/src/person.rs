use crate::normalize::{fold, phonetic};
use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A date of birth as parts, so a day/month swap or a one-digit slip can be recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BirthDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl BirthDate {
    /// Parses with a chrono format (`%Y-%m-%d`, `%d/%m/%Y`, `%m/%d/%Y`, `%Y%m%d`…).
    pub fn parse(s: &str, format: &str) -> Option<Self> {
        NaiveDate::parse_from_str(s.trim(), format)
            .ok()
            .map(Self::from)
    }

    pub fn digits(&self) -> [u8; 8] {
        let s = format!("{:04}{:02}{:02}", self.year, self.month, self.day);
        let mut out = [0u8; 8];
        for (o, b) in out.iter_mut().zip(s.bytes()) {
            *o = b;
        }
        out
    }
}

impl From<NaiveDate> for BirthDate {
    fn from(d: NaiveDate) -> Self {
        Self {
            year: u16::try_from(d.year()).unwrap_or(0),
            month: d.month() as u8,
            day: d.day() as u8,
        }
    }
}

/// The fields of a record as given; any may be absent.
#[derive(Default, Clone, Copy)]
pub struct PersonInput<'a> {
    pub given: Option<&'a str>,
    pub family: Option<&'a str>,
    pub birth_date: Option<BirthDate>,
    /// Anything starting m/f (male, female, M, F, homme→h is not understood: unknown).
    pub sex: Option<&'a str>,
    pub address: Option<&'a str>,
    pub postcode: Option<&'a str>,
    /// An NHS number, CHI, SSN, IHI… compared as letters and digits only.
    pub national_id: Option<&'a str>,
}

/// A person prepared for matching: folded, phonetic keys computed once.
#[derive(Clone, Default)]
pub struct Person {
    pub given: String,
    pub given_first: String,
    pub given_phonetic: String,
    pub family: String,
    pub family_phonetic: String,
    pub birth_date: Option<BirthDate>,
    pub sex: Option<u8>,
    pub address_tokens: Vec<String>,
    pub postcode: String,
    pub national_id: String,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Person(***)")
    }
}

fn alnum_upper(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Person {
    pub fn new(input: PersonInput<'_>) -> Self {
        let given = input.given.map(fold).unwrap_or_default();
        let given_first = given.split(' ').next().unwrap_or_default().to_string();
        let family = input.family.map(fold).unwrap_or_default();
        let sex = input
            .sex
            .map(str::trim)
            .and_then(|s| s.chars().next())
            .and_then(|c| match c.to_ascii_lowercase() {
                'm' | '1' => Some(b'm'),
                'f' | 'w' | '2' => Some(b'f'),
                _ => None,
            });
        let mut address_tokens: Vec<String> = input
            .address
            .map(fold)
            .unwrap_or_default()
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        address_tokens.sort();
        address_tokens.dedup();
        Self {
            given_phonetic: phonetic(&given_first),
            family_phonetic: phonetic(&family),
            given,
            given_first,
            family,
            birth_date: input.birth_date,
            sex,
            address_tokens,
            postcode: input.postcode.map(alnum_upper).unwrap_or_default(),
            national_id: input.national_id.map(alnum_upper).unwrap_or_default(),
        }
    }
}
