use crate::mapping::{read, Mapping};
use clap::Args;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::time::Instant;
use tessera_matching::{
    clusters, compare, Blocker, Comparison, Decision, Frequencies, Model, Person, Thresholds,
};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The column mapping (TOML).
    #[arg(long)]
    config: Option<String>,
    /// Link this file...
    #[arg(long, requires = "right")]
    left: Option<String>,
    /// ...with this one.
    #[arg(long, requires = "left")]
    right: Option<String>,
    /// Or deduplicate this file.
    #[arg(long, conflicts_with_all = ["left", "right"])]
    dedupe: Option<String>,
    /// Scored pairs: left_id,right_id,score,decision (matches and possible matches).
    #[arg(long)]
    out: Option<String>,
    /// For --dedupe: id,cluster (default: <out>.clusters.csv).
    #[arg(long)]
    clusters: Option<String>,
    /// Print the learned weights to stderr.
    #[arg(long)]
    explain_model: bool,
}

fn random_pairs(n_left: usize, n_right: usize, count: usize, seed: u64) -> Vec<(u32, u32)> {
    if n_left == 0 || n_right == 0 {
        return Vec::new();
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            (
                rng.gen_range(0..n_left) as u32,
                rng.gen_range(0..n_right) as u32,
            )
        })
        .collect()
}

fn model_for(
    mapping: &Mapping,
    random: &[Comparison],
    candidates: &[Comparison],
    explain: bool,
) -> Model {
    let base = Model::default().with_thresholds(Thresholds {
        link: mapping.model.link_threshold,
        review: mapping.model.review_threshold,
    });
    let model = if mapping.model.train {
        base.train_on(random, candidates, mapping.model.em_iterations)
    } else {
        base
    };
    if explain {
        eprintln!(
            "prior (share of candidate pairs that match): {:.4}",
            model.prior
        );
        for (field, levels) in model.describe() {
            let l: Vec<String> = levels.iter().map(|(n, w)| format!("{n} {w:+.2}")).collect();
            eprintln!("{:<12} {}", field.name(), l.join(", "));
        }
    }
    model
}

/// Compares each pair once, on every core.
fn compare_all(a: &[Person], b: &[Person], pairs: &[(u32, u32)]) -> Vec<Comparison> {
    pairs
        .par_iter()
        .map(|(i, j)| match (a.get(*i as usize), b.get(*j as usize)) {
            (Some(x), Some(y)) => compare(x, y),
            _ => Comparison([u8::MAX; 7]),
        })
        .collect()
}

pub fn run(a: &RunArgs) -> Result<(), String> {
    let config = a.config.as_deref().ok_or("--config is required")?;
    let out = a.out.as_deref().ok_or("--out is required")?;
    let mapping = Mapping::load(config)?;
    let started = Instant::now();
    let blocker = Blocker::default();
    let (left_ids, right_ids, left, right, candidates, dedupe) =
        match (&a.left, &a.right, &a.dedupe) {
            (Some(l), Some(r), None) => {
                let (li, lp) = read(l, &mapping.columns)?;
                let (ri, rp) = read(r, &mapping.columns)?;
                let pairs = blocker.link_pairs(&lp, &rp);
                (li, ri, lp, rp, pairs, false)
            }
            (None, None, Some(d)) => {
                let (ids, people) = read(d, &mapping.columns)?;
                let pairs = blocker.dedupe_pairs(&people);
                (ids.clone(), ids, people.clone(), people, pairs, true)
            }
            _ => return Err("give --left and --right, or --dedupe".into()),
        };
    // u from random pairs (for linking, one from each list); m from the candidates.
    let random = random_pairs(
        left.len(),
        right.len(),
        100_000.min((left.len() + right.len()) * 10),
        7,
    );
    // A record paired with itself is not a random pair of people.
    let random: Vec<(u32, u32)> = random
        .into_iter()
        .filter(|(i, j)| !dedupe || i != j)
        .collect();
    let random = compare_all(&left, &right, &random);
    let compared = compare_all(&left, &right, &candidates);
    let model = model_for(&mapping, &random, &compared, a.explain_model);
    let frequencies = if mapping.model.term_frequencies {
        let others: &[Person] = if dedupe { &[] } else { &right };
        Some(Frequencies::from_people(left.iter().chain(others)))
    } else {
        None
    };
    let scored: Vec<(u32, u32, f64, Decision)> = candidates
        .par_iter()
        .zip(compared.par_iter())
        .filter_map(|((i, j), c)| {
            let adjustment = match (&frequencies, left.get(*i as usize)) {
                (Some(f), Some(p)) => f.adjustment(&model, p, c),
                _ => 0.0,
            };
            let (score, d) = model.decide_adjusted(c, adjustment);
            (d != Decision::NoMatch).then_some((*i, *j, score, d))
        })
        .collect();
    let failed = |e: csv::Error| format!("{out}: {e}");
    let mut w = csv::Writer::from_path(out).map_err(failed)?;
    w.write_record(["left_id", "right_id", "score", "decision"])
        .map_err(failed)?;
    for (i, j, score, d) in &scored {
        w.write_record([
            left_ids[*i as usize].as_str(),
            right_ids[*j as usize].as_str(),
            &format!("{score:.2}"),
            d.as_str(),
        ])
        .map_err(failed)?;
    }
    w.flush().map_err(|e| format!("{out}: {e}"))?;
    let matched: Vec<(u32, u32)> = scored
        .iter()
        .filter(|s| s.3 == Decision::Match)
        .map(|s| (s.0, s.1))
        .collect();
    if dedupe {
        let path = a
            .clusters
            .clone()
            .unwrap_or_else(|| format!("{out}.clusters.csv"));
        let labels = clusters(left.len(), &matched);
        let failed = |e: csv::Error| format!("{path}: {e}");
        let mut w = csv::Writer::from_path(&path).map_err(failed)?;
        w.write_record(["id", "cluster"]).map_err(failed)?;
        for (id, c) in left_ids.iter().zip(labels) {
            w.write_record([id.as_str(), &c.to_string()])
                .map_err(failed)?;
        }
        w.flush().map_err(|e| format!("{path}: {e}"))?;
    }
    eprintln!(
        "{} × {} records, {} candidate pairs, {} matches, {} possible, {:.2}s",
        left.len(),
        if dedupe { left.len() } else { right.len() },
        candidates.len(),
        matched.len(),
        scored.len() - matched.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
