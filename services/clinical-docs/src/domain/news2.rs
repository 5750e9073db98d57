//! NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017, Chart 1;
//! NHS_RULES §9): seven physiological parameters each give a sub-score, the sub-scores add up
//! to the aggregate (0–20), and the aggregate — or any single parameter scoring 3 — gives the
//! clinical risk band. Pure: the observations are parsed first, then scored.
use super::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

/// Which SpO2 scale applies. Scale 2 is for patients with hypercapnic respiratory failure
/// (target 88–92%), and only on a clinician's recorded decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpO2Scale {
    One,
    Two,
}

/// Alert, or new confusion, voice, pain or unresponsive (ACVPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consciousness {
    Alert,
    NewConfusion,
    Voice,
    Pain,
    Unresponsive,
}

impl Consciousness {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Ok(match s {
            "alert" => Self::Alert,
            "new-confusion" => Self::NewConfusion,
            "voice" => Self::Voice,
            "pain" => Self::Pain,
            "unresponsive" => Self::Unresponsive,
            _ => {
                return Err(DomainError::invalid(
                    "consciousness",
                    "code",
                    "alert, new-confusion, voice, pain or unresponsive",
                ))
            }
        })
    }
}

/// One set of observations, parsed: whole numbers where the chart counts, the temperature
/// in tenths of a degree (the chart's bands are to one decimal place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observations {
    pub respiration_rate: u16,
    pub spo2: u16,
    pub scale: SpO2Scale,
    pub on_oxygen: bool,
    pub systolic_bp: u16,
    pub pulse: u16,
    pub consciousness: Consciousness,
    pub temperature_tenths: i32,
}

/// Each parameter's sub-score, the aggregate and the band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Score {
    pub respiration_rate: u8,
    pub spo2: u8,
    pub air_or_oxygen: u8,
    pub systolic_bp: u8,
    pub pulse: u8,
    pub consciousness: u8,
    pub temperature: u8,
    pub aggregate: u8,
    /// `low`, `low-medium`, `medium` or `high`.
    pub risk: &'static str,
    /// What the band asks for (RCP chart 2).
    pub response: &'static str,
}

/// Within physiological limits; beyond them the value is a typing error, not a reading.
fn within(field: &'static str, v: f64, lo: f64, hi: f64) -> Result<f64, DomainError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(DomainError::invalid(
            field,
            "range",
            format!("between {lo} and {hi}"),
        ))
    }
}

/// A whole number within limits.
pub fn whole(field: &'static str, v: f64, lo: u16, hi: u16) -> Result<u16, DomainError> {
    let v = within(field, v, f64::from(lo), f64::from(hi))?;
    if v.fract() != 0.0 {
        return Err(DomainError::invalid(field, "format", "a whole number"));
    }
    // In range and whole: the cast is exact.
    Ok(v as u16)
}

/// Degrees Celsius to one decimal place, as tenths.
pub fn tenths(field: &'static str, v: f64) -> Result<i32, DomainError> {
    let v = within(field, v, 25.0, 45.0)?;
    let t = (v * 10.0).round();
    if (v * 10.0 - t).abs() > 1e-6 {
        return Err(DomainError::invalid(
            field,
            "format",
            "to one decimal place",
        ));
    }
    // Between 250 and 450: the cast is exact.
    Ok(t as i32)
}

fn respiration(r: u16) -> u8 {
    match r {
        0..=8 => 3,
        9..=11 => 1,
        12..=20 => 0,
        21..=24 => 2,
        _ => 3,
    }
}

fn spo2(s: u16, scale: SpO2Scale, oxygen: bool) -> u8 {
    match scale {
        SpO2Scale::One => match s {
            0..=91 => 3,
            92..=93 => 2,
            94..=95 => 1,
            _ => 0,
        },
        SpO2Scale::Two => match (s, oxygen) {
            (0..=83, _) => 3,
            (84..=85, _) => 2,
            (86..=87, _) => 1,
            (88..=92, _) => 0,
            (_, false) => 0,
            (93..=94, true) => 1,
            (95..=96, true) => 2,
            (_, true) => 3,
        },
    }
}

fn systolic(b: u16) -> u8 {
    match b {
        0..=90 => 3,
        91..=100 => 2,
        101..=110 => 1,
        111..=219 => 0,
        _ => 3,
    }
}

fn pulse(p: u16) -> u8 {
    match p {
        0..=40 => 3,
        41..=50 => 1,
        51..=90 => 0,
        91..=110 => 1,
        111..=130 => 2,
        _ => 3,
    }
}

fn temperature(t: i32) -> u8 {
    match t {
        i32::MIN..=350 => 3,
        351..=360 => 1,
        361..=380 => 0,
        381..=390 => 1,
        _ => 2,
    }
}

/// The score of one set of observations.
pub fn score(o: &Observations) -> Score {
    let parts = [
        respiration(o.respiration_rate),
        spo2(o.spo2, o.scale, o.on_oxygen),
        if o.on_oxygen { 2 } else { 0 },
        systolic(o.systolic_bp),
        pulse(o.pulse),
        if o.consciousness == Consciousness::Alert {
            0
        } else {
            3
        },
        temperature(o.temperature_tenths),
    ];
    let aggregate: u8 = parts.iter().sum();
    let (risk, response) = if aggregate >= 7 {
        ("high", "emergency response")
    } else if aggregate >= 5 {
        ("medium", "key threshold for urgent response")
    } else if parts.contains(&3) {
        ("low-medium", "urgent ward-based response")
    } else {
        ("low", "ward-based response")
    };
    Score {
        respiration_rate: parts[0],
        spo2: parts[1],
        air_or_oxygen: parts[2],
        systolic_bp: parts[3],
        pulse: parts[4],
        consciousness: parts[5],
        temperature: parts[6],
        aggregate,
        risk,
        response,
    }
}

#[cfg(test)]
mod tests;
