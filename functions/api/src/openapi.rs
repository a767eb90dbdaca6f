//! The read API's routes as the OpenAPI document (`docs/openapi.yaml`) describes them, from
//! the types the handler answers with. The functions are only carriers of the `path`
//! descriptions: the routing is `Api::route`'s (a test checks both list the same routes).

use journey::domain::{RiskLevel, Stage};
use journey::http::responses::{BadRequest, NotFound, Unauthorized, Unavailable};
use utoipa::ToResponse;
use utoipa::openapi::PathItem;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::views::{CustomerPage, Erasure, ListPage, Me, Queued, RulesPage, Stats};
use journey::ports::AccessPage;

/// The dashboard and the read API.
#[derive(OpenApi)]
#[openapi(
    paths(
        dashboard, health, stats, rules, approve, customers, export, today, search, me, access, customer,
        erase, note
    ),
    components(responses(NotFound)),
    modifiers(&KeyScheme, &StaffRoutes)
)]
pub struct ReadApi;

/// Every route with the API key, again under `/staff` with the staff's ID token instead (the
/// HTTP API's JWT authorizer verifies it; see [`crate::caller`]).
struct StaffRoutes;

impl Modify for StaffRoutes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "staffJwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An ID token from the staff identity provider (StaffIssuer): notes, contacts and erasures record the staff member, and `owner=me` means them.",
                    ))
                    .build(),
            ),
        );
        let staff_security = vec![SecurityRequirement::new("staffJwt", Vec::<String>::new())];
        let copies: Vec<(String, PathItem)> = openapi
            .paths
            .paths
            .iter()
            .filter(|(path, _)| !PUBLIC.contains(&path.as_str()))
            .map(|(path, item)| {
                let mut item = item.clone();
                for op in operations(&mut item) {
                    op.security = Some(staff_security.clone());
                    if let Some(id) = &op.operation_id {
                        op.operation_id = Some(format!("staff_{id}"));
                    }
                    op.responses
                        .responses
                        .entry("401".into())
                        .or_insert_with(|| Unauthorized::response().1);
                }
                (format!("/staff{path}"), item)
            })
            .collect();
        openapi.paths.paths.extend(copies);
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.post.as_mut(),
        item.put.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The API key every route but the dashboard's page asks for.
struct KeyScheme;

impl Modify for KeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
    }
}

/// The dashboard (HTML, self-contained; it calls the routes below with the API key)
#[utoipa::path(
    get,
    path = "/",
    tag = "dashboard",
    responses((status = 200, description = "The page.", content_type = "text/html", body = String))
)]
pub fn dashboard() {}

/// The paths anyone may read (they hold no data): no key, no staff twin.
pub const PUBLIC: [&str; 2] = ["/", "/health"];

/// The release running: public, for a deploy's smoke check
#[utoipa::path(
    get,
    path = "/health",
    tag = "dashboard",
    responses((status = 200, description = "The version of this release.", body = crate::views::Health))
)]
pub fn health() {}

/// Distribution, message effectiveness and churn, from the exact counters
#[utoipa::path(
    get,
    path = "/stats",
    tag = "dashboard",
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The dashboard's numbers.", body = Stats),
        (status = 401, response = Unauthorized),
    )
)]
pub fn stats() {}

/// The rules versions (overlays over the deployed rules file), newest first, with origin, time and backtest metrics
#[utoipa::path(
    get,
    path = "/rules",
    tag = "dashboard",
    security(("apiKey" = [])),
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "20 when absent."),
        ("before" = Option<u32>, Query, description = "The previous page's `next`: versions numbered below it."),
    ),
    responses(
        (status = 200, description = "A page of versions, newest first (a learned model's trees left out: `model_trees`), and which one is active.", body = RulesPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    )
)]
pub fn rules() {}

/// The at-risk list (customers at caution, warning or danger)
#[utoipa::path(
    get,
    path = "/customers",
    tag = "customers",
    security(("apiKey" = [])),
    params(
        ("risk" = Option<RiskLevel>, Query, description = "One level (`caution`, `warning` or `danger`); every level above `none` when absent."),
        ("stage" = Option<Stage>, Query),
        ("program" = Option<String>, Query),
        ("owner" = Option<String>, Query, description = "The owner's id; `me`: the signed-in staff member (under `/staff` only)."),
        ("order" = Option<String>, Query, description = "`value` (the default): score × revenue to date, the most valuable first; `score`: the highest risk first."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "20 when absent."),
        ("cursor" = Option<String>, Query, description = "The previous page's `next`."),
    ),
    responses(
        (status = 200, description = "One page.", body = ListPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    )
)]
pub fn customers() {}

/// The at-risk list as CSV (the same filters as `/customers`, every page up to 5,000 rows)
///
/// UTF-8 with a byte-order mark; a cell a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, tab or return) is prefixed with `'`.
#[utoipa::path(
    get,
    path = "/customers.csv",
    tag = "customers",
    security(("apiKey" = [])),
    params(
        ("risk" = Option<RiskLevel>, Query),
        ("stage" = Option<Stage>, Query),
        ("program" = Option<String>, Query),
        ("owner" = Option<String>, Query, description = "As for `/customers`."),
        ("order" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "id, email, stage, risk, score, value_at_risk, revenue, currency, days_inactive, owner_id, owner_name, program, top_signals.", content_type = "text/csv", body = String),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    )
)]
pub fn export() {}

/// Today's list: customers at risk whom nobody on staff has reached since their risk changed
///
/// At `workspace.today_from` (rules) or above, most valuable first. A contact recorded with
/// `reached`, `saved` or `lost` (or none) takes the customer off until their risk changes
/// again; `no_answer` leaves them on.
#[utoipa::path(
    get,
    path = "/today",
    tag = "customers",
    security(("apiKey" = [])),
    params(
        ("risk" = Option<RiskLevel>, Query),
        ("stage" = Option<Stage>, Query),
        ("program" = Option<String>, Query),
        ("owner" = Option<String>, Query, description = "As for `/customers` (`me` for the signed-in staff member)."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "One page.", body = ListPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    )
)]
pub fn today() {}

/// Find a customer: by id, or by the start of their e-mail address (any case)
#[utoipa::path(
    get,
    path = "/search",
    tag = "customers",
    security(("apiKey" = [])),
    params(
        ("q" = String, Query, description = "An id (that customer first) or the start of an address; 1 to 254 characters."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "20 when absent."),
    ),
    responses(
        (status = 200, description = "The customers found (erased ones never), by address.", body = ListPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    )
)]
pub fn search() {}

/// Who is asking: the signed-in staff member, or an API key's id
#[utoipa::path(
    get,
    path = "/me",
    tag = "dashboard",
    security(("apiKey" = [])),
    responses(
        (status = 200, description = "The caller.", body = Me),
        (status = 401, response = Unauthorized),
    )
)]
pub fn me() {}

/// Who read personal data on a day (PIPA's access records): every answer of a customer's page,
/// a list, a search or an export is recorded before it goes out, kept `AccessLogRetentionDays`
#[utoipa::path(
    get,
    path = "/access",
    tag = "privacy",
    security(("apiKey" = [])),
    params(
        ("day" = String, Query, description = "The UTC day, YYYY-MM-DD."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "100 when absent."),
        ("cursor" = Option<String>, Query, description = "The previous page's `cursor`."),
    ),
    responses(
        (status = 200, description = "The reads of that day, oldest first.", body = AccessPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not an admin (`not_allowed`)."),
    )
)]
pub fn access() {}

/// Approve a calibration held back by the weekly step bound (admins only)
///
/// Calibration activates a proposal on its own only when it moves no weight or threshold more
/// than `calibration.max_step` points and no inactivity day more than `max_day_step`, and adds
/// or changes no learned model; otherwise it stores the version with `approval.status =
/// awaiting`. Approving stores a new version with the same overlay that names the approver
/// (`approval.status = given`) and activates it, provided the rules in force are still those
/// the proposal was judged against.
#[utoipa::path(
    post,
    path = "/rules/{version}/approve",
    tag = "rules",
    security(("apiKey" = [])),
    params(("version" = u32, Path, description = "The held version's number.")),
    responses(
        (status = 200, description = "The new, active version.", body = journey::rules_versions::RulesVersion),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Not an admin (`not_allowed`)."),
        (status = 404, response = NotFound),
        (status = 409, description = "`not_awaiting`, `already_approved`, or `rules_changed` (the rules in force are no longer those it was judged against)."),
    )
)]
pub fn approve() {}

/// A customer's state, score, history and interventions
#[utoipa::path(
    get,
    path = "/customers/{id}",
    tag = "customers",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path),
        ("history_limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "50 when absent."),
        ("history_cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, description = "The customer, one page of their history (newest first) and their send records.", body = CustomerPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
pub fn customer() {}

/// Erasure on request (PIPA, GDPR)
///
/// Queues the erasure through the single writer, for any record (a lead without a stage too):
/// the state's personal fields (e-mail, locale, time zone, program, owner, activity, the
/// churn's free-text detail) are removed, and so are the send records' provider details. An
/// erasure line in the event log leaves the customer out of every read of it (calibration, the
/// export); its lines there, without contact details or free text, are deleted when the log
/// expires (`EventLogDays`). Stage and risk stay, so the anonymised counters stay right; later
/// events for the id are dropped and counted, not stored. The history records who asked.
#[utoipa::path(
    delete,
    path = "/customers/{id}",
    tag = "customers",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header),
    ),
    responses(
        (status = 202, description = "Queued; says who asked, when, and what goes and what stays.", body = Erasure),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub fn erase() {}

/// Staff contacted the customer (recorded in the history)
#[utoipa::path(
    post,
    path = "/customers/{id}/notes",
    tag = "customers",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry record the note once."),
    ),
    request_body(content = crate::query::NoteRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Queued.", body = Queued),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub fn note() {}
