//! Referral to treatment (RTT): the national rules that turn a pathway's clock events into
//! RTT periods (NHS England "Recording and reporting RTT waiting times", rules 1–5, and the
//! RTT period status codes; `../shared/design/NHS_RULES.md` §2). No I/O and no clock of its
//! own: a pathway's events in, its periods out, deterministic.
//!
//! - [`periods`] applies events in order: starts (10 referral received or UBRN converted,
//!   11 first activity after active monitoring, rule-3 new clocks, a rebooking after a
//!   nullified first-appointment DNA, a transfer in keeping its original start), stops (30
//!   treatment, 31/32 active monitoring, 33 first-appointment DNA — stopped and nullified, 34
//!   no treatment / discharge, 35 declined, 36 died), continuing activity (20, 21) and non-RTT
//!   codes (90–92, 98). A cancellation never stops a clock. Periods never overlap.
//! - [`days_waited`], [`week_band`], [`breach_date`]: the national counting (126 days is
//!   within 18 weeks; 127 is a breach).
//! - [`standard`], [`breaches_within`], [`month_end`]: the waiting list's month-end 92%
//!   standard and breach forecast.
//! - [`EventKind::parse`], [`EventKind::name`], [`EventKind::flags`]: clock events by the names
//!   the API, the events and the stores use ([`NAMES`]).
mod names;
mod rules;
mod waiting;
mod weeks;

pub use names::{ClockFlags, KindError, NAMES};
pub use rules::{periods, Event, EventKind, Period, PeriodState, StopCode};
pub use waiting::{breaches_within, month_end, standard, Standard, STANDARD_PERCENT};
pub use weeks::{breach_date, days_waited, is_breach, week_band, BREACH_DAYS};
