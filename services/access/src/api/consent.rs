//! Seals and the patient's consent directives.
use super::support::{code, patient_id, Caller};
use crate::app::{audited, audited_for_patient, invalid, refuse};
use crate::domain::DirectiveId;
use crate::store::{self, Seal, SealLevel};
use actix_web::{delete, get, post, put};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tessera_edge::problem::{ApiError, Flavour};
use utoipa::ToSchema;

const JSON: Flavour = Flavour::Json;

#[derive(Serialize, ToSchema)]
pub struct Seals {
    seals: Vec<Seal>,
}

#[derive(Serialize, ToSchema)]
pub struct SharingAnswer {
    directive_id: uuid::Uuid,
    /// `permit` or `forbid`.
    sharing: String,
    /// The trusts a permit names; empty: every trust in the region.
    trusts: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NominationAnswer {
    directive_id: uuid::Uuid,
    seal: Seal,
}

/// `contact`, or `<kind>:<id>` (`document:…`, `encounter:…`).
fn item(s: &str) -> Result<String, ApiError> {
    let ok = s == "contact"
        || s.split_once(':').is_some_and(|(k, id)| {
            ["document", "encounter", "demographics"].contains(&k)
                && !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(s.to_string())
    } else {
        Err(invalid(
            "item",
            "format",
            "contact, or document:<id>, encounter:<id>, demographics:<group>",
        ))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealBody {
    level: SealLevel,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
}

fn nominees(b: &SealBody) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let users: Result<Vec<_>, _> = b.users.iter().map(|u| code("users", u)).collect();
    let teams: Result<Vec<_>, _> = b.teams.iter().map(|t| code("teams", t)).collect();
    let (users, teams) = (users?, teams?);
    if users.is_empty() && teams.is_empty() {
        return Err(invalid(
            "users",
            "required",
            "a seal names at least one user or team who may still see the item",
        ));
    }
    Ok((users, teams))
}

#[utoipa::path(
    tag = "seals",
    params(
        ("patient" = String, Path, description = "The patient"),
        ("item" = String, Path, description = "`contact`, or `document:<id>`, `encounter:<id>`, `demographics:<group>`")
    ),
    responses((status = 200, description = "The seal", body = Seal))
)]
#[put("/seals/{patient}/{item}")]
pub async fn put_seal(
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<SealBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let (p, i) = path.into_inner();
    let checked = patient_id(&p).and_then(|p| Ok((p, item(&i)?, nominees(&body)?)));
    let (patient, item, (users, teams)) = match checked {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let level = body.level;
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let by = auth.identity.user_id.clone();
    let pid = patient;
    let seal = audited_for_patient(&auth, patient, move |txn| {
        Box::pin(async move {
            store::set_seal(
                txn,
                &tenant,
                &pid,
                &item,
                level,
                &users,
                &teams,
                None,
                &by,
                Some(&trace),
            )
            .await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(seal))
}

#[utoipa::path(
    tag = "seals",
    params(
        ("patient" = String, Path, description = "The patient"),
        ("item" = String, Path, description = "The sealed item")
    ),
    responses((status = 204, description = "Removed"))
)]
#[delete("/seals/{patient}/{item}")]
pub async fn delete_seal(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let (p, i) = path.into_inner();
    let (patient, item) = match patient_id(&p).and_then(|p| Ok((p, item(&i)?))) {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let pid = patient;
    audited(&auth, Some(patient), move |txn| {
        Box::pin(async move { store::remove_seal(txn, &tenant, &pid, &item, Some(&trace)).await })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    tag = "seals",
    params(("patient_id" = String, Query, description = "The patient")),
    responses((status = 200, description = "The patient's seals", body = Seals))
)]
#[get("/seals")]
pub async fn list_seals(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let patient = match patient_id(q.get("patient_id").map(String::as_str).unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let pid = patient;
    let seals = audited(&auth, Some(patient), move |txn| {
        Box::pin(async move { store::seals_of(txn, &pid).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(Seals { seals }))
}

#[utoipa::path(
    tag = "consent",
    params(("patient" = String, Path, description = "The patient")),
    responses((status = 200, description = "The patient's sharing choice and directives", body = Object))
)]
#[get("/consent/{patient}")]
pub async fn get_consent(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let patient = match patient_id(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let pid = patient;
    let c = audited(&auth, Some(patient), move |txn| {
        Box::pin(async move { store::consent_of(txn, &pid).await })
    })
    .await?;
    Ok(HttpResponse::Ok().json(c))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingBody {
    /// `permit` or `forbid`.
    sharing: String,
    /// The trusts (ODS codes) a permit lets see this trust's records; absent or empty: every
    /// trust in the region. Not allowed with `forbid`.
    #[serde(default)]
    trusts: Vec<String>,
}

#[utoipa::path(
    tag = "consent",
    params(("patient" = String, Path, description = "The patient")),
    responses((status = 200, description = "The directive recorded", body = SharingAnswer))
)]
#[put("/consent/{patient}/sharing")]
pub async fn put_sharing(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<SharingBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let patient = match patient_id(&path) {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let permit = match body.sharing.as_str() {
        "permit" => true,
        "forbid" => false,
        _ => {
            let e = invalid("sharing", "code", "permit or forbid");
            return refuse(&auth, Some(patient), e).await;
        }
    };
    let trusts = match sharing_trusts(permit, &body.trusts) {
        Ok(t) => t,
        Err(e) => return refuse(&auth, Some(patient), e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let by = auth.identity.user_id.clone();
    let pid = patient;
    let named = trusts.clone();
    let id = audited_for_patient(&auth, patient, move |txn| {
        Box::pin(async move {
            store::set_sharing(txn, &tenant, &pid, permit, &named, &by, Some(&trace)).await
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(SharingAnswer {
        directive_id: id,
        sharing: body.into_inner().sharing,
        trusts,
    }))
}

/// The trusts a permit names, as ODS codes (at most 100, no repeats); none with a forbid.
fn sharing_trusts(permit: bool, given: &[String]) -> Result<Vec<String>, ApiError> {
    if !permit && !given.is_empty() {
        return Err(invalid("trusts", "forbidden", "a forbid names no trusts"));
    }
    if given.len() > 100 {
        return Err(invalid("trusts", "too-many", "at most 100 trusts"));
    }
    let mut out: Vec<String> = Vec::with_capacity(given.len());
    for t in given {
        let code = tessera_tenancy::TenantId::parse(t)
            .map_err(|_| invalid("trusts", "format", "ODS codes (e.g. RXR)"))?
            .as_str()
            .to_string();
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out)
}

/// A seal's fields and the item it covers (flat: serde cannot refuse unknown fields of a
/// flattened struct, and the schema of one would contradict itself).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NominationBody {
    item: String,
    level: SealLevel,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
}

impl NominationBody {
    fn seal(self) -> (String, SealBody) {
        let seal = SealBody {
            level: self.level,
            users: self.users,
            teams: self.teams,
        };
        (self.item, seal)
    }
}

/// The patient's nomination ("only Dr X and the sexual health team"): a consent directive,
/// applied as a seal on the item.
#[utoipa::path(
    tag = "consent",
    params(("patient" = String, Path, description = "The patient")),
    request_body(content = NominationBody),
    responses((status = 201, description = "The directive, applied as a seal", body = NominationAnswer))
)]
#[post("/consent/{patient}/nominations")]
pub async fn nominate(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let parsed = serde_json::from_value::<NominationBody>(body.into_inner())
        .map_err(|e| ApiError::bad_request(format!("body: {e}")));
    let checked = patient_id(&path).and_then(|p| {
        let (i, seal) = parsed?.seal();
        Ok((p, item(&i)?, nominees(&seal)?, seal.level))
    });
    let (patient, item, (users, teams), level) = match checked {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let by = auth.identity.user_id.clone();
    let pid = patient;
    let (id, seal) = audited_for_patient(&auth, patient, move |txn| {
        Box::pin(async move {
            store::nominate(
                txn,
                &tenant,
                &pid,
                &item,
                level,
                &users,
                &teams,
                &by,
                Some(&trace),
            )
            .await
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(NominationAnswer {
        directive_id: id,
        seal,
    }))
}

#[utoipa::path(
    tag = "consent",
    params(
        ("patient" = String, Path, description = "The patient"),
        ("id" = uuid::Uuid, Path, description = "The directive")
    ),
    responses((status = 204, description = "Withdrawn"))
)]
#[post("/consent/{patient}/directives/{id}/withdraw")]
pub async fn withdraw(
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let (p, d) = path.into_inner();
    let checked = patient_id(&p).and_then(|p| {
        let d = DirectiveId::parse(&d)
            .ok_or_else(|| invalid("id", "format", "a directive id (UUID)"))?;
        Ok((p, d))
    });
    let (patient, id) = match checked {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let pid = patient;
    audited(&auth, Some(patient), move |txn| {
        Box::pin(
            async move { store::withdraw_directive(txn, &tenant, &pid, id, Some(&trace)).await },
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
