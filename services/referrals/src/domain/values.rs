//! The small values referrals carry: specialty and treatment function codes, team codes and
//! user ids, dates.
use super::DomainError;
use chrono::NaiveDate;

/// A specialty or treatment function code: 3 digits (Data Dictionary main specialty /
/// treatment function codes).
pub fn specialty_code(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.len() == 3 && t.chars().all(|c| c.is_ascii_digit()) {
        Ok(t.to_string())
    } else {
        Err(DomainError::invalid(field, "format", "a 3-digit code"))
    }
}

/// A team code or user id: 1–64 printable characters without spaces.
pub fn code(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() || t.len() > 64 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DomainError::invalid(
            field,
            "format",
            "1–64 characters, no spaces",
        ));
    }
    Ok(t.to_string())
}

pub fn date(field: &'static str, s: &str) -> Result<NaiveDate, DomainError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| DomainError::invalid(field, "format", "a date, YYYY-MM-DD"))
}
