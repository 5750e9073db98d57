//! Issue 16: the same hospital day recorded two ways gives the same spells and episodes —
//! in one trust through PAS's API, in the other as the trust's old PAS would send it, an HL7
//! v2 ADT stream over MLLP to the MPI (admissions, transfers, discharges and their
//! cancellations A11/A12/A13), which applies the person and forwards the visit to PAS
//! (ADR 33). Every message is answered AA; the stays, episodes, spell states, times and
//! history (cancelled or not) of every patient are equal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration as Days, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_e2e::Platform;
use tessera_hl7::mllp::{frame, Decoder, Frame};
use tessera_hl7::Message;
use tessera_testkit as kit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATIENTS: usize = 10;
/// Ten people nobody would take for one another (no automatic link in the MPI).
const FAMILIES: [&str; PATIENTS] = [
    "ASHWORTH", "BRADLEY", "CARTER", "DENHAM", "ELLIOTT", "FLETCHER", "GRAHAM", "HOLLAND",
    "INGRAM", "JACKSON",
];

/// One step of the day.
#[derive(Clone, Copy, Debug)]
enum Step {
    Admit { ward: usize, bed: usize },
    Transfer { ward: usize, bed: usize },
    Discharge,
    Cancel(&'static str),
}

/// The day: patient `i` is admitted at 06:00 + 30·i minutes yesterday (UTC), each step an
/// hour after the one before; five shapes of stay.
fn day() -> Vec<(usize, DateTime<Utc>, Step)> {
    let start = (Utc::now() - Days::days(1))
        .date_naive()
        .and_hms_opt(6, 0, 0)
        .unwrap()
        .and_utc();
    let mut out = Vec::new();
    for i in 0..PATIENTS {
        let (ward, bed) = (1 + i / 5, 1 + i % 5);
        let moved = Step::Transfer {
            ward: 3,
            bed: 1 + i,
        };
        let steps: Vec<Step> = match i % 5 {
            0 => vec![Step::Admit { ward, bed }, moved, Step::Discharge],
            1 => vec![
                Step::Admit { ward, bed },
                Step::Discharge,
                Step::Cancel("discharge"),
            ],
            2 => vec![Step::Admit { ward, bed }, moved, Step::Cancel("transfer")],
            3 => vec![Step::Admit { ward, bed }, Step::Cancel("admission")],
            _ => vec![
                Step::Admit { ward, bed },
                moved,
                Step::Discharge,
                Step::Cancel("discharge"),
                Step::Discharge,
            ],
        };
        for (n, s) in steps.into_iter().enumerate() {
            out.push((
                i,
                start + Days::minutes(30 * i as i64) + Days::hours(n as i64),
                s,
            ));
        }
    }
    out.sort_by_key(|(_, t, _)| *t);
    out
}

struct Mllp {
    stream: TcpStream,
    decoder: Decoder,
}

impl Mllp {
    async fn send(&mut self, msg: &str) -> Message {
        self.stream.write_all(&frame(msg.as_bytes())).await.unwrap();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(Frame::Message(m)) = self.decoder.next_frame() {
                return Message::parse_bytes(&m).unwrap();
            }
            let n = tokio::time::timeout(Duration::from_secs(20), self.stream.read(&mut buf))
                .await
                .expect("an ACK in time")
                .unwrap();
            assert!(n > 0, "the listener closed the connection");
            self.decoder.push(&buf[..n]);
        }
    }
}

fn hl7(
    ods: &str,
    trigger: &str,
    control: &str,
    i: usize,
    at: DateTime<Utc>,
    pv1_location: &str,
) -> String {
    let ts = format!("{}+0000", at.format("%Y%m%d%H%M%S"));
    let mut pv1 = vec![""; 46];
    pv1[0] = "PV1";
    pv1[1] = "1";
    pv1[2] = "I";
    pv1[3] = pv1_location;
    pv1[4] = "21";
    pv1[7] = "C1234567^CONSULTANT";
    pv1[10] = "300";
    pv1[14] = "19";
    let visit = format!("V{i}");
    pv1[19] = &visit;
    pv1[36] = "1";
    pv1[37] = "19";
    pv1[44] = &ts;
    pv1[45] = &ts;
    format!(
        "MSH|^~\\&|PAS|{ods}|TESSERA|{ods}|{ts}||ADT^{trigger}|{control}|P|2.4|||AL|NE\r\
         EVN|{trigger}|{ts}||||{ts}\r\
         PID|1||DAY{i}^^^{ods}^MR||{}^P{i}||19{}0{}15|F\r\
         {}\r",
        FAMILIES[i],
        50 + i,
        1 + i % 9,
        pv1.join("|")
    )
}

/// Every spell of `patient` in trust `i`, as compared: no ids, no visit numbers, no reasons.
async fn spells_of(p: &Platform, token: &str, patient: &str) -> Vec<Value> {
    let l = p
        .pas(
            Method::GET,
            &format!("/spells?patient={patient}"),
            token,
            None,
        )
        .await;
    assert_eq!(l.status, 200, "{}", l.body);
    let mut out = Vec::new();
    for s in l.body["spells"].as_array().unwrap() {
        let v = p
            .pas(
                Method::GET,
                &format!("/spells/{}", s["id"].as_str().unwrap()),
                token,
                None,
            )
            .await;
        let b = &v.body;
        let pick = |a: &Value, keys: &[&str]| -> Value {
            Value::Array(
                a.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| Value::Array(keys.iter().map(|k| x[*k].clone()).collect()))
                    .collect(),
            )
        };
        out.push(json!({
            "status": b["status"], "admitted_at": b["admitted_at"], "discharged_at": b["discharged_at"],
            "method": b["admission_method"], "source": b["admission_source"],
            "discharge": [b["discharge_method"], b["discharge_destination"]],
            "episodes": pick(&b["episodes"], &["consultant", "treatment_function", "started_at", "ended_at"]),
            "stays": pick(&b["stays"], &["ward_code", "bed_code", "from_at", "to_at"]),
            "history": b["history"].as_array().unwrap().iter()
                .map(|a| json!([a["kind"], a["at"], a["cancelled_at"].is_null()])).collect::<Vec<_>>(),
        }));
    }
    out.sort_by_key(|s| s["admitted_at"].as_str().unwrap_or_default().to_string());
    out
}

#[tokio::test]
async fn a_day_through_the_api_and_the_same_day_as_an_adt_stream_give_the_same_spells() {
    let p = Platform::start_with_referrals(2).await;
    let (api, feed) = (0, 1);
    let staff = |t: usize| p.token(t, "admissions", "R8000", &["B0264"], &[]);
    let (api_staff, feed_staff) = (staff(api), staff(feed));
    let mut beds: Vec<Vec<Vec<String>>> = vec![Vec::new(), Vec::new()];
    for t in [api, feed] {
        for (w, n) in [(1, 5), (2, 5), (3, PATIENTS)] {
            let body = json!({ "code": format!("W{w}"), "name": format!("Ward {w}"), "site": "Main", "team": format!("W{w}"),
                               "beds": (1..=n).map(|b| json!({ "code": format!("B{b:03}") })).collect::<Vec<_>>() });
            let r = p.pas(Method::POST, "/wards", &staff(t), Some(body)).await;
            assert_eq!(r.status, 201, "{}", r.body);
            let board = p
                .pas(
                    Method::GET,
                    &format!("/wards/{}/board", r.body["id"].as_str().unwrap()),
                    &staff(t),
                    None,
                )
                .await;
            beds[t].push(
                board.body["beds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b["id"].as_str().unwrap().to_string())
                    .collect(),
            );
        }
    }

    // Through the API.
    let registrar = p.token(api, "clerk", "R8000", &["B0825"], &[]);
    let mut patients = Vec::new();
    for (i, family) in FAMILIES.iter().enumerate() {
        let r = p
            .mpi(Method::POST, "/patients", &registrar, Some(json!({
                "names": [{ "family": family, "given": [format!("P{i}")] }],
                "birth_date": format!("19{}-0{}-15", 50 + i, 1 + i % 9), "administrative_sex": "female" })))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        patients.push(r.body["id"].as_str().unwrap().to_string());
    }
    let known = format!("SELECT count(*) AS n FROM {}.known_patient", p.schema(api));
    assert!(
        kit::wait_until(Duration::from_secs(30), || async {
            Platform::scalar(&p.pas_db, &known).await >= PATIENTS as i64
        })
        .await,
        "PAS never learnt the patients from the MPI"
    );
    let mut spells: Vec<Option<String>> = vec![None; PATIENTS];
    for (i, at, step) in day() {
        let r = match step {
            Step::Admit { ward, bed } => {
                p.pas(Method::POST, "/admissions", &api_staff, Some(json!({
                    "patient_id": patients[i], "bed_id": beds[api][ward - 1][bed - 1], "admission_method": "21",
                    "admission_source": "19", "consultant": "C1234567", "treatment_function": "300",
                    "admitted_at": at.to_rfc3339() }))).await
            }
            Step::Transfer { ward, bed } => {
                let s = spells[i].clone().unwrap();
                p.pas(Method::POST, &format!("/spells/{s}/transfer"), &api_staff,
                      Some(json!({ "bed_id": beds[api][ward - 1][bed - 1], "at": at.to_rfc3339() }))).await
            }
            Step::Discharge => {
                let s = spells[i].clone().unwrap();
                p.pas(Method::POST, &format!("/spells/{s}/discharge"), &api_staff,
                      Some(json!({ "discharge_method": "1", "discharge_destination": "19", "at": at.to_rfc3339() }))).await
            }
            Step::Cancel(kind) => {
                let s = spells[i].clone().unwrap();
                p.pas(Method::POST, &format!("/spells/{s}/cancel"), &api_staff,
                      Some(json!({ "cancels": kind, "reason": "entered in error" }))).await
            }
        };
        assert!(matches!(r.status, 200 | 201), "{step:?}: {}", r.body);
        if spells[i].is_none() {
            spells[i] = r.body["id"].as_str().map(str::to_string);
        }
    }

    // The same day as the old PAS's ADT stream, over MLLP to the MPI.
    let ods = p.tenant(feed).to_string();
    let port = p.mllp.iter().find(|(t, _)| *t == ods).unwrap().1;
    let mut c = Mllp {
        stream: TcpStream::connect(("127.0.0.1", port)).await.unwrap(),
        decoder: Decoder::new(1 << 20),
    };
    for (n, (i, at, step)) in day().into_iter().enumerate() {
        let (trigger, location) = match step {
            Step::Admit { ward, bed } | Step::Transfer { ward, bed } => {
                let t = if matches!(step, Step::Admit { .. }) {
                    "A01"
                } else {
                    "A02"
                };
                (t, format!("W{ward}^^B{bed:03}"))
            }
            Step::Discharge => ("A03", String::new()),
            Step::Cancel("admission") => ("A11", String::new()),
            Step::Cancel("transfer") => ("A12", String::new()),
            Step::Cancel(_) => ("A13", String::new()),
        };
        let ack = c
            .send(&hl7(&ods, trigger, &format!("DAY{n}"), i, at, &location))
            .await;
        assert_eq!(
            ack.value("MSA", 1, 0, 1),
            "AA",
            "{trigger} for patient {i}: {}",
            ack.value("ERR", 8, 0, 1)
        );
    }
    let q = |t: usize| format!("SELECT count(*) AS n FROM {}.encounter_action", p.schema(t));
    let qc = |t: usize| {
        format!(
            "SELECT count(*) AS n FROM {}.encounter_action WHERE cancelled_at IS NOT NULL",
            p.schema(t)
        )
    };
    let (actions, cancelled) = (
        Platform::scalar(&p.pas_db, &q(api)).await,
        Platform::scalar(&p.pas_db, &qc(api)).await,
    );
    let applied = kit::wait_until(Duration::from_secs(60), || async {
        Platform::scalar(&p.pas_db, &q(feed)).await == actions
            && Platform::scalar(&p.pas_db, &qc(feed)).await == cancelled
    })
    .await;
    let exceptions = p
        .pas(Method::GET, "/adt/exceptions", &feed_staff, None)
        .await;
    assert!(
        applied,
        "the feed was not all applied; exceptions: {}",
        exceptions.body
    );
    assert_eq!(exceptions.body["exceptions"], json!([]));

    let clerk = p.token(feed, "clerk", "R8000", &["B0825"], &[]);
    for (i, patient) in patients.iter().enumerate() {
        let found = p
            .mpi(
                Method::GET,
                &format!("/patients?local_number=DAY{i}"),
                &clerk,
                None,
            )
            .await;
        let fed = found.body["patients"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("patient {i}: {}", found.body))
            .to_string();
        let (a, b) = (
            spells_of(&p, &api_staff, patient).await,
            spells_of(&p, &feed_staff, &fed).await,
        );
        assert_eq!(
            a, b,
            "patient {i}: through the API (left) and the feed (right)"
        );
        assert_eq!(a.len(), 1);
    }
    p.stop().await;
}
