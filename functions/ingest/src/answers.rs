//! What ingestion answers, typed: the OpenAPI document's schemas are generated from these.

use serde::Serialize;
use utoipa::ToSchema;

/// A provider's webhook, answered 200 (anything else makes the provider retry): queued, or
/// acknowledged and ignored with the reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Always `true`.
    pub received: bool,
    /// The ids of the events queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y"]))]
    pub queued: Option<Vec<String>>,
    /// Why the webhook changes nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "event type customer.created is not used")]
    pub ignored: Option<String>,
}

impl Received {
    pub fn queued(ids: Vec<String>) -> Self {
        Received {
            received: true,
            queued: Some(ids),
            ignored: None,
        }
    }

    pub fn ignored(reason: impl Into<String>) -> Self {
        Received {
            received: true,
            queued: None,
            ignored: Some(reason.into()),
        }
    }
}

/// The app's events, every one queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub accepted: usize,
    /// Their event ids, in the order sent.
    pub ids: Vec<String>,
}

impl Accepted {
    pub fn of(ids: Vec<String>) -> Self {
        Accepted {
            accepted: ids.len(),
            ids,
        }
    }
}
