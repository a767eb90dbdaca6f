//! Webhook ingestion: `POST /webhooks/stripe`, `/webhooks/toss`, `/webhooks/portone`,
//! `/webhooks/solapi` and `/webhooks/nhn` (text delivery reports) and `POST /events` (the
//! business's app).
//! Each request is size-checked, type-checked and signature-verified on its raw body, mapped to
//! canonical events, and queued on the events FIFO queue (group = customer) before answering.
//! Nothing is half-accepted: a batch is queued whole or refused whole.

pub mod answers;
pub mod app;
pub mod build;
pub mod keys;
pub mod mapping;
pub mod openapi;
pub mod portone;
pub mod providers;
pub mod signature;
pub mod stripe;
pub mod toss;
pub mod unsubscribe;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use chrono::{DateTime, Utc};
use journey::domain::CustomerId;
use journey::domain::Event;
use journey::domain::text::TextReport;
use journey::messages::EventMessage;
use journey::metrics::Metrics;
use journey::ports::{EventQueue, QueueError, StoreError, TextOwners};
use tracing::{Instrument, info, info_span, warn};

pub use crate::answers::{Accepted, Received};
pub use crate::build::{AwsIngest, Config, build};
pub use crate::keys::{ProviderUrls, WebhookKeys};
use crate::mapping::Mapped;
pub use journey::http;
use journey::http::{ApiError, Incoming, html_response, json_response};

/// Largest body accepted from a payment provider.
pub const MAX_PROVIDER_BODY: usize = 1024 * 1024;
/// Largest body accepted on `/events` (a batch of up to 100 events).
pub const MAX_APP_BODY: usize = 256 * 1024;

/// The ingestion handler, generic over the queue it writes to and where it finds whose a text
/// is (for delivery reports that name no customer).
pub struct Ingest<Q, O = NoOwners> {
    queue: Q,
    owners: O,
    keys: WebhookKeys,
    metrics: Metrics,
    /// App events older than this when received are refused (`inactivity.max_event_age_days`
    /// of the rules' default policy; the transition drops older provider events the same way).
    max_event_age: chrono::Duration,
}

/// No texts' owners known: a report naming no customer is acknowledged, unrouted.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOwners;

impl TextOwners for NoOwners {
    async fn text_owner(&self, _: &str) -> Result<Option<CustomerId>, StoreError> {
        Ok(None)
    }
}

impl<Q: EventQueue> Ingest<Q> {
    /// With the built-in rules' event age; see [`Ingest::with_max_event_age_days`].
    pub fn new(queue: Q, keys: WebhookKeys) -> Self {
        Ingest {
            queue,
            owners: NoOwners,
            keys,
            metrics: Metrics::new("ingest"),
            max_event_age: chrono::Duration::days(
                journey::domain::rules::DEFAULT_MAX_EVENT_AGE_DAYS.into(),
            ),
        }
    }
}

impl<Q: EventQueue, O: TextOwners> Ingest<Q, O> {
    /// Finds whose a text is in `owners` (the pending texts' table).
    pub fn with_text_owners<P: TextOwners>(self, owners: P) -> Ingest<Q, P> {
        Ingest {
            queue: self.queue,
            owners,
            keys: self.keys,
            metrics: self.metrics,
            max_event_age: self.max_event_age,
        }
    }

    /// App events older than `days` when received are refused.
    pub fn with_max_event_age_days(mut self, days: u32) -> Self {
        self.max_event_age = chrono::Duration::days(days.into());
        self
    }

    /// The queue events go to.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Handles one API Gateway request; every failure becomes a JSON error response.
    pub async fn handle(&self, request: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        let request_id = request
            .request_context
            .request_id
            .clone()
            .unwrap_or_default();
        let span = info_span!("request", %request_id, route = tracing::field::Empty);
        let response = async {
            match self.route(&request).await {
                Ok(response) => response,
                Err(error) => {
                    self.metrics.add("WebhooksRejected", 1.0);
                    if error.status >= 500 {
                        // the canary's signal: a version failing inside is rolled back (a
                        // dependency down or a secret unset is not the version's fault)
                        if error.status == 500 {
                            journey::metrics::version_failures(1);
                        }
                        tracing::error!(status = error.status, code = error.code, %error, "request failed");
                    } else {
                        warn!(status = error.status, code = error.code, field = ?error.field, %error, "request refused");
                    }
                    error.into_response()
                }
            }
        }
        .instrument(span)
        .await;
        self.metrics.flush();
        response
    }

    async fn route(
        &self,
        request: &ApiGatewayV2httpRequest,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        // API Gateway always stamps the request time; the clock is only a fallback for
        // hand-made test events, and never decides anything in the domain.
        let incoming = Incoming::from_request(request, Utc::now())?;
        tracing::Span::current().record("route", incoming.route.as_str());
        match incoming.route.as_str() {
            "POST /webhooks/stripe" => self.stripe(&incoming).await,
            "POST /webhooks/toss" => self.toss(&incoming).await,
            "POST /webhooks/portone" => self.portone(&incoming).await,
            "POST /webhooks/solapi" => self.solapi(&incoming).await,
            "POST /webhooks/nhn" => self.nhn(&incoming).await,
            "POST /events" => self.app(&incoming).await,
            "GET /unsubscribe" => {
                unsubscribe::verify(&incoming, self.keys.unsubscribe()?)?;
                Ok(html_response(200, "Unsubscribe", unsubscribe::CONFIRM))
            }
            "POST /unsubscribe" => self.unsubscribe(&incoming).await,
            route => Err(ApiError::not_found(route)),
        }
    }

    async fn stripe(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        incoming.limit_size(MAX_PROVIDER_BODY)?;
        incoming.require_json()?;
        let secrets = self.keys.stripe()?;
        signature::verify_stripe(incoming, secrets)?;
        let mapped = stripe::map(&incoming.body)?;
        self.deliver(mapped, incoming).await
    }

    /// Toss: unsigned, so nothing counts until Toss's API confirms the payment. Toss treats
    /// anything but 200 as failure: ignored and repeated webhooks answer 200.
    async fn toss(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        incoming.limit_size(MAX_PROVIDER_BODY)?;
        incoming.require_json()?;
        let api = self.keys.toss()?;
        let claim = match toss::parse(&incoming.body)? {
            Ok(claim) => claim,
            Err(reason) => return self.deliver(Mapped::Ignored(reason), incoming).await,
        };
        let mapped = match api
            .get(&claim.path())
            .await
            .map_err(|e| self.lookup_failed(e))?
        {
            Some(payment) => toss::confirm(&claim, &payment, incoming.received_at)?,
            None => Mapped::Ignored(format!("Toss knows no payment {:?}: forged", claim.lookup)),
        };
        self.deliver(mapped, incoming).await
    }

    /// PortOne V2: signed per Standard Webhooks, then the payment read back and compared.
    async fn portone(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        incoming.limit_size(MAX_PROVIDER_BODY)?;
        incoming.require_json()?;
        let portone = self.keys.portone()?;
        signature::verify_standard(incoming, &portone.keys)?;
        let claim = match portone::parse(&incoming.body)? {
            Ok(claim) => claim,
            Err(reason) => return self.deliver(Mapped::Ignored(reason), incoming).await,
        };
        let path = ["payments", claim.payment_id.as_str()];
        let mapped = match portone
            .api
            .get(&path)
            .await
            .map_err(|e| self.lookup_failed(e))?
        {
            Some(payment) => portone::confirm(&claim, &payment, incoming.received_at)?,
            None => Mapped::Ignored(format!("PortOne knows no payment {}", claim.payment_id)),
        };
        self.deliver(mapped, incoming).await
    }

    /// Solapi's delivery reports (an array; Solapi posts again unless it gets 200, five times
    /// in all): each report of ours becomes an event for its customer, whose id from the
    /// provider's message and code makes a repeat the same event. A report naming no customer
    /// (an id too long for Solapi's field) is routed by its send id while the text awaits its
    /// final report; another sender's is acknowledged and counted.
    async fn solapi(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        incoming.limit_size(MAX_PROVIDER_BODY)?;
        incoming.require_json()?;
        let token = incoming
            .query
            .iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.as_str());
        self.keys.solapi(token)?;
        let reports = journey_adapters::text::solapi::reports(&incoming.body)
            .map_err(|e| ApiError::bad_request("invalid_report", e.to_string(), None))?;
        self.deliver_reports("solapi", reports, incoming).await
    }

    /// NHN Cloud's `MESSAGE_RESULT_UPDATE` hooks: the console's static signature compared in
    /// constant time and the app key checked; each hook carries only our send id
    /// (`recipientGroupingKey`), so the customer is the one the text awaits a report from.
    /// Other events (template reviews) are acknowledged.
    async fn nhn(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        incoming.limit_size(MAX_PROVIDER_BODY)?;
        incoming.require_json()?;
        let app_key = self.keys.nhn(incoming.header(keys::NHN_SIGNATURE_HEADER))?;
        let reports = journey_adapters::text::nhn::reports(&incoming.body, app_key)
            .map_err(|e| ApiError::bad_request("invalid_report", e.to_string(), None))?;
        self.deliver_reports("nhn", reports, incoming).await
    }

    /// Queues each report of ours as an event for its customer; one unreadable or unrouted
    /// report does not hold back the others posted with it.
    async fn deliver_reports(
        &self,
        provider: &str,
        reports: Vec<Result<TextReport, journey_adapters::text::ReportError>>,
        incoming: &Incoming<'_>,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        let mut events = Vec::new();
        for report in reports {
            let report = match report {
                Ok(report) => report,
                Err(e) => {
                    self.metrics.add("TextReportsInvalid", 1.0);
                    warn!(provider, error = %e, "a text report was left out");
                    continue;
                }
            };
            let Some(customer) = self.owner_of(&report).await? else {
                self.metrics.add("TextReportsUnrouted", 1.0);
                info!(provider, send_id = %report.send_id, "a report of no pending text of ours");
                continue;
            };
            match Event::text_report(customer, provider, &report) {
                Ok(event) => events.push(event),
                Err(e) => {
                    self.metrics.add("TextReportsInvalid", 1.0);
                    warn!(provider, error = %e, "a text report was left out");
                }
            }
        }
        if events.is_empty() {
            return Ok(json_response(200, &Received::ignored("no report of ours")));
        }
        let ids = self.enqueue(events, incoming.received_at).await?;
        Ok(json_response(200, &Received::queued(ids)))
    }

    /// The customer a report names, else the one its text was sent to while it awaits a
    /// final report. The table unreachable: 503, for the provider to post again.
    async fn owner_of(&self, report: &TextReport) -> Result<Option<CustomerId>, ApiError> {
        let named = report.customer_id.as_deref().map(CustomerId::new);
        if let Some(Ok(customer)) = named {
            return Ok(Some(customer));
        }
        self.owners.text_owner(&report.send_id).await.map_err(|e| {
            tracing::error!(error = %e, "the pending texts could not be read");
            ApiError {
                code: "store_unavailable",
                ..ApiError::unavailable("the text's owner could not be read; post again")
            }
        })
    }

    /// An unreachable provider API is the provider's cue to retry (503); refused credentials
    /// too (502), while an operator fixes them: the metric's alarm says so.
    fn lookup_failed(&self, e: providers::LookupError) -> ApiError {
        self.metrics.add("ProviderLookupsFailed", 1.0);
        let (status, code, retry_after) = match e {
            providers::LookupError::Unavailable(..) => (503, "provider_unavailable", Some(60)),
            providers::LookupError::Refused(..) => (502, "provider_refused", None),
        };
        ApiError {
            status,
            code,
            message: e.to_string(),
            field: None,
            retry_after,
        }
    }

    /// A provider's mapped webhook: queued, or acknowledged with the reason it changes nothing.
    async fn deliver(
        &self,
        mapped: Mapped,
        incoming: &Incoming<'_>,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        match mapped {
            Mapped::Ignored(reason) => {
                self.metrics.add("WebhooksIgnored", 1.0);
                info!(%reason, "webhook acknowledged and ignored");
                Ok(json_response(200, &Received::ignored(reason)))
            }
            Mapped::Event(event) => {
                let ids = self.enqueue(vec![*event], incoming.received_at).await?;
                Ok(json_response(200, &Received::queued(ids)))
            }
        }
    }

    async fn app(&self, incoming: &Incoming<'_>) -> Result<ApiGatewayV2httpResponse, ApiError> {
        incoming.limit_size(MAX_APP_BODY)?;
        incoming.require_json()?;
        let webhook_id = signature::verify_standard(incoming, self.keys.app()?)?;
        let events = app::parse(&incoming.body, &webhook_id, incoming.received_at)?;
        app::within_age(
            &incoming.body,
            &events,
            incoming.received_at - self.max_event_age,
        )?;
        let ids = self.enqueue(events, incoming.received_at).await?;
        Ok(json_response(202, &Accepted::of(ids)))
    }

    async fn unsubscribe(
        &self,
        incoming: &Incoming<'_>,
    ) -> Result<ApiGatewayV2httpResponse, ApiError> {
        incoming.limit_size(4 * 1024)?;
        let customer = unsubscribe::verify(incoming, self.keys.unsubscribe()?)?;
        let event = Event::unsubscribed(customer, incoming.received_at);
        self.enqueue(vec![event], incoming.received_at).await?;
        Ok(html_response(200, "Unsubscribed", unsubscribe::DONE))
    }

    /// Queues the events; returns their ids. A batch goes out as several SQS requests, so a
    /// failure may leave part of it queued: the answer is then 503 whatever the cause, and the
    /// sender's retry of the same request (same ids) queues the rest while the queued part is
    /// applied once (the transition worker's markers).
    async fn enqueue(
        &self,
        events: Vec<Event>,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<String>, ApiError> {
        let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
        let messages: Vec<EventMessage> = events
            .into_iter()
            .map(|event| EventMessage { received_at, event })
            .collect();
        self.queue.enqueue(&messages).await.map_err(|e| {
            let reason = match e {
                QueueError::Unavailable(reason) => format!("events queue unavailable: {reason}"),
                QueueError::Rejected(reason) => format!("events queue refused them: {reason}"),
            };
            ApiError::unavailable(format!(
                "{reason}; none or part of the events were queued: send the same request again \
                 (same ids or webhook-id), events already queued are applied once"
            ))
        })?;
        self.metrics.add("EventsIngested", messages.len() as f64);
        for m in &messages {
            info!(event_id = %m.event.id, customer_id = %m.event.customer_id, kind = m.event.kind.name(), "event queued");
        }
        Ok(ids)
    }
}
