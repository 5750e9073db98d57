//! No activity lost or doubled: a generated hospital day — 2,000 admissions, transfers,
//! changes of consultant, discharges and cancellations from eight ward clerks at once, and
//! 5,000 outpatient outcomes from scheduling with 500 of them delivered twice — against the
//! service run as its own process, killed with SIGKILL in the middle and started again, while
//! every client resends as a real one would until it is answered (an admission under its
//! `Idempotency-Key`; anything else only after reading the spell to see whether it took
//! effect). Then the reconciliation report: nothing missing, nothing doubled, and its counts
//! equal to what the generator knows happened.
use crate::helpers::*;
use prost::Message as _;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_proto::scheduling::v1::AppointmentClosed;
use tessera_testkit as kit;

const CLERKS: usize = 8;
const OPS: usize = 2_000;
const BEDS_EACH: usize = 6;
const OUTCOMES: usize = 5_000;

/// A tiny deterministic generator (each clerk its own seed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What the generator knows happened to one clerk's patients.
#[derive(Default)]
struct Truth {
    /// Consultant episodes finished and not undone (each must have one live record).
    finished: i64,
    /// Of those, in spells that ended discharged (what the reconciliation counts).
    finished_in_discharged: i64,
}

/// A client that resends until answered: `Ok((status, body))`, or panics after a minute.
async fn send(
    client: &reqwest::Client,
    m: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut r = client.request(m.clone(), url).bearer_auth(token);
        if let Some(b) = body {
            r = r.json(b);
        }
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        match r.send().await {
            Ok(r) if r.status() != 503 => {
                let s = r.status().as_u16();
                return (s, r.json().await.unwrap_or_default());
            }
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => panic!("{url}: no answer for a minute"),
        }
    }
}

/// A change to a spell whose answer may be lost: sent once; if no answer came, the spell is
/// read, and the change is sent again only if the spell's version shows it did not happen.
async fn change(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    spell: &str,
    version: i64,
    path: &str,
    body: Value,
) -> Value {
    loop {
        let r = client
            .post(format!("{base}/spells/{spell}/{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await;
        if let Ok(r) = r {
            if r.status() != 503 {
                let s = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or_default();
                assert_eq!(s, 200, "{path}: {v}");
                return v;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, now) = send(
            client,
            reqwest::Method::GET,
            &format!("{base}/spells/{spell}"),
            token,
            None,
            None,
        )
        .await;
        if now["version"].as_i64().is_some_and(|v| v > version) {
            return now;
        }
    }
}

async fn clerk(
    c: usize,
    base: String,
    token: String,
    beds: Vec<String>,
    patients: Vec<String>,
    done: Arc<AtomicUsize>,
) -> Truth {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut rng = Lcg(c as u64 + 1);
    let mut truth = Truth::default();
    let mut next_patient = 0;
    let mut ops = 0;
    while ops < OPS / CLERKS {
        // One stay: admitted into this clerk's first bed, perhaps moved to its second.
        let patient = &patients[next_patient];
        next_patient += 1;
        let body = json!({ "patient_id": patient, "bed_id": beds[0], "admission_method": "21",
                           "admission_source": "19", "consultant": "C1", "treatment_function": "300" });
        let key = uuid::Uuid::new_v4().to_string();
        let (s, v) = send(
            &client,
            reqwest::Method::POST,
            &format!("{base}/admissions"),
            &token,
            Some(&body),
            Some(&key),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        ops += 1;
        done.fetch_add(1, Ordering::Relaxed);
        let spell = v["id"].as_str().unwrap().to_string();
        let mut version = v["version"].as_i64().unwrap();
        let mut finished = 0;
        let mut bed = 0;
        let steps = 1 + rng.below(5);
        let mut discharged = false;
        for _ in 0..steps {
            let roll = rng.below(10);
            let (path, body, effect): (&str, Value, i64) = match roll {
                0..=2 => {
                    bed = (bed + 1) % BEDS_EACH.min(beds.len());
                    ("transfer", json!({ "bed_id": beds[bed] }), 0)
                }
                3..=5 => (
                    "consultant",
                    json!({ "consultant": format!("C{}", rng.below(9) + 2), "treatment_function": "301" }),
                    1,
                ),
                _ => (
                    "discharge",
                    json!({ "discharge_method": "1", "discharge_destination": "19" }),
                    1,
                ),
            };
            let v = change(&client, &base, &token, &spell, version, path, body).await;
            version = v["version"].as_i64().unwrap();
            finished += effect;
            ops += 1;
            done.fetch_add(1, Ordering::Relaxed);
            // Some changes are cancelled straight after (A12/A13-style).
            if path != "transfer" && rng.below(4) == 0 {
                let v = change(
                    &client,
                    &base,
                    &token,
                    &spell,
                    version,
                    "cancel",
                    json!({ "cancels": path, "reason": "entered in error" }),
                )
                .await;
                version = v["version"].as_i64().unwrap();
                finished -= effect;
                ops += 1;
                done.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if path == "discharge" {
                discharged = true;
                break;
            }
        }
        if !discharged {
            let v = change(
                &client,
                &base,
                &token,
                &spell,
                version,
                "discharge",
                json!({ "discharge_method": "1", "discharge_destination": "19" }),
            )
            .await;
            assert_eq!(v["status"], "discharged");
            finished += 1;
            ops += 1;
            done.fetch_add(1, Ordering::Relaxed);
        }
        truth.finished += finished;
        truth.finished_in_discharged += finished;
        // The stay's beds back to available (no cleaning in this trust).
        let _ = bed;
    }
    truth
}

#[tokio::test]
async fn a_hospital_day_with_a_crash_and_redeliveries_ends_with_nothing_missing_or_doubled() {
    let app = TestApp::spawn(1).await;
    let (_, beds) = app.ward(0, "DAY", CLERKS * BEDS_EACH).await;
    let schema = app.schema(0);
    let patients: Vec<String> = (0..OPS).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let values: Vec<String> = patients.iter().map(|p| format!("('{p}')")).collect();
    app.sql(&format!(
        "INSERT INTO {schema}.known_patient (id) VALUES {}",
        values.join(",")
    ))
    .await;
    let mut pas = Process::start(&app, |c| c.beds.clean_after_discharge = false).await;

    // 5,000 outpatient outcomes over the last fortnight, 500 of them sent twice.
    let mut rng = Lcg(99);
    let mut attended = 0;
    let mut events = Vec::new();
    for n in 0..OUTCOMES {
        let code = ["5", "5", "5", "6", "3", "2", "4", "7"][rng.below(8) as usize];
        attended += i64::from(code == "5" || code == "6");
        let patient = &patients[n % patients.len()];
        let m = AppointmentClosed {
            appointment_id: uuid::Uuid::now_v7().to_string(),
            patient_id: patient.clone(),
            closed_at: chrono::Utc::now().to_rfc3339(),
            outcome: "attended".into(),
            attendance: code.into(),
            appointment_date: (chrono::Utc::now().date_naive()
                - chrono::Duration::days(1 + (n % 14) as i64))
            .to_string(),
            treatment_function: "110".into(),
            clinician_user_id: "C300".into(),
            slot_type: if n % 3 == 0 { "follow-up" } else { "new" }.into(),
            ..Default::default()
        };
        events.push((
            patient.clone(),
            "uk.nhs.tessera.scheduling.AppointmentClosed.v1".to_string(),
            m.encode_to_vec(),
        ));
    }
    let again: Vec<_> = events.iter().step_by(10).cloned().collect();
    events.extend(again);
    let topic = format!(
        "tessera.{}.scheduling.appointment",
        app.tenants[0].to_lowercase()
    );

    // The day: eight clerks, each with beds of their own; the outcomes arriving meanwhile;
    // the kill when about two fifths of the clerks' work is done.
    let done = Arc::new(AtomicUsize::new(0));
    let staff = app.staff(0);
    let mut clerks = Vec::new();
    for c in 0..CLERKS {
        let mine = beds[c * BEDS_EACH..(c + 1) * BEDS_EACH].to_vec();
        let theirs = patients.iter().skip(c).step_by(CLERKS).cloned().collect();
        clerks.push(tokio::spawn(clerk(
            c,
            pas.base.clone(),
            staff.clone(),
            mine,
            theirs,
            done.clone(),
        )));
    }
    kit::produce_many(&app.kafka, &topic, events).await;
    let started = Instant::now();
    while done.load(Ordering::Relaxed) < OPS * 2 / 5 && started.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let at_kill = done.load(Ordering::Relaxed);
    pas.kill_and_restart();
    let mut truth = Truth::default();
    for c in clerks {
        let t = c.await.unwrap();
        truth.finished += t.finished;
        truth.finished_in_discharged += t.finished_in_discharged;
    }
    let settled = kit::wait_until(Duration::from_secs(120), || async {
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.attendance"))
            .await
            == OUTCOMES as i64
    })
    .await;
    assert!(settled, "not every outcome arrived");
    assert!(
        at_kill < OPS * 9 / 10,
        "the kill came mid-day ({at_kill} of {OPS} operations done)"
    );
    let (s, r) = send(
        &app.client,
        reqwest::Method::GET,
        &format!("{}/reports/reconciliation?uncoded_days=365", pas.base),
        &app.coder(0),
        None,
        None,
    )
    .await;
    pas.stop();
    assert_eq!(s, 200, "{r}");
    eprintln!("hospital day: {} clerk operations, truth {} finished episodes, {attended} attended; report {r}", done.load(Ordering::Relaxed), truth.finished);
    assert_eq!(r["missing"], json!([]), "nothing missing");
    assert_eq!(r["doubled"], json!([]), "nothing doubled");
    assert_eq!(
        r["finished_episodes"].as_i64(),
        Some(truth.finished_in_discharged),
        "{r}"
    );
    assert_eq!(r["attended_appointments"].as_i64(), Some(attended), "{r}");
    assert_eq!(
        r["activity_records"].as_i64(),
        Some(truth.finished_in_discharged + attended),
        "{r}"
    );
    let live = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.activity WHERE withdrawn_at IS NULL"
        ))
        .await;
    assert_eq!(
        live,
        truth.finished + attended,
        "one live record per finished episode and attended appointment"
    );
    assert_eq!(
        race_invariants(&app).await,
        (0, 0),
        "no bed twice, no overlapping episodes"
    );
}
