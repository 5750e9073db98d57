//! Term-frequency adjustment: agreeing on a rare name is stronger evidence than agreeing on a
//! common one. The model's weight for an exact name agreement assumes the *average* chance
//! that two strangers share a name (u); for a name carried by a share f of the records that
//! chance is f, so its weight moves by log2(u / f): down for "Smith", up for a rare name.
use crate::compare::{Comparison, Field, FIELDS};
use crate::model::Model;
use crate::person::Person;
use std::collections::HashMap;

/// How often each given and family name occurs in the records a model is applied to.
#[derive(Debug, Clone, Default)]
pub struct Frequencies {
    given: HashMap<String, u32>,
    family: HashMap<String, u32>,
    given_total: u32,
    family_total: u32,
}

/// Adjustments are bounded: the data's counts are noisy for rare names (a typo is a "rare
/// name"), and no single field should swamp the others.
const MAX_UP: f64 = 3.0;
const MAX_DOWN: f64 = -6.0;

impl Frequencies {
    pub fn from_people<'a>(people: impl IntoIterator<Item = &'a Person>) -> Self {
        let mut f = Self::default();
        for p in people {
            if !p.given_first.is_empty() {
                *f.given.entry(p.given_first.clone()).or_insert(0) += 1;
                f.given_total += 1;
            }
            if !p.family.is_empty() {
                *f.family.entry(p.family.clone()).or_insert(0) += 1;
                f.family_total += 1;
            }
        }
        f
    }

    fn share(&self, field: Field, value: &str) -> Option<f64> {
        let (counts, total) = match field {
            Field::Given => (&self.given, self.given_total),
            Field::Family => (&self.family, self.family_total),
            _ => return None,
        };
        if total < 1_000 {
            return None; // too few records to say what is common
        }
        let n = counts.get(value).copied().unwrap_or(1).max(1);
        Some(f64::from(n) / f64::from(total))
    }

    /// Bits to add to `model`'s score of `c` (a comparison of `a` with someone) for the names
    /// they agree on exactly.
    pub fn adjustment(&self, model: &Model, a: &Person, c: &Comparison) -> f64 {
        let mut bits = 0.0;
        for (i, field) in FIELDS.iter().enumerate() {
            if c.0[i] != 0 {
                continue;
            }
            let value = match field {
                Field::Given => &a.given_first,
                Field::Family => &a.family,
                _ => continue,
            };
            if let (Some(f), Some(u)) = (self.share(*field, value), model.exact_u(i)) {
                bits += (u / f).log2().clamp(MAX_DOWN, MAX_UP);
            }
        }
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::compare;
    use crate::person::PersonInput;

    fn person(given: &str, family: &str) -> Person {
        Person::new(PersonInput {
            given: Some(given),
            family: Some(family),
            ..Default::default()
        })
    }

    #[test]
    fn a_common_name_counts_for_less_and_a_rare_one_for_more() {
        let mut people: Vec<Person> = (0..2_000)
            .map(|i| person(&format!("G{i}"), "Smith"))
            .collect();
        people.extend((0..2_000).map(|i| person("John", &format!("F{i}"))));
        people.push(person("Zebedee", "Quaintance"));
        people.push(person("Zebedee", "Quaintance"));
        let f = Frequencies::from_people(&people);
        let model = Model::default();
        let smith = person("John", "Smith");
        let c = compare(&smith, &smith);
        let rare = person("Zebedee", "Quaintance");
        let r = compare(&rare, &rare);
        assert!(f.adjustment(&model, &smith, &c) < 0.0);
        assert!(f.adjustment(&model, &rare, &r) > 0.0);
        // Too few records: no adjustment.
        let small = Frequencies::from_people(&people[..10]);
        assert_eq!(small.adjustment(&model, &smith, &c), 0.0);
    }
}
