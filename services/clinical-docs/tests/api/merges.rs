//! The MPI's merges: a merged-away record's documents follow the survivor (listed under it,
//! their versions untouched) and come back on the unmerge, exactly those.
use crate::helpers::*;
use std::time::Duration;
use tessera_testkit as kit;

#[tokio::test]
async fn documents_follow_a_merge_and_come_back_on_the_unmerge() {
    let app = TestApp::spawn(1).await;
    let (survivor, merged) = (app.patient(0).await, app.patient(0).await);
    let dr = app.clinician(0, "dr-jones");
    let kept = app.draft(&survivor, &dr, "The survivor's own note.").await;
    let moved = app
        .draft(&merged, &dr, "Written against the duplicate record.")
        .await;
    let merge = uuid::Uuid::now_v7().to_string();
    kit::publish_merge(
        &app.kafka,
        &app.tenants[0],
        &merge,
        &survivor,
        &merged,
        false,
    )
    .await;
    let list = |p: &str| format!("/documents?patient_id={p}");
    let followed = kit::wait_until(Duration::from_secs(30), || async {
        app.get(&list(&survivor), &dr).await.body["total"] == 2
    })
    .await;
    assert!(
        followed,
        "the merged record's document never followed the survivor"
    );
    assert_eq!(app.get(&list(&merged), &dr).await.body["total"], 0);
    let a = app.get(&format!("/documents/{moved}/versions"), &dr).await;
    assert_eq!(
        a.body["versions"][0]["text"],
        "Written against the duplicate record."
    );

    kit::publish_merge(
        &app.kafka,
        &app.tenants[0],
        &merge,
        &survivor,
        &merged,
        true,
    )
    .await;
    let back = kit::wait_until(Duration::from_secs(30), || async {
        app.get(&list(&merged), &dr).await.body["total"] == 1
    })
    .await;
    assert!(back, "the unmerge never put the document back");
    let a = app.get(&list(&survivor), &dr).await;
    assert_eq!(a.body["total"], 1);
    assert_eq!(a.body["documents"][0]["id"], kept.as_str());
    app.shutdown.trigger();
}
