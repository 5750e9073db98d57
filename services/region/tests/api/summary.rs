//! Issue 21's must-show, through the broker: a patient registered in two trusts (one person
//! by verified NHS number) and unknown to a third. The viewer's trust sees the other trust's
//! referral, RTT weeks, appointment and documents only once the patient's consent in that
//! trust lets the viewer's trust see them and the viewer has a relationship in their own
//! trust; a sealed document stays withheld; every read is audited in both trusts; the third
//! trust sees nothing; every route with each trust's tokens and the others' ids leaks nothing.
use crate::helpers::*;
use prost::Message as _;
use serde_json::Value;
use tessera_proto::clinicaldocs::v1 as docs;
use tessera_proto::referrals::v1 as referrals;
use tessera_proto::scheduling::v1 as scheduling;
use tessera_testkit as kit;

const SHARED: &str = "region.summary.shared";

/// Trust `i`'s care of `patient`: a referral with a running RTT clock started 30 days ago,
/// an appointment next week, a signed letter, and a second document. Returns the ids.
pub async fn care(app: &TestApp, i: usize, patient: &str) -> (String, String, String, String) {
    let (referral, pathway, appointment) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let started = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive();
    let r = referrals::ReferralReceived {
        referral_id: referral.clone(),
        patient_id: patient.into(),
        ubrn: "000000000123".into(),
        priority: "routine".into(),
        specialty: "Cardiology".into(),
        treatment_function: "320".into(),
        receiving_team: "CARDIO".into(),
        received_on: started.to_string(),
        pathway_id: pathway.clone(),
        state: "ACCEPTED".into(),
        ..Default::default()
    };
    app.event(
        i,
        "referrals",
        "referral",
        patient,
        "uk.nhs.tessera.referrals.ReferralReceived.v1",
        r.encode_to_vec(),
    )
    .await;
    let p = referrals::RttPathwayChanged {
        pathway_id: pathway,
        patient_id: patient.into(),
        treatment_function: "320".into(),
        periods: vec![referrals::RttPeriod {
            start_date: started.to_string(),
            start_code: 10,
            state: "open".into(),
            ..Default::default()
        }],
        changed_at: chrono::Utc::now().to_rfc3339(),
        ..Default::default()
    };
    app.event(
        i,
        "referrals",
        "rtt",
        patient,
        "uk.nhs.tessera.referrals.RttPathwayChanged.v1",
        p.encode_to_vec(),
    )
    .await;
    let start = chrono::Utc::now() + chrono::Duration::days(7);
    let a = scheduling::AppointmentBooked {
        appointment_id: appointment.clone(),
        patient_id: patient.into(),
        clinician_user_id: "dr-heart".into(),
        team: "CARDIO".into(),
        starts_at: start.to_rfc3339(),
        ends_at: (start + chrono::Duration::minutes(20)).to_rfc3339(),
        referral_id: referral.clone(),
        treatment_function: "320".into(),
        ..Default::default()
    };
    app.event(
        i,
        "scheduling",
        "appointment",
        patient,
        "uk.nhs.tessera.scheduling.AppointmentBooked.v1",
        a.encode_to_vec(),
    )
    .await;
    let mut documents = Vec::new();
    for title in ["Cardiology clinic letter", "Sexual health note"] {
        let id = uuid::Uuid::now_v7().to_string();
        let d = docs::DocumentCreated {
            document_id: id.clone(),
            patient_id: patient.into(),
            type_code: "371531000".into(),
            author_user_id: "dr-heart".into(),
            created_at: chrono::Utc::now().to_rfc3339(),
            title: title.into(),
            ..Default::default()
        };
        app.event(
            i,
            "clinical-docs",
            "document",
            patient,
            "uk.nhs.tessera.clinicaldocs.DocumentCreated.v1",
            d.encode_to_vec(),
        )
        .await;
        // Signed: its content shared for the regional record, as clinical-docs shares it.
        let shared = docs::DocumentShared {
            document_id: id.clone(),
            patient_id: patient.into(),
            version: 2,
            content_type: "text/plain; charset=utf-8".into(),
            content: format!("{title}: seen in clinic.").into_bytes(),
            sha256: String::new(),
            withdrawn: false,
            recorded_at: chrono::Utc::now().to_rfc3339(),
        };
        app.event(
            i,
            "clinical-docs",
            "shared",
            patient,
            "uk.nhs.tessera.clinicaldocs.DocumentShared.v1",
            shared.encode_to_vec(),
        )
        .await;
        documents.push(id);
    }
    let schema = app.schema(i);
    app.wait_rows(&format!(
        "SELECT count(*) AS n FROM {schema}.reg_appointment WHERE id = '{appointment}'"
    ))
    .await;
    app.wait_rows(&format!(
        "SELECT (count(*) = 2)::int::bigint AS n FROM {schema}.reg_document WHERE patient_id = '{patient}'"
    ))
    .await;
    app.wait_rows(&format!(
        "SELECT (count(*) = 2)::int::bigint AS n FROM {schema}.reg_document_content WHERE patient_id = '{patient}'"
    ))
    .await;
    app.wait_rows(&format!(
        "SELECT count(*) AS n FROM {schema}.reg_pathway WHERE patient_id = '{patient}'"
    ))
    .await;
    (
        referral,
        appointment,
        documents[0].clone(),
        documents[1].clone(),
    )
}

fn of<'a>(s: &'a Value, list: &str, trust: &str) -> Vec<&'a Value> {
    s[list]
        .as_array()
        .map(|a| a.iter().filter(|x| x["trust"] == trust).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn one_summary_across_trusts_only_as_far_as_consent_relationship_and_seals_allow() {
    let app = TestApp::spawn(3).await;
    let (rxr, rbt, rae) = (0, 1, 2);
    let (t_rxr, t_rbt) = (app.tenants[rxr].clone(), app.tenants[rbt].clone());
    let nhs = kit::unique_nhs_number();
    let nhs = nhs.as_str();
    let here = app
        .register(rxr, "Lovelace", "Ada", "1961-03-04", Some(nhs))
        .await;
    let there = app
        .register(rbt, "Lovelace", "Ada", "1961-03-04", Some(nhs))
        .await;
    let elsewhere = app
        .register(
            rae,
            "Other",
            "Person",
            "1970-01-01",
            Some(kit::unique_nhs_number().as_str()),
        )
        .await;
    let (referral, appointment, letter, sealed) = care(&app, rbt, &there).await;
    app.seal(
        rbt,
        &there,
        &format!("document:{sealed}"),
        &["dr-sexual-health"],
    )
    .await;
    // One regional person by the verified NHS number.
    let persons = app
        .scalar(&format!(
            "SELECT count(DISTINCT person_id) AS n FROM region.member
              WHERE (tenant, patient_id) IN (('{t_rxr}', '{here}'), ('{t_rbt}', '{there}'))"
        ))
        .await;
    assert_eq!(
        persons, 1,
        "the two trusts' records are one regional person"
    );

    let dr = app.clinician(rxr, "dr-rxr");
    let path = format!("/patients/{here}/summary");

    // No relationship in RXR: refused, audited in RXR and in RBT.
    let a = app.get(&path, &dr).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(a.body["code"], "access.relationship");
    assert_eq!(
        app.audits(rbt, SHARED, &there).await,
        vec![(
            "deny".into(),
            "access.relationship".into(),
            t_rxr.clone(),
            0
        )]
    );

    // A relationship, no consent in RBT: RXR's part only; RBT withheld as a whole.
    app.relate(rxr, &here).await;
    let a = app.get(&path, &dr).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let s = &a.body;
    assert_eq!(of(s, "demographics", &t_rxr).len(), 1);
    for list in [
        "demographics",
        "referrals",
        "appointments",
        "admissions",
        "documents",
    ] {
        assert!(
            of(s, list, &t_rbt).is_empty(),
            "{list} of RBT leaked without consent: {s}"
        );
    }
    let rbt_part: Vec<&Value> = s["trusts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["trust"] == t_rbt.as_str())
        .collect();
    assert_eq!(rbt_part[0]["shown"], false);
    assert_eq!(rbt_part[0]["reason"], "access.consent");
    assert!(of(s, "withheld", &t_rbt)
        .iter()
        .any(|w| w["kind"] == "record"));
    assert_eq!(
        app.audits(rbt, SHARED, &there).await.last().unwrap().1,
        "access.consent"
    );

    // Consent naming another trust only: still nothing.
    app.consent(rbt, &there, true, &[app.tenants[rae].as_str()])
        .await;
    let a = app.get(&path, &dr).await;
    assert!(
        of(&a.body, "referrals", &t_rbt).is_empty(),
        "a permit for RAE let RXR see RBT"
    );

    // Consent for RXR: RBT's referral with its RTT weeks, the appointment, the letter; the
    // sealed note withheld, never absent.
    app.consent(rbt, &there, true, &[t_rxr.as_str()]).await;
    let a = app.get(&path, &dr).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let s = &a.body;
    let refs = of(s, "referrals", &t_rbt);
    assert_eq!(refs.len(), 1, "{s}");
    assert_eq!(refs[0]["id"], referral.as_str());
    assert_eq!(refs[0]["rtt"]["clock"], "running");
    assert_eq!(refs[0]["rtt"]["days_waited"], 30);
    assert_eq!(refs[0]["rtt"]["weeks_waited"], 4);
    assert!(
        refs[0]["as_of"].is_string(),
        "every line carries its freshness"
    );
    let appts = of(s, "appointments", &t_rbt);
    assert_eq!(appts.len(), 1);
    assert_eq!(appts[0]["id"], appointment.as_str());
    let documents = of(s, "documents", &t_rbt);
    assert_eq!(documents.len(), 1, "{s}");
    assert_eq!(documents[0]["id"], letter.as_str());
    assert_eq!(documents[0]["title"], "Cardiology clinic letter");
    assert!(
        !s.to_string().contains(&sealed),
        "the sealed document's id leaked"
    );
    assert!(
        !s.to_string().contains("Sexual health"),
        "the sealed document's title leaked"
    );
    assert!(of(s, "withheld", &t_rbt)
        .iter()
        .any(|w| w["kind"] == "document" && w["reason"] == "access.sealed"));
    let shown = app.audits(rbt, SHARED, &there).await;
    let last = shown.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.2.as_str()),
        ("permit", t_rxr.as_str())
    );
    assert!(last.3 >= 4, "RBT's record counts what it showed: {last:?}");
    let viewer = app.audits(rxr, "region.summary", &here).await;
    assert_eq!(viewer.last().unwrap().0, "permit");

    // RAE knows neither record: nothing said of them — 404, or 503 `patient.not-yet-known`
    // while the ids are minutes old (ADR 21: it may be on its way) — and its own patient
    // shows RAE only.
    let rae_dr = app.clinician(rae, "dr-rae");
    app.relate(rae, &elsewhere).await;
    for id in [&here, &there] {
        let a = app.get(&format!("/patients/{id}/summary"), &rae_dr).await;
        assert!(
            a.status == 404 || (a.status == 503 && a.body["code"] == "patient.not-yet-known"),
            "{} {}",
            a.status,
            a.body
        );
        assert!(!a.body.to_string().contains("Lovelace"));
    }
    let a = app
        .get(&format!("/patients/{elsewhere}/summary"), &rae_dr)
        .await;
    assert_eq!(a.status, 200);
    assert!(!a.body.to_string().contains("Lovelace"));

    // The cross-trust probe: every regional route, each trust's token, the others' ids.
    let ids = [
        (rxr, here.clone()),
        (rbt, there.clone()),
        (rae, elsewhere.clone()),
    ];
    let tokens: Vec<String> = (0..3)
        .map(|i| app.token(i, "prober", &[VIEW, LINK], &[TEAM]))
        .collect();
    let mut leaks = Vec::new();
    for (owner, id) in &ids {
        for (i, token) in tokens.iter().enumerate() {
            if i == *owner {
                continue;
            }
            for route in [
                format!("/patients/{id}/summary"),
                format!("/fhir/Patient/{id}/$everything"),
                format!("/page/patients/{id}"),
                format!("/patients/{id}/documents/{letter}/content"),
            ] {
                let a = app.get(&route, token).await;
                if a.status == 200
                    || a.body.to_string().contains("Lovelace")
                    || a.body.to_string().contains(&referral)
                {
                    leaks.push(format!("{route} as trust {i}: {}", a.status));
                }
            }
        }
    }
    assert_eq!(
        leaks,
        Vec::<String>::new(),
        "0 leaks beyond what consent allows"
    );

    // Content on request: the letter's text, audited in both trusts; the sealed note's
    // refused (403 access.sealed), and that refusal recorded in RBT too.
    assert_eq!(documents[0]["readable"], true);
    let read = app
        .get(&format!("/patients/{here}/documents/{letter}/content"), &dr)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, "Cardiology clinic letter: seen in clinic.");
    let read_there = app.audits(rbt, "region.document.shared", &there).await;
    assert_eq!(read_there.last().unwrap().0, "permit");
    let sealed_read = app
        .get(&format!("/patients/{here}/documents/{sealed}/content"), &dr)
        .await;
    assert_eq!(sealed_read.status, 403, "{}", sealed_read.body);
    assert_eq!(sealed_read.body["code"], "access.sealed");
    assert!(!sealed_read.body.to_string().contains("Sexual health"));
    let refused_there = app.audits(rbt, "region.document.shared", &there).await;
    assert_eq!(refused_there.last().unwrap().1, "access.sealed");
    // Another trust's clinician cannot reach it through their own patient ids either.
    let a = app
        .get(
            &format!("/patients/{elsewhere}/documents/{letter}/content"),
            &rae_dr,
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.body);

    // Consent withdrawn (forbid): RBT's part goes.
    app.consent(rbt, &there, false, &[]).await;
    let a = app.get(&path, &dr).await;
    assert!(of(&a.body, "referrals", &t_rbt).is_empty());
    app.shutdown.trigger();
}

#[tokio::test]
async fn the_summary_as_fhir_is_a_paged_bundle_tagged_by_trust_with_withheld_items_as_an_outcome() {
    let app = TestApp::spawn(2).await;
    let nhs = kit::unique_nhs_number();
    let nhs = nhs.as_str();
    let here = app
        .register(0, "Hopper", "Grace", "1956-12-09", Some(nhs))
        .await;
    let there = app
        .register(1, "Hopper", "Grace", "1956-12-09", Some(nhs))
        .await;
    let (_, _, _, sealed) = care(&app, 1, &there).await;
    app.seal(1, &there, &format!("document:{sealed}"), &["nobody"])
        .await;
    app.relate(0, &here).await;
    app.consent(1, &there, true, &[]).await;
    let dr = app.clinician(0, "dr-a");
    let a = app
        .get(&format!("/fhir/Patient/{here}/$everything?_count=3"), &dr)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let b = &a.body;
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "searchset");
    // 2 Patients, 1 ServiceRequest, 1 Appointment, 1 DocumentReference, 1 OperationOutcome.
    assert_eq!(b["total"], 6, "{b}");
    assert_eq!(b["entry"].as_array().unwrap().len(), 3);
    let next = b["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .unwrap();
    let next = next["url"]
        .as_str()
        .unwrap()
        .split("/fhir/")
        .nth(1)
        .unwrap()
        .to_string();
    let a2 = app.get(&format!("/fhir/{next}"), &dr).await;
    assert_eq!(a2.status, 200, "{}", a2.body);
    let entries: Vec<Value> = [b, &a2.body]
        .iter()
        .flat_map(|x| x["entry"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(entries.len(), 6);
    for e in &entries {
        let r = &e["resource"];
        if r["resourceType"] == "OperationOutcome" {
            assert_eq!(e["search"]["mode"], "outcome");
            assert!(r["issue"][0]["details"]["text"]
                .as_str()
                .unwrap()
                .contains("document withheld"));
            continue;
        }
        let tag = &r["meta"]["tag"][0];
        assert_eq!(
            tag["system"],
            "https://fhir.nhs.uk/Id/ods-organization-code"
        );
        assert!(app
            .tenants
            .contains(&tag["code"].as_str().unwrap().to_string()));
        assert!(r["meta"]["lastUpdated"].is_string());
    }
    assert!(!entries
        .iter()
        .any(|e| e["resource"]["id"] == sealed.as_str()));
    // A bad paging parameter is an OperationOutcome, not a page.
    let bad = app
        .get(&format!("/fhir/Patient/{here}/$everything?_count=x"), &dr)
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.body["resourceType"], "OperationOutcome");
    app.shutdown.trigger();
}
