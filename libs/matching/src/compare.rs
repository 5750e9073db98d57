//! Field comparisons. Each field of a pair lands on one level; level 0 is the strongest
//! agreement and the last is disagreement. `MISSING` when either side lacks the field.
use crate::nicknames;
use crate::person::Person;
use strsim::{jaro_winkler, osa_distance};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Given,
    Family,
    BirthDate,
    Sex,
    Postcode,
    Address,
    NationalId,
}

pub const FIELDS: [Field; 7] = [
    Field::Given,
    Field::Family,
    Field::BirthDate,
    Field::Sex,
    Field::Postcode,
    Field::Address,
    Field::NationalId,
];

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Self::Given => "given_name",
            Self::Family => "family_name",
            Self::BirthDate => "birth_date",
            Self::Sex => "sex",
            Self::Postcode => "postcode",
            Self::Address => "address",
            Self::NationalId => "national_id",
        }
    }

    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Self::Given => &[
                "exact",
                "nickname",
                "typo",
                "similar",
                "initial",
                "different",
            ],
            Self::Family => &["exact", "typo", "similar", "different"],
            Self::BirthDate => &[
                "exact",
                "day-month-swap",
                "one-digit",
                "same-year-month",
                "year-off-by-one",
                "different",
            ],
            Self::Sex => &["same", "different"],
            Self::Postcode => &["exact", "same-district", "different"],
            Self::Address => &["same", "overlapping", "different"],
            Self::NationalId => &["exact", "one-edit", "different"],
        }
    }
}

pub const MISSING: u8 = u8::MAX;

/// The level of each field, in [`FIELDS`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comparison(pub [u8; 7]);

/// `deep`: also try nicknames through initials and misspellings — costly, so only when other
/// fields already suggest the same person.
fn given_level(a: &str, b: &str, a_ph: &str, b_ph: &str, deep: bool) -> u8 {
    if a.is_empty() || b.is_empty() {
        return MISSING;
    }
    if a == b {
        return 0;
    }
    if nicknames::equivalent(a, b) {
        return 1;
    }
    if (a.len() == 1 && b.starts_with(a)) || (b.len() == 1 && a.starts_with(b)) {
        return 4;
    }
    let jw = jaro_winkler(a, b);
    if jw >= 0.92 || osa_distance(a, b) == 1 {
        return 2;
    }
    if deep && (nicknames::loosely_equivalent(a, b) || nicknames::loosely_equivalent(b, a)) {
        return if a.len() == 1 || b.len() == 1 { 4 } else { 1 };
    }
    if jw >= 0.8 || a_ph == b_ph {
        return 3;
    }
    5
}

fn family_level(a: &str, b: &str, a_ph: &str, b_ph: &str) -> u8 {
    if a.is_empty() || b.is_empty() {
        return MISSING;
    }
    if a == b {
        return 0;
    }
    let jw = jaro_winkler(a, b);
    if jw >= 0.92 || osa_distance(a, b) == 1 {
        return 1;
    }
    // Double-barrelled and compound names: one shared part counts as similar.
    let shared = a
        .split(' ')
        .any(|x| x.len() > 2 && b.split(' ').any(|y| y == x));
    if jw >= 0.8 || a_ph == b_ph || shared {
        return 2;
    }
    3
}

/// Lower is better, for choosing between the straight and the given/family-swapped reading.
fn name_quality(g: u8, f: u8) -> u32 {
    let q = |l: u8, worst: u8| {
        if l == MISSING {
            u32::from(worst)
        } else {
            u32::from(l)
        }
    };
    q(g, 5) * 2 + q(f, 3) * 3
}

pub fn compare(a: &Person, b: &Person) -> Comparison {
    let dob = match (a.birth_date, b.birth_date) {
        (Some(x), Some(y)) if x == y => 0,
        (Some(x), Some(y)) if x.year == y.year && x.month == y.day && x.day == y.month => 1,
        (Some(x), Some(y)) => {
            let (dx, dy) = (x.digits(), y.digits());
            let differing = dx.iter().zip(dy.iter()).filter(|(p, q)| p != q).count();
            let transposed = differing == 2
                && (0..7).any(|i| dx[i] == dy[i + 1] && dx[i + 1] == dy[i] && dx[i] != dx[i + 1]);
            if differing == 1 || transposed {
                2
            } else if x.year == y.year && x.month == y.month {
                3
            } else if x.year.abs_diff(y.year) == 1 && x.month == y.month && x.day == y.day {
                4
            } else {
                5
            }
        }
        _ => MISSING,
    };
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) => u8::from(x != y),
        _ => MISSING,
    };
    let postcode = if a.postcode.is_empty() || b.postcode.is_empty() {
        MISSING
    } else if a.postcode == b.postcode {
        0
    } else if district(&a.postcode) == district(&b.postcode) {
        1
    } else {
        2
    };
    let address = if a.address_tokens.is_empty() || b.address_tokens.is_empty() {
        MISSING
    } else {
        let common = a
            .address_tokens
            .iter()
            .filter(|t| b.address_tokens.binary_search(t).is_ok())
            .count();
        let union = a.address_tokens.len() + b.address_tokens.len() - common;
        let j = common as f64 / union as f64;
        if j >= 0.8 {
            0
        } else if j >= 0.4 {
            1
        } else {
            2
        }
    };
    let national = if a.national_id.is_empty() || b.national_id.is_empty() {
        MISSING
    } else if a.national_id == b.national_id {
        0
    } else if osa_distance(&a.national_id, &b.national_id) == 1 {
        1
    } else {
        2
    };
    let deep = dob <= 2 || postcode == 0 || address == 0 || national == 0;
    let g = given_level(
        &a.given_first,
        &b.given_first,
        &a.given_phonetic,
        &b.given_phonetic,
        deep,
    );
    let f = family_level(&a.family, &b.family, &a.family_phonetic, &b.family_phonetic);
    // Given and family names swapped on one record (a common data-entry error). Either
    // record may be the swapped one: both readings are taken and the better kept, so that
    // comparing a with b is comparing b with a (found by the symmetry property).
    let swapped = |x: &Person, y: &Person| {
        (
            given_level(
                &x.given_first,
                &y.family,
                &x.given_phonetic,
                &y.family_phonetic,
                deep,
            ),
            family_level(
                &x.family,
                &y.given_first,
                &x.family_phonetic,
                &y.given_phonetic,
            ),
        )
    };
    let (one, other) = (swapped(a, b), swapped(b, a));
    let (sg, sf) = if (name_quality(other.0, other.1), other) < (name_quality(one.0, one.1), one) {
        other
    } else {
        one
    };
    let (g, f) = if sg <= 2 && sf <= 1 && name_quality(sg, sf) < name_quality(g, f) {
        (sg, sf)
    } else {
        (g, f)
    };

    Comparison([g, f, dob, sex, postcode, address, national])
}

/// The part of a postcode before its last three characters (UK outward code), or its first
/// three characters for short codes from elsewhere.
fn district(p: &str) -> &str {
    if p.len() >= 5 && p.is_char_boundary(p.len() - 3) {
        &p[..p.len() - 3]
    } else {
        p.get(..3.min(p.len())).unwrap_or(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::person::{BirthDate, PersonInput};

    fn p(given: &str, family: &str, dob: (u16, u8, u8)) -> Person {
        Person::new(PersonInput {
            given: Some(given),
            family: Some(family),
            birth_date: Some(BirthDate {
                year: dob.0,
                month: dob.1,
                day: dob.2,
            }),
            ..Default::default()
        })
    }

    #[test]
    fn names_typos_nicknames_and_swaps() {
        let a = p("Robert", "Smith", (1970, 1, 2));
        assert_eq!(compare(&a, &p("Bob", "Smith", (1970, 1, 2))).0[..2], [1, 0]);
        assert_eq!(
            compare(&a, &p("Robret", "Smiht", (1970, 1, 2))).0[..2],
            [2, 1]
        );
        assert_eq!(
            compare(&a, &p("Smith", "Robert", (1970, 1, 2))).0[..2],
            [0, 0]
        );
        assert_eq!(compare(&a, &p("R", "Smyth", (1970, 1, 2))).0[..2], [4, 1]);
        assert_eq!(
            compare(&a, &p("Alice", "Jones", (1970, 1, 2))).0[..2],
            [5, 3]
        );
    }

    #[test]
    fn dates_swaps_and_slips() {
        let a = p("A", "B", (1970, 3, 12));
        assert_eq!(compare(&a, &p("A", "B", (1970, 3, 12))).0[2], 0);
        assert_eq!(compare(&a, &p("A", "B", (1970, 12, 3))).0[2], 1);
        assert_eq!(compare(&a, &p("A", "B", (1970, 3, 13))).0[2], 2);
        assert_eq!(compare(&a, &p("A", "B", (1907, 3, 12))).0[2], 2);
        assert_eq!(compare(&a, &p("A", "B", (1970, 3, 28))).0[2], 3);
        assert_eq!(compare(&a, &p("A", "B", (1985, 7, 1))).0[2], 5);
    }

    #[test]
    fn missing_fields_are_missing_not_different() {
        let a = Person::new(PersonInput {
            given: Some("Ann"),
            ..Default::default()
        });
        let b = Person::new(PersonInput {
            given: Some("Ann"),
            postcode: Some("LS1 4AP"),
            ..Default::default()
        });
        let c = compare(&a, &b);
        assert_eq!(c.0[0], 0);
        assert!(c.0[1..].iter().all(|l| *l == MISSING));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::person::{BirthDate, PersonInput};
    use proptest::prelude::*;

    fn person() -> impl Strategy<Value = Person> {
        (
            proptest::option::of("[A-Za-zéü' -]{0,12}"),
            proptest::option::of("[A-Za-z' -]{0,14}"),
            proptest::option::of((1900u16..2030, 1u8..13, 1u8..29)),
            proptest::option::of("[MFmfu]"),
            proptest::option::of("[A-Z0-9 ]{0,8}"),
            proptest::option::of("[0-9]{9,10}"),
        )
            .prop_map(|(g, f, d, s, pc, id)| {
                Person::new(PersonInput {
                    given: g.as_deref(),
                    family: f.as_deref(),
                    birth_date: d.map(|(year, month, day)| BirthDate { year, month, day }),
                    sex: s.as_deref(),
                    address: None,
                    postcode: pc.as_deref(),
                    national_id: id.as_deref(),
                })
            })
    }

    proptest! {
        #[test]
        fn comparison_is_symmetric_and_a_person_matches_themself(a in person(), b in person()) {
            let m = crate::Model::default();
            prop_assert!((m.score(&compare(&a, &b)) - m.score(&compare(&b, &a))).abs() < 1e-9);
            let own = compare(&a, &a);
            prop_assert!(own.0.iter().all(|l| *l == 0 || *l == MISSING), "{:?}", own);
        }
    }
}
