//! The staff identity provider's stand-in (Cognito or the business's OpenID Connect provider in
//! AWS), so `make dev` signs staff in without an account: discovery, an authorize page where
//! one types who one is, the code exchange with PKCE (S256), and ID tokens the gateway checks
//! as the HTTP API's JWT authorizer does: issuer, audience, expiry. The tokens are HS256 with a
//! key of the state directory, where a real provider signs RS256 with published keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use journey::templates::escape_html;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The dashboard's client id at the stand-in.
pub const CLIENT_ID: &str = "journey-dashboard-local";
/// Where the stand-in lives on the gateway.
pub const PATH: &str = "/_local/oidc";
const TOKEN_HOURS: u64 = 8;
/// The groups the stand-in offers, named as the API's roles are by default.
const ROLES: [&str; 3] = ["admin", "agent", "viewer"];
const CODE_LIFETIME: Duration = Duration::from_secs(300);

/// What an ID token says (the claims API Gateway would pass on).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    email: String,
    name: String,
    /// The role's group, as Cognito's `cognito:groups` names it.
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
    iat: u64,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
}

/// An authorization code waiting for its exchange.
struct Grant {
    challenge: String,
    redirect_uri: String,
    email: String,
    name: String,
    role: String,
    nonce: Option<String>,
    issued: Instant,
}

pub struct LocalIssuer {
    issuer: String,
    /// The one redirect URI registered for the dashboard: the gateway's `/`.
    redirect_uri: String,
    key: Vec<u8>,
    codes: Mutex<HashMap<String, Grant>>,
}

impl LocalIssuer {
    /// The stand-in for the gateway at `base` (`http://127.0.0.1:3000`), signing with `key`.
    pub fn new(base: &str, key: &[u8]) -> LocalIssuer {
        let base = base.trim_end_matches('/');
        LocalIssuer {
            issuer: format!("{base}{PATH}"),
            redirect_uri: format!("{base}/"),
            key: key.to_vec(),
            codes: Mutex::new(HashMap::new()),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// An admin's ID token for `email`, as the code exchange gives one (for tests and
    /// scripts).
    pub fn token_for(&self, email: &str, name: &str) -> String {
        self.token_as(email, name, "admin")
    }

    /// An ID token for `email` in the group `role` (`viewer`, `agent`, `admin`; anything else:
    /// no role).
    pub fn token_as(&self, email: &str, name: &str, role: &str) -> String {
        self.sign(email, name, role, None).unwrap_or_default()
    }

    fn sign(&self, email: &str, name: &str, role: &str, nonce: Option<String>) -> Option<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: CLIENT_ID.into(),
            sub: format!("local:{email}"),
            email: email.into(),
            name: name.into(),
            groups: ROLES
                .contains(&role)
                .then(|| role.to_string())
                .into_iter()
                .collect(),
            iat: now,
            exp: now + TOKEN_HOURS * 3600,
            nonce,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.key),
        )
        .ok()
    }

    /// The verified claims of `Authorization: Bearer <token>` (as strings, as API Gateway
    /// passes them), or `None`: the gateway answers 401 as the authorizer would.
    pub fn verify(&self, authorization: Option<&str>) -> Option<HashMap<String, String>> {
        let token = authorization?.strip_prefix("Bearer ")?.trim();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[CLIENT_ID]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(&self.key),
            &validation,
        )
        .ok()?;
        let c = data.claims;
        Some(HashMap::from([
            ("iss".into(), c.iss),
            ("aud".into(), c.aud),
            ("sub".into(), c.sub),
            ("email".into(), c.email),
            // the local provider takes the address typed in as verified
            ("email_verified".into(), "true".into()),
            ("name".into(), c.name),
            // API Gateway passes an array claim as `[a b]`
            ("cognito:groups".into(), format!("[{}]", c.groups.join(" "))),
            ("exp".into(), c.exp.to_string()),
        ]))
    }

    /// The routes under [`PATH`].
    pub fn router<S: Clone + Send + Sync + 'static>(self: &Arc<Self>) -> Router<S> {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize_page).post(authorize))
            .route("/token", axum::routing::post(token))
            .with_state(Arc::clone(self))
    }

    fn codes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Grant>> {
        self.codes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn discovery(State(issuer): State<Arc<LocalIssuer>>) -> Json<serde_json::Value> {
    let i = &issuer.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "subject_types_supported": ["public"],
    }))
}

/// The authorize request's parameters (the page carries them through its form).
#[derive(Debug, Default, Deserialize)]
struct AuthorizeParams {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

impl AuthorizeParams {
    /// What is wrong with the request, as a provider would refuse it.
    fn refusal(&self, issuer: &LocalIssuer) -> Option<&'static str> {
        if self.client_id != CLIENT_ID {
            Some("unknown client_id")
        } else if self.redirect_uri != issuer.redirect_uri {
            Some("redirect_uri is not the dashboard's")
        } else if self.code_challenge_method != "S256" || self.code_challenge.len() < 43 {
            Some("PKCE with S256 is required")
        } else {
            None
        }
    }
}

fn refused(reason: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!("<p>{}</p>", escape_html(reason))),
    )
        .into_response()
}

async fn authorize_page(
    State(issuer): State<Arc<LocalIssuer>>,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    if let Some(reason) = p.refusal(&issuer) {
        return refused(reason);
    }
    let hidden = [
        ("client_id", p.client_id.as_str()),
        ("redirect_uri", &p.redirect_uri),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("nonce", p.nonce.as_deref().unwrap_or_default()),
    ]
    .iter()
    .map(|(k, v)| {
        format!(
            r#"<input type="hidden" name="{k}" value="{}">"#,
            escape_html(v)
        )
    })
    .collect::<String>();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Local sign-in</title>
<style>body{{font:15px system-ui,sans-serif;max-width:26em;margin:4em auto;padding:0 1em}}label{{display:block;margin:.8em 0}}input,select{{display:block;width:100%;padding:.4em;font:inherit}}button{{margin-top:1em;padding:.5em 1.2em;font:inherit}}</style></head>
<body><h1>Local sign-in</h1><p>The local stack's stand-in for your identity provider: anyone may be anyone here.</p>
<form method="post" action="{PATH}/authorize">{hidden}
<label>Staff id: your e-mail, or the owner id customers name you by<input type="text" name="email" required autocomplete="username" value="staff@example.com"></label>
<label>Name<input type="text" name="name" autocomplete="name" value="Local Staff"></label>
<label>Role (the group your provider would give)<select name="role"><option value="admin">admin: everything</option><option value="agent">agent: today's list and own customers</option><option value="viewer">viewer: the numbers only</option><option value="">no group</option></select></label>
<button type="submit">Sign in</button></form></body></html>"#
    ))
    .into_response()
}

async fn authorize(
    State(issuer): State<Arc<LocalIssuer>>,
    Form(p): Form<AuthorizeParams>,
) -> Response {
    if let Some(reason) = p.refusal(&issuer) {
        return refused(reason);
    }
    let email = p.email.trim();
    if email.is_empty() || email.chars().count() > 128 {
        return refused("a staff id is needed");
    }
    let mut bytes = [0u8; 24];
    if getrandom::fill(&mut bytes).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no randomness").into_response();
    }
    let code = hex::encode(bytes);
    let mut codes = issuer.codes();
    codes.retain(|_, g| g.issued.elapsed() < CODE_LIFETIME);
    codes.insert(
        code.clone(),
        Grant {
            challenge: p.code_challenge.clone(),
            redirect_uri: p.redirect_uri.clone(),
            email: email.to_string(),
            name: p.name.trim().to_string(),
            role: p.role.clone(),
            nonce: p.nonce.clone().filter(|n| !n.is_empty()),
            issued: Instant::now(),
        },
    );
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", &p.state)
        .finish();
    Redirect::to(&format!("{}?{query}", p.redirect_uri)).into_response()
}

#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

async fn token(State(issuer): State<Arc<LocalIssuer>>, Form(r): Form<TokenRequest>) -> Response {
    let error = |e: &str| {
        (
            StatusCode::BAD_REQUEST,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({"error": e})),
        )
            .into_response()
    };
    if r.grant_type != "authorization_code" || r.client_id != CLIENT_ID {
        return error("unsupported_grant_type");
    }
    // a code is good once, within its lifetime, for the redirect and the verifier it was for
    let Some(grant) = issuer.codes().remove(&r.code) else {
        return error("invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(r.code_verifier.as_bytes()));
    if grant.issued.elapsed() > CODE_LIFETIME
        || grant.redirect_uri != r.redirect_uri
        || challenge != grant.challenge
    {
        return error("invalid_grant");
    }
    let Some(id_token) = issuer.sign(&grant.email, &grant.name, &grant.role, grant.nonce) else {
        return error("server_error");
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "id_token": id_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_HOURS * 3600,
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_issuer_audience_and_key() {
        let issuer = LocalIssuer::new("http://127.0.0.1:3000", b"k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1");
        let token = issuer.token_for("mina@example.com", "Mina");
        let claims = issuer.verify(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!(claims["email"], "mina@example.com");
        assert!(issuer.verify(Some(&token)).is_none(), "Bearer only");
        assert!(issuer.verify(None).is_none());
        let other_key =
            LocalIssuer::new("http://127.0.0.1:3000", b"k2-k2-k2-k2-k2-k2-k2-k2-k2-k2-k2");
        assert!(other_key.verify(Some(&format!("Bearer {token}"))).is_none());
        let other_port =
            LocalIssuer::new("http://127.0.0.1:3001", b"k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1");
        assert!(
            other_port
                .verify(Some(&format!("Bearer {token}")))
                .is_none()
        );
        let mut tampered = token.clone();
        tampered.insert(tampered.len() - 3, 'x');
        assert!(issuer.verify(Some(&format!("Bearer {tampered}"))).is_none());
    }
}
