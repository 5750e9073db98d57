//! The MPI at scale: with BENCH_PATIENTS (default 1,000,000) patients in one tenant, the
//! latency of an NHS-number read, a demographic search and `$match`, over HTTP (JSON and
//! FHIR), at several client concurrencies — against real PostgreSQL, Redis and the broker.
//! Every request is authenticated, rate-limited and audited as in production.
//!
//! `cargo bench -p tessera-mpi --bench scale` (infrastructure from `cargo xtask infra`).
//! `BENCH_PATIENTS`, `BENCH_REQUESTS` (per measure and concurrency, default 3000),
//! `BENCH_CONCURRENCY` (comma-separated, default `1,4,16`), `BENCH_ONLY` (run the measures
//! whose name contains it).
//!
//! The patients are bulk-loaded with SQL (registering a million over HTTP would take most
//! of an hour and measures something else: `baseline`); they have the same columns, JSON
//! and local-number rows as registered ones, without history or outbox rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{drive, env, nhs_numbers, percentile, Bench};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// A small, seeded generator: the same population every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Zipf-like: low indexes far more often, as real name frequencies are.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) - 1.0) as usize % n
    }
}

const ONSETS: &[&str] = &[
    "b", "br", "c", "ch", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "sh", "st",
    "t", "th", "v", "w", "y", "z", "al", "el", "am", "an", "ow", "ar",
];
const CODAS: &[&str] = &[
    "a", "an", "ey", "ie", "on", "er", "in", "ia", "el", "o", "as", "ah", "en", "is", "ar", "ine",
    "ett", "ley", "son", "ton", "well", "wood", "ford", "ham", "by", "more", "field", "man",
];

fn name(rng: &mut Rng, parts: usize) -> String {
    let mut s = String::new();
    for _ in 0..parts {
        s.push_str(ONSETS[rng.skewed(ONSETS.len())]);
        s.push_str(CODAS[rng.skewed(CODAS.len())]);
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

struct Person {
    nhs: String,
    given: String,
    family: String,
    birth: String,
    sex: &'static str,
    postcode: String,
    line: String,
}

fn population(n: usize) -> Vec<Person> {
    let numbers = nhs_numbers(n);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    numbers
        .into_iter()
        .map(|nhs| {
            let area = ["LS", "BD", "HX", "WF", "HD", "YO", "S", "M"][rng.below(8)];
            let postcode = format!(
                "{area}{} {}{}{}",
                1 + rng.below(30),
                rng.below(10),
                (b'A' + rng.below(26) as u8) as char,
                (b'A' + rng.below(26) as u8) as char
            );
            Person {
                nhs,
                given: name(&mut rng, 1),
                family: name(&mut rng, 2),
                birth: format!(
                    "{}-{:02}-{:02}",
                    1920 + rng.below(105),
                    1 + rng.below(12),
                    1 + rng.below(28)
                ),
                sex: if rng.below(2) == 0 { "female" } else { "male" },
                line: format!("{} {} Road", 1 + rng.below(200), name(&mut rng, 1)),
                postcode,
            }
        })
        .collect()
}

async fn bulk_load(
    db: &sea_orm::DatabaseConnection,
    schema: &str,
    tenant: &str,
    people: &[Person],
) {
    let started = Instant::now();
    for (b, chunk) in people.chunks(10_000).enumerate() {
        let mut ids = Vec::new();
        let mut nhs = Vec::new();
        let mut family = Vec::new();
        let mut given = Vec::new();
        let mut birth = Vec::new();
        let mut sex = Vec::new();
        let mut postcode = Vec::new();
        let mut demographics = Vec::new();
        let mut local = Vec::new();
        for (i, p) in chunk.iter().enumerate() {
            let id = uuid::Uuid::now_v7();
            let number = format!("B{}", b * 10_000 + i);
            ids.push(id);
            nhs.push(p.nhs.clone());
            family.push(p.family.to_lowercase());
            given.push(p.given.to_lowercase());
            birth.push(chrono::NaiveDate::parse_from_str(&p.birth, "%Y-%m-%d").unwrap());
            sex.push(p.sex.to_string());
            postcode.push(p.postcode.replace(' ', ""));
            local.push(number.clone());
            demographics.push(json!({
                "nhs_number": p.nhs, "nhs_number_verification_status": "01",
                "local_numbers": [{ "assigner": tenant, "value": number }],
                "names": [{ "use": "official", "family": p.family, "given": [p.given], "prefix": null }],
                "birth_date": p.birth, "administrative_sex": p.sex,
                "addresses": [{ "use": "home", "lines": [p.line], "city": "Leeds", "district": null,
                                "postcode": p.postcode, "country": null, "period_start": null, "period_end": null }],
                "telecom": [], "general_practice": null, "restricted": false
            }));
        }
        db.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO {schema}.patient (id, version, nhs_number, family_norm, given_norm, birth_date, sex,
                                               postcode_norm, demographics, created_at, updated_at)
                 SELECT id, 1, nhs, fam, ARRAY[giv], bd, sx, pc, d, now(), now()
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::jsonb[])
                      AS t(id, nhs, fam, giv, bd, sx, pc, d)"
            ),
            [
                ids.clone().into(),
                nhs.into(),
                family.into(),
                given.into(),
                birth.into(),
                sex.into(),
                postcode.into(),
                demographics.into(),
            ],
        ))
        .await
        .unwrap();
        db.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO {schema}.patient_local_number (assigner, value, patient_id)
                 SELECT $1, v, id FROM unnest($2::text[], $3::uuid[]) AS t(v, id)"
            ),
            [tenant.into(), local.into(), ids.into()],
        ))
        .await
        .unwrap();
    }
    db.execute_unprepared(&format!(
        "ANALYZE {schema}.patient; ANALYZE {schema}.patient_local_number"
    ))
    .await
    .unwrap();
    println!(
        "loaded {} patients in {:.1}s",
        people.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let patients = env("BENCH_PATIENTS", 1_000_000);
    let requests = env("BENCH_REQUESTS", 3_000);
    let concurrencies: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,4,16".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let bench = Bench::start(64).await;
    let (client, base, token) = (
        bench.client.clone(),
        bench.base.clone(),
        bench.token.clone(),
    );
    let (tenant, schema) = (
        bench.tenant.clone(),
        format!("t_{}", bench.tenant.to_lowercase()),
    );
    let db = Database::connect(bench.database_url.clone()).await.unwrap();

    let people = Arc::new(population(patients));
    bulk_load(&db, &schema, &tenant, &people).await;

    type Request = fn(&Person) -> (String, Option<serde_json::Value>);
    let measures: Vec<(&str, Request)> = vec![
        ("NHS-number read, JSON", |p| {
            (format!("/patients?nhs_number={}", p.nhs), None)
        }),
        ("NHS-number read, FHIR", |p| {
            (
                format!(
                    "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{}",
                    p.nhs
                ),
                None,
            )
        }),
        ("demographic search, JSON (family + birth date)", |p| {
            (
                format!("/patients?family={}&birth_date={}", p.family, p.birth),
                None,
            )
        }),
        ("demographic search, FHIR (family + birthdate)", |p| {
            (
                format!("/fhir/Patient?family={}&birthdate={}", p.family, p.birth),
                None,
            )
        }),
        ("$match, JSON (typo in given name, no NHS number)", |p| {
            let mut given = p.given.clone();
            given.push('e');
            (
                "/patients/$match".into(),
                Some(json!({
                    "given": given, "family": p.family, "birth_date": p.birth, "postcode": p.postcode
                })),
            )
        }),
        ("$match, FHIR Parameters", |p| {
            (
                "/fhir/Patient/$match".into(),
                Some(json!({
                    "resourceType": "Parameters",
                    "parameter": [{ "name": "resource", "resource": {
                        "resourceType": "Patient", "name": [{ "family": p.family, "given": [p.given] }],
                        "birthDate": p.birth, "address": [{ "postalCode": p.postcode }] } }]
                })),
            )
        }),
    ];
    println!("| measure | clients | requests/s | p50 ms | p95 ms | p99 ms | failures |");
    println!("|---|---|---|---|---|---|---|");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    for (label, request) in measures {
        if !label.contains(only.as_str()) {
            continue;
        }
        for &c in &concurrencies {
            let (cl, b, t, ps) = (client.clone(), base.clone(), token.clone(), people.clone());
            let (elapsed, lat, failures) = drive(requests, c, move |i| {
                let (cl, b, t, ps) = (cl.clone(), b.clone(), t.clone(), ps.clone());
                Box::pin(async move {
                    let (path, body) = request(&ps[(i * 7919 + 13) % ps.len()]);
                    let r = match body {
                        None => cl.get(format!("{b}{path}")).bearer_auth(&t).send().await,
                        Some(body) => {
                            cl.post(format!("{b}{path}"))
                                .bearer_auth(&t)
                                .json(&body)
                                .send()
                                .await
                        }
                    };
                    match r {
                        Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                        _ => false,
                    }
                })
            })
            .await;
            println!(
                "| {label} | {c} | {:.0} | {:.2} | {:.2} | {:.2} | {failures} |",
                requests as f64 / elapsed.as_secs_f64(),
                percentile(&lat, 0.5),
                percentile(&lat, 0.95),
                percentile(&lat, 0.99)
            );
        }
    }
    bench.stop().await;
}
