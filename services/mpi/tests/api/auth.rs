//! Tokens: missing, expired, badly signed, `alg: none`, another issuer → 401; a role without
//! the activity → 403; a revoked session → 401 on every replica within a second.
use crate::helpers::*;
use base64::Engine;
use std::time::{Duration, Instant};
use tessera_access::dev::{DevIdp, TokenRequest};
use tessera_testkit as kit;

#[tokio::test]
async fn bad_tokens_are_refused_with_401_and_missing_activities_with_403() {
    let app = TestApp::spawn(1).await;
    let ods = app.tenant(0).to_string();
    let path = format!("/patients/{}", uuid::Uuid::now_v7());
    let req = TokenRequest::new("U1", &ods, "R8000", &[AMEND]);

    let url = format!("{}{}", app.base, path);
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401, "missing");
    assert_eq!(r.headers()["www-authenticate"], "Bearer");

    let mut expired = app.idp.idp.claims(&req);
    expired.exp = chrono::Utc::now().timestamp() - 60;
    expired.iat = expired.exp - 3600;
    let stranger = DevIdp::generate(app.idp.idp.issuer(), "tessera");
    let mut other_issuer = app.idp.idp.claims(&req);
    other_issuer.iss = "https://someone-else".into();
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&serde_json::to_string(&app.idp.idp.claims(&req)).unwrap())
    );
    let good = app.idp.token_for(&req);
    let mut tampered_parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut claims = app.idp.idp.claims(&req);
    claims.nhsid_nrbac_roles[0].org_code = "RBT".into();
    tampered_parts[1] = b64(&serde_json::to_string(&claims).unwrap());
    let tampered = tampered_parts.join(".");

    for (what, token) in [
        ("expired", app.idp.idp.sign(&expired).unwrap()),
        ("signed by an unknown key", stranger.token(&req).unwrap()),
        ("alg none", none),
        ("other issuer", app.idp.idp.sign(&other_issuer).unwrap()),
        ("payload tampered", tampered),
        ("garbage", "abc.def.ghi".to_string()),
    ] {
        let r = app.get(&path, &token).send().await.unwrap();
        assert_eq!(r.status(), 401, "{what}");
    }

    let no_activity = app.token(&ods, &["B0001"]);
    assert_eq!(
        app.get(&path, &no_activity).send().await.unwrap().status(),
        403
    );
    // Viewing is not amending.
    let viewer = app.token(&ods, &[VIEW]);
    assert_eq!(app.register(&viewer, &jane(None)).await.status(), 403);
    // Amending includes viewing (B0825 includes B0820).
    assert_eq!(
        app.get(&path, &app.clerk(0)).send().await.unwrap().status(),
        404
    );
    // A role at an organisation that is not a tenant here.
    let outsider = app.token("RZZ", &[AMEND]);
    assert_eq!(
        app.get(&path, &outsider).send().await.unwrap().status(),
        403
    );
    app.stop().await;
}

#[tokio::test]
async fn a_logout_revokes_the_session_on_every_replica_within_a_second() {
    let first = TestApp::spawn(1).await;
    // A second replica of the service: same database, tenants, keys.
    let idp = kit::TestIdp {
        idp: DevIdp::generate("unused", "unused"),
        jwks_path: first.idp.jwks_path.clone(),
    };
    let second = TestApp::start(
        first.config.clone(),
        first.tenants.clone(),
        idp,
        first.kafka.clone(),
    )
    .await;
    let token = first.clerk(0);
    let path = format!("/patients/{}", uuid::Uuid::now_v7());
    assert_eq!(
        second.get(&path, &token).send().await.unwrap().status(),
        404
    );

    let r = first
        .client
        .post(format!("{}/auth/logout", first.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let started = Instant::now();
    let refused = kit::wait_until(Duration::from_secs(1), || async {
        second.get(&path, &token).send().await.unwrap().status() == 401
    })
    .await;
    assert!(refused, "still accepted after {:?}", started.elapsed());
    assert_eq!(first.get(&path, &token).send().await.unwrap().status(), 401);
    // Another session of the same user is unaffected.
    assert_eq!(
        second
            .get(&path, &first.clerk(0))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn one_noisy_trust_is_rate_limited_without_starving_another() {
    let app = TestApp::spawn_with(2, |_| {}).await;
    // Rebuild with a tiny budget for the first tenant only.
    let mut config = app.config.clone();
    config
        .rate_limit
        .overrides
        .insert(app.tenant(0).to_string(), 3);
    let idp = kit::TestIdp {
        idp: DevIdp::generate("unused", "unused"),
        jwks_path: app.idp.jwks_path.clone(),
    };
    let limited = TestApp::start(config, app.tenants.clone(), idp, app.kafka.clone()).await;
    let path = format!("/patients/{}", uuid::Uuid::now_v7());
    let noisy = app.clerk(0);
    let quiet = app.clerk(1);
    let mut throttled = None;
    for _ in 0..20 {
        let r = limited.get(&path, &noisy).send().await.unwrap();
        if r.status() == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("the noisy trust was never throttled");
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        limited.get(&path, &quiet).send().await.unwrap().status(),
        404
    );
    limited.stop().await;
    app.stop().await;
}
