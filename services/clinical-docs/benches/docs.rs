//! Clinical documentation at a trust's scale, over HTTP against real PostgreSQL, Redis and
//! the broker — each request authenticated, decided (relationship and seals, from the access
//! projection) and audited — beside the floor: the same SQL without the service around it.
//!
//! Set-up (SQL): BENCH_DOCS (1,000,000) documents in one trust, each with its version 1 (a
//! 25-word note from a 200-word clinical vocabulary): 1,000 for one patient, the rest over
//! 10,000 others; the caller's relationship with the patients measured, in the projection.
//!
//! 1. **A patient's document list, 1,000 documents**: `GET /documents?patient_id=…` (the
//!    newest 50 and the total), sequentially (BENCH_READS, 300). Floor: `store::search`.
//! 2. **Full-text search in the 1,000,000-document trust**: `GET /documents?patient_id=…&q=…`
//!    for the 1,000-document patient and for patients with ~100, words of every frequency.
//!    Floor: `store::search` with the same filter.
//!
//! `cargo bench -p tessera-clinical-docs --bench docs` (PostgreSQL and Redis running; a broker
//! of its own unless `TESSERA_TEST_KAFKA` names one: `kit::bench_kafka`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sea_orm::ConnectionTrait;
use std::time::{Duration, Instant};
use tessera_bootstrap::Shutdown;
use tessera_clinical_docs::store::search::{self, Filter};
use tessera_clinical_docs::{Application, Config};
use tessera_testkit as kit;

const HEAVY: &str = "00000000-0000-4000-8000-000000000001";
const WORDS: &str = "abdomen abscess acute admission allergy anaemia angina antibiotic anxiety appendicitis \
arrhythmia arthritis aspirin asthma atrial biopsy bleeding blood bowel bradycardia breath bronchitis \
cancer cardiac catheter cellulitis chest cholesterol chronic clinic colitis confusion constipation copd \
cough creatinine cystitis deficiency dehydration delirium dementia depression dermatitis diabetes \
dialysis diarrhoea discharge dizziness dressing dyspnoea echo eczema effusion embolism endoscopy \
epilepsy erythema examination fatigue fever fibrillation fluid fracture gallstones gastritis glucose \
gout haematuria haemoglobin headache heart hepatitis hernia hip hypertension hypotension infection \
inhaler insulin ischaemia jaundice kidney knee lesion liver lung lymphoma malnutrition medication \
melanoma migraine mobility murmur nausea neuropathy nodule obesity oedema oxygen pain palpitations \
pancreatitis paracetamol physiotherapy plan pneumonia potassium pressure pulmonary rash referral renal \
respiratory review scan sepsis shoulder sodium spine statin stenosis steroid stroke surgery swelling \
syncope tachycardia thyroid tremor ulcer ultrasound urinary urine vaccination valve vertigo vomiting \
warfarin weakness wheeze wound xray anticoagulation bisoprolol furosemide ramipril amlodipine metformin \
omeprazole simvastatin apixaban ceftriaxone gentamicin morphine codeine ibuprofen prednisolone \
salbutamol tiotropium levothyroxine sertraline mirtazapine donepezil haloperidol lorazepam \
ward round observations stable comfortable mobilising eating drinking family discussed consultant";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let (p50, p99) = (pct(&d, 0.5), pct(&d, 0.99));
    println!(
        "{name:<58} n={:>5}  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  max {:>7.2} ms",
        d.len(),
        pct(&d, 1.0)
    );
    (p50, p99)
}

/// A patient of the 10,000 light ones.
fn light(n: usize) -> String {
    format!("00000000-0000-4000-8000-{:012}", 100 + n % 10_000)
}

#[tokio::main]
async fn main() {
    let docs = env("BENCH_DOCS", 1_000_000);
    let reads = env("BENCH_READS", 300);
    let tenant = kit::unique_ods();
    let (kafka, _broker) = kit::bench_kafka();
    kit::onboard(&kafka, &tenant).await;
    let idp = kit::TestIdp::new();
    let mut config = Config::default();
    config.http.port = 0;
    config.http.management_port = 0;
    config.http.workers = 2;
    config.database_url = kit::database("tessera_clinical_docs_test").await;
    config.redis_url = kit::redis_url();
    config.kafka = kafka;
    config.auth = idp.auth_config();
    config.tenancy.only = Some(vec![tenant.clone()]);
    config.rate_limit.per_tenant_per_second = 1_000_000;
    config.telemetry.log_level = "error".into();
    config.consumer_group_prefix = format!("docs-bench-{}", uuid::Uuid::new_v4());
    let db_url = config.database_url.clone();
    let app = Application::build(config).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let management = format!("http://127.0.0.1:{}", app.management_port());
    let shutdown = Shutdown::new();
    tokio::spawn(app.run(shutdown.clone()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4)
        .build()
        .unwrap();
    assert!(kit::wait_ready(&client, &management, std::slice::from_ref(&tenant)).await);
    let token = idp.token(&tenant, &["B0380"]);
    let schema = format!("t_{}", tenant.to_lowercase());
    let db = sea_orm::Database::connect(db_url.clone()).await.unwrap();

    // Set-up: the documents, their first versions, the caller's relationships.
    let t0 = Instant::now();
    let light_docs = docs.saturating_sub(1000);
    db.execute_unprepared(&format!(
        "DROP INDEX {schema}.document_words;
         CREATE TEMP TABLE vocab AS SELECT row_number() OVER () AS i, w FROM unnest(string_to_array('{WORDS}', ' ')) AS w;
         CREATE TEMP TABLE seed AS
         SELECT gen_random_uuid() AS id,
                CASE WHEN n <= 1000 THEN '{HEAVY}'
                     ELSE '00000000-0000-4000-8000-' || lpad((100 + n % 10000)::text, 12, '0') END AS patient_id,
                (SELECT string_agg(w, ' ') FROM vocab WHERE i IN (SELECT 1 + ((n::bigint * 7919 + k * 104729) % (SELECT count(*) FROM vocab))::int
                                                             FROM generate_series(1, 25) AS k)) AS body,
                now() - (n || ' minutes')::interval AS at
           FROM generate_series(1, {total}) AS n;
         INSERT INTO {schema}.document (id, patient_id, doc_type, title, status, version, author_user, author_role,
                                        author_org, countersign, created_at, updated_at, words)
         SELECT id, patient_id, '371532007', 'Progress note', 'final', 1, 'dr-bench', 'R8000', '{tenant}', false, at, at,
                to_tsvector('english', 'Progress note ' || body)
           FROM seed;
         INSERT INTO {schema}.document_version (document_id, version, action, status, title, content_type, content,
                                                sha256, by_user, by_role, by_org, recorded_at)
         SELECT id, 1, 'created', 'final', 'Progress note', 'text/plain', convert_to(body, 'UTF8'),
                encode(sha256(convert_to(body, 'UTF8')), 'hex'), 'dr-bench', 'R8000', '{tenant}', at
           FROM seed;
         CREATE INDEX document_words ON {schema}.document USING gin (words);
         INSERT INTO {schema}.access_relationship (id, patient_id, user_id, starts_at, origin)
         SELECT gen_random_uuid(), p, 'U-TEST-1', now() - interval '1 day', 'caseload'
           FROM (SELECT DISTINCT patient_id AS p FROM seed) AS s;
         ANALYZE {schema}.document; ANALYZE {schema}.document_version; ANALYZE {schema}.access_relationship;",
        total = light_docs + 1000
    ))
    .await
    .unwrap();
    println!(
        "setup: {} documents in {:.1} s",
        light_docs + 1000,
        t0.elapsed().as_secs_f64()
    );

    let get = |path: String| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        async move {
            let s = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let v: serde_json::Value = r.json().await.unwrap();
            (s.elapsed(), v["total"].as_i64().unwrap_or(-1))
        }
    };
    let tdb = tessera_tenancy::TenantDb::connect(&db_url, 4)
        .await
        .unwrap();
    let tid = tessera_tenancy::TenantId::parse(&tenant).unwrap();
    let floor = |f: Filter| {
        let (tdb, tid) = (&tdb, &tid);
        async move {
            let s = Instant::now();
            let txn = tdb.begin(tid).await.unwrap();
            let (rows, total) = search::search(&txn, &f, &[]).await.unwrap();
            txn.commit().await.unwrap();
            assert!(rows.len() as i64 <= total);
            (s.elapsed(), total)
        }
    };

    // 1. The 1,000-document list.
    let mut http = vec![];
    for _ in 0..reads {
        let (d, total) = get(format!("/documents?patient_id={HEAVY}")).await;
        assert_eq!(total, 1000);
        http.push(d);
    }
    let (_, h99) = summary("HTTP list, 1,000 documents (page of 50 + total)", http);
    let mut fl = vec![];
    for _ in 0..reads {
        let f = Filter {
            patient_id: HEAVY.into(),
            limit: 50,
            ..Filter::default()
        };
        fl.push(floor(f).await.0);
    }
    let (_, f99) = summary("floor: store::search in a transaction", fl);
    println!("list p99 ratio to floor: {:.2}", h99 / f99);

    // 2. Full-text search in the trust.
    let vocab: Vec<&str> = WORDS.split(' ').collect();
    for (who, patient) in [
        ("the 1,000-document patient", None),
        ("~100-document patients", Some(())),
    ] {
        let mut http = vec![];
        let mut fl = vec![];
        let mut found = 0;
        for n in 0..reads {
            let p = patient.map_or(HEAVY.to_string(), |_| light(n * 37));
            let q = vocab[n % vocab.len()];
            let (d, total) = get(format!("/documents?patient_id={p}&q={q}")).await;
            found += total;
            http.push(d);
            let f = Filter {
                patient_id: p,
                words: Some(q.to_string()),
                limit: 50,
                ..Filter::default()
            };
            let (d, t) = floor(f).await;
            assert_eq!(t, total);
            fl.push(d);
        }
        let (_, h99) = summary(&format!("HTTP word search, {who}"), http);
        let (_, f99) = summary("floor: store::search in a transaction", fl);
        println!(
            "  ({found} matches in all; p99 ratio to floor {:.2})",
            h99 / f99
        );
    }
    shutdown.trigger();
}
