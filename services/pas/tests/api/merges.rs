//! The MPI's merges: the merged record's spells, waiting list entries, attendances and
//! activity follow the survivor and come back on the unmerge; two open spells of one person
//! are left for a person to decide.
use crate::helpers::*;
use serde_json::json;
use std::time::Duration;
use tessera_testkit as kit;

#[tokio::test]
async fn spells_and_activity_follow_a_merge_and_come_back_on_the_unmerge() {
    let app = TestApp::spawn(1).await;
    let staff = app.staff(0);
    let (_, beds) = app.ward(0, "MERGE", 3).await;
    let (merged, survivor, other) = (
        app.patient(0).await,
        app.patient(0).await,
        app.patient(0).await,
    );
    let schema = app.schema(0);
    // The merged record: a finished spell (with its activity) and a waiting list entry.
    let done = app.admit(0, &merged, &beds[0]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = app
        .post(
            &format!("/spells/{done}/discharge"),
            &staff,
            discharge_body(),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post(
            "/waiting-list",
            &staff,
            json!({ "patient_id": merged, "priority": "routine",
                                                "treatment_function": "110", "consultant": "C1" }),
        )
        .await;
    assert_eq!(s, 201);
    let count = |who: &str, table: &str| {
        format!("SELECT count(*) AS n FROM {schema}.{table} WHERE patient_id = '{who}'")
    };
    kit::publish_merge(
        &app.kafka,
        &app.tenants[0],
        "M-1",
        &survivor,
        &merged,
        false,
    )
    .await;
    let followed = kit::wait_until(Duration::from_secs(30), || async {
        app.scalar(&count(&survivor, "spell")).await == 1
            && app.scalar(&count(&survivor, "activity")).await == 1
            && app.scalar(&count(&survivor, "waiting_list_entry")).await == 1
    })
    .await;
    assert!(
        followed,
        "the merged record's rows did not follow the survivor"
    );
    assert_eq!(app.scalar(&count(&merged, "spell")).await, 0);

    // Two records of one person, both in hospital: the merged one's spell stays, reviewed.
    app.admit(0, &other, &beds[1]).await;
    app.admit(0, &survivor, &beds[2]).await;
    kit::publish_merge(&app.kafka, &app.tenants[0], "M-2", &survivor, &other, false).await;
    let reviewed = kit::wait_until(Duration::from_secs(30), || async {
        let (_, r) = app.get("/merge-reviews", &staff).await;
        r["reviews"].as_array().is_some_and(|a| a.len() == 1)
    })
    .await;
    assert!(reviewed, "no merge review for two open spells");
    let (_, r) = app.get("/merge-reviews", &staff).await;
    assert_eq!(r["reviews"][0]["kind"], "two-open-spells");
    assert_eq!(
        app.scalar(&format!(
            "{} AND status = 'admitted'",
            count(&other, "spell")
        ))
        .await,
        1
    );
    assert_eq!(
        app.scalar(&format!(
            "{} AND status = 'admitted'",
            count(&survivor, "spell")
        ))
        .await,
        1
    );

    // The first merge undone: exactly its rows go back.
    kit::publish_merge(&app.kafka, &app.tenants[0], "M-1", &survivor, &merged, true).await;
    let back = kit::wait_until(Duration::from_secs(30), || async {
        app.scalar(&count(&merged, "spell")).await == 1
            && app.scalar(&count(&merged, "activity")).await == 1
    })
    .await;
    assert!(back, "the unmerge did not put the rows back");
    assert_eq!(
        app.scalar(&count(&survivor, "spell")).await,
        1,
        "the survivor's own spell stays"
    );
    app.stop().await;
}
