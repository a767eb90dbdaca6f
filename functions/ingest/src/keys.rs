//! The webhook secrets, read once per cold start. A source whose secret is not set is
//! disabled: its route answers 503 `not_configured` (so the provider keeps retrying until an
//! operator sets it) and start-up logs which routes are live.

use journey::ports::{SecretError, SecretSource};
use journey::secrets::split_rotation;

use crate::signature::{StandardKeys, StripeSecrets};
use journey::http::ApiError;

/// Secret names: `JOURNEY_SECRET_<NAME>` locally, `<SECRETS_SSM_PREFIX>/<name>` in AWS.
pub const STRIPE_SECRET: &str = "stripe-webhook";
pub const APP_SECRET: &str = "app-webhook";

#[derive(Clone, Default)]
pub struct WebhookKeys {
    stripe: Option<StripeSecrets>,
    app: Option<StandardKeys>,
    unsubscribe: Option<Vec<Vec<u8>>>,
}

impl WebhookKeys {
    pub fn new(stripe: Option<StripeSecrets>, app: Option<StandardKeys>) -> Self {
        WebhookKeys {
            stripe,
            app,
            unsubscribe: None,
        }
    }

    /// A key that signs unsubscribe links (the e-mail sender's `unsubscribe-key`).
    pub fn with_unsubscribe_key(mut self, key: Vec<u8>) -> Self {
        self.unsubscribe.get_or_insert_with(Vec::new).push(key);
        self
    }

    /// Reads every secret; a missing one disables its route, an unreadable one fails start-up.
    pub async fn load(source: &impl SecretSource) -> Result<Self, String> {
        let stripe = optional(source, STRIPE_SECRET)
            .await?
            .map(|v| StripeSecrets::new(&split_rotation(&v)))
            .transpose()?;
        let app = optional(source, APP_SECRET)
            .await?
            .map(|v| StandardKeys::new(&split_rotation(&v)))
            .transpose()?;
        let unsubscribe = optional(source, journey::unsubscribe::SECRET)
            .await?
            .map(|v| {
                split_rotation(&v)
                    .into_iter()
                    .map(String::into_bytes)
                    .collect()
            });
        tracing::info!(
            stripe = stripe.is_some(),
            app = app.is_some(),
            unsubscribe = unsubscribe.is_some(),
            "webhook routes configured"
        );
        Ok(WebhookKeys {
            stripe,
            app,
            unsubscribe,
        })
    }

    pub fn stripe(&self) -> Result<&StripeSecrets, ApiError> {
        self.stripe
            .as_ref()
            .ok_or_else(|| not_configured(STRIPE_SECRET))
    }

    pub fn app(&self) -> Result<&StandardKeys, ApiError> {
        self.app.as_ref().ok_or_else(|| not_configured(APP_SECRET))
    }

    /// Every accepted unsubscribe key: links signed before a rotation keep working.
    pub fn unsubscribe(&self) -> Result<&[Vec<u8>], ApiError> {
        self.unsubscribe
            .as_deref()
            .ok_or_else(|| not_configured(journey::unsubscribe::SECRET))
    }
}

async fn optional(source: &impl SecretSource, name: &str) -> Result<Option<String>, String> {
    match source.secret(name).await {
        Ok(value) => Ok(Some(value)),
        Err(SecretError::Missing { hint, .. }) => {
            tracing::warn!(secret = name, %hint, "secret not set: its webhook route is disabled");
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

fn not_configured(secret: &str) -> ApiError {
    ApiError {
        status: 503,
        code: "not_configured",
        message: format!("this webhook is not configured: secret `{secret}` is not set"),
        field: None,
        retry_after: Some(300),
    }
}
