//! Probabilistic record linkage in the Fellegi–Sunter family, shared by the MPI service and the
//! `tessera-link` tool. It owns:
//! - [`Person`]: the fields a match looks at, normalised, none required and none UK-only;
//! - [`compare`]: each field of two people compared to a level (exact, typo, nickname,
//!   phonetic, day/month swap…);
//! - [`Model`]: an m- and u-probability per level, so each level has a weight log2(m/u); sound
//!   defaults for a new tenant, and [`Model::train`] to learn them from the data (u from random
//!   pairs, m by expectation–maximisation over candidate pairs);
//! - [`Blocker`]: candidate pairs without comparing everything with everything;
//! - [`Explanation`]: every score with each field's contribution.
//!
//! It does no I/O and never logs: it handles patient data.

mod blocking;
mod cluster;
mod compare;
mod frequency;
mod model;
mod nicknames;
mod normalize;
mod person;

pub use blocking::Blocker;
pub use cluster::clusters;
pub use compare::{compare, Comparison, Field, FIELDS};
pub use frequency::Frequencies;
pub use model::{Decision, Explanation, FieldWeight, Model, Thresholds};
pub use normalize::{fold, phonetic};
pub use person::{BirthDate, Person, PersonInput};
