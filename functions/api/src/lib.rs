//! The read API and the dashboard: what CS staff look at every day.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the dashboard (a page; its data comes from the routes below) |
//! | `GET /health` | the release running (public: no data) |
//! | `GET /customers?stage=&risk=&program=&owner=&order=score\|value&limit=&cursor=` | the at-risk list |
//! | `GET /customers.csv?…` | the at-risk list (the same filters) as CSV, up to 5,000 rows |
//! | `GET /today?program=&owner=&limit=&cursor=` | at risk and not reached since the risk changed |
//! | `GET /search?q=` | a customer by id, or customers by e-mail prefix |
//! | `GET /customers/{id}?history_limit=&history_cursor=` | state, score, history, interventions |
//! | `POST /customers/{id}/notes` `{"author", "channel", "outcome"}` | staff contacted the customer |
//! | `DELETE /customers/{id}` | erasure on request |
//! | `GET /stats` | distribution, message effectiveness, churn, the active rules version |
//! | `GET /rules` | every rules version with its origin, time, overlay and backtest metrics |
//! | `GET /me` | who is asking |
//! | `GET /access?day=&limit=&cursor=` | who read personal data that day (API keys only) |
//!
//! Machines send `x-api-key` (or `Authorization: Bearer`), compared in constant time with the
//! keys in the `api-key` secret. Staff reach the same routes under `/staff/`, behind the HTTP
//! API's JWT authorizer ([`caller`]): what they do is recorded under their name, and
//! `owner=me` means them. Changes (notes, erasure) go through the events queue to the single
//! writer; reads never Scan.

pub mod build;
pub mod caller;
pub mod export;
pub mod openapi;
pub mod query;
pub mod roles;
pub mod sign_in;
pub mod views;

pub use crate::build::{AwsApi, Config, build, keys};
use crate::caller::{Caller, STAFF_PREFIX, Staff, StaffClaims};
use crate::query::{bad_cursor, customer_id, encode, list_query};
use crate::roles::{Grant, KeyScope, Route};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use chrono::{DateTime, Utc};
use journey::domain::rules::{DEFAULT_RULES_TOML, ExperimentRules};
use journey::domain::{CustomerId, Event, EventKind, Policy, RiskLevel, Rules};
use journey::http::{ApiError, Incoming, json_response};
use journey::messages::EventMessage;
use journey::ports::{
    AccessLog, AccessRecord, CustomerStore, EventQueue, JourneyReader, ListOrder, ListQuery,
    QueueError, RulesRegistry,
};
use journey::rules_versions::{ActiveRules, Approval, RulesVersion};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::Instrument;

/// The dashboard, built into the binary: nothing is loaded from elsewhere at run time.
pub const DASHBOARD: &str = include_str!("../assets/dashboard.html");
/// Days a record of a read of personal data is kept: over a year (PIPA's access records are
/// kept at least one).
pub const DEFAULT_ACCESS_DAYS: u32 = 400;

/// The secret holding the API keys (several, space-separated, during a rotation).
pub const API_KEY_SECRET: &str = "api-key";

pub struct Api<S, Q> {
    store: S,
    queue: Q,
    /// SHA-256 of each accepted key with its scope: compared in constant time, never kept in
    /// clear.
    keys: Vec<([u8; 32], KeyScope)>,
    /// The deployed rules file: with the active version's overlay, it says how `/stats` judges
    /// the experiments and who is on today's list.
    rules_text: String,
    /// How staff tokens name a member and their role.
    staff_claims: StaffClaims,
    /// The dashboard as served (with the staff sign-in's settings) and its
    /// Content-Security-Policy.
    page: (String, String),
    /// Days a record of a read of personal data is kept (`ACCESS_LOG_DAYS`).
    access_days: u32,
}

impl<S, Q> Api<S, Q>
where
    S: CustomerStore + JourneyReader + RulesRegistry + AccessLog,
    Q: EventQueue,
{
    pub fn new(store: S, queue: Q, keys: &[String]) -> Self {
        Api {
            store,
            queue,
            keys: accepted(keys),
            rules_text: DEFAULT_RULES_TOML.to_string(),
            staff_claims: StaffClaims::default(),
            page: sign_in::page(DASHBOARD, None),
            access_days: DEFAULT_ACCESS_DAYS,
        }
    }

    /// How staff tokens name a member, say they are verified and give their role.
    pub fn with_staff_claims(mut self, claims: StaffClaims) -> Self {
        self.staff_claims = claims;
        self
    }

    /// Keeps each record of a read of personal data this many days.
    pub fn with_access_days(mut self, days: u32) -> Self {
        self.access_days = days;
        self
    }

    /// Staff sign in with this provider (the page offers it beside the API key).
    pub fn with_sign_in(mut self, sign_in: Option<&sign_in::SignIn>) -> Self {
        self.page = sign_in::page(DASHBOARD, sign_in);
        self
    }

    /// The token claim naming a staff member (`STAFF_ID_CLAIM`), instead of `email`.
    pub fn with_id_claim(mut self, claim: impl Into<String>) -> Self {
        self.staff_claims.id = claim.into();
        self
    }

    /// The deployed rules file (`RULES_FILE`), instead of the built-in one.
    pub fn with_rules_text(mut self, text: impl Into<String>) -> Self {
        self.rules_text = text.into();
        self
    }

    /// The default policy of the rules in force; `None` if they cannot be read (the workers
    /// would have refused them), and the callers use the defaults.
    fn policy(&self, active: Option<&ActiveRules>) -> Option<Policy> {
        let rules = match active {
            Some(a) => a.version.rules(&self.rules_text),
            None => Rules::from_toml(&self.rules_text),
        };
        rules.ok().map(|r| r.default_policy().clone())
    }

    fn experiment_rules(&self, active: Option<&ActiveRules>) -> ExperimentRules {
        self.policy(active)
            .map(|p| p.experiments)
            .unwrap_or_default()
    }

    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let request_id = request
            .request_context
            .request_id
            .clone()
            .unwrap_or_default();
        let span = tracing::info_span!("request", %request_id, route = tracing::field::Empty);
        async {
            match self.route(&request, &request_id).await {
                Ok(response) => response,
                Err(error) => {
                    if error.status >= 500 {
                        // the canary's signal: a version failing inside is rolled back (a
                        // dependency down or a secret unset is not the version's fault)
                        if error.status == 500 {
                            journey::metrics::version_failures(1);
                        }
                        tracing::error!(status = error.status, code = error.code, %error, "request failed");
                    } else {
                        tracing::info!(status = error.status, code = error.code, "request refused");
                    }
                    error.into_response()
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn route(
        &self,
        request: &ApiGatewayV2httpRequest,
        request_id: &str,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let incoming = Incoming::from_request(request, Utc::now())?;
        tracing::Span::current().record("route", incoming.route.as_str());
        let (method, path) = incoming.route.split_once(' ').unwrap_or(("", ""));
        let segments: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .to_string()
            })
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        if method == "GET" && segments == [""] {
            return Ok(dashboard(&self.page));
        }
        if method == "GET" && segments == ["health"] {
            return Ok(json_response(200, &views::Health::now()));
        }
        let (caller, segments) = match segments.split_first() {
            Some((&STAFF_PREFIX, rest)) => {
                let staff = caller::staff(request, &self.staff_claims)?;
                (Caller::Staff(staff), rest)
            }
            _ => (self.authorize(&incoming)?, segments.as_slice()),
        };
        let (route, id) =
            Route::parse(method, segments).ok_or_else(|| ApiError::not_found(&incoming.route))?;
        let grant = route.grant(caller.principal());
        if grant == Grant::No {
            return Err(refused(&caller));
        }
        let read = |route| Reader {
            who: caller.recorded_as(),
            route,
            request_id,
            at: incoming.received_at,
        };
        let id = id.unwrap_or_default();
        let ask = Ask {
            caller: &caller,
            grant,
        };
        match route {
            Route::Me => Ok(json_response(200, &views::Me::of(&caller))),
            Route::Stats => self.stats(incoming.received_at).await,
            Route::Rules => self.rules(&incoming).await,
            Route::ApproveRules => self.approve(id, &caller, incoming.received_at).await,
            Route::Access => self.access(&incoming).await,
            Route::List => {
                let page = self.list(&incoming, ask).await?;
                self.recorded(read("GET /customers"), page).await
            }
            Route::Export => {
                let csv = self.export(&incoming, &caller).await?;
                self.recorded(read("GET /customers.csv"), csv).await
            }
            Route::Today => {
                let page = self.today(&incoming, &caller).await?;
                self.recorded(read("GET /today"), page).await
            }
            Route::Search => {
                let found = self.search(&incoming, ask).await?;
                self.recorded(read("GET /search"), found).await
            }
            Route::Customer => {
                let page = self.customer(&incoming, id, ask).await?;
                self.recorded(read("GET /customers/{id}"), page).await
            }
            Route::Note => self.note(&incoming, id, request_id, ask).await,
            Route::Erase => self.erase(&incoming, id, request_id, &caller).await,
        }
    }

    /// The presented key's id (`key:` and the first 8 hex digits of its SHA-256: names the key
    /// in records without revealing it), or 401.
    fn authorize(&self, incoming: &Incoming<'_>) -> Result<Caller, ApiError> {
        let presented = incoming
            .header("x-api-key")
            .or_else(|| {
                incoming
                    .header("authorization")
                    .and_then(|a| a.strip_prefix("Bearer "))
            })
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "missing_api_key",
                    "send the API key in x-api-key",
                    "x-api-key",
                )
            })?;
        let digest: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        // every key is compared, whichever matches: the time says nothing about which one
        let found = self.keys.iter().fold(None, |found, (k, scope)| {
            if bool::from(k.ct_eq(&digest)) {
                Some(*scope)
            } else {
                found
            }
        });
        if let Some(scope) = found {
            Ok(Caller::Key {
                id: format!("key:{}", hex::encode(&digest[..4])),
                scope,
            })
        } else {
            Err(ApiError::unauthorized(
                "bad_api_key",
                "this API key is not valid",
                "x-api-key",
            ))
        }
    }

    async fn stats(&self, now: DateTime<Utc>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let counts = self.store.counts().await.map_err(store_error)?;
        let tallies = self.store.tallies().await.map_err(store_error)?;
        let active = self.store.active_rules().await.map_err(store_error)?;
        let experiments = self.experiment_rules(active.as_ref());
        let stats = views::stats(&counts, &tallies, active.as_ref(), &experiments, now);
        Ok(json_response(200, &stats))
    }

    /// `GET /rules?limit=&before=`: the versions newest first, a page at a time, without the
    /// learned models' trees (security review L8).
    async fn rules(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let limit = query::number(incoming, "limit", 20, 1..=100)?;
        let before = query::number(incoming, "before", usize::MAX, 1..=usize::MAX)?;
        let active = self.store.active_rules().await.map_err(store_error)?;
        let mut versions = self.store.rules_versions().await.map_err(store_error)?;
        versions.retain(|v| (v.number as usize) < before);
        versions.sort_by_key(|v| std::cmp::Reverse(v.number));
        let next = (versions.len() > limit).then(|| versions[limit - 1].number);
        versions.truncate(limit);
        let page = views::RulesPage {
            active: active.map(|a| a.version.number),
            versions: versions
                .iter()
                .map(|v| {
                    let (version, model_trees) = v.summary();
                    views::RulesSummary {
                        version,
                        model_trees,
                    }
                })
                .collect(),
            next,
        };
        Ok(json_response(200, &page))
    }

    /// `POST /rules/{version}/approve`: an admin activates a calibration the weekly step bound
    /// held back (security review M4), as a new version naming them, provided the rules in
    /// force are still those it was judged against.
    async fn approve(
        &self,
        number: &str,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let number: u32 = number.parse().map_err(|_| {
            ApiError::bad_request("invalid_field", "a version number", Some("version".into()))
        })?;
        let versions = self.store.rules_versions().await.map_err(store_error)?;
        let held = versions
            .iter()
            .find(|v| v.number == number)
            .ok_or_else(|| ApiError {
                status: 404,
                code: "not_found",
                message: format!("no rules version {number}"),
                field: Some("version".into()),
                retry_after: None,
            })?;
        let Some(Approval::Awaiting { judged_against, .. }) = held.approval else {
            return Err(conflict(
                "not_awaiting",
                format!("version {number} is not waiting for an approval"),
            ));
        };
        let given = |v: &RulesVersion| matches!(v.approval, Some(Approval::Given { of, .. }) if of == number);
        if versions.iter().any(given) {
            return Err(conflict(
                "already_approved",
                format!("version {number} was approved already"),
            ));
        }
        let active = self.store.active_rules().await.map_err(store_error)?;
        let changed = || {
            conflict(
                "rules_changed",
                format!(
                    "the rules in force changed since version {number} was judged: the next calibration judges again"
                ),
            )
        };
        if active.as_ref().map(|a| a.version.number) != judged_against {
            return Err(changed());
        }
        let by = caller.recorded_as();
        let version = RulesVersion {
            number: journey::rules_versions::number_after(&versions),
            origin: held.origin,
            created_at: now,
            overlay: held.overlay.clone(),
            metrics: held.metrics.clone(),
            note: format!("version {number} approved by {by}"),
            approval: Some(Approval::Given { of: number, by }),
        };
        // stored and activated only if the active version is still the one judged against
        self.store
            .add_rules_version(&version, true, judged_against, now)
            .await
            .map_err(|e| match e {
                journey::ports::StoreError::Rejected(_) => changed(),
                other => store_error(other),
            })?;
        tracing::info!(approved = number, version = version.number, who = %caller.recorded_as(), "rules approved");
        Ok(json_response(200, &version))
    }

    /// An agent's list is their own customers: `owner` is them, whatever was asked.
    async fn list(
        &self,
        incoming: &Incoming<'_>,
        ask: Ask<'_>,
    ) -> Result<(ApiGatewayV2httpResponse, Read), ApiError> {
        let mut query = list_query(incoming, ask.caller)?;
        if let Some(me) = ask.own() {
            if query.owner.as_deref().is_some_and(|o| o != me) {
                return Err(ApiError {
                    field: Some("owner".into()),
                    ..ApiError::forbidden("not_allowed", "an agent lists their own customers")
                });
            }
            query.owner = Some(me.to_string());
        }
        self.list_page(&query, incoming.received_at).await
    }

    /// Today's list: the at-risk list of those nobody has reached since their risk changed,
    /// from the level the rules in force name (`workspace.today_from`).
    async fn today(
        &self,
        incoming: &Incoming<'_>,
        caller: &Caller,
    ) -> Result<(ApiGatewayV2httpResponse, Read), ApiError> {
        let mut query = list_query(incoming, caller)?;
        query.needing_contact_from = Some(self.today_from().await?);
        query.order = ListOrder::Value;
        self.list_page(&query, incoming.received_at).await
    }

    /// The level today's list starts at, in the rules in force.
    async fn today_from(&self) -> Result<RiskLevel, ApiError> {
        let active = self.store.active_rules().await.map_err(store_error)?;
        Ok(self
            .policy(active.as_ref())
            .map_or(RiskLevel::Warning, |p| p.workspace.today_from))
    }

    async fn list_page(
        &self,
        query: &ListQuery,
        now: DateTime<Utc>,
    ) -> Result<(ApiGatewayV2httpResponse, Read), ApiError> {
        let page = self.store.at_risk(query).await.map_err(store_error)?;
        let customers: Vec<_> = page
            .customers
            .iter()
            .map(|c| views::list_item(c, now))
            .collect();
        let rows = Read::Rows(customers.len());
        let page = views::ListPage {
            customers,
            next: page.next.map(|k| encode(&k)),
        };
        Ok((json_response(200, &page), rows))
    }

    /// The at-risk list as CSV, every page up to [`export::MAX_ROWS`].
    async fn export(
        &self,
        incoming: &Incoming<'_>,
        caller: &Caller,
    ) -> Result<(ApiGatewayV2httpResponse, Read), ApiError> {
        let mut query = list_query(incoming, caller)?;
        query.limit = 100;
        let mut rows = Vec::new();
        loop {
            let page = self.store.at_risk(&query).await.map_err(store_error)?;
            rows.extend(
                page.customers
                    .iter()
                    .map(|c| views::list_item(c, incoming.received_at)),
            );
            match page.next {
                Some(next) if rows.len() < export::MAX_ROWS => query.after = Some(next),
                _ => break,
            }
        }
        rows.truncate(export::MAX_ROWS);
        let read = Read::Rows(rows.len());
        Ok((export::csv_response(&rows, incoming.received_at)?, read))
    }

    /// `q` is an id (that customer, first) and an e-mail prefix (customers whose address
    /// starts with it).
    /// An agent finds only their own customers (see [`roles::is_agents`]).
    async fn search(
        &self,
        incoming: &Incoming<'_>,
        ask: Ask<'_>,
    ) -> Result<(ApiGatewayV2httpResponse, Read), ApiError> {
        let q = query::search_text(incoming)?;
        let limit = query::number(incoming, "limit", 20, 1..=50)?;
        let mut found = Vec::new();
        if let Ok(id) = CustomerId::new(q.trim())
            && let Some(c) = self.store.load(&id).await.map_err(store_error)?
            && c.stage.is_some()
            && !c.erased
        {
            found.push(c);
        }
        for c in self
            .store
            .search_email(&q, limit)
            .await
            .map_err(store_error)?
        {
            if found.len() < limit && !found.iter().any(|f| f.id == c.id) {
                found.push(c);
            }
        }
        if let Some(me) = ask.own() {
            let today_from = self.today_from().await?;
            found.retain(|c| roles::is_agents(c, me, today_from));
        }
        let page = views::ListPage {
            customers: found
                .iter()
                .map(|c| views::list_item(c, incoming.received_at))
                .collect(),
            next: None,
        };
        Ok((json_response(200, &page), Read::Rows(found.len())))
    }

    async fn customer(
        &self,
        incoming: &Incoming<'_>,
        id: &str,
        ask: Ask<'_>,
    ) -> Result<(ApiGatewayV2httpResponse, Read), ApiError> {
        let id = customer_id(id)?;
        let customer = self.existing(&id).await?;
        let today_from = self.today_from().await?;
        ask.may_see(&customer, today_from)?;
        let (limit, cursor) = query::history_query(incoming)?;
        let history = self
            .store
            .history(&id, limit as i32, cursor.as_deref())
            .await
            .map_err(|e| match e {
                journey::ports::StoreError::Rejected(_) => bad_cursor("history_cursor"),
                other => store_error(other),
            })?;
        let sends = self.store.sends(&id).await.map_err(store_error)?;
        let page = views::CustomerPage {
            customer: views::customer(&customer, incoming.received_at, today_from),
            history: views::HistoryView {
                next: history.next.map(|k| encode(&k)),
                entries: history.entries,
            },
            interventions: sends,
        };
        Ok((json_response(200, &page), Read::Customer(id)))
    }

    /// Records a read of personal data before its answer goes out: a read that cannot be
    /// recorded is not served (503, the client retries).
    async fn recorded(
        &self,
        reader: Reader<'_>,
        (response, read): (ApiGatewayV2httpResponse, Read),
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let (customer, rows) = match read {
            Read::Customer(id) => (Some(id.to_string()), None),
            Read::Rows(n) => (None, Some(u32::try_from(n).unwrap_or(u32::MAX))),
        };
        let record = AccessRecord {
            at: reader.at,
            who: reader.who,
            route: reader.route.to_string(),
            customer,
            rows,
            request_id: reader.request_id.to_string(),
            keep_until: reader.at + chrono::Duration::days(self.access_days.into()),
        };
        tracing::info!(
            target: "access",
            who = %record.who,
            route = %record.route,
            customer = record.customer.as_deref(),
            rows = record.rows,
            "personal data read"
        );
        self.store
            .record_read(&record)
            .await
            .map_err(|e| ApiError {
                code: "access_log_unavailable",
                ..ApiError::unavailable(format!(
                    "the read could not be recorded, so it is not served: {e}"
                ))
            })?;
        Ok(response)
    }

    /// `GET /access?day=YYYY-MM-DD&limit=&cursor=`: who read personal data that day, for a
    /// privacy officer (admins and admin keys).
    async fn access(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let day = query::day(incoming, "day")?;
        let limit = query::number(incoming, "limit", 100, 1..=1000)?;
        let cursor = incoming
            .param("cursor")
            .map(|c| query::decode("cursor", c))
            .transpose()?;
        let mut page = self
            .store
            .reads_on(day, limit as i32, cursor.as_deref())
            .await
            .map_err(|e| match e {
                journey::ports::StoreError::Rejected(_) => bad_cursor("cursor"),
                other => store_error(other),
            })?;
        page.cursor = page.cursor.map(|k| encode(&k));
        Ok(json_response(200, &page))
    }

    async fn note(
        &self,
        incoming: &Incoming<'_>,
        id: &str,
        request_id: &str,
        ask: Ask<'_>,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let id = customer_id(id)?;
        incoming.limit_size(4 * 1024)?;
        incoming.require_json()?;
        let kind = query::note(&incoming.body, ask.caller.staff())?;
        let customer = self.existing(&id).await?;
        if ask.own().is_some() {
            ask.may_see(&customer, self.today_from().await?)?;
        }
        self.submit(incoming, id, request_id, kind).await
    }

    /// Any record can be erased, a lead without a stage too. The answer says what goes and
    /// what stays; the history records who asked and when.
    async fn erase(
        &self,
        incoming: &Incoming<'_>,
        id: &str,
        request_id: &str,
        caller: &Caller,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let id = customer_id(id)?;
        if self.store.load(&id).await.map_err(store_error)?.is_none() {
            return Err(not_found(&id));
        }
        let by = caller.recorded_as();
        let kind = EventKind::Erased {
            by: Some(by.clone()),
        };
        self.submit(incoming, id, request_id, kind).await?;
        let erasure = views::Erasure::queued(&by, incoming.received_at);
        Ok(json_response(202, &erasure))
    }

    /// A change goes through the single writer; `Idempotency-Key` makes a client's retry safe.
    async fn submit(
        &self,
        incoming: &Incoming<'_>,
        id: CustomerId,
        request_id: &str,
        kind: EventKind,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let key = incoming.header("idempotency-key").unwrap_or(request_id);
        if key.is_empty() || key.chars().count() > 255 {
            return Err(ApiError::bad_request(
                "invalid_field",
                "an Idempotency-Key has 1 to 255 characters",
                Some("idempotency-key".into()),
            ));
        }
        let dedup = change_id(key, &kind, &incoming.body);
        let event = Event::staff(id, &dedup, kind, incoming.received_at)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let message = EventMessage {
            received_at: incoming.received_at,
            event,
        };
        self.queue.enqueue(&[message]).await.map_err(|e| match e {
            QueueError::Unavailable(r) => ApiError::unavailable(r),
            QueueError::Rejected(r) => ApiError::internal(r),
        })?;
        Ok(json_response(202, &views::Queued { status: "queued" }))
    }

    async fn existing(&self, id: &CustomerId) -> Result<journey::domain::Customer, ApiError> {
        match self.store.load(id).await.map_err(store_error)? {
            Some(c) if c.stage.is_some() => Ok(c),
            _ => Err(not_found(id)),
        }
    }
}

/// A caller and what the route table grants them on this route.
#[derive(Clone, Copy)]
struct Ask<'a> {
    caller: &'a Caller,
    grant: Grant,
}

impl Ask<'_> {
    /// The staff id a grant limited to their own customers is limited to.
    fn own(&self) -> Option<&str> {
        match (self.grant, self.caller.staff()) {
            (Grant::Own, Some(staff)) => Some(&staff.id),
            _ => None,
        }
    }

    /// 403 unless the caller may see this customer.
    fn may_see(
        &self,
        customer: &journey::domain::Customer,
        today_from: RiskLevel,
    ) -> Result<(), ApiError> {
        match self.own() {
            Some(me) if !roles::is_agents(customer, me, today_from) => Err(ApiError::forbidden(
                "not_your_customer",
                "an agent sees their own customers, today's list and those they contacted",
            )),
            _ => Ok(()),
        }
    }
}

/// 403 naming what the caller lacks.
fn refused(caller: &Caller) -> ApiError {
    match caller {
        Caller::Staff(Staff { role: None, .. }) => ApiError::forbidden(
            "no_role",
            "your account has no Journey role: ask an admin to add you to a group",
        ),
        Caller::Staff(Staff {
            role: Some(role), ..
        }) => ApiError::forbidden(
            "not_allowed",
            format!("the {} role may not do this", role.as_str()),
        ),
        Caller::Key { scope, .. } => ApiError::forbidden(
            "not_allowed",
            format!("a {}… API key may not do this", scope.prefix()),
        ),
    }
}

/// The keys of the `api-key` secret that are keys: scoped and long enough. Any other entry is
/// logged (by position, never its value) and refused like a wrong key.
fn accepted(keys: &[String]) -> Vec<([u8; 32], KeyScope)> {
    keys.iter()
        .enumerate()
        .filter_map(|(i, key)| match KeyScope::of(key.trim()) {
            Ok(scope) => Some((Sha256::digest(key.trim().as_bytes()).into(), scope)),
            Err(e) => {
                tracing::error!(entry = i + 1, error = %e, "an api-key entry is not accepted");
                None
            }
        })
        .collect()
}

/// What a read of personal data returned: one customer's page, or a number of rows.
enum Read {
    Customer(CustomerId),
    Rows(usize),
}

/// Who read, by which route, when.
struct Reader<'a> {
    who: String,
    route: &'static str,
    request_id: &'a str,
    at: DateTime<Utc>,
}

/// What a change is deduplicated by: the client's key bound to the operation and its body
/// (security review L1), so a retry of the same request applies once while a key reused for
/// another change (a note, then an erasure) cannot swallow it. Fixed length, whatever the key.
fn change_id(key: &str, kind: &EventKind, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [key.as_bytes(), kind.name().as_bytes(), body] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(&h.finalize()[..16])
}

fn conflict(code: &'static str, message: String) -> ApiError {
    ApiError {
        status: 409,
        code,
        message,
        field: Some("version".into()),
        retry_after: None,
    }
}

fn not_found(id: &CustomerId) -> ApiError {
    ApiError {
        status: 404,
        code: "not_found",
        message: format!("no customer `{id}`"),
        field: Some("id".into()),
        retry_after: None,
    }
}

fn dashboard((html, csp): &(String, String)) -> ApiGatewayV2httpResponse {
    let mut response = json_response(200, &json!(null));
    response.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(csp) = http::HeaderValue::from_str(csp) {
        response
            .headers
            .insert(http::header::CONTENT_SECURITY_POLICY, csp);
    }
    response.body = Some(aws_lambda_events::encodings::Body::Text(html.clone()));
    response
}

fn store_error(e: journey::ports::StoreError) -> ApiError {
    if e.is_retryable() {
        ApiError {
            status: 503,
            code: "unavailable",
            message: e.to_string(),
            field: None,
            retry_after: Some(5),
        }
    } else {
        ApiError::internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reused_for_another_change_or_body_is_another_change() {
        let note = EventKind::Unsubscribed;
        let erase = EventKind::Erased { by: None };
        let id = |key, kind: &EventKind, body: &[u8]| change_id(key, kind, body);
        assert_eq!(id("k1", &note, b"{}"), id("k1", &note, b"{}"), "a retry");
        assert_ne!(id("k1", &note, b"{}"), id("k1", &erase, b"{}"));
        assert_ne!(id("k1", &note, b"{}"), id("k1", &note, b"{\"a\":1}"));
        assert_ne!(
            id("k1", &note, b""),
            id("k", &note, b"1"),
            "parts do not run together"
        );
        assert_eq!(id(&"x".repeat(255), &note, b"").len(), 32);
    }
}
