use crate::helpers::*;
use std::time::Duration;
use tessera_testkit as kit;

#[tokio::test]
async fn referrals_and_pathways_follow_a_merge_and_its_unmerge() {
    let app = TestApp::spawn(1).await;
    let t = app.team_member(0, "u1", "GSURG");
    let (survivor, merged) = (patient(), patient());
    // Each record has a running clock in general surgery; the merged one has two referrals.
    let s1 = app
        .refer(0, &t, gp_referral(&survivor, "GSURG", "100", 40))
        .await;
    let m1 = app
        .refer(0, &t, gp_referral(&merged, "GSURG", "100", 20))
        .await;
    let m2 = app
        .refer(0, &t, gp_referral(&merged, "GSURG", "110", 10))
        .await;
    let schema = app.schema(0);
    let count = |p: String| {
        let app = &app;
        let schema = schema.clone();
        async move {
            app.scalar(&format!(
                "SELECT count(*) AS n FROM {schema}.referral WHERE patient_id = '{p}'"
            ))
            .await
        }
    };
    let merge_id = uuid::Uuid::now_v7().to_string();
    kit::publish_merge(
        &app.kafka,
        app.tenant(0),
        &merge_id,
        &survivor,
        &merged,
        false,
    )
    .await;
    assert!(
        kit::wait_until(Duration::from_secs(30), || async {
            count(survivor.clone()).await == 3
        })
        .await
    );
    assert_eq!(count(merged.clone()).await, 0);
    let pathways = app
        .scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.pathway WHERE patient_id = '{survivor}'"
        ))
        .await;
    assert_eq!(pathways, 3);
    // Two running clocks in one specialty: left for a person, not combined.
    let (s, v) = app.get("/merge-reviews", &t).await;
    assert_eq!(s, 200, "{v}");
    let reviews = v["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["detail"]["specialty"], "100");
    assert_eq!(reviews[0]["patient_id"], survivor.as_str());
    // The waiting list still counts each clock once.
    let (_, wl) = app.get("/waiting-list", &t).await;
    assert_eq!(wl["total"], 3);

    // A referral made for the survivor after the merge stays with it on unmerge.
    let after = app
        .refer(0, &t, gp_referral(&survivor, "GSURG", "120", 1))
        .await;
    // Delivered twice: the second changes nothing.
    kit::publish_merge(
        &app.kafka,
        app.tenant(0),
        &merge_id,
        &survivor,
        &merged,
        false,
    )
    .await;
    kit::publish_merge(
        &app.kafka,
        app.tenant(0),
        &merge_id,
        &survivor,
        &merged,
        true,
    )
    .await;
    assert!(
        kit::wait_until(Duration::from_secs(30), || async {
            count(merged.clone()).await == 2
        })
        .await
    );
    assert_eq!(count(survivor.clone()).await, 2);
    let (_, r) = app
        .get(&format!("/referrals/{}", m1["id"].as_str().unwrap()), &t)
        .await;
    assert_eq!(r["patient_id"], merged.as_str());
    let (_, r) = app
        .get(&format!("/referrals/{}", m2["id"].as_str().unwrap()), &t)
        .await;
    assert_eq!(r["patient_id"], merged.as_str());
    let (_, r) = app
        .get(&format!("/referrals/{}", s1["id"].as_str().unwrap()), &t)
        .await;
    assert_eq!(r["patient_id"], survivor.as_str());
    let (_, r) = app
        .get(&format!("/referrals/{}", after["id"].as_str().unwrap()), &t)
        .await;
    assert_eq!(r["patient_id"], survivor.as_str());
    let (_, v) = app.get("/merge-reviews", &t).await;
    assert_eq!(
        v["reviews"].as_array().unwrap().len(),
        0,
        "the unmerge resolved the review"
    );
    assert_eq!(
        app.scalar(&format!("SELECT count(*) AS n FROM {schema}.merge_repoint"))
            .await,
        0
    );
    // The late duplicate merge (between merge and unmerge, on the same partition) re-pointed
    // nothing new: everything is back where it was.
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) AS n FROM {schema}.pathway WHERE patient_id = '{merged}'"
        ))
        .await,
        2
    );
    app.stop().await;
}
