//! Fellegi–Sunter weights: for each field level an m-probability (how often true matches land
//! there) and a u-probability (how often non-matches do); the level's weight is log2(m/u) and a
//! pair's score is the sum over present fields. Missing fields weigh nothing.
use crate::compare::{compare, Comparison, Field, FIELDS, MISSING};
use crate::person::Person;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldParams {
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

/// Score thresholds, in bits (log2 of the likelihood ratio).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Thresholds {
    /// At or above: the same person (auto-link).
    pub link: f64,
    /// At or above (below `link`): a possible match, for a person to review.
    pub review: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            link: 12.0,
            review: 5.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Match,
    Possible,
    NoMatch,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Possible => "possible",
            Self::NoMatch => "no_match",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldWeight {
    pub field: &'static str,
    pub level: &'static str,
    pub weight: f64,
}

/// A score with every field's contribution, and the rule that capped it, if any.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub score: f64,
    pub decision: Decision,
    pub fields: Vec<FieldWeight>,
    pub capped_by: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub params: Vec<FieldParams>,
    pub thresholds: Thresholds,
    /// Share of candidate pairs that are matches (learned).
    pub prior: f64,
    #[serde(skip)]
    weights: Vec<Vec<f64>>,
}

fn fp(m: &[f64], u: &[f64]) -> FieldParams {
    FieldParams {
        m: m.to_vec(),
        u: u.to_vec(),
    }
}

impl Default for Model {
    /// Sound defaults for a tenant with too little data to learn from: typical error rates of
    /// hospital registration data, and agreement-by-chance rates of a population.
    fn default() -> Self {
        Self::from_params(
            vec![
                fp(
                    &[0.84, 0.04, 0.06, 0.02, 0.01, 0.03],
                    &[0.004, 0.0005, 0.001, 0.01, 0.003, 0.9815],
                ),
                fp(&[0.88, 0.05, 0.03, 0.04], &[0.003, 0.001, 0.01, 0.986]),
                fp(
                    &[0.92, 0.02, 0.04, 0.01, 0.005, 0.005],
                    &[0.00005, 0.00005, 0.0005, 0.001, 0.0002, 0.99825],
                ),
                fp(&[0.98, 0.02], &[0.5, 0.5]),
                fp(&[0.8, 0.05, 0.15], &[0.0005, 0.01, 0.9895]),
                fp(&[0.75, 0.1, 0.15], &[0.001, 0.02, 0.979]),
                fp(&[0.97, 0.02, 0.01], &[0.000_001, 0.000_01, 0.999_989]),
            ],
            Thresholds::default(),
            0.01,
        )
    }
}

impl Model {
    pub fn from_params(params: Vec<FieldParams>, thresholds: Thresholds, prior: f64) -> Self {
        let weights = params
            .iter()
            .map(|p| {
                p.m.iter()
                    .zip(&p.u)
                    .map(|(m, u)| (m.max(1e-9) / u.max(1e-9)).log2())
                    .collect()
            })
            .collect();
        Self {
            params,
            thresholds,
            prior,
            weights,
        }
    }

    pub fn with_thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    fn weight(&self, field: usize, level: u8) -> f64 {
        if level == MISSING {
            return 0.0;
        }
        self.weights
            .get(field)
            .and_then(|w| w.get(usize::from(level)))
            .copied()
            .unwrap_or(0.0)
    }

    /// The u-probability of exact agreement on field `i` (for term-frequency adjustment).
    pub fn exact_u(&self, i: usize) -> Option<f64> {
        self.params.get(i).and_then(|p| p.u.first()).copied()
    }

    pub fn score(&self, c: &Comparison) -> f64 {
        c.0.iter()
            .enumerate()
            .map(|(i, l)| self.weight(i, *l))
            .sum()
    }

    /// Rules on top of the score, for what independence of fields cannot see. An auto-link
    /// needs identity evidence beyond names:
    /// - the national identifiers agree; or
    /// - both names agree and so does one of birth date, postcode or address; or
    /// - given name and birth date agree and so does postcode or address (a changed family
    ///   name, e.g. on marriage); or
    /// - birth date, postcode and address all agree and no name contradicts.
    ///
    /// And never: two different national identifiers, or clearly different given names
    /// without a national identifier in common (twins).
    fn cap(c: &Comparison) -> Option<&'static str> {
        let [given, family, dob, _sex, postcode, address, national] = c.0;
        if national == 2 {
            return Some("different national identifiers");
        }
        if national == 0 {
            return None;
        }
        if given == 5 {
            return Some("different given names (possible twins)");
        }
        let given_ok = matches!(given, 0..=4 | MISSING);
        let family_ok = matches!(family, 0 | 1);
        let dob_ok = matches!(dob, 0..=2);
        let place_ok = postcode == 0 || address == 0;
        let same_home = postcode == 0 && address == 0;
        if (given_ok && family_ok && (dob_ok || place_ok))
            || (given_ok && given != MISSING && dob_ok && place_ok)
            || (given_ok && family != 3 && dob_ok && same_home)
        {
            None
        } else {
            Some("not enough identity evidence beyond names")
        }
    }

    pub fn decide(&self, c: &Comparison) -> (f64, Decision) {
        self.decide_adjusted(c, 0.0)
    }

    /// As [`Model::decide`], with `adjustment` bits added to the score first (term
    /// frequencies: [`crate::Frequencies::adjustment`]).
    pub fn decide_adjusted(&self, c: &Comparison, adjustment: f64) -> (f64, Decision) {
        let score = self.score(c) + adjustment;
        let mut d = if score >= self.thresholds.link {
            Decision::Match
        } else if score >= self.thresholds.review {
            Decision::Possible
        } else {
            Decision::NoMatch
        };
        if d == Decision::Match && Self::cap(c).is_some() {
            d = Decision::Possible;
        }
        (score, d)
    }

    pub fn explain(&self, a: &Person, b: &Person) -> Explanation {
        let c = compare(a, b);
        let (score, decision) = self.decide(&c);
        let fields = FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| FieldWeight {
                field: f.name(),
                level: if c.0[i] == MISSING {
                    "missing"
                } else {
                    f.levels().get(usize::from(c.0[i])).copied().unwrap_or("?")
                },
                weight: (self.weight(i, c.0[i]) * 100.0).round() / 100.0,
            })
            .collect();
        Explanation {
            score,
            decision,
            fields,
            capped_by: if self.score(&c) >= self.thresholds.link {
                Self::cap(&c)
            } else {
                None
            },
        }
    }

    /// Learns the weights from the data itself: u from `random_pairs` (almost all
    /// non-matches), m and the prior by expectation–maximisation over `candidates` (the
    /// blocked pairs), starting from `self`. Levels unseen in the data keep smoothed values.
    pub fn train(
        &self,
        people: &[Person],
        candidates: &[(u32, u32)],
        random_pairs: &[(u32, u32)],
        iterations: usize,
    ) -> Model {
        let get = |i: u32| people.get(i as usize);
        let pairs = |ps: &[(u32, u32)]| -> Vec<Comparison> {
            ps.iter()
                .filter_map(|(a, b)| Some(compare(get(*a)?, get(*b)?)))
                .collect()
        };
        self.train_on(&pairs(random_pairs), &pairs(candidates), iterations)
    }

    /// As [`Model::train`], from comparisons already made (so a caller that scores the
    /// candidates anyway compares each pair once, and may compare in parallel).
    pub fn train_on(
        &self,
        random: &[Comparison],
        candidates: &[Comparison],
        iterations: usize,
    ) -> Model {
        // u: level frequencies among random pairs.
        let mut u_counts: Vec<Vec<f64>> =
            self.params.iter().map(|p| vec![1.0; p.u.len()]).collect();
        for c in random {
            for (i, l) in c.0.iter().enumerate() {
                if *l != MISSING {
                    if let Some(c) = u_counts[i].get_mut(usize::from(*l)) {
                        *c += 1.0;
                    }
                }
            }
        }
        let u: Vec<Vec<f64>> = u_counts
            .iter()
            .zip(&self.params)
            .map(|(counts, p)| {
                let total: f64 = counts.iter().sum();
                // Few random pairs: lean on the default.
                let w = (total / 10_000.0).min(1.0);
                counts
                    .iter()
                    .zip(&p.u)
                    .map(|(c, d)| w * (c / total) + (1.0 - w) * d)
                    .collect()
            })
            .collect();
        // Unique comparison patterns with counts: EM over thousands of patterns, not millions of pairs.
        let mut patterns: HashMap<[u8; 7], f64> = HashMap::new();
        for c in candidates {
            *patterns.entry(c.0).or_insert(0.0) += 1.0;
        }
        let total: f64 = patterns.values().sum();
        let mut model = Model::from_params(
            self.params
                .iter()
                .zip(u)
                .map(|(p, u)| FieldParams { m: p.m.clone(), u })
                .collect(),
            self.thresholds,
            self.prior,
        );
        if total < 100.0 {
            return model;
        }
        // m by leave-one-out expectation–maximisation with a hard E-step: a pair counts towards
        // field f's m-probabilities when the *other* fields alone make it a confident match.
        // (Plain EM over blocked pairs degenerates: non-matches in a block agree on the
        // blocking field, which random-pair u-values call near impossible.)
        const CONFIDENT: f64 = 14.0;
        const PSEUDO: f64 = 20.0;
        for _ in 0..iterations.max(1) {
            let mut m_counts: Vec<Vec<f64>> = self
                .params
                .iter()
                .map(|p| p.m.iter().map(|x| x * PSEUDO).collect())
                .collect();
            let mut matched = 0.0;
            for (pattern, count) in &patterns {
                let c = Comparison(*pattern);
                let score = model.score(&c);
                if score >= self.thresholds.link {
                    matched += count;
                }
                for (i, l) in pattern.iter().enumerate() {
                    if *l != MISSING && score - model.weight(i, *l) >= CONFIDENT {
                        if let Some(x) = m_counts[i].get_mut(usize::from(*l)) {
                            *x += count;
                        }
                    }
                }
            }
            let params = m_counts
                .into_iter()
                .zip(&model.params)
                .map(|(counts, p)| {
                    let s: f64 = counts.iter().sum();
                    FieldParams {
                        m: counts.iter().map(|x| x / s).collect(),
                        u: p.u.clone(),
                    }
                })
                .collect();
            let next =
                Model::from_params(params, self.thresholds, (matched / total).clamp(1e-4, 0.99));
            let moved = next
                .weights
                .iter()
                .flatten()
                .zip(model.weights.iter().flatten())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            model = next;
            if moved < 0.01 {
                break;
            }
        }
        model
    }

    /// Field names and level weights, for reports.
    pub fn describe(&self) -> Vec<(Field, Vec<(&'static str, f64)>)> {
        FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (
                    *f,
                    f.levels()
                        .iter()
                        .enumerate()
                        .map(|(l, name)| (*name, self.weight(i, l as u8)))
                        .collect(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
