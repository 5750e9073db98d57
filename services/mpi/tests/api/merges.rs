//! Merge and unmerge, and the possible-match review queue.
use crate::helpers::*;
use prost::Message;
use serde_json::{json, Value};
use std::time::Duration;
use tessera_proto::mpi::v1::{PatientMerged, PatientUnmerged};
use tessera_testkit as kit;

/// The parts of a patient's JSON that an unmerge must restore exactly.
fn demographics(v: &Value) -> Value {
    let mut d = v.clone();
    let o = d.as_object_mut().unwrap();
    for k in [
        "version",
        "updated_at",
        "created_at",
        "replaces",
        "active",
        "merged_into",
        "possible_duplicates",
    ] {
        o.remove(k);
    }
    d
}

async fn json(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn local_numbers(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v["local_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}/{}",
                l["assigner"].as_str().unwrap(),
                l["value"].as_str().unwrap()
            )
        })
        .collect();
    n.sort();
    n
}

#[tokio::test]
async fn merge_then_unmerge_round_trips_exactly_and_no_identifier_is_lost() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    // A: has the NHS number and a hospital number. B: the same person registered again
    // without one, at a newer address.
    let a = app.registered(0, &jane(Some("9434765919"))).await;
    let mut b_body = jane(None);
    b_body["addresses"][0]["lines"] = json!(["2 New Road"]);
    b_body["addresses"][0]["postcode"] = json!("LS2 7EY");
    let b = app.registered(0, &b_body).await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let a_locals = local_numbers(&a);
    let b_locals = local_numbers(&b);

    // B survives; A is merged into it.
    let r = app
        .post(
            "/merges",
            &clerk,
            &json!({ "survivor_id": b_id, "merged_id": a_id }),
        )
        .send()
        .await
        .unwrap();
    let merged = json(r, 201).await;
    let merge_id = merged["merge"]["id"].as_str().unwrap().to_string();
    let survivor = &merged["survivor"];
    assert_eq!(
        survivor["nhs_number"], "9434765919",
        "the survivor takes the NHS number"
    );
    let mut both = [a_locals.clone(), b_locals.clone()].concat();
    both.sort();
    assert_eq!(local_numbers(survivor), both, "every identifier is kept");
    assert_eq!(survivor["replaces"][0]["id"], a_id);

    // The merged-away id answers with the survivor (JSON) and replaced-by (FHIR).
    let r = app
        .get(&format!("/patients/{a_id}"), &clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-location"].to_str().unwrap(),
        format!("/patients/{b_id}")
    );
    let v = json(r, 200).await;
    assert_eq!(v["id"], b_id);
    assert_eq!(v["requested_id"], a_id);
    assert_eq!(v["requested_record"]["active"], false);
    let v = json(
        app.get(&format!("/fhir/Patient/{a_id}"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["id"], a_id);
    assert_eq!(v["active"], false);
    assert_eq!(v["link"][0]["type"], "replaced-by");
    assert_eq!(
        v["link"][0]["other"]["reference"],
        format!("Patient/{b_id}")
    );
    let v = json(
        app.get(&format!("/fhir/Patient/{b_id}"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["active"], true);
    assert_eq!(v["link"][0]["type"], "replaces");
    assert_eq!(
        v["link"][0]["other"]["reference"],
        format!("Patient/{a_id}")
    );

    // Every identifier of A finds B.
    let v = json(
        app.get("/patients?nhs_number=9434765919", &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["patients"][0]["id"], b_id);
    for l in &a_locals {
        let value = l.split('/').nth(1).unwrap();
        let v = json(
            app.get(&format!("/patients?local_number={value}"), &clerk)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        assert_eq!(v["patients"][0]["id"], b_id, "{l}");
    }
    // The NHS number cannot be registered again; the conflict names the survivor.
    let r = app.register(&clerk, &jane(Some("9434765919"))).await;
    let v = json(r, 409).await;
    assert!(v["detail"].as_str().unwrap().contains(b_id), "{v}");
    // A merged-away record is not changed behind the survivor's back, nor searched.
    let r = app
        .put(
            &format!("/patients/{a_id}"),
            &clerk,
            &jane(Some("9434765919")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json(r, 409).await["code"], "patient.merged");
    let v = json(
        app.get("/patients?family=testpatient&birth_date=1970-01-01", &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["count"], 1);

    // The survivor changes after the merge: a new phone number.
    let mut later = json(
        app.get(&format!("/patients/{b_id}"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    later["telecom"] = json!([{ "system": "phone", "value": "07700900999", "use": "mobile" }]);
    for k in [
        "id",
        "version",
        "active",
        "replaces",
        "created_at",
        "updated_at",
    ] {
        later.as_object_mut().unwrap().remove(k);
    }
    let r = app
        .put(&format!("/patients/{b_id}"), &clerk, &later)
        .send()
        .await
        .unwrap();
    json(r, 200).await;

    // Unmerge: A comes back exactly; B loses only what the merge gave it.
    let r = app
        .post(&format!("/merges/{merge_id}/unmerge"), &clerk, &json!({}))
        .send()
        .await
        .unwrap();
    let v = json(r, 200).await;
    assert!(v["merge"]["unmerged_at"].is_string());
    let a_after = json(
        app.get(&format!("/patients/{a_id}"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(a_after["id"], a_id);
    assert_eq!(a_after["active"], true);
    assert_eq!(demographics(&a_after), demographics(&a));
    let b_after = json(
        app.get(&format!("/patients/{b_id}"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let mut b_expected = demographics(&b);
    b_expected["telecom"] = later["telecom"].clone();
    assert_eq!(demographics(&b_after), b_expected);
    assert!(b_after.get("replaces").is_none());
    // And the identifiers find their own records again.
    let v = json(
        app.get("/patients?nhs_number=9434765919", &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["patients"][0]["id"], a_id);
    let value = a_locals[0].split('/').nth(1).unwrap();
    let v = json(
        app.get(&format!("/patients?local_number={value}"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["patients"][0]["id"], a_id);
    // Both histories are kept: B registered, merged, updated, unmerged.
    let h = json(
        app.get(&format!("/patients/{b_id}/history"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(h["versions"].as_array().unwrap().len(), 4);
    let m = json(
        app.get(&format!("/patients/{a_id}/merges"), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(m["count"], 1);

    // Undoing twice is refused.
    let r = app
        .post(&format!("/merges/{merge_id}/unmerge"), &clerk, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(r, 409).await["code"], "merge.already-unmerged");

    // The events: PatientMerged then PatientUnmerged, keyed by the merged-away id.
    let topic = format!("tessera.{}.mpi.patient", app.tenant(0).to_lowercase());
    let msgs = kit::read_topic(&app.kafka, &topic, 7, Duration::from_secs(15)).await;
    let merged_ev = msgs
        .iter()
        .find(|m| m.headers["ce_type"] == "uk.nhs.tessera.mpi.PatientMerged.v1")
        .expect("PatientMerged");
    let unmerged_ev = msgs
        .iter()
        .find(|m| m.headers["ce_type"] == "uk.nhs.tessera.mpi.PatientUnmerged.v1")
        .expect("PatientUnmerged");
    assert_eq!(merged_ev.key.as_deref(), Some(a_id));
    assert_eq!(unmerged_ev.key.as_deref(), Some(a_id));
    assert!(merged_ev.offset < unmerged_ev.offset && merged_ev.partition == unmerged_ev.partition);
    let me = PatientMerged::decode(merged_ev.payload.as_slice()).unwrap();
    assert_eq!(me.merge_id, merge_id);
    assert_eq!(me.survivor_patient_id, b_id);
    assert_eq!(me.merged_patient_id, a_id);
    assert_eq!(me.merged_nhs_number, "9434765919");
    assert_eq!(me.moved_local_identifiers.len(), a_locals.len());
    let un = PatientUnmerged::decode(unmerged_ev.payload.as_slice()).unwrap();
    assert_eq!(un.merge_id, merge_id);
    assert_eq!(un.restored_demographics.unwrap().nhs_number, "9434765919");
    assert_eq!(un.survivor_demographics.unwrap().nhs_number, "");
    app.stop().await;
}

#[tokio::test]
async fn merges_chain_and_refuse_what_would_lose_a_patient() {
    let app = TestApp::spawn(2).await;
    let clerk = app.clerk(0);
    let a = app
        .registered(0, &jane_like("Amy", "Chain", "1980-02-03"))
        .await;
    let b = app
        .registered(0, &jane_like("Amy", "Chain", "1980-02-03"))
        .await;
    let c = app
        .registered(0, &jane_like("Amy", "Chain", "1980-02-03"))
        .await;
    let other_trust = app
        .registered(1, &jane_like("Amy", "Chain", "1980-02-03"))
        .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let merge = |s: String, m: String| {
        app.post(
            "/merges",
            &clerk,
            &json!({ "survivor_id": s, "merged_id": m }),
        )
        .send()
    };
    let first = json(merge(id(&b), id(&a)).await.unwrap(), 201).await;
    json(merge(id(&c), id(&b)).await.unwrap(), 201).await;
    // A into B into C: A's id answers with C.
    let v = json(
        app.get(&format!("/patients/{}", id(&a)), &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["id"], id(&c));
    assert_eq!(local_numbers(&v).len(), 3);
    // Undoing A into B while B is merged away would strand A's numbers: refused.
    let r = app
        .post(
            &format!("/merges/{}/unmerge", first["merge"]["id"].as_str().unwrap()),
            &clerk,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json(r, 409).await["code"], "merge.survivor-merged");
    // Merging a merged-away record again, itself, another trust's patient, or nobody: refused.
    assert_eq!(
        json(merge(id(&c), id(&a)).await.unwrap(), 409).await["code"],
        "merge.already-merged"
    );
    assert_eq!(
        json(merge(id(&c), id(&c)).await.unwrap(), 409).await["code"],
        "merge.same-patient"
    );
    json(merge(id(&c), id(&other_trust)).await.unwrap(), 404).await;
    let r = app
        .post(
            "/merges",
            &clerk,
            &json!({ "survivor_id": id(&c), "merged_id": "nope" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json(r, 422).await["errors"][0]["field"], "merged_id");
    // Viewing is not enough to merge.
    let viewer = app.token(app.tenant(0), &[VIEW]);
    let r = app
        .post(
            "/merges",
            &viewer,
            &json!({ "survivor_id": id(&a), "merged_id": id(&b) }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn the_review_queue_offers_possible_matches_and_never_offers_a_rejected_pair_again() {
    let app = TestApp::spawn(1).await;
    let clerk = app.clerk(0);
    let jane1 = app.registered(0, &jane(Some("9434765919"))).await;
    // The same details with a typo and no NHS number: queued for a person to decide.
    let mut twin = jane(None);
    twin["names"][0]["given"] = json!(["Jnae"]);
    let jane2 = app.registered(0, &twin).await;
    assert!(!jane2["possible_duplicates"].as_array().unwrap().is_empty());
    let q = json(app.get("/match-reviews", &clerk).send().await.unwrap(), 200).await;
    assert_eq!(q["count"], 1, "{q}");
    let item = &q["reviews"][0];
    let ids = [item["patient_low"].clone(), item["patient_high"].clone()];
    assert!(ids.contains(&jane1["id"]) && ids.contains(&jane2["id"]));
    assert!(item["explanation"]["fields"].is_array());

    // Reject: two people after all.
    let review_id = item["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/match-reviews/{review_id}/reject"),
            &clerk,
            &json!({ "reason": "twins" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json(r, 200).await["review"]["status"], "rejected");
    // Updating either record re-runs matching, but the pair is not offered again.
    let mut changed = twin.clone();
    changed["telecom"] = json!([{ "system": "phone", "value": "07700900555" }]);
    let r = app
        .put(
            &format!("/patients/{}", jane2["id"].as_str().unwrap()),
            &clerk,
            &changed,
        )
        .send()
        .await
        .unwrap();
    json(r, 200).await;
    let q = json(app.get("/match-reviews", &clerk).send().await.unwrap(), 200).await;
    assert_eq!(q["count"], 0, "{q}");
    let q = json(
        app.get("/match-reviews?status=rejected", &clerk)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(q["count"], 1);
    // Deciding twice is refused.
    let r = app
        .post(
            &format!("/match-reviews/{review_id}/confirm"),
            &clerk,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json(r, 409).await["code"], "review.decided");

    // Another possible pair, confirmed: merged into the older record.
    let bob1 = app
        .registered(0, &jane_like("Robert", "Doubleday", "1955-05-05"))
        .await;
    let bob2 = app
        .registered(0, &jane_like("Bob", "Doubleday", "1955-05-05"))
        .await;
    let q = json(app.get("/match-reviews", &clerk).send().await.unwrap(), 200).await;
    assert_eq!(q["count"], 1, "{q}");
    let review_id = q["reviews"][0]["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/match-reviews/{review_id}/confirm"),
            &clerk,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    let v = json(r, 200).await;
    assert_eq!(v["review"]["status"], "confirmed");
    assert_eq!(v["merge"]["survivor_id"], bob1["id"]);
    assert_eq!(v["merge"]["merged_id"], bob2["id"]);
    let v = json(
        app.get(
            &format!("/patients/{}", bob2["id"].as_str().unwrap()),
            &clerk,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(v["id"], bob1["id"]);
    let q = json(app.get("/match-reviews", &clerk).send().await.unwrap(), 200).await;
    assert_eq!(q["count"], 0);
    // Unknown status: a clear error.
    let r = app
        .get("/match-reviews?status=maybe", &clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}
