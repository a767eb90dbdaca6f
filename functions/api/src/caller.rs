//! Who is asking. Machines send an API key; staff sign in with their organisation's identity
//! provider and reach the same routes under `/staff`, where the HTTP API's JWT authorizer has
//! verified the token before the function runs (a route there without it does not exist), so
//! the function reads the verified claims and never a token.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use journey::http::ApiError;

use crate::roles::{KeyScope, Principal, Role, RoleGroups};

/// The path prefix of the routes behind the JWT authorizer.
pub const STAFF_PREFIX: &str = "staff";

/// The claim that names a staff member, as the customers' `owner.id` names them (`email`
/// unless the deployment says otherwise: `STAFF_ID_CLAIM`).
pub const DEFAULT_ID_CLAIM: &str = "email";

/// The claim listing a staff member's groups, which give their role (`STAFF_GROUPS_CLAIM`).
pub const DEFAULT_GROUPS_CLAIM: &str = "cognito:groups";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A machine: `id` is `key:` and the first 8 hex digits of the API key's SHA-256.
    Key {
        id: String,
        scope: KeyScope,
    },
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
    /// From the groups claim; none: they may only ask who they are.
    pub role: Option<Role>,
}

impl Caller {
    /// The name a record keeps of who did something.
    pub fn recorded_as(&self) -> String {
        match self {
            Caller::Key { id, .. } => id.clone(),
            Caller::Staff(s) => format!("staff:{}", s.id),
        }
    }

    pub fn staff(&self) -> Option<&Staff> {
        match self {
            Caller::Staff(s) => Some(s),
            Caller::Key { .. } => None,
        }
    }

    /// Who the route table knows them as; `None`: a staff member without a role.
    pub fn principal(&self) -> Option<Principal> {
        match self {
            Caller::Key { scope, .. } => Some(Principal::Key(*scope)),
            Caller::Staff(s) => s.role.map(Principal::Staff),
        }
    }
}

/// Whether the identity provider's tokens carry `email_verified` (`STAFF_EMAIL_VERIFIED`):
/// where they do, a token without it is refused (security review L11).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EmailVerified {
    #[default]
    Required,
    /// The provider never sends the claim: only an explicit `false` is refused.
    NotSent,
}

impl std::str::FromStr for EmailVerified {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "required" => Ok(EmailVerified::Required),
            "not_sent" => Ok(EmailVerified::NotSent),
            other => Err(format!("`{other}`: required or not_sent")),
        }
    }
}

/// How staff tokens name a member and their role, as the deployment configures it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffClaims {
    /// `STAFF_ID_CLAIM`
    pub id: String,
    /// `STAFF_GROUPS_CLAIM`
    pub groups: String,
    /// `STAFF_ROLE_GROUPS`
    pub roles: RoleGroups,
    /// `STAFF_EMAIL_VERIFIED`
    pub verified: EmailVerified,
}

impl Default for StaffClaims {
    fn default() -> Self {
        StaffClaims {
            id: DEFAULT_ID_CLAIM.into(),
            groups: DEFAULT_GROUPS_CLAIM.into(),
            roles: RoleGroups::default(),
            verified: EmailVerified::Required,
        }
    }
}

/// The staff member the authorizer verified, or 401: a request under `/staff` without
/// claims did not come through the authorizer.
pub fn staff(request: &ApiGatewayV2httpRequest, config: &StaffClaims) -> Result<Staff, ApiError> {
    let (id_claim, verified) = (config.id.as_str(), config.verified);
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
    // an address the provider has not verified names nobody (some let users edit theirs); a
    // token that does not say is refused too, unless the provider is known not to send it
    let says = claims.get("email_verified").map(String::as_str);
    let unverified = match verified {
        EmailVerified::Required => says != Some("true"),
        EmailVerified::NotSent => says == Some("false"),
    };
    if id_claim == "email" && unverified {
        return Err(ApiError::unauthorized(
            "unverified_identity",
            "the identity provider has not verified this e-mail address",
            "authorization",
        ));
    }
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
        role: config
            .roles
            .role(claims.get(&config.groups).map(String::as_str)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_claims(claims: &[(&str, &str)]) -> ApiGatewayV2httpRequest {
        let mut jwt =
            aws_lambda_events::apigw::ApiGatewayRequestAuthorizerJwtDescription::default();
        for (k, v) in claims {
            jwt.claims.insert((*k).into(), (*v).into());
        }
        let mut authorizer = aws_lambda_events::apigw::ApiGatewayRequestAuthorizer::default();
        authorizer.jwt = Some(jwt);
        let mut r = ApiGatewayV2httpRequest::default();
        r.request_context.authorizer = Some(authorizer);
        r
    }

    fn staff_of(
        request: &ApiGatewayV2httpRequest,
        id: &str,
        verified: EmailVerified,
    ) -> Result<Staff, ApiError> {
        let config = StaffClaims {
            id: id.into(),
            verified,
            ..StaffClaims::default()
        };
        staff(request, &config)
    }

    #[test]
    fn staff_are_named_by_a_verified_claim_and_nobody_without_one() {
        use EmailVerified::{NotSent, Required};
        let ok = with_claims(&[("email", "mina@example.com"), ("email_verified", "true")]);
        assert_eq!(
            staff_of(&ok, "email", Required).unwrap().id,
            "mina@example.com"
        );
        let unverified = with_claims(&[("email", "boss@example.com"), ("email_verified", "false")]);
        for verified in [Required, NotSent] {
            assert_eq!(
                staff_of(&unverified, "email", verified).unwrap_err().code,
                "unverified_identity"
            );
        }
        // a token that does not say: refused, unless the provider is known not to send it
        let silent = with_claims(&[("email", "boss@example.com")]);
        assert_eq!(
            staff_of(&silent, "email", Required).unwrap_err().code,
            "unverified_identity"
        );
        assert_eq!(
            staff_of(&silent, "email", NotSent).unwrap().id,
            "boss@example.com"
        );
        let custom = with_claims(&[("custom:owner_id", "tutor-7"), ("email_verified", "false")]);
        assert_eq!(
            staff_of(&custom, "custom:owner_id", Required).unwrap().id,
            "tutor-7"
        );
        assert_eq!(
            staff_of(&ApiGatewayV2httpRequest::default(), "email", Required)
                .unwrap_err()
                .status,
            401,
            "no authorizer, no staff"
        );
        let long = "x".repeat(129);
        let too_long = with_claims(&[("email", &long), ("email_verified", "true")]);
        assert!(staff_of(&too_long, "email", Required).is_err());
    }

    #[test]
    fn a_role_comes_from_the_groups_claim_and_none_without_one() {
        let verified = [("email", "mina@example.com"), ("email_verified", "true")];
        let with = |groups: &str| {
            let mut claims = verified.to_vec();
            claims.push(("cognito:groups", groups));
            staff(&with_claims(&claims), &StaffClaims::default()).unwrap()
        };
        assert_eq!(with("[agent]").role, Some(Role::Agent));
        assert_eq!(with("[viewer admin]").role, Some(Role::Admin));
        assert_eq!(with("[marketing]").role, None);
        let none = staff(&with_claims(&verified), &StaffClaims::default()).unwrap();
        assert_eq!(none.role, None);
        assert_eq!(Caller::Staff(none).principal(), None);
    }
}
