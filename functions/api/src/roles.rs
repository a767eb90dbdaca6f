//! Who may do what (security review M2). Staff get a role from their identity provider's
//! groups claim; machines get a scope from their API key's prefix. One table, [`ROUTES`], says
//! for every route what each of them may do; the router reads it and a test holds the two
//! together, so a route cannot be added without saying who may call it.

use std::collections::BTreeMap;

use journey::domain::{Customer, RiskLevel};

/// A staff member's role, from the groups claim (`cognito:groups` unless the deployment says
/// otherwise). Several groups: the highest role counts.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The numbers only: statistics and rules, no customer's data.
    Viewer,
    /// CS staff: today's list, their own customers, contacts on them.
    Agent,
    /// Everything: every customer, the export, erasure, the access log, rules approvals.
    Admin,
}

impl Role {
    /// The role's name, as its group is named by default and as messages say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }
}

/// What a machine's API key may do: the prefix of the key itself (`admin_…`), so a key says
/// what it is wherever it is pasted and cannot be widened without a new key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Records contacts from another system (a call centre's); reads nothing.
    Ingest,
    /// Reads what an admin reads, except the export and the access log; changes nothing.
    Read,
    Admin,
}

/// Shortest secret part of an API key, after its scope prefix: 32 characters (128 bits as
/// hex); a shorter key is not accepted.
pub const MIN_KEY_CHARS: usize = 32;

/// Why an entry of the `api-key` secret is not a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("an API key starts with its scope: ingest_, read_ or admin_")]
    NoScope,
    #[error("an API key's secret part has at least {MIN_KEY_CHARS} characters")]
    TooShort,
}

impl KeyScope {
    const ALL: [KeyScope; 3] = [KeyScope::Ingest, KeyScope::Read, KeyScope::Admin];

    /// The scope `key` names, if it is long enough to be a key.
    pub fn of(key: &str) -> Result<KeyScope, KeyError> {
        let (scope, secret) = Self::ALL
            .iter()
            .find_map(|s| key.strip_prefix(s.prefix()).map(|rest| (*s, rest)))
            .ok_or(KeyError::NoScope)?;
        if secret.chars().count() < MIN_KEY_CHARS {
            return Err(KeyError::TooShort);
        }
        Ok(scope)
    }

    pub fn prefix(self) -> &'static str {
        match self {
            KeyScope::Ingest => "ingest_",
            KeyScope::Read => "read_",
            KeyScope::Admin => "admin_",
        }
    }
}

/// A caller as the table knows them: a staff role or a key scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    Staff(Role),
    Key(KeyScope),
}

impl Principal {
    pub const ALL: [Principal; 6] = [
        Principal::Staff(Role::Viewer),
        Principal::Staff(Role::Agent),
        Principal::Staff(Role::Admin),
        Principal::Key(KeyScope::Ingest),
        Principal::Key(KeyScope::Read),
        Principal::Key(KeyScope::Admin),
    ];

    fn column(self) -> usize {
        match self {
            Principal::Staff(Role::Viewer) => 0,
            Principal::Staff(Role::Agent) => 1,
            Principal::Staff(Role::Admin) => 2,
            Principal::Key(KeyScope::Ingest) => 3,
            Principal::Key(KeyScope::Read) => 4,
            Principal::Key(KeyScope::Admin) => 5,
        }
    }
}

/// How much of a route a principal may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    No,
    /// Only for their own customers (see [`is_agents`]); lists narrowed to them.
    Own,
    All,
}

/// The API's routes (the dashboard page at `/` is public: it holds no data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Me,
    Stats,
    Rules,
    ApproveRules,
    Access,
    List,
    Export,
    Today,
    Search,
    Customer,
    Note,
    Erase,
}

/// One row of [`ROUTES`]: a route, its method and path, and the grant of each principal in
/// [`Principal::ALL`]'s order: viewer, agent, admin, ingest key, read key, admin key.
pub struct RouteRule {
    pub route: Route,
    pub method: &'static str,
    pub path: &'static str,
    pub grants: [Grant; 6],
}

use Grant::{All, No, Own};

/// Every route and who may call it. `/me` is open to everyone, so a member without a role
/// learns why they see nothing.
pub const ROUTES: [RouteRule; 12] = [
    rule(Route::Me, "GET", "/me", [All, All, All, All, All, All]),
    rule(Route::Stats, "GET", "/stats", [All, All, All, No, All, All]),
    rule(Route::Rules, "GET", "/rules", [All, All, All, No, All, All]),
    rule(
        Route::ApproveRules,
        "POST",
        "/rules/{version}/approve",
        [No, No, All, No, No, All],
    ),
    rule(Route::Access, "GET", "/access", [No, No, All, No, No, All]),
    rule(
        Route::List,
        "GET",
        "/customers",
        [No, Own, All, No, All, All],
    ),
    rule(
        Route::Export,
        "GET",
        "/customers.csv",
        [No, No, All, No, No, All],
    ),
    rule(Route::Today, "GET", "/today", [No, All, All, No, All, All]),
    rule(
        Route::Search,
        "GET",
        "/search",
        [No, Own, All, No, All, All],
    ),
    rule(
        Route::Customer,
        "GET",
        "/customers/{id}",
        [No, Own, All, No, All, All],
    ),
    rule(
        Route::Note,
        "POST",
        "/customers/{id}/notes",
        [No, Own, All, All, No, All],
    ),
    rule(
        Route::Erase,
        "DELETE",
        "/customers/{id}",
        [No, No, All, No, No, All],
    ),
];

const fn rule(
    route: Route,
    method: &'static str,
    path: &'static str,
    grants: [Grant; 6],
) -> RouteRule {
    RouteRule {
        route,
        method,
        path,
        grants,
    }
}

impl Route {
    /// The route a request names, with its `{id}` or `{version}` segment.
    pub fn parse<'a>(method: &str, segments: &[&'a str]) -> Option<(Route, Option<&'a str>)> {
        Some(match (method, segments) {
            ("GET", ["me"]) => (Route::Me, None),
            ("GET", ["stats"]) => (Route::Stats, None),
            ("GET", ["rules"]) => (Route::Rules, None),
            ("POST", ["rules", version, "approve"]) => (Route::ApproveRules, Some(*version)),
            ("GET", ["access"]) => (Route::Access, None),
            ("GET", ["customers"]) => (Route::List, None),
            ("GET", ["customers.csv"]) => (Route::Export, None),
            ("GET", ["today"]) => (Route::Today, None),
            ("GET", ["search"]) => (Route::Search, None),
            ("GET", ["customers", id]) => (Route::Customer, Some(*id)),
            ("POST", ["customers", id, "notes"]) => (Route::Note, Some(*id)),
            ("DELETE", ["customers", id]) => (Route::Erase, Some(*id)),
            _ => return None,
        })
    }

    /// What `who` may do here; a staff member without a role may only ask who they are.
    pub fn grant(self, who: Option<Principal>) -> Grant {
        let row = ROUTES.iter().find(|r| r.route == self);
        match (row, who) {
            (Some(row), Some(who)) => row.grants[who.column()],
            (Some(_), None) if self == Route::Me => All,
            _ => No,
        }
    }

    /// Every route `who` may use, for `/me` (the page shows only these).
    pub fn allowed(who: Option<Principal>) -> Vec<Route> {
        ROUTES
            .iter()
            .map(|r| r.route)
            .filter(|r| r.grant(who) != No)
            .collect()
    }
}

/// Whether a customer is an agent's to read and note: they own them, the customer is on today's
/// list (`today_from` up, nobody reached them since), or they were the last to contact them (so
/// the contact they just recorded does not lock them out).
pub fn is_agents(customer: &Customer, staff_id: &str, today_from: RiskLevel) -> bool {
    customer
        .profile
        .owner
        .as_ref()
        .is_some_and(|o| o.id == staff_id)
        || customer.needs_contact(today_from)
        || customer
            .last_contact
            .as_ref()
            .is_some_and(|c| c.by == staff_id)
}

/// Which group names give which role (`STAFF_ROLE_GROUPS`, `admin=journey-admin,agent=cs`):
/// by default the groups are named for the roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleGroups(BTreeMap<String, Role>);

impl Default for RoleGroups {
    fn default() -> Self {
        RoleGroups(BTreeMap::from([
            ("viewer".into(), Role::Viewer),
            ("agent".into(), Role::Agent),
            ("admin".into(), Role::Admin),
        ]))
    }
}

impl std::str::FromStr for RoleGroups {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut map = BTreeMap::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (role, group) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}`: role=group"))?;
            let role = match role.trim() {
                "viewer" => Role::Viewer,
                "agent" => Role::Agent,
                "admin" => Role::Admin,
                other => return Err(format!("`{other}`: viewer, agent or admin")),
            };
            map.insert(group.trim().to_string(), role);
        }
        if map.is_empty() {
            return Err("no role=group pairs".into());
        }
        Ok(RoleGroups(map))
    }
}

impl RoleGroups {
    /// The highest role among the groups of a claim as API Gateway passes it: `[a b]` for an
    /// array, else a single name or names separated by commas or spaces.
    pub fn role(&self, claim: Option<&str>) -> Option<Role> {
        let claim = claim?.trim();
        let inner = claim
            .strip_prefix('[')
            .and_then(|c| c.strip_suffix(']'))
            .unwrap_or(claim);
        inner
            .split([',', ' '])
            .map(|g| g.trim().trim_matches('"'))
            .filter_map(|g| self.0.get(g).copied())
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_in_the_table_is_the_route_the_router_finds() {
        for row in &ROUTES {
            let path = row.path.replace("{id}", "c-1").replace("{version}", "7");
            let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
            let found = Route::parse(row.method, &segments).map(|(r, _)| r);
            assert_eq!(found, Some(row.route), "{} {}", row.method, row.path);
        }
        let routes: std::collections::HashSet<Route> = ROUTES.iter().map(|r| r.route).collect();
        assert_eq!(routes.len(), ROUTES.len(), "one row per route");
    }

    #[test]
    fn only_admins_export_erase_read_the_access_log_and_approve() {
        for route in [
            Route::Export,
            Route::Erase,
            Route::Access,
            Route::ApproveRules,
        ] {
            for who in Principal::ALL {
                let admin = matches!(
                    who,
                    Principal::Staff(Role::Admin) | Principal::Key(KeyScope::Admin)
                );
                assert_eq!(route.grant(Some(who)) == All, admin, "{route:?} {who:?}");
            }
        }
        assert_eq!(Route::allowed(None), vec![Route::Me], "no role, only /me");
        let ingest = Route::allowed(Some(Principal::Key(KeyScope::Ingest)));
        assert_eq!(ingest, vec![Route::Me, Route::Note], "ingest reads nothing");
    }

    #[test]
    fn keys_name_their_scope_and_are_long() {
        let long = "0".repeat(MIN_KEY_CHARS);
        assert_eq!(KeyScope::of(&format!("admin_{long}")), Ok(KeyScope::Admin));
        assert_eq!(KeyScope::of(&format!("read_{long}")), Ok(KeyScope::Read));
        assert_eq!(
            KeyScope::of(&format!("ingest_{long}")),
            Ok(KeyScope::Ingest)
        );
        assert_eq!(KeyScope::of(&long), Err(KeyError::NoScope));
        assert_eq!(KeyScope::of("admin_short"), Err(KeyError::TooShort));
    }

    #[test]
    fn the_groups_claim_gives_the_highest_role_in_any_format() {
        let groups = RoleGroups::default();
        assert_eq!(groups.role(Some("[agent admin]")), Some(Role::Admin));
        assert_eq!(groups.role(Some("viewer")), Some(Role::Viewer));
        assert_eq!(groups.role(Some("viewer,agent")), Some(Role::Agent));
        assert_eq!(groups.role(Some("[\"agent\"]")), Some(Role::Agent));
        assert_eq!(groups.role(Some("[other]")), None);
        assert_eq!(groups.role(None), None);
        let custom: RoleGroups = "admin=journey-admin, agent=cs-team".parse().unwrap();
        assert_eq!(custom.role(Some("[cs-team]")), Some(Role::Agent));
        assert_eq!(
            custom.role(Some("[admin]")),
            None,
            "only the configured names"
        );
        assert!("boss=x".parse::<RoleGroups>().is_err());
    }
}
