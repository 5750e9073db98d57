//! Regional identity: records without a verified NHS number are never linked by the matcher
//! alone — it proposes, a person in either trust confirms or rejects; a trust's merge and
//! unmerge flow through to the regional person.
use crate::helpers::*;
use prost::Message as _;
use std::time::Duration;
use tessera_proto::mpi::v1 as mpi;
use tessera_testkit as kit;

async fn person(app: &TestApp, i: usize, patient: &str) -> String {
    let row = sea_orm::ConnectionTrait::query_one(
        &app.db,
        sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT person_id::text AS p FROM region.member WHERE tenant = '{}' AND patient_id = '{patient}'",
                app.tenants[i]
            ),
        ),
    )
    .await
    .unwrap();
    row.map(|r| r.try_get::<String>("", "p").unwrap())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_matcher_proposes_a_person_confirms_and_the_summary_then_spans_both_trusts() {
    let app = TestApp::spawn(2).await;
    let a = app.register(0, "Seacole", "Mary", "1965-11-23", None).await;
    let b = app.register(1, "Seacole", "Mary", "1965-11-23", None).await;
    assert_ne!(
        person(&app, 0, &a).await,
        person(&app, 1, &b).await,
        "no link without review"
    );
    let reviewer = app.token(0, "pi-team", &[LINK], &[]);
    assert!(
        kit::wait_until(Duration::from_secs(30), || async {
            let open = app.get("/link-reviews", &reviewer).await.body;
            open.as_array().is_some_and(|l| !l.is_empty())
        })
        .await,
        "no proposal raised"
    );
    let open = app.get("/link-reviews", &reviewer).await.body;
    let p = &open[0];
    assert!(p["score"].as_f64().unwrap() >= 5.0);
    assert!(
        !p.to_string().contains("Seacole"),
        "a proposal carries levels, not values"
    );
    let id = p["id"].as_str().unwrap();
    // The other trust's token sees it too; a third party's does not exist here. A clinician
    // without B0825 may not decide.
    let clinician = app.clinician(0, "dr-a");
    assert_eq!(
        app.post(&format!("/link-reviews/{id}/confirm"), &clinician)
            .await
            .status,
        403
    );
    let done = app
        .post(&format!("/link-reviews/{id}/confirm"), &reviewer)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "confirmed");
    assert_eq!(person(&app, 0, &a).await, person(&app, 1, &b).await);
    let again = app
        .post(&format!("/link-reviews/{id}/reject"), &reviewer)
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["code"], "region.link-review-decided");
    app.shutdown.trigger();
}

#[tokio::test]
async fn a_merge_in_a_trust_brings_its_links_to_the_survivor_and_the_unmerge_takes_them_back() {
    let app = TestApp::spawn(2).await;
    let nhs = kit::unique_nhs_number();
    let nhs = nhs.as_str();
    let here = app
        .register(0, "Nightingale", "Florence", "1950-05-12", Some(nhs))
        .await;
    // Trust 1 has two records of her: one with the verified number, one without.
    let dup = app
        .register(1, "Nightingale", "Florence", "1950-05-12", Some(nhs))
        .await;
    let survivor = app
        .register(1, "Nightingale", "Flo", "1950-05-12", None)
        .await;
    assert_eq!(person(&app, 1, &dup).await, person(&app, 0, &here).await);
    assert_ne!(
        person(&app, 1, &survivor).await,
        person(&app, 0, &here).await
    );
    let merge_id = uuid::Uuid::now_v7().to_string();
    let m = mpi::PatientMerged {
        merge_id: merge_id.clone(),
        tenant: app.tenants[1].clone(),
        survivor_patient_id: survivor.clone(),
        merged_patient_id: dup.clone(),
        survivor_version: 2,
        merged_at: chrono::Utc::now().to_rfc3339(),
        ..Default::default()
    };
    app.event(
        1,
        "mpi",
        "patient",
        &dup,
        "uk.nhs.tessera.mpi.PatientMerged.v1",
        m.encode_to_vec(),
    )
    .await;
    let (t0, t1) = (app.tenants[0].clone(), app.tenants[1].clone());
    app.wait_rows(&format!(
        "SELECT count(*) AS n FROM region.member s JOIN region.member h ON h.person_id = s.person_id
          WHERE s.tenant = '{t1}' AND s.patient_id = '{survivor}' AND h.tenant = '{t0}' AND h.patient_id = '{here}'"
    ))
    .await;
    assert_eq!(
        person(&app, 1, &dup).await,
        "",
        "the merged record left the index"
    );
    let u = mpi::PatientUnmerged {
        merge_id,
        tenant: t1.clone(),
        survivor_patient_id: survivor.clone(),
        merged_patient_id: dup.clone(),
        survivor_version: 3,
        restored_version: 2,
        unmerged_at: chrono::Utc::now().to_rfc3339(),
        ..Default::default()
    };
    app.event(
        1,
        "mpi",
        "patient",
        &dup,
        "uk.nhs.tessera.mpi.PatientUnmerged.v1",
        u.encode_to_vec(),
    )
    .await;
    app.wait_rows(&format!(
        "SELECT count(*) AS n FROM region.member WHERE tenant = '{t1}' AND patient_id = '{dup}'"
    ))
    .await;
    assert_eq!(person(&app, 1, &dup).await, person(&app, 0, &here).await);
    assert_ne!(
        person(&app, 1, &survivor).await,
        person(&app, 0, &here).await
    );
    app.shutdown.trigger();
}
