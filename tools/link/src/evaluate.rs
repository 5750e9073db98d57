use clap::Args;
use std::collections::{HashMap, HashSet};

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// Labelled file (columns `id` and `cluster`): the left file, or the only one for dedupe.
    #[arg(long)]
    truth: String,
    /// For linking: the right file's labels.
    #[arg(long)]
    right_truth: Option<String>,
    /// The pairs file tessera-link wrote.
    #[arg(long)]
    pairs: String,
}

fn labels(path: &str) -> Result<Vec<(String, String)>, String> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("{path}: {e}"))?;
    let h = r.headers().map_err(|e| e.to_string())?.clone();
    let id = h
        .iter()
        .position(|c| c == "id")
        .ok_or(format!("{path}: no id column"))?;
    let cl = h
        .iter()
        .position(|c| c == "cluster")
        .ok_or(format!("{path}: no cluster column"))?;
    r.records()
        .map(|rec| {
            rec.map_err(|e| e.to_string()).map(|rec| {
                (
                    rec.get(id).unwrap_or_default().to_string(),
                    rec.get(cl).unwrap_or_default().to_string(),
                )
            })
        })
        .collect()
}

fn key(a: &str, b: &str, ordered: bool) -> (String, String) {
    if ordered || a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

pub fn run(a: &EvaluateArgs) -> Result<(), String> {
    let left = labels(&a.truth)?;
    let linking = a.right_truth.is_some();
    let mut truth: HashSet<(String, String)> = HashSet::new();
    if let Some(rt) = &a.right_truth {
        let right = labels(rt)?;
        let mut by_cluster: HashMap<&str, Vec<&str>> = HashMap::new();
        for (id, c) in &right {
            by_cluster.entry(c).or_default().push(id);
        }
        for (id, c) in &left {
            for r in by_cluster.get(c.as_str()).into_iter().flatten() {
                truth.insert(key(id, r, true));
            }
        }
    } else {
        let mut by_cluster: HashMap<&str, Vec<&str>> = HashMap::new();
        for (id, c) in &left {
            by_cluster.entry(c).or_default().push(id);
        }
        for ids in by_cluster.values() {
            for (i, x) in ids.iter().enumerate() {
                for y in &ids[i + 1..] {
                    truth.insert(key(x, y, false));
                }
            }
        }
    }
    let mut r = csv::Reader::from_path(&a.pairs).map_err(|e| format!("{}: {e}", a.pairs))?;
    let (mut tp, mut fp, mut possible_true) = (0u64, 0u64, 0u64);
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let k = key(
            rec.get(0).unwrap_or_default(),
            rec.get(1).unwrap_or_default(),
            linking,
        );
        match rec.get(3) {
            Some("match") if truth.contains(&k) => tp += 1,
            Some("match") => fp += 1,
            Some("possible") if truth.contains(&k) => possible_true += 1,
            _ => {}
        }
    }
    let fn_ = truth.len() as u64 - tp;
    let precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = if truth.is_empty() {
        1.0
    } else {
        tp as f64 / truth.len() as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    println!("true pairs {}, matched {}, true positives {tp}, false positives {fp}, false negatives {fn_} ({possible_true} of them sent to review)", truth.len(), tp + fp);
    println!("precision {precision:.5} recall {recall:.5} F1 {f1:.5}");
    Ok(())
}
