//! Who is asking. Machines send an API key; staff sign in with their organisation's identity
//! provider and reach the same routes under `/staff`, where the HTTP API's JWT authorizer has
//! verified the token before the function runs (a route there without it does not exist), so
//! the function reads the verified claims and never a token.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use journey::http::ApiError;

/// The path prefix of the routes behind the JWT authorizer.
pub const STAFF_PREFIX: &str = "staff";

/// The claim that names a staff member, as the customers' `owner.id` names them (`email`
/// unless the deployment says otherwise: `STAFF_ID_CLAIM`).
pub const DEFAULT_ID_CLAIM: &str = "email";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// `key:` and the first 8 hex digits of the API key's SHA-256.
    Key(String),
    Staff(Staff),
}

/// A signed-in staff member.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Staff {
    /// Their id (the configured claim): what notes, contacts and erasures record, and what
    /// `owner=me` means.
    pub id: String,
    /// The token's `name` claim, for the page's header.
    pub name: Option<String>,
}

impl Caller {
    /// The name a record keeps of who did something.
    pub fn recorded_as(&self) -> String {
        match self {
            Caller::Key(id) => id.clone(),
            Caller::Staff(s) => format!("staff:{}", s.id),
        }
    }

    pub fn staff(&self) -> Option<&Staff> {
        match self {
            Caller::Staff(s) => Some(s),
            Caller::Key(_) => None,
        }
    }
}

/// The staff member the authorizer verified, or 401: a request under `/staff` without
/// claims did not come through the authorizer.
pub fn staff(request: &ApiGatewayV2httpRequest, id_claim: &str) -> Result<Staff, ApiError> {
    let empty = HashMap::new();
    let claims = request
        .request_context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map_or(&empty, |jwt| &jwt.claims);
    let claim = |name: &str| {
        claims
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty() && v.chars().count() <= 128)
            .map(str::to_string)
    };
    let id = claim(id_claim).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_identity",
            format!("sign in again: the token has no `{id_claim}` claim"),
            "authorization",
        )
    })?;
    Ok(Staff {
        id,
        name: claim("name"),
    })
}
