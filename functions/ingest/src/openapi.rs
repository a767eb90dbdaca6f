//! Ingestion's routes as the OpenAPI document (`docs/openapi.yaml`) describes them, from the
//! types the handler parses and answers with. The functions are only carriers of the `path`
//! descriptions: the routing is `Ingest::route`'s (a test checks both list the same routes).

use journey::http::responses::{
    BadRequest, ProviderRefused, TooLarge, Unauthorized, Unavailable, UnsupportedMediaType,
};
use journey::http::{ErrorBody, ErrorDetail};
use utoipa::OpenApi;

use crate::answers::{Accepted, Received};
use crate::app::{AppEvent, AppType};

/// The webhook routes.
#[derive(OpenApi)]
#[openapi(
    paths(
        stripe,
        toss,
        portone,
        solapi,
        nhn,
        events,
        unsubscribe_page,
        unsubscribe
    ),
    components(
        schemas(AppEvent, AppType, Received, Accepted, ErrorBody, ErrorDetail),
        responses(
            BadRequest,
            Unauthorized,
            TooLarge,
            UnsupportedMediaType,
            Unavailable,
            ProviderRefused
        )
    )
)]
pub struct Webhooks;

/// Stripe webhook endpoint
///
/// Signed by Stripe (`Stripe-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 of `"<t>.<raw body>"`
/// with the endpoint's `whsec_` secret; any `v1` of any configured secret is accepted, for
/// rotation; ±300 s tolerance). Mapped types: `checkout.session.completed` and
/// `checkout.session.async_payment_succeeded` (payment, or a trial when a subscription has
/// nothing to pay yet), `invoice.paid` → payment succeeded (zero-amount invoices ignored),
/// `invoice.payment_failed` → payment failed, `charge.refunded` → refund requested,
/// `customer.subscription.deleted` → subscription cancelled,
/// `customer.subscription.trial_will_end` → trial ending, `invoice.upcoming` → renewal
/// upcoming. Other types are acknowledged (200) and ignored. The customer id is
/// `data.object.metadata.customer_id`, else `client_reference_id`, else the subscription's
/// `metadata.customer_id`, else the Stripe customer id.
#[utoipa::path(
    post,
    path = "/webhooks/stripe",
    tag = "webhooks",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix>,v1=<hex>`")),
    request_body(content = Object, description = "A Stripe Event object, at most 1 MiB.", content_type = "application/json"),
    responses(
        (status = 200, description = "Queued, or acknowledged and ignored.", body = Received),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub fn stripe() {}

/// Toss Payments webhook endpoint
///
/// Toss signs no payment webhook, so the body is only a hint: the payment is read back from
/// Toss (`GET /v1/payments/{paymentKey}`, or `GET /v1/payments/orders/{orderId}` for a
/// `DEPOSIT_CALLBACK`, with the `toss-secret-key` secret as Basic auth) before anything
/// changes, and a webhook whose `status` disagrees with the payment's, or a deposit callback
/// whose `secret` is not the payment's, is acknowledged and ignored. `PAYMENT_STATUS_CHANGED`
/// and `DEPOSIT_CALLBACK` map DONE → payment succeeded (`totalAmount`), CANCELED /
/// PARTIAL_CANCELED → refund requested (the last `cancelReason`), ABORTED / EXPIRED → payment
/// failed; other statuses and event types are acknowledged and ignored. The customer id is the
/// payment's `metadata.customer_id`, else its `customerKey`; `metadata.email` and
/// `metadata.locale` are kept. The event id is
/// `toss:<paymentKey>:<status>:<lastTransactionKey>`. Toss treats anything but 200 as a
/// failure and retries, so repeats and ignored webhooks answer 200.
#[utoipa::path(
    post,
    path = "/webhooks/toss",
    tag = "webhooks",
    request_body(content = Object, description = "`{eventType, createdAt, data}` or a deposit callback `{createdAt, secret, status, transactionKey, orderId}`, at most 1 MiB.", content_type = "application/json"),
    responses(
        (status = 200, description = "Confirmed and queued, or acknowledged and ignored (with the reason).", body = Received),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 502, response = ProviderRefused),
        (status = 503, response = Unavailable),
    )
)]
pub fn toss() {}

/// PortOne V2 webhook endpoint (version 2024-04-25)
///
/// Signed per Standard Webhooks with the endpoint's `whsec_` secret (`portone-webhook`; two
/// during a rotation; ±300 s). `Transaction.Paid` → payment succeeded (`amount.total`),
/// `Transaction.Cancelled` / `Transaction.PartialCancelled` → refund requested (the last
/// cancellation's `reason`), `Transaction.Failed` → payment failed. The payment is read back
/// from `GET /payments/{paymentId}` (`Authorization: PortOne <portone-api-secret>`) and must
/// carry the status the type implies (and, for Paid, the same `transactionId`); otherwise the
/// webhook is stale and acknowledged without effect. Other types (`BillingKey.*`,
/// `Transaction.Ready` …), the older 2024-01-01 body and unknown fields are acknowledged and
/// ignored. The customer id is `customer_id` in the payment's `customData` (a JSON object),
/// else `customer.id`; `customer.email` is kept. The event id is
/// `portone:<paymentId>:<status>:<cancellationId or transactionId>`.
#[utoipa::path(
    post,
    path = "/webhooks/portone",
    tag = "webhooks",
    params(
        ("webhook-id" = String, Header),
        ("webhook-timestamp" = i64, Header),
        ("webhook-signature" = String, Header),
    ),
    request_body(content = Object, description = "`{type, timestamp, data: {paymentId, storeId, transactionId, cancellationId?}}`, at most 1 MiB.", content_type = "application/json"),
    responses(
        (status = 200, description = "Confirmed and queued, or acknowledged and ignored (with the reason).", body = Received),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 502, response = ProviderRefused),
        (status = 503, response = Unavailable),
    )
)]
pub fn portone() {}

/// Solapi's text delivery reports
///
/// Solapi's single-report webhook: a JSON array of `{eventDataId, data: {messageId, type,
/// statusCode, dateReported, customFields: {send_id, customer_id}, …}, retryCount}`. Solapi
/// signs nothing, so the URL carries the secret: `?token=<solapi-webhook-token>` (two during a
/// rotation), compared in constant time. Each report of ours becomes a `text_reported` event
/// for its customer, with the id `solapi:<messageId>:<statusCode>` (a repeat is the same
/// event); reports naming no customer of ours are acknowledged and counted. Solapi posts again
/// unless it gets 200, five times in all.
#[utoipa::path(
    post,
    path = "/webhooks/solapi",
    tag = "webhooks",
    params(("token" = String, Query, description = "The `solapi-webhook-token` secret.")),
    request_body(content = Object, description = "An array of Solapi's single reports, at most 1 MiB.", content_type = "application/json"),
    responses(
        (status = 200, description = "Queued, or acknowledged without a report of ours.", body = Received),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub fn solapi() {}

/// NHN Cloud's text delivery reports
///
/// NHN Cloud KakaoTalk Bizmessage's webhook: `{appKey, event, hooks: [{requestId,
/// recipientSeq, resultCode, recipientGroupingKey, receiveDate, …}]}`. The header
/// `X-Toast-Webhook-Signature` carries the value typed into NHN's console (the
/// `nhn-webhook-signature` secret; static, not an HMAC), compared in constant time; `appKey`
/// must be this deployment's. A `MESSAGE_RESULT_UPDATE` hook names only our send id
/// (`recipientGroupingKey`): it becomes a `text_reported` event for the customer whose text
/// awaits a report. Other events, and hooks of texts not awaiting one, are acknowledged.
#[utoipa::path(
    post,
    path = "/webhooks/nhn",
    tag = "webhooks",
    params(("X-Toast-Webhook-Signature" = String, Header, description = "The `nhn-webhook-signature` secret.")),
    request_body(content = Object, description = "NHN's webhook body, at most 1 MiB.", content_type = "application/json"),
    responses(
        (status = 200, description = "Queued, or acknowledged without a report of ours.", body = Received),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub fn nhn() {}

/// The business's own events (one, or a batch of up to 100)
///
/// Signed per Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` (stable
/// across retries), `webhook-timestamp` (unix seconds, ±300 s), `webhook-signature`
/// (space-separated `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`, key = the
/// base64 after `whsec_`). A batch is accepted whole or refused whole. An event's id is its
/// `id` field, else `<webhook-id>` (single) or `<webhook-id>:<index>` (batch): retrying with
/// the same `webhook-id` never applies an event twice. At most 256 KiB.
#[utoipa::path(
    post,
    path = "/events",
    tag = "webhooks",
    params(
        ("webhook-id" = String, Header),
        ("webhook-timestamp" = i64, Header),
        ("webhook-signature" = String, Header),
    ),
    request_body(content = AppEvents, content_type = "application/json"),
    responses(
        (status = 202, description = "Every event queued.", body = Accepted),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
pub fn events() {}

/// One event, or a batch of 1 to 100.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(
    dead_code,
    reason = "a shape for the document; `app::parse` reads the body"
)]
pub enum AppEvents {
    One(Box<AppEvent>),
    Batch(Vec<AppEvent>),
}

/// The unsubscribe page a customer's link opens (asks; unsubscribes nobody)
#[utoipa::path(
    get,
    path = "/unsubscribe",
    tag = "customers",
    params(
        ("c" = String, Query, description = "The customer id."),
        ("t" = String, Query, description = "The link's HMAC token."),
    ),
    responses(
        (status = 200, description = "A confirmation page with a one-click button.", content_type = "text/html", body = String),
        (status = 400, response = BadRequest),
    )
)]
pub fn unsubscribe_page() {}

/// One-click unsubscribe (RFC 8058 List-Unsubscribe-Post, or the page's button)
#[utoipa::path(
    post,
    path = "/unsubscribe",
    tag = "customers",
    params(
        ("c" = String, Query, description = "The customer id."),
        ("t" = String, Query, description = "The link's HMAC token."),
    ),
    request_body(content = String, description = "`List-Unsubscribe=One-Click`", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Recorded (through the events queue); marketing e-mail stops. Repeating it changes nothing.", content_type = "text/html", body = String),
        (status = 400, response = BadRequest),
        (status = 503, response = Unavailable),
    )
)]
pub fn unsubscribe() {}
