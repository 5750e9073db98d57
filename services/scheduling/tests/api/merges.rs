//! Appointments follow the patient through the MPI's merge and back through its unmerge
//! (docs/contracts/merge.md), with the events as the MPI publishes them; two bookings of one
//! person at once are left for a person, on the merge-review worklist.
use crate::helpers::*;
use serde_json::json;
use std::time::Duration;
use tessera_testkit as kit;

#[tokio::test]
async fn appointments_follow_a_merge_and_its_unmerge_and_a_double_booking_is_raised_for_review() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let clinic = app.clinic(0, "MERGE").await;
    let day = tomorrow();
    let template = app
        .template(
            0,
            &clinic,
            json!({ "pattern": { "every": "week", "weekday": weekday(day) }, "starts": "09:00",
                    "ends": "09:30", "slot_minutes": 30, "capacity": 2, "slot_type": "new",
                    "valid_from": day.to_string() }),
        )
        .await;
    app.generate(0, &template, day, 1).await;
    let slot = app.slots(0, &clinic).await[0].0.clone();
    let (survivor, merged) = (app.patient(0).await, app.patient(0).await);
    // Both records of one person booked into the same slot.
    for p in [&survivor, &merged] {
        let (s, a) = app
            .post(
                "/appointments",
                &clerk,
                json!({ "slot_id": slot, "patient_id": p }),
            )
            .await;
        assert_eq!(s, 201, "{a}");
    }
    let schema = app.schema(0);
    let count = |p: String| {
        let (app, schema) = (&app, schema.clone());
        async move {
            app.scalar(&format!(
                "SELECT count(*) AS n FROM {schema}.appointment WHERE patient_id = '{p}'"
            ))
            .await
        }
    };
    let merge_id = uuid::Uuid::now_v7().to_string();
    kit::publish_merge(
        &app.kafka,
        &app.tenants[0],
        &merge_id,
        &survivor,
        &merged,
        false,
    )
    .await;
    assert!(
        kit::wait_until(Duration::from_secs(30), || async {
            count(survivor.clone()).await == 2
        })
        .await
    );
    assert_eq!(count(merged.clone()).await, 0);
    let (s, reviews) = app.get("/worklists/merge-reviews", &clerk).await;
    assert_eq!(s, 200);
    let items = reviews["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{reviews}");
    assert_eq!(items[0]["kind"], "overlapping-appointments");
    assert_eq!(items[0]["patient_id"], survivor.as_str());
    // Nothing was combined or cancelled: both places are still booked.
    assert_eq!(
        app.scalar(&format!(
            "SELECT booked::bigint AS n FROM {schema}.slot WHERE id = '{slot}'"
        ))
        .await,
        2
    );

    kit::publish_merge(
        &app.kafka,
        &app.tenants[0],
        &merge_id,
        &survivor,
        &merged,
        true,
    )
    .await;
    assert!(
        kit::wait_until(Duration::from_secs(30), || async {
            count(merged.clone()).await == 1
        })
        .await
    );
    assert_eq!(count(survivor.clone()).await, 1);
    let (_, reviews) = app.get("/worklists/merge-reviews", &clerk).await;
    assert_eq!(
        reviews["items"],
        json!([]),
        "the unmerge resolves its review"
    );
    app.stop().await;
}
