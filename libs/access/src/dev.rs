//! The development identity provider: an Ed25519 key pair on disk, its JWKS, and tokens in the
//! CIS2 shape. It stands in for smartcard login locally and in tests. Production services only
//! ever verify; they are never configured with a signing key.
use crate::{RoleClaim, TokenClaims};
use base64::Engine;
use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use std::path::{Path, PathBuf};

pub struct DevIdp {
    signing: SigningKey,
    kid: String,
    issuer: String,
    audience: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DevIdpError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("key: {0}")]
    Key(String),
    #[error("signing: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub user_id: String,
    pub ods: String,
    /// Job role R code, e.g. `R8000`.
    pub job_role: String,
    pub activities: Vec<String>,
    pub ttl_seconds: i64,
    /// Defaults to a new session id.
    pub session_id: Option<String>,
    /// Workgroups (teams) of the role.
    pub workgroups: Vec<String>,
}

impl TokenRequest {
    pub fn new(user_id: &str, ods: &str, job_role: &str, activities: &[&str]) -> Self {
        Self {
            user_id: user_id.into(),
            ods: ods.into(),
            job_role: job_role.into(),
            activities: activities.iter().map(|a| a.to_string()).collect(),
            ttl_seconds: 3600,
            session_id: None,
            workgroups: Vec::new(),
        }
    }

    /// The role's workgroups (teams).
    pub fn in_teams(mut self, teams: &[&str]) -> Self {
        self.workgroups = teams.iter().map(|t| t.to_string()).collect();
        self
    }
}

impl DevIdp {
    pub fn generate(issuer: &str, audience: &str) -> Self {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let kid = format!("dev-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        Self {
            signing,
            kid,
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// Loads the key in `dir`, creating it (and `jwks.json`) the first time.
    pub fn load_or_create(dir: &Path, issuer: &str, audience: &str) -> Result<Self, DevIdpError> {
        let key_path = dir.join("signing-key.pem");
        let kid_path = dir.join("kid");
        if key_path.exists() && kid_path.exists() {
            let pem = std::fs::read_to_string(&key_path)?;
            let signing =
                SigningKey::from_pkcs8_pem(&pem).map_err(|e| DevIdpError::Key(e.to_string()))?;
            let kid = std::fs::read_to_string(&kid_path)?.trim().to_string();
            return Ok(Self {
                signing,
                kid,
                issuer: issuer.into(),
                audience: audience.into(),
            });
        }
        let idp = Self::generate(issuer, audience);
        std::fs::create_dir_all(dir)?;
        std::fs::write(&key_path, idp.private_pem()?)?;
        std::fs::write(&kid_path, &idp.kid)?;
        idp.write_jwks(&dir.join("jwks.json"))?;
        Ok(idp)
    }

    fn private_pem(&self) -> Result<String, DevIdpError> {
        Ok(self
            .signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| DevIdpError::Key(e.to_string()))?
            .to_string())
    }

    pub fn jwks(&self) -> serde_json::Value {
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.signing.verifying_key().as_bytes());
        serde_json::json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA", "use": "sig"
        }]})
    }

    pub fn write_jwks(&self, path: &Path) -> Result<PathBuf, DevIdpError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.jwks().to_string())?;
        Ok(path.to_path_buf())
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The claims a request would carry, for tests that need to tamper with one.
    pub fn claims(&self, req: &TokenRequest) -> TokenClaims {
        let now = chrono::Utc::now().timestamp();
        let role_id = format!("{}{}", req.ods, req.job_role);
        TokenClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: req.user_id.clone(),
            exp: now + req.ttl_seconds,
            iat: now,
            sid: req
                .session_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            jti: uuid::Uuid::new_v4().to_string(),
            selected_roleid: role_id.clone(),
            nhsid_nrbac_roles: vec![RoleClaim {
                person_roleid: role_id,
                org_code: req.ods.clone(),
                role_code: format!("S8000:G8000:{}", req.job_role),
                role_name: String::new(),
                activity_codes: req.activities.clone(),
                workgroups_codes: req.workgroups.clone(),
            }],
            name: None,
        }
    }

    pub fn sign(&self, claims: &TokenClaims) -> Result<String, DevIdpError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let key = EncodingKey::from_ed_pem(self.private_pem()?.as_bytes())?;
        Ok(encode(&header, claims, &key)?)
    }

    pub fn token(&self, req: &TokenRequest) -> Result<String, DevIdpError> {
        self.sign(&self.claims(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthConfig, AuthError, JwtVerifier};

    async fn verifier_for(idp: &DevIdp, dir: &Path) -> JwtVerifier {
        let path = idp.write_jwks(&dir.join("jwks.json")).unwrap();
        JwtVerifier::new(AuthConfig {
            issuer: idp.issuer().into(),
            audience: idp.audience().into(),
            jwks_path: Some(path.display().to_string()),
            jwks_url: None,
            leeway_seconds: 0,
        })
        .await
        .unwrap()
    }

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!("tessera-idp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn a_good_token_yields_the_selected_role_with_expanded_activities() {
        let idp = DevIdp::generate("https://idp", "tessera");
        let v = verifier_for(&idp, &tmp()).await;
        let t = idp
            .token(&TokenRequest::new("U1", "RXR", "R8000", &["B0825"]))
            .unwrap();
        let id = v.verify(&t).await.unwrap();
        assert_eq!(id.role.organisation.as_str(), "RXR");
        assert_eq!(id.role.job_role, "R8000");
        assert!(id.has("B0820"));
    }

    #[tokio::test]
    async fn expired_other_issuer_other_audience_and_foreign_keys_are_refused() {
        let idp = DevIdp::generate("https://idp", "tessera");
        let v = verifier_for(&idp, &tmp()).await;
        let req = TokenRequest::new("U1", "RXR", "R8000", &["B0825"]);

        let mut c = idp.claims(&req);
        c.exp = chrono::Utc::now().timestamp() - 120;
        assert_eq!(
            v.verify(&idp.sign(&c).unwrap()).await,
            Err(AuthError::Expired)
        );

        let mut c = idp.claims(&req);
        c.iss = "https://evil".into();
        assert_eq!(
            v.verify(&idp.sign(&c).unwrap()).await,
            Err(AuthError::WrongIssuer)
        );

        let mut c = idp.claims(&req);
        c.aud = "other".into();
        assert_eq!(
            v.verify(&idp.sign(&c).unwrap()).await,
            Err(AuthError::WrongAudience)
        );

        // Same kid, different key: a forged signature.
        let mut forger = DevIdp::generate("https://idp", "tessera");
        forger.kid = idp.kid.clone();
        assert_eq!(
            v.verify(&forger.token(&req).unwrap()).await,
            Err(AuthError::BadSignature)
        );

        let stranger = DevIdp::generate("https://idp", "tessera");
        assert_eq!(
            v.verify(&stranger.token(&req).unwrap()).await,
            Err(AuthError::UnknownKey)
        );
    }

    #[tokio::test]
    async fn alg_none_and_hmac_tokens_are_refused() {
        let idp = DevIdp::generate("https://idp", "tessera");
        let v = verifier_for(&idp, &tmp()).await;
        let claims = idp.claims(&TokenRequest::new("U1", "RXR", "R8000", &["B0825"]));
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let body = b64(&serde_json::to_string(&claims).unwrap());
        let none = format!(
            "{}.{}.",
            b64(&format!(
                r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
                idp.kid
            )),
            body
        );
        assert!(v.verify(&none).await.is_err());
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(idp.kid.clone());
        let hs = encode(&h, &claims, &EncodingKey::from_secret(b"guess")).unwrap();
        assert_eq!(v.verify(&hs).await, Err(AuthError::UnsupportedAlgorithm));
    }

    #[tokio::test]
    async fn a_selected_role_that_matches_no_role_is_refused() {
        let idp = DevIdp::generate("https://idp", "tessera");
        let v = verifier_for(&idp, &tmp()).await;
        let mut c = idp.claims(&TokenRequest::new("U1", "RXR", "R8000", &["B0825"]));
        c.selected_roleid = "someone-else".into();
        assert!(matches!(
            v.verify(&idp.sign(&c).unwrap()).await,
            Err(AuthError::NoSelectedRole(_))
        ));
        let mut c = idp.claims(&TokenRequest::new("U1", "RXR", "R8000", &["B0825"]));
        let dup = c.nhsid_nrbac_roles[0].clone();
        c.nhsid_nrbac_roles.push(dup);
        assert!(matches!(
            v.verify(&idp.sign(&c).unwrap()).await,
            Err(AuthError::NoSelectedRole(_))
        ));
    }

    #[tokio::test]
    async fn the_key_on_disk_is_reused() {
        let dir = tmp();
        let a = DevIdp::load_or_create(&dir, "https://idp", "tessera").unwrap();
        let b = DevIdp::load_or_create(&dir, "https://idp", "tessera").unwrap();
        assert_eq!(a.kid, b.kid);
        let v = verifier_for(&b, &dir).await;
        let t = a
            .token(&TokenRequest::new("U1", "RXR", "R8000", &[]))
            .unwrap();
        assert!(v.verify(&t).await.is_ok());
    }
}
