//! `$match`, possible duplicates and the review queue they feed, and each trust's matching model and settings.
use super::*;

/// Scored, explained candidates for `probe` in the caller's trust (`$match`).
pub async fn match_patient(
    auth: &Authorized,
    probe: crate::domain::matching::Probe,
    limit: usize,
) -> Result<Vec<crate::domain::matching::Candidate>, ApiError> {
    let model = model_for(auth).await?;
    let (found, access) = audited_patient_read(
        auth,
        None,
        |c: &Vec<crate::domain::matching::Candidate>| {
            let id = if c.len() == 1 {
                c.first().map(|c| c.patient.id.to_string())
            } else {
                None
            };
            (id, i32::try_from(c.len()).unwrap_or(i32::MAX))
        },
        |c: &Vec<crate::domain::matching::Candidate>| {
            c.iter().map(|c| c.patient.id.to_string()).collect()
        },
        move |txn| {
            Box::pin(async move {
                let candidates = candidates_for(txn, &probe).await?;
                Ok(crate::domain::matching::rank(
                    &model, &probe, candidates, limit,
                ))
            })
        },
    )
    .await?;
    Ok(found
        .into_iter()
        .map(|mut c| {
            c.patient = access.shown(auth, c.patient);
            c
        })
        .collect())
}

pub(super) async fn candidates_for(
    txn: &sea_orm::DatabaseTransaction,
    probe: &crate::domain::matching::Probe,
) -> Result<Vec<Patient>, StoreError> {
    store::match_candidates(
        txn,
        probe.nhs_number.as_deref(),
        probe.birth_date,
        probe.family.as_deref(),
        probe.postcode.as_deref(),
        200,
    )
    .await
}

/// Existing records `d` may duplicate, scored, best first (the record itself is left out by
/// the caller's queueing: a pair of one record is never offered).
pub(super) async fn possible_duplicates(
    txn: &sea_orm::DatabaseTransaction,
    model: &tessera_matching::Model,
    d: &crate::domain::Demographics,
) -> Result<Vec<crate::domain::matching::Candidate>, ApiError> {
    let probe = crate::domain::matching::Probe::from_demographics(d);
    let existing = candidates_for(txn, &probe).await.map_err(store_error)?;
    Ok(crate::domain::matching::rank(model, &probe, existing, 5))
}

/// After a new record is inserted: queue its possible duplicates, publish PatientRegistered,
/// and auto-link it if the trust says so (then it comes back merged).
pub(super) async fn registered(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    matching: &crate::app::models::Matching,
    mut p: Patient,
    possible: &[crate::domain::matching::Candidate],
) -> Result<Patient, ApiError> {
    queue_for_review(txn, p.id, possible).await?;
    tessera_events::enqueue(txn, events::registered(tenant, &p, trace))
        .await
        .map_err(|e| ApiError::outbox(&e))?;
    if matching.auto_link {
        p.merged_into = auto_link(txn, tenant, trace, &p, possible).await?;
    }
    Ok(p)
}

/// Queues scored candidates of `patient` for a person to review. Pairs seen before stay as
/// they were: a rejected pair is never offered again.
pub(super) async fn queue_for_review(
    txn: &sea_orm::DatabaseTransaction,
    patient: PatientId,
    candidates: &[crate::domain::matching::Candidate],
) -> Result<(), ApiError> {
    for c in candidates {
        let explanation = serde_json::to_value(&c.explanation).unwrap_or_default();
        store::reviews::offer(txn, patient, c.patient.id, c.score, c.grade, explanation)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// The caller's trust's matching: its own model if trained or tuned (else the defaults), and
/// whether it auto-links.
pub(super) async fn model_for(
    auth: &Authorized,
) -> Result<std::sync::Arc<crate::app::models::Matching>, ApiError> {
    if let Some(m) = auth.state.models.get(auth.tenant.as_str()).await {
        return Ok(m);
    }
    let txn = auth.begin().await?;
    let stored = store::settings::load(&txn).await.map_err(store_error)?;
    let _ = txn.commit().await;
    let matching = std::sync::Arc::new(match stored {
        Some(s) => crate::app::models::Matching {
            model: s.model,
            auto_link: s.auto_link,
        },
        None => crate::app::models::Matching::default(),
    });
    auth.state
        .models
        .put(auth.tenant.as_str(), matching.clone())
        .await;
    Ok(matching)
}

/// What a trust's matching uses now.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MatchSettings {
    #[schema(value_type = Object)]
    pub thresholds: tessera_matching::Thresholds,
    /// Whether a registration that scores `match` against one record is merged into it at
    /// once (else every pair waits in the review queue).
    pub auto_link: bool,
    pub prior: f64,
    /// Records the weights were learned from (0: the defaults).
    pub trained_on: i64,
    pub trained_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Each field's levels and their weights in bits.
    pub weights: serde_json::Value,
}

pub(super) fn describe(
    model: &tessera_matching::Model,
    auto_link: bool,
    trained_on: i64,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> MatchSettings {
    let weights = model
        .describe()
        .into_iter()
        .map(|(f, levels)| {
            let levels: serde_json::Map<String, serde_json::Value> = levels
                .into_iter()
                .map(|(l, w)| {
                    (
                        l.to_string(),
                        serde_json::json!((w * 100.0).round() / 100.0),
                    )
                })
                .collect();
            (f.name().to_string(), serde_json::Value::Object(levels))
        })
        .collect::<serde_json::Map<_, _>>();
    MatchSettings {
        thresholds: model.thresholds,
        auto_link,
        prior: model.prior,
        trained_on,
        trained_at: at,
        weights: serde_json::Value::Object(weights),
    }
}

pub async fn match_settings(auth: &Authorized) -> Result<MatchSettings, ApiError> {
    audited_read(
        auth,
        None,
        |_: &MatchSettings| (None, 0),
        move |txn| {
            Box::pin(async move {
                Ok(match store::settings::load(txn).await? {
                    Some(s) => describe(&s.model, s.auto_link, s.trained_on, Some(s.trained_at)),
                    None => describe(&tessera_matching::Model::default(), false, 0, None),
                })
            })
        },
    )
    .await
}

/// Changes a trust's matching settings, keeping what is not given, and caches the result.
pub(super) async fn change_settings<F>(
    auth: &Authorized,
    change: F,
) -> Result<MatchSettings, ApiError>
where
    F: for<'t> FnOnce(
            &'t sea_orm::DatabaseTransaction,
            crate::app::models::Matching,
        ) -> futures::future::BoxFuture<
            't,
            Result<(crate::app::models::Matching, Option<i64>), ApiError>,
        > + Send
        + 'static,
{
    let (settings, matching) = audited_write(auth, None, move |txn| {
        Box::pin(async move {
            let (current, trained_on) =
                match store::settings::load(txn).await.map_err(store_error)? {
                    Some(s) => (
                        crate::app::models::Matching {
                            model: s.model,
                            auto_link: s.auto_link,
                        },
                        s.trained_on,
                    ),
                    None => (crate::app::models::Matching::default(), 0),
                };
            // A retrained model records how many records it learned from; a threshold change
            // keeps the count.
            let (next, learned_from) = change(txn, current).await?;
            let trained_on = learned_from.unwrap_or(trained_on);
            let at = store::settings::save(txn, &next.model, trained_on, next.auto_link)
                .await
                .map_err(store_error)?;
            let described = describe(&next.model, next.auto_link, trained_on, Some(at));
            Ok(((described, next), Ending::permit(None, 200, 0)))
        })
    })
    .await?;
    auth.state
        .models
        .put(auth.tenant.as_str(), std::sync::Arc::new(matching))
        .await;
    Ok(settings)
}

/// Sets the trust's thresholds (bits): auto-link at or above `link`, review at or above
/// `review`; and whether `match` pairs merge on registration.
pub async fn set_thresholds(
    auth: &Authorized,
    thresholds: tessera_matching::Thresholds,
    auto_link: Option<bool>,
) -> Result<MatchSettings, ApiError> {
    let valid = thresholds.link.is_finite()
        && thresholds.review.is_finite()
        && (-20.0..=60.0).contains(&thresholds.review)
        && (-20.0..=60.0).contains(&thresholds.link)
        && thresholds.review < thresholds.link;
    if !valid {
        return refuse(
            auth,
            None,
            crate::api::problem::validation(vec![crate::domain::FieldError {
                field: "thresholds".into(),
                code: "range".into(),
                message: "review < link, both between -20 and 60 bits".into(),
            }]),
        )
        .await;
    }
    change_settings(auth, move |_, current| {
        Box::pin(async move {
            Ok((
                crate::app::models::Matching {
                    model: current.model.with_thresholds(thresholds),
                    auto_link: auto_link.unwrap_or(current.auto_link),
                },
                None,
            ))
        })
    })
    .await
}

/// Learns the trust's weights from its own records (up to `sample` of the newest), keeping
/// its thresholds. u from random pairs, m by EM over blocked pairs (`libs/matching`).
pub async fn train(auth: &Authorized, sample: u64) -> Result<MatchSettings, ApiError> {
    change_settings(auth, move |txn, current| {
        Box::pin(async move {
            let people = store::settings::sample(txn, sample)
                .await
                .map_err(store_error)?;
            let n = people.len() as i64;
            let base = current.model;
            let model = tokio::task::spawn_blocking(move || {
                let persons: Vec<tessera_matching::Person> = people
                    .iter()
                    .map(|d| crate::domain::matching::Probe::from_demographics(d).person())
                    .collect();
                let candidates = tessera_matching::Blocker::default().dedupe_pairs(&persons);
                let random = random_pairs(persons.len(), 50_000);
                base.train(&persons, &candidates, &random, 10)
            })
            .await
            .map_err(|e| ApiError::internal(&e))?;
            Ok((
                crate::app::models::Matching {
                    model,
                    auto_link: current.auto_link,
                },
                Some(n),
            ))
        })
    })
    .await
}

/// Pairs of distinct records, spread evenly and deterministically (no RNG needed: a
/// multiplicative step co-prime with `n` visits every offset).
pub(super) fn random_pairs(n: usize, count: usize) -> Vec<(u32, u32)> {
    if n < 2 {
        return Vec::new();
    }
    let step = 2_654_435_761usize % n.max(2);
    (0..count)
        .map(|i| {
            let a = (i * 7919) % n;
            let b = (a + 1 + (i * step.max(1)) % (n - 1)) % n;
            (a as u32, b as u32)
        })
        .filter(|(a, b)| a != b)
        .collect()
}

/// With auto-link on: a new record that scores `match` against exactly one existing record
/// (and passes the evidence rules, which `decision` already applied) is merged into it at
/// once, as a system merge that can be undone like any other; its review item is confirmed
/// by `auto-link`. Two or more `match` candidates are left for a person.
pub(super) async fn auto_link(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &tessera_tenancy::TenantId,
    trace: &tessera_bootstrap::TraceContext,
    new: &Patient,
    candidates: &[crate::domain::matching::Candidate],
) -> Result<Option<PatientId>, ApiError> {
    let matches: Vec<&crate::domain::matching::Candidate> = candidates
        .iter()
        .filter(|c| c.decision == "match")
        .collect();
    let [only] = matches.as_slice() else {
        return Ok(None);
    };
    let survivor = only.patient.id;
    let review = store::reviews::for_pair(txn, new.id, survivor)
        .await
        .map_err(store_error)?;
    let review_id = review.as_ref().map(|r| r.id);
    let (m, _) = merge_in(txn, tenant, trace, survivor, new.id, review_id, "auto-link").await?;
    if let Some(id) = review_id {
        store::reviews::decide(
            txn,
            id,
            "confirmed",
            "auto-link",
            Some("auto-link".into()),
            Some(m.id),
        )
        .await
        .map_err(store_error)?;
    }
    Ok(Some(survivor))
}
