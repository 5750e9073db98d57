//! Bearer token verification against a JSON Web Key Set.
use crate::{Identity, TokenClaims};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// A JWKS file (local and tests) ...
    pub jwks_path: Option<String>,
    /// ... or the IdP's JWKS URL (production).
    pub jwks_url: Option<String>,
    /// Clock skew allowed on `exp`, seconds.
    pub leeway_seconds: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "https://idp.tessera.local".into(),
            audience: "tessera".into(),
            jwks_path: Some(".tessera/idp/jwks.json".into()),
            jwks_url: None,
            leeway_seconds: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    MissingToken,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    UnsupportedAlgorithm,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is from another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token has no usable selected role: {0}")]
    NoSelectedRole(&'static str),
    #[error("the session has been revoked")]
    Revoked,
    #[error("the key set could not be loaded: {0}")]
    KeySet(String),
}

impl AuthError {
    /// Stable code for problem bodies and audit reasons.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "auth.missing-token",
            Self::Malformed => "auth.malformed",
            Self::UnsupportedAlgorithm => "auth.algorithm",
            Self::UnknownKey => "auth.unknown-key",
            Self::BadSignature => "auth.signature",
            Self::Expired => "auth.expired",
            Self::WrongIssuer => "auth.issuer",
            Self::WrongAudience => "auth.audience",
            Self::NoSelectedRole(_) => "auth.selected-role",
            Self::Revoked => "auth.revoked",
            Self::KeySet(_) => "auth.key-set",
        }
    }
}

struct Key {
    key: DecodingKey,
    alg: Algorithm,
}

/// Verifies tokens. Keys come from the JWKS; a token naming an unknown `kid` triggers one
/// reload (at most every 30 s), so the IdP can rotate keys without a restart.
pub struct JwtVerifier {
    config: AuthConfig,
    keys: RwLock<HashMap<String, std::sync::Arc<Key>>>,
    last_reload: RwLock<Option<Instant>>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

impl JwtVerifier {
    pub async fn new(config: AuthConfig) -> Result<Self, AuthError> {
        let v = Self {
            config,
            keys: RwLock::new(HashMap::new()),
            last_reload: RwLock::new(None),
        };
        v.reload().await?;
        Ok(v)
    }

    async fn reload(&self) -> Result<(), AuthError> {
        let raw = match (&self.config.jwks_url, &self.config.jwks_path) {
            (Some(url), _) => reqwest::get(url)
                .await
                .map_err(|e| AuthError::KeySet(e.to_string()))?
                .text()
                .await
                .map_err(|e| AuthError::KeySet(e.to_string()))?,
            (None, Some(path)) => tokio::fs::read_to_string(path)
                .await
                .map_err(|e| AuthError::KeySet(format!("{path}: {e}")))?,
            (None, None) => {
                return Err(AuthError::KeySet(
                    "neither jwks_url nor jwks_path is set".into(),
                ))
            }
        };
        let set: JwkSet =
            serde_json::from_str(&raw).map_err(|e| AuthError::KeySet(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            if let Some((kid, key)) = parse_jwk(&jwk) {
                keys.insert(kid, std::sync::Arc::new(key));
            }
        }
        if keys.is_empty() {
            return Err(AuthError::KeySet("no usable keys".into()));
        }
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
        if let Ok(mut t) = self.last_reload.write() {
            *t = Some(Instant::now());
        }
        Ok(())
    }

    fn key(&self, kid: &str) -> Option<std::sync::Arc<Key>> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS512
                | Algorithm::ES256
                | Algorithm::PS256
                | Algorithm::EdDSA
        ) {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let key = match self.key(&kid) {
            Some(k) => k,
            None => {
                let stale = self
                    .last_reload
                    .read()
                    .ok()
                    .and_then(|t| *t)
                    .is_none_or(|t| t.elapsed() > Duration::from_secs(30));
                if stale {
                    if let Err(e) = self.reload().await {
                        tracing::warn!(error = %e, "JWKS reload failed");
                    }
                }
                self.key(&kid).ok_or(AuthError::UnknownKey)?
            }
        };
        if key.alg != header.alg {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let mut validation = Validation::new(key.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.config.leeway_seconds;
        let data = decode::<TokenClaims>(token, &key.key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => AuthError::Expired,
                K::InvalidIssuer => AuthError::WrongIssuer,
                K::InvalidAudience => AuthError::WrongAudience,
                K::InvalidSignature => AuthError::BadSignature,
                K::InvalidAlgorithm => AuthError::UnsupportedAlgorithm,
                _ => AuthError::Malformed,
            }
        })?;
        Identity::from_claims(data.claims).map_err(AuthError::NoSelectedRole)
    }
}

fn parse_jwk(jwk: &serde_json::Value) -> Option<(String, Key)> {
    let s = |k: &str| jwk.get(k).and_then(|v| v.as_str());
    let kid = s("kid")?.to_string();
    if s("use").is_some_and(|u| u != "sig") {
        return None;
    }
    let key = match s("kty")? {
        "OKP" if s("crv") == Some("Ed25519") => Key {
            key: DecodingKey::from_ed_components(s("x")?).ok()?,
            alg: Algorithm::EdDSA,
        },
        "RSA" => Key {
            key: DecodingKey::from_rsa_components(s("n")?, s("e")?).ok()?,
            alg: match s("alg") {
                Some("RS512") => Algorithm::RS512,
                Some("PS256") => Algorithm::PS256,
                _ => Algorithm::RS256,
            },
        },
        "EC" if s("crv") == Some("P-256") => Key {
            key: DecodingKey::from_ec_components(s("x")?, s("y")?).ok()?,
            alg: Algorithm::ES256,
        },
        _ => return None,
    };
    Some((kid, key))
}
