//! What the load needs before it starts: patients registered in each trust, each trust's
//! load clinic with 26 weeks of slots, and its load ward of 200 beds — made through the API
//! like any other request, so they are answered, audited and journaled as the checker
//! expects.
use crate::ops::{self, Op};
use crate::{send_as_a_client_would, write, Shared};
use rand::SeedableRng;

/// Registers `n` patients in each trust, so reads have someone to read.
pub(crate) async fn seed(shared: &Shared, n: usize) -> Result<(), String> {
    let mut rng = rand::rngs::StdRng::from_entropy();
    for (i, trust) in shared.trusts.iter().enumerate() {
        let t = &shared.platform.trusts[trust];
        for _ in 0..n {
            let req = ops::request(Op::Register, trust, t, ops::Target::default(), &mut rng);
            let (status, body) = send_as_a_client_would(shared, &req).await;
            match (status, body) {
                (Some(201 | 200), Some(b)) => {
                    if let Some(id) = b["id"].as_str() {
                        write(&shared.patients[i]).push(id.to_string());
                    }
                }
                (s, b) => return Err(format!("seeding {trust}: {s:?} {b:?}")),
            }
        }
    }
    Ok(())
}

/// A trust's load clinic: general surgery, every weekday 08:00–18:00 for 26 weeks from
/// tomorrow, 10-minute slots of two places (7,800 slots, 15,600 places).
#[derive(Debug, Default)]
pub(crate) struct Clinic {
    pub id: String,
    pub slots: Vec<String>,
}

pub(crate) async fn seed_clinic(shared: &Shared, trust: &str) -> Result<Clinic, String> {
    use reqwest::Method;
    use serde_json::json;
    let token = &shared.platform.trusts[trust].tokens.booking_clerk;
    if token.is_empty() || shared.platform.url("scheduling").is_err() {
        return Ok(Clinic::default());
    }
    let call = |method: Method, path: String, body: Option<serde_json::Value>| {
        let req = ops::Request::setup("scheduling", trust, token, method, path, body);
        async move {
            match send_as_a_client_would(shared, &req).await {
                (Some(200 | 201), Some(b)) => Ok(b),
                (s, b) => Err(format!(
                    "setting up {trust}'s load clinic: {} {s:?} {b:?}",
                    req.path
                )),
            }
        }
    };
    let code = format!("LOAD-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let clinic = call(
        Method::POST,
        "/clinics".into(),
        Some(json!({ "code": code, "name": "Load clinic", "specialty": "100", "treatment_function": "100",
                     "site": "Main", "services": ["new", "follow-up"], "team": "GSURG" })),
    )
    .await?;
    let id = clinic["id"].as_str().unwrap_or_default().to_string();
    let from = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    for weekday in ["mon", "tue", "wed", "thu", "fri"] {
        let t = call(
            Method::POST,
            format!("/clinics/{id}/templates"),
            Some(json!({ "pattern": { "every": "week", "weekday": weekday }, "starts": "08:00", "ends": "18:00",
                         "slot_minutes": 10, "capacity": 2, "slot_type": "new", "valid_from": from.to_string() })),
        )
        .await?;
        let template = t["id"].as_str().unwrap_or_default();
        call(
            Method::POST,
            format!("/templates/{template}/sessions"),
            Some(json!({ "from": from.to_string(), "weeks": 26 })),
        )
        .await?;
    }
    let mut slots = Vec::new();
    for week in 0..26 {
        let d = from + chrono::Duration::weeks(week);
        let to = d + chrono::Duration::days(6);
        let page = call(
            Method::GET,
            format!("/slots?clinic={id}&from={d}&to={to}&limit=500"),
            None,
        )
        .await?;
        slots.extend(
            page["slots"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["id"].as_str().map(str::to_string)),
        );
    }
    println!(
        "load: {trust}'s load clinic {code} has {} slots",
        slots.len()
    );
    Ok(Clinic { id, slots })
}

/// A trust's load ward: 200 beds.
#[derive(Debug, Default)]
pub(crate) struct Ward {
    pub id: String,
    pub beds: Vec<String>,
}

pub(crate) async fn seed_ward(shared: &Shared, trust: &str) -> Result<Ward, String> {
    use reqwest::Method;
    let token = &shared.platform.trusts[trust].tokens.ward_staff;
    if token.is_empty() || shared.platform.url("pas").is_err() {
        return Ok(Ward::default());
    }
    let code = format!("LOAD-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let beds: Vec<serde_json::Value> = (1..=200)
        .map(|n| serde_json::json!({ "code": format!("B{n:03}") }))
        .collect();
    let body = serde_json::json!({ "code": code, "name": "Load ward", "site": "Main", "team": "LOADWARD", "beds": beds });
    let call = |method: Method, path: String, body: Option<serde_json::Value>| {
        let req = ops::Request::setup("pas", trust, token, method, path, body);
        async move {
            match send_as_a_client_would(shared, &req).await {
                (Some(200 | 201), Some(b)) => Ok(b),
                (s, b) => Err(format!(
                    "setting up {trust}'s load ward: {} {s:?} {b:?}",
                    req.path
                )),
            }
        }
    };
    let ward = call(Method::POST, "/wards".into(), Some(body)).await?;
    let id = ward["id"].as_str().unwrap_or_default().to_string();
    let board = call(Method::GET, format!("/wards/{id}/board"), None).await?;
    let beds = board["beds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["id"].as_str().map(str::to_string))
        .collect::<Vec<_>>();
    println!("load: {trust}'s load ward {code} has {} beds", beds.len());
    Ok(Ward { id, beds })
}
