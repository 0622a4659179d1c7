//! Short-lived access tokens: HS256 JWTs. Validation accepts HS256 only, so
//! `alg: none` and RS/HS confusion are refused, and requires `exp`.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ACCESS_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Token kind; only `access` is accepted as a bearer token.
    pub typ: String,
    /// The sign-in (refresh-token family) the token belongs to: revoking
    /// the sign-in revokes its access tokens.
    pub sid: String,
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer {
    pub user_id: String,
    pub session_id: String,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> TokenKeys {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// An access token for `user_id` in sign-in `session_id`, valid from
    /// `now` (Unix seconds).
    pub fn issue(&self, user_id: &str, session_id: &str, now: i64) -> Result<String, String> {
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: "access".into(),
            sid: session_id.to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Who a valid access token speaks for at `now` (Unix seconds, from the
    /// application's clock; revocation is checked by the caller, against
    /// the cache).
    pub fn verify(&self, token: &str, now: i64) -> Option<Bearer> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // Expiry is judged by the application's clock, not the library's
        // reading of the system clock.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = decode::<Claims>(token, &self.decoding, &validation).ok()?;
        if data.claims.exp < now {
            return None;
        }
        (data.claims.typ == "access").then_some(Bearer {
            user_id: data.claims.sub,
            session_id: data.claims.sid,
        })
    }
}
