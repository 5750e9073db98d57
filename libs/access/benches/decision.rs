//! Decision overhead with 100,000 relationships in one tenant: the projection read
//! (`projection::load`, one statement) plus `decision::decide`, as a read path runs them
//! inside its own tenant transaction. Against the real PostgreSQL.
//!
//! `cargo bench -p tessera-access --bench decision` (BENCH_RELATIONSHIPS, BENCH_ITERATIONS).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use rand::Rng;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use std::time::{Duration, Instant};
use tessera_access::decision::{decide, DataClass, Request};
use tessera_access::projection::{load, AddConsentTrusts, CreateAccessProjection};
use tessera_access::{expand_activities, Activity, Identity, SelectedRole};
use tessera_nhs::OdsCode;
use tessera_tenancy::{migrate_tenant, TenantDb, TenantId};

struct Projection;

impl MigratorTrait for Projection {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateAccessProjection), Box::new(AddConsentTrusts)]
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn report(label: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{label}: n={} p50={:.3} ms p99={:.3} ms p99.9={:.3} ms max={:.3} ms",
        d.len(),
        pct(&d, 0.5).as_secs_f64() * 1e3,
        pct(&d, 0.99).as_secs_f64() * 1e3,
        pct(&d, 0.999).as_secs_f64() * 1e3,
        d.last().unwrap().as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let relationships = env("BENCH_RELATIONSHIPS", 100_000);
    let iterations = env("BENCH_ITERATIONS", 20_000);
    let server = std::env::var("TESSERA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let admin = Database::connect(format!("{server}/postgres?sslmode=disable"))
        .await
        .unwrap();
    let _ = admin
        .execute_unprepared("CREATE DATABASE tessera_access_bench")
        .await;
    let url = format!("{server}/tessera_access_bench?sslmode=disable");
    let tenant = TenantId::parse("BENCHA").unwrap();
    let db = TenantDb::connect(&url, 4).await.unwrap();
    db.raw()
        .execute_unprepared(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            tenant.schema()
        ))
        .await
        .unwrap();
    migrate_tenant::<Projection>(&url, &tenant).await.unwrap();
    // Half as many patients as relationships: each has one user's and one team's. 1,000
    // users, 100 teams of 10; one patient in 20 has a sealed contact group, one in 50 a
    // break-glass grant.
    let patients = relationships / 2;
    let t0 = Instant::now();
    let txn = db.begin(&tenant).await.unwrap();
    txn.execute_unprepared(&format!(
        "INSERT INTO access_relationship (id, patient_id, user_id, team, starts_at, ends_at, origin)
         SELECT gen_random_uuid(), 'p' || (g % {patients}),
                CASE WHEN g < {patients} THEN 'u' || (g % 1000) END,
                CASE WHEN g >= {patients} THEN 't' || (g % 100) END,
                now() - interval '10 days',
                CASE WHEN g % 7 = 0 THEN now() - interval '1 day' END,
                'referral'
           FROM generate_series(0, {} - 1) g;
         INSERT INTO access_team_member (team, user_id)
         SELECT 't' || (g % 100), 'u' || g FROM generate_series(0, 999) g;
         INSERT INTO access_seal (patient_id, item, level, users, teams)
         SELECT 'p' || g, 'contact', CASE WHEN g % 40 = 0 THEN 'locked' ELSE 'sealed' END, ARRAY['u' || (g % 1000)], ARRAY['t' || (g % 100)]
           FROM generate_series(0, {patients} - 1, 20) g;
         INSERT INTO access_break_glass (id, patient_id, user_id, expires_at)
         SELECT gen_random_uuid(), 'p' || g, 'u' || (g % 1000), now() + interval '1 hour'
           FROM generate_series(0, {patients} - 1, 50) g;
         INSERT INTO access_projection_state (id, last_event_at) VALUES (1, now());",
        relationships
    ))
    .await
    .unwrap();
    txn.commit().await.unwrap();
    db.raw()
        .execute_unprepared(&format!("ANALYZE {}.access_relationship", tenant.schema()))
        .await
        .unwrap();
    let n = db
        .raw()
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM {}.access_relationship",
                tenant.schema()
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    println!(
        "{n} relationships over {patients} patients loaded in {:?}",
        t0.elapsed()
    );
    assert_eq!(n as usize, relationships);

    let mut rng = rand::thread_rng();
    let owner = OdsCode::parse("BENCHA").unwrap();
    let mut full = Vec::with_capacity(iterations);
    let mut pure = Vec::with_capacity(iterations);
    let mut permits = 0usize;
    for i in 0..iterations + 1000 {
        let user = format!("u{}", rng.gen_range(0..1000));
        let patient = format!("p{}", rng.gen_range(0..patients));
        let who = Identity {
            user_id: user,
            session_id: "s".into(),
            expires_at: i64::MAX,
            role: SelectedRole {
                person_role_id: "p".into(),
                organisation: owner.clone(),
                job_role: "R8000".into(),
                activities: expand_activities(
                    ["B0820", "B0083"].iter().filter_map(|a| Activity::parse(a)),
                ),
                workgroups: vec![],
            },
        };
        let txn = db.begin(&tenant).await.unwrap();
        let started = Instant::now();
        let now = Utc::now();
        let view = load(&txn, &who, std::slice::from_ref(&patient), now)
            .await
            .unwrap();
        let decided = Instant::now();
        let pa = view.patient(&patient);
        let out = decide(&Request {
            who: &who,
            teams: &view.teams,
            activity: "B0820",
            owner: &owner,
            class: DataClass::Clinical,
            seal: pa.seal("contact"),
            relationships: &pa.relationships,
            break_glass: pa.break_glass.as_ref(),
            consent: pa.consent,
            now,
        });
        let done = Instant::now();
        txn.commit().await.unwrap();
        permits += usize::from(out.permit);
        if i >= 1000 {
            full.push(done - started);
            pure.push(done - decided);
        }
    }
    println!(
        "permitted {permits} of {} (random users and patients)",
        iterations + 1000
    );
    report(
        "projection load + decide (one statement, in the read's transaction)",
        full,
    );
    report("decide alone", pure);
}
