//! A synthetic, labelled population with the errors real registration data has: typos and
//! transpositions, nicknames, initials, given/family swaps, day/month swaps and one-digit date
//! slips, missing fields, people who moved, and twins (same family name, birth date and
//! address; different given name and NHS number — never the same person).
mod family;
mod given;
mod vocabulary;

use clap::Args;
use given::NICKNAMES;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use vocabulary::{Names, STREETS, TOWNS, TYPES};

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// About how many records to write.
    #[arg(long, default_value_t = 10_000)]
    records: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One file for deduplication...
    #[arg(long)]
    out: Option<String>,
    /// ...or two for linking (each person at most once per file).
    #[arg(long, requires = "right")]
    left: Option<String>,
    #[arg(long, requires = "left")]
    right: Option<String>,
    /// Leave the NHS number column blank everywhere.
    #[arg(long)]
    no_national_id: bool,
    /// Share of later registrations whose NHS number was not recorded.
    #[arg(long, default_value_t = 0.3)]
    national_id_missing: f64,
    /// `realistic`: tens of thousands of family names and thousands of given names, drawn
    /// with a Zipf-like law (a few very common, a long tail), as in a real population.
    /// `small`: ~160 given and ~300 family names, drawn uniformly (session 1's generator).
    #[arg(long, default_value = "realistic")]
    names: String,
}

/// The names people are drawn from: the real names first (the most common), then names built
/// from syllables, each drawn with weight 1 / (rank + offset)^exponent.
#[derive(Clone)]
struct Rec {
    id: String,
    cluster: usize,
    given: String,
    family: String,
    dob: String,
    sex: String,
    address: String,
    town: String,
    postcode: String,
    nhs: String,
}

fn nhs_number(rng: &mut StdRng) -> String {
    loop {
        let stem: Vec<u32> = (0..9)
            .map(|i| if i == 0 { 9 } else { rng.gen_range(0..10) })
            .collect();
        let sum: u32 = stem.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        return stem
            .iter()
            .chain([check].iter())
            .map(|d| char::from(b'0' + *d as u8))
            .collect();
    }
}

fn address(rng: &mut StdRng) -> (String, String, String) {
    let (town, area) = TOWNS.choose(rng).copied().unwrap_or(("Leeds", "LS"));
    let street = format!(
        "{} {} {}",
        rng.gen_range(1..200),
        STREETS.choose(rng).unwrap_or(&"High"),
        TYPES.choose(rng).unwrap_or(&"Street")
    );
    let letters = b"ABDEFGHJLNPQRSTUWXYZ";
    let postcode = format!(
        "{area}{} {}{}{}",
        rng.gen_range(1..30),
        rng.gen_range(0..10),
        char::from(letters[rng.gen_range(0..letters.len())]),
        char::from(letters[rng.gen_range(0..letters.len())])
    );
    (street, town.to_string(), postcode)
}

/// One keyboard slip: substitute, delete, insert or transpose a letter.
fn typo(s: &str, rng: &mut StdRng) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 3 {
        return s.to_string();
    }
    let i = rng.gen_range(1..c.len() - 1);
    match rng.gen_range(0..4) {
        0 => c[i] = char::from(b'a' + rng.gen_range(0..26)),
        1 => {
            c.remove(i);
        }
        2 => c.insert(i, char::from(b'a' + rng.gen_range(0..26))),
        _ => c.swap(i, i + 1),
    }
    c.into_iter().collect()
}

fn digit_slip(dob: &str, rng: &mut StdRng) -> String {
    let mut b: Vec<u8> = dob.bytes().collect();
    let positions = [2usize, 3, 6, 9];
    let i = positions[rng.gen_range(0..positions.len())];
    b[i] = b'0' + ((b[i] - b'0' + rng.gen_range(1..9)) % 10);
    let s = String::from_utf8_lossy(&b).into_owned();
    if chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_ok() {
        s
    } else {
        dob.to_string()
    }
}

fn person(cluster: usize, rng: &mut StdRng, names: &Names) -> Rec {
    let female = rng.gen_bool(0.5);
    let given = names.given(female, rng);
    let dob = chrono::NaiveDate::from_ymd_opt(1930, 1, 1).unwrap_or_default()
        + chrono::Duration::days(rng.gen_range(0..32_000));
    let (address, town, postcode) = address(rng);
    Rec {
        id: String::new(),
        cluster,
        given,
        family: names.family.draw(rng),
        dob: dob.format("%Y-%m-%d").to_string(),
        sex: if female { "F" } else { "M" }.into(),
        address,
        town,
        postcode,
        nhs: nhs_number(rng),
    }
}

/// Another registration of the same person, with realistic errors.
fn duplicate(base: &Rec, rng: &mut StdRng, national_id_missing: f64) -> Rec {
    let mut r = base.clone();
    let p = |rng: &mut StdRng, x: f64| rng.gen_bool(x);
    if p(rng, 0.06) {
        r.given = typo(&r.given, rng);
    } else if p(rng, 0.06) {
        if let Some((a, b)) = NICKNAMES
            .iter()
            .find(|(a, b)| *a == r.given || *b == r.given)
        {
            r.given = if *a == r.given { b } else { a }.to_string();
        }
    } else if p(rng, 0.01) {
        r.given = r.given.chars().take(1).collect();
    }
    if p(rng, 0.05) {
        r.family = typo(&r.family, rng);
    }
    if p(rng, 0.02) {
        std::mem::swap(&mut r.given, &mut r.family);
    }
    if p(rng, 0.02) {
        let d = &r.dob;
        let (y, m, dd) = (&d[0..4], &d[5..7], &d[8..10]);
        let swapped = format!("{y}-{dd}-{m}");
        if chrono::NaiveDate::parse_from_str(&swapped, "%Y-%m-%d").is_ok() {
            r.dob = swapped;
        }
    } else if p(rng, 0.03) {
        r.dob = digit_slip(&r.dob, rng);
    }
    if p(rng, 0.10) {
        let (a, t, pc) = address(rng);
        r.address = a;
        r.town = t;
        r.postcode = pc;
    } else if p(rng, 0.03) {
        r.postcode = typo(&r.postcode, rng);
    }
    if p(rng, national_id_missing.clamp(0.0, 1.0)) {
        r.nhs.clear();
    }
    for (field, chance) in [
        (0, 0.02),
        (1, 0.01),
        (2, 0.01),
        (3, 0.03),
        (4, 0.05),
        (5, 0.05),
    ] {
        if p(rng, chance) {
            match field {
                0 => r.given.clear(),
                1 => r.family.clear(),
                2 => r.dob.clear(),
                3 => r.sex.clear(),
                4 => r.postcode.clear(),
                _ => r.address.clear(),
            }
        }
    }
    r
}

fn write(path: &str, recs: &[Rec], blank_nhs: bool) -> Result<(), String> {
    let failed = |e: csv::Error| format!("{path}: {e}");
    let mut w = csv::Writer::from_path(path).map_err(failed)?;
    w.write_record([
        "id",
        "cluster",
        "given_name",
        "family_name",
        "dob",
        "sex",
        "address1",
        "town",
        "postcode",
        "nhs_number",
    ])
    .map_err(failed)?;
    for r in recs {
        w.write_record([
            r.id.to_string().as_str(),
            &r.cluster.to_string(),
            &r.given,
            &r.family,
            &r.dob.to_string(),
            &r.sex.to_string(),
            &r.address,
            &r.town,
            &r.postcode,
            if blank_nhs { "" } else { r.nhs.as_str() },
        ])
        .map_err(failed)?;
    }
    w.flush().map_err(|e| format!("{path}: {e}"))
}

pub fn run(a: &GenerateArgs) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(a.seed);
    let names = Names::new(&a.names)?;
    let mut next_cluster = 0;
    let mut entities: Vec<Vec<Rec>> = Vec::new();
    let mut total = 0;
    while total < a.records {
        let base = person(next_cluster, &mut rng, &names);
        next_cluster += 1;
        // 1% of people have a twin registered too: a different person.
        if rng.gen_bool(0.01) {
            let mut twin = person(next_cluster, &mut rng, &names);
            next_cluster += 1;
            twin.family = base.family.clone();
            twin.dob = base.dob.clone();
            twin.address = base.address.clone();
            twin.town = base.town.clone();
            twin.postcode = base.postcode.clone();
            while twin.given == base.given {
                twin.given = names.given(twin.sex == "F", &mut rng);
            }
            total += 1;
            entities.push(vec![twin]);
        }
        let copies = match rng.gen_range(0..100) {
            0..=59 => 0,
            60..=84 => 1,
            85..=94 => 2,
            _ => 3,
        };
        let mut group = vec![base.clone()];
        for _ in 0..copies {
            group.push(duplicate(&base, &mut rng, a.national_id_missing));
        }
        total += group.len();
        entities.push(group);
    }
    match (&a.out, &a.left, &a.right) {
        (Some(out), None, None) => {
            let mut all: Vec<Rec> = entities.into_iter().flatten().collect();
            all.shuffle(&mut rng);
            for (i, r) in all.iter_mut().enumerate() {
                r.id = format!("R{i}");
            }
            write(out, &all, a.no_national_id)?;
            eprintln!("{} records, {} people", all.len(), next_cluster);
        }
        (None, Some(l), Some(r)) => {
            // Each person at most once per file: the left has the first registration, the
            // right a later (errored) one; some people are in one file only.
            let (mut left, mut right) = (Vec::new(), Vec::new());
            for g in entities {
                let in_left = rng.gen_bool(0.8);
                let in_right = !in_left || rng.gen_bool(0.6);
                if in_left {
                    left.push(g[0].clone());
                }
                if in_right {
                    right.push(if g.len() > 1 {
                        g[1].clone()
                    } else {
                        duplicate(&g[0], &mut rng, a.national_id_missing)
                    });
                }
            }
            left.shuffle(&mut rng);
            right.shuffle(&mut rng);
            for (i, r) in left.iter_mut().enumerate() {
                r.id = format!("L{i}");
            }
            for (i, r) in right.iter_mut().enumerate() {
                r.id = format!("R{i}");
            }
            write(l, &left, a.no_national_id)?;
            write(r, &right, a.no_national_id)?;
            eprintln!("{} left, {} right", left.len(), right.len());
        }
        _ => return Err("give --out, or --left and --right".into()),
    }
    Ok(())
}
