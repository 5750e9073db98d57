//! Blocking: only pairs that share at least one key are compared. The keys are chosen so that
//! each common error leaves at least one intact: national id; birth date with day and month in
//! either order; family-name sound with birth year; the two name sounds in either order;
//! postcode with first initial; postcode with family-name sound.
use crate::person::Person;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

pub struct Blocker {
    /// Blocks larger than this are skipped (a key that common carries no information; the
    /// other keys still find the pairs in it).
    pub max_block: usize,
}

impl Default for Blocker {
    fn default() -> Self {
        Self { max_block: 400 }
    }
}

fn h<T: Hash>(kind: u8, v: T) -> u64 {
    let mut s = DefaultHasher::new();
    kind.hash(&mut s);
    v.hash(&mut s);
    s.finish()
}

pub fn keys(p: &Person) -> Vec<u64> {
    let mut k = Vec::with_capacity(5);
    if !p.national_id.is_empty() {
        k.push(h(1, &p.national_id));
    }
    if let Some(d) = p.birth_date {
        k.push(h(2, (d.year, d.month.min(d.day), d.month.max(d.day))));
        if !p.family_phonetic.is_empty() {
            k.push(h(3, (&p.family_phonetic, d.year)));
        }
    }
    if !p.given_phonetic.is_empty() && !p.family_phonetic.is_empty() {
        let (a, b) = if p.given_phonetic <= p.family_phonetic {
            (&p.given_phonetic, &p.family_phonetic)
        } else {
            (&p.family_phonetic, &p.given_phonetic)
        };
        k.push(h(4, (a, b)));
    }
    if !p.postcode.is_empty() {
        k.push(h(5, (&p.postcode, p.given_first.chars().next())));
        if !p.family_phonetic.is_empty() {
            k.push(h(6, (&p.postcode, &p.family_phonetic)));
        }
    }
    k
}

impl Blocker {
    /// Candidate pairs (i < j) within one list, each once.
    pub fn dedupe_pairs(&self, people: &[Person]) -> Vec<(u32, u32)> {
        let mut index: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, p) in people.iter().enumerate() {
            for k in keys(p) {
                index.entry(k).or_default().push(i as u32);
            }
        }
        let mut pairs = Vec::new();
        for ids in index
            .values()
            .filter(|v| v.len() > 1 && v.len() <= self.max_block)
        {
            for (x, a) in ids.iter().enumerate() {
                for b in &ids[x + 1..] {
                    pairs.push((*a.min(b), *a.max(b)));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    /// Candidate pairs (left index, right index) between two lists, each once.
    pub fn link_pairs(&self, left: &[Person], right: &[Person]) -> Vec<(u32, u32)> {
        let mut index: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, p) in right.iter().enumerate() {
            for k in keys(p) {
                index.entry(k).or_default().push(i as u32);
            }
        }
        let mut pairs = Vec::new();
        for (i, p) in left.iter().enumerate() {
            for k in keys(p) {
                if let Some(ids) = index.get(&k).filter(|v| v.len() <= self.max_block) {
                    pairs.extend(ids.iter().map(|j| (i as u32, *j)));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }
}
