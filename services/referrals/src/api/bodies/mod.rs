//! The JSON bodies and query strings the referrals API is given, and their parsing into the
//! domain: nothing reaches a use case unparsed.
mod lifecycle;
mod referral;

pub use lifecycle::{parse_clock, parse_search, parse_transition, ClockBody, TransitionBody};
pub use referral::{parse_referral, AttachmentBody, PathwayBody, ReferralBody, ReferrerBody};
