//! Turning what a caller sent into [`Demographics`], reporting every bad field at once.
use super::input::DemographicsInput;
use super::{Address, ContactPoint, Demographics, HumanName, LocalNumber};
use chrono::NaiveDate;
use tessera_nhs::{AdministrativeSex, NhsNumber, OdsCode, Postcode, VerificationStatus};

/// One problem with one field. `field` is a path in the JSON API's terms (`names[0].family`).
pub use tessera_edge::problem::FieldError;

fn err(field: impl Into<String>, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

const NAME_USES: &[&str] = &[
    "usual",
    "official",
    "temp",
    "nickname",
    "anonymous",
    "old",
    "maiden",
];
const ADDRESS_USES: &[&str] = &["home", "work", "temp", "old", "billing"];
const TELECOM_SYSTEMS: &[&str] = &["phone", "fax", "email", "pager", "url", "sms", "other"];
const TELECOM_USES: &[&str] = &["home", "work", "temp", "old", "mobile"];

fn text(field: &str, s: &str, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let t = s.trim();
    if t.chars().count() > max {
        errors.push(err(field, "too-long", format!("at most {max} characters")));
        return None;
    }
    if t.chars().any(char::is_control) {
        errors.push(err(
            field,
            "control-character",
            "control characters are not allowed",
        ));
        return None;
    }
    Some(t.to_string())
}

fn opt_text(
    field: &str,
    s: &Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    s.as_deref()
        .and_then(|v| text(field, v, max, errors))
        .filter(|v| !v.is_empty())
}

fn date(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(err(field, "date", "a date as YYYY-MM-DD"));
            None
        }
    }
}

fn code_in(
    field: &str,
    value: Option<&str>,
    allowed: &[&str],
    default: &str,
    errors: &mut Vec<FieldError>,
) -> String {
    match value.map(str::trim) {
        None | Some("") => default.to_string(),
        Some(v) if allowed.contains(&v) => v.to_string(),
        Some(_) => {
            errors.push(err(field, "code", format!("one of {}", allowed.join(", "))));
            default.to_string()
        }
    }
}

impl DemographicsInput {
    /// Parses every field, returning all errors together. `today` bounds the birth date.
    pub fn parse(&self, today: NaiveDate) -> Result<Demographics, Vec<FieldError>> {
        let mut errors = Vec::new();
        let e = &mut errors;

        let nhs_number = match self.nhs_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => match NhsNumber::parse(n) {
                Ok(n) => Some(n),
                Err(x) => {
                    e.push(err("nhs_number", x.code(), x.to_string()));
                    None
                }
            },
        };
        let nhs_number_verification_status = match self.nhs_number_verification_status.as_deref() {
            None | Some("") => None,
            Some(s) => match VerificationStatus::parse(s) {
                Ok(v) => Some(v),
                Err(x) => {
                    e.push(err("nhs_number_verification_status", "code", x.to_string()));
                    None
                }
            },
        };
        if nhs_number_verification_status.is_some()
            && self
                .nhs_number
                .as_deref()
                .is_none_or(|s| s.trim().is_empty())
        {
            let status_needs_number = !matches!(
                nhs_number_verification_status,
                Some(VerificationStatus::NotPresentTraceNotRequired)
                    | Some(VerificationStatus::TraceRequired)
                    | Some(VerificationStatus::TracePostponed)
            );
            if status_needs_number {
                e.push(err(
                    "nhs_number_verification_status",
                    "needs-nhs-number",
                    "this status says a number is present",
                ));
            }
        }

        let mut local_numbers = Vec::new();
        for (i, l) in self.local_numbers.iter().enumerate() {
            let f = format!("local_numbers[{i}]");
            let assigner = OdsCode::parse(&l.assigner);
            let value = l.value.trim();
            let value_ok = !value.is_empty()
                && value.len() <= 20
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/');
            if assigner.is_err() {
                e.push(err(
                    format!("{f}.assigner"),
                    "ods-code",
                    "the assigning trust's ODS code",
                ));
            }
            if !value_ok {
                e.push(err(
                    format!("{f}.value"),
                    "local-number",
                    "1 to 20 letters, digits, '-' or '/'",
                ));
            }
            if let (Ok(assigner), true) = (assigner, value_ok) {
                local_numbers.push(LocalNumber {
                    assigner,
                    value: value.to_string(),
                });
            }
        }

        let mut names = Vec::new();
        if self.names.is_empty() {
            e.push(err("names", "required", "at least one name"));
        }
        for (i, n) in self.names.iter().enumerate() {
            let f = format!("names[{i}]");
            let family = text(&format!("{f}.family"), &n.family, 100, e).unwrap_or_default();
            if family.is_empty() {
                e.push(err(format!("{f}.family"), "required", "a family name"));
            }
            let given: Vec<String> = n
                .given
                .iter()
                .enumerate()
                .filter_map(|(j, g)| text(&format!("{f}.given[{j}]"), g, 100, e))
                .filter(|g| !g.is_empty())
                .collect();
            let prefix = opt_text(&format!("{f}.prefix"), &n.prefix, 40, e);
            let r#use = code_in(
                &format!("{f}.use"),
                n.r#use.as_deref(),
                NAME_USES,
                "official",
                e,
            );
            names.push(HumanName {
                family,
                given,
                prefix,
                r#use,
            });
        }

        let birth_date = match self.birth_date.as_deref() {
            None | Some("") => {
                e.push(err("birth_date", "required", "a date of birth"));
                None
            }
            Some(s) => date("birth_date", s, e).and_then(|d| {
                if d > today {
                    e.push(err(
                        "birth_date",
                        "future",
                        "a date of birth cannot be in the future",
                    ));
                    None
                } else if d < NaiveDate::from_ymd_opt(1880, 1, 1).unwrap_or(d) {
                    e.push(err("birth_date", "too-old", "a date of birth after 1880"));
                    None
                } else {
                    Some(d)
                }
            }),
        };

        let administrative_sex = match self.administrative_sex.as_deref() {
            None | Some("") => Some(AdministrativeSex::Unknown),
            Some(s) => match AdministrativeSex::parse(s) {
                Ok(x) => Some(x),
                Err(x) => {
                    e.push(err("administrative_sex", "code", x.to_string()));
                    None
                }
            },
        };

        let mut addresses = Vec::new();
        for (i, a) in self.addresses.iter().enumerate() {
            let f = format!("addresses[{i}]");
            let lines: Vec<String> = a
                .lines
                .iter()
                .enumerate()
                .filter_map(|(j, l)| text(&format!("{f}.lines[{j}]"), l, 100, e))
                .filter(|l| !l.is_empty())
                .collect();
            let country = opt_text(&format!("{f}.country"), &a.country, 60, e);
            let uk = country.as_deref().is_none_or(|c| {
                matches!(
                    c.to_ascii_uppercase().as_str(),
                    "GB" | "GBR"
                        | "UK"
                        | "UNITED KINGDOM"
                        | "ENGLAND"
                        | "WALES"
                        | "SCOTLAND"
                        | "NORTHERN IRELAND"
                )
            });
            let postcode = match a.postcode.as_deref().map(str::trim) {
                None | Some("") => None,
                // A postcode outside the UK is kept as written in the lines; only UK ones are parsed.
                Some(_) if !uk => None,
                Some(p) => match Postcode::parse(p) {
                    Ok(p) => Some(p),
                    Err(x) => {
                        e.push(err(format!("{f}.postcode"), "postcode", x.to_string()));
                        None
                    }
                },
            };
            let period_start = a
                .period_start
                .as_deref()
                .filter(|s| !s.is_empty())
                .and_then(|s| date(&format!("{f}.period_start"), s, e));
            let period_end = a
                .period_end
                .as_deref()
                .filter(|s| !s.is_empty())
                .and_then(|s| date(&format!("{f}.period_end"), s, e));
            if let (Some(s), Some(en)) = (period_start, period_end) {
                if en < s {
                    e.push(err(
                        format!("{f}.period_end"),
                        "period",
                        "the end is before the start",
                    ));
                }
            }
            let r#use = code_in(
                &format!("{f}.use"),
                a.r#use.as_deref(),
                ADDRESS_USES,
                "home",
                e,
            );
            let mut lines = lines;
            if !uk {
                if let Some(p) = a
                    .postcode
                    .as_deref()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                {
                    lines.push(p.to_string());
                }
            }
            if lines.is_empty() && postcode.is_none() {
                e.push(err(
                    format!("{f}.lines"),
                    "required",
                    "an address needs a line or a postcode",
                ));
            }
            addresses.push(Address {
                lines,
                city: opt_text(&format!("{f}.city"), &a.city, 60, e),
                district: opt_text(&format!("{f}.district"), &a.district, 60, e),
                postcode,
                country,
                r#use,
                period_start,
                period_end,
            });
        }

        let mut telecom = Vec::new();
        for (i, t) in self.telecom.iter().enumerate() {
            let f = format!("telecom[{i}]");
            let system = code_in(
                &format!("{f}.system"),
                Some(&t.system),
                TELECOM_SYSTEMS,
                "other",
                e,
            );
            let value = text(&format!("{f}.value"), &t.value, 100, e).unwrap_or_default();
            if value.is_empty() {
                e.push(err(format!("{f}.value"), "required", "a value"));
            }
            let r#use = t
                .r#use
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|u| code_in(&format!("{f}.use"), Some(u), TELECOM_USES, "home", e));
            telecom.push(ContactPoint {
                system,
                value,
                r#use,
            });
        }

        let general_practice = match self.general_practice.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => match OdsCode::parse(s) {
                Ok(c) => Some(c),
                Err(x) => {
                    e.push(err("general_practice", "ods-code", x.to_string()));
                    None
                }
            },
        };

        match (errors.is_empty(), birth_date, administrative_sex) {
            (true, Some(birth_date), Some(administrative_sex)) => Ok(Demographics {
                nhs_number,
                nhs_number_verification_status,
                local_numbers,
                names,
                birth_date,
                administrative_sex,
                addresses,
                telecom,
                general_practice,
                restricted: self.restricted.unwrap_or(false),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
