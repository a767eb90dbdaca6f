//! The webhook secrets, read once per cold start. A source whose secret is not set is
//! disabled: its route answers 503 `not_configured` (so the provider keeps retrying until an
//! operator sets it) and start-up logs which routes are live.

use journey::ports::{SecretError, SecretSource};
use journey::secrets::split_rotation;

use crate::providers::{PORTONE_API, ProviderApi, TOSS_API};
use crate::signature::{StandardKeys, StripeSecrets};
use journey::http::ApiError;

/// Secret names: `JOURNEY_SECRET_<NAME>` locally, `<SECRETS_SSM_PREFIX>/<name>` in AWS.
pub const STRIPE_SECRET: &str = "stripe-webhook";
pub const APP_SECRET: &str = "app-webhook";
/// Toss Payments' API secret key (`live_sk_…`/`test_sk_…`): its webhooks are confirmed with it.
pub const TOSS_SECRET: &str = "toss-secret-key";
/// PortOne V2's webhook secrets (`whsec_…`, two during rotation) and its API secret.
pub const PORTONE_WEBHOOK_SECRET: &str = "portone-webhook";
pub const PORTONE_API_SECRET: &str = "portone-api-secret";
/// The token in Solapi's webhook URL (`/webhooks/solapi?token=…`): Solapi signs no report,
/// so the URL it posts to is the secret (two during rotation).
pub const SOLAPI_WEBHOOK_SECRET: &str = "solapi-webhook-token";
/// The value typed into NHN Cloud's webhook console, sent back as `X-Toast-Webhook-Signature`
/// (static, not an HMAC; two during rotation).
pub const NHN_WEBHOOK_SECRET: &str = "nhn-webhook-signature";
/// NHN's app key (the text sender's too): a hook for another app is refused.
pub const NHN_APP_KEY: &str = "nhn-app-key";
/// The header NHN puts the console's value in.
pub const NHN_SIGNATURE_HEADER: &str = "x-toast-webhook-signature";

/// Where the providers' APIs are: `TOSS_API_URL` and `PORTONE_API_URL`, defaulting to the
/// public ones (the local stack and the tests point them at stand-ins).
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderUrls {
    pub toss: String,
    pub portone: String,
}

impl ProviderUrls {
    /// The public APIs unless the variables say otherwise.
    pub fn from_env() -> Self {
        Self::from_env_or(TOSS_API, PORTONE_API)
    }

    /// `TOSS_API_URL` and `PORTONE_API_URL`, each defaulting to the given base.
    pub fn from_env_or(toss: &str, portone: &str) -> Self {
        let var = |name: &str, default: &str| {
            journey::config::parsed_or(name, default.to_string())
                .unwrap_or_else(|_| default.to_string())
        };
        ProviderUrls {
            toss: var("TOSS_API_URL", toss),
            portone: var("PORTONE_API_URL", portone),
        }
    }
}

/// PortOne needs both: the webhook key to trust the body, the API to read the payment.
#[derive(Clone)]
pub struct PortOne {
    pub keys: StandardKeys,
    pub api: ProviderApi,
}

#[derive(Clone, Default)]
pub struct WebhookKeys {
    stripe: Option<StripeSecrets>,
    app: Option<StandardKeys>,
    unsubscribe: Option<Vec<Vec<u8>>>,
    toss: Option<ProviderApi>,
    portone: Option<PortOne>,
    solapi: Option<Vec<String>>,
    nhn: Option<NhnHooks>,
}

/// NHN's hooks: the console's signatures and the app key they must name.
#[derive(Clone)]
struct NhnHooks {
    signatures: Vec<String>,
    app_key: String,
}

impl WebhookKeys {
    pub fn new(stripe: Option<StripeSecrets>, app: Option<StandardKeys>) -> Self {
        WebhookKeys {
            stripe,
            app,
            ..WebhookKeys::default()
        }
    }

    /// Confirms Toss webhooks through `api`.
    pub fn with_toss(mut self, api: ProviderApi) -> Self {
        self.toss = Some(api);
        self
    }

    /// Verifies PortOne webhooks with `keys` and reads payments through `api`.
    pub fn with_portone(mut self, keys: StandardKeys, api: ProviderApi) -> Self {
        self.portone = Some(PortOne { keys, api });
        self
    }

    /// Accepts Solapi's reports posted with `token`.
    pub fn with_solapi_token(mut self, token: impl Into<String>) -> Self {
        self.solapi.get_or_insert_with(Vec::new).push(token.into());
        self
    }

    /// Accepts NHN's hooks carrying `signature` for `app_key`.
    pub fn with_nhn(mut self, signature: impl Into<String>, app_key: impl Into<String>) -> Self {
        let app_key = app_key.into();
        match &mut self.nhn {
            Some(nhn) => nhn.signatures.push(signature.into()),
            None => {
                self.nhn = Some(NhnHooks {
                    signatures: vec![signature.into()],
                    app_key,
                })
            }
        }
        self
    }

    /// A key that signs unsubscribe links (the e-mail sender's `unsubscribe-key`).
    pub fn with_unsubscribe_key(mut self, key: Vec<u8>) -> Self {
        self.unsubscribe.get_or_insert_with(Vec::new).push(key);
        self
    }

    /// Reads every secret; a missing one disables its route, an unreadable one fails start-up.
    pub async fn load(source: &impl SecretSource, urls: &ProviderUrls) -> Result<Self, String> {
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
        let toss = optional(source, TOSS_SECRET)
            .await?
            .map(|key| ProviderApi::toss(&urls.toss, key.trim()))
            .transpose()?;
        let portone = match (
            optional(source, PORTONE_WEBHOOK_SECRET).await?,
            optional(source, PORTONE_API_SECRET).await?,
        ) {
            (Some(webhook), Some(api)) => Some(PortOne {
                keys: StandardKeys::new(&split_rotation(&webhook))?,
                api: ProviderApi::portone(&urls.portone, api.trim())?,
            }),
            _ => None,
        };
        let solapi = optional(source, SOLAPI_WEBHOOK_SECRET)
            .await?
            .map(|v| split_rotation(&v));
        let nhn = match (
            optional(source, NHN_WEBHOOK_SECRET).await?,
            optional(source, NHN_APP_KEY).await?,
        ) {
            (Some(signatures), Some(app_key)) => Some(NhnHooks {
                signatures: split_rotation(&signatures),
                app_key: app_key.trim().to_string(),
            }),
            _ => None,
        };
        tracing::info!(
            solapi = solapi.is_some(),
            nhn = nhn.is_some(),
            stripe = stripe.is_some(),
            app = app.is_some(),
            unsubscribe = unsubscribe.is_some(),
            toss = toss.is_some(),
            portone = portone.is_some(),
            "webhook routes configured"
        );
        Ok(WebhookKeys {
            stripe,
            app,
            unsubscribe,
            toss,
            portone,
            solapi,
            nhn,
        })
    }

    /// Whether `token` is one of Solapi's webhook tokens, compared in constant time.
    pub fn solapi(&self, token: Option<&str>) -> Result<(), ApiError> {
        let tokens = self
            .solapi
            .as_ref()
            .ok_or_else(|| not_configured(SOLAPI_WEBHOOK_SECRET))?;
        if one_of(tokens, token) {
            Ok(())
        } else {
            Err(ApiError::unauthorized(
                "invalid_token",
                "the webhook URL's token is not this deployment's",
                "token",
            ))
        }
    }

    /// The app key NHN's hooks must name, once `signature` (its header) is one of the
    /// console's values, compared in constant time.
    pub fn nhn(&self, signature: Option<&str>) -> Result<&str, ApiError> {
        let nhn = self
            .nhn
            .as_ref()
            .ok_or_else(|| not_configured(NHN_WEBHOOK_SECRET))?;
        let verify = journey_adapters::text::nhn::verify_webhook;
        // every value is compared, so the time says nothing of which matched
        let known = nhn
            .signatures
            .iter()
            .fold(false, |ok, expected| verify(signature, expected) | ok);
        if known {
            Ok(&nhn.app_key)
        } else {
            Err(ApiError::unauthorized(
                "invalid_signature",
                "the hook's signature is not the one set in NHN's console",
                NHN_SIGNATURE_HEADER,
            ))
        }
    }

    pub fn toss(&self) -> Result<&ProviderApi, ApiError> {
        self.toss
            .as_ref()
            .ok_or_else(|| not_configured(TOSS_SECRET))
    }

    pub fn portone(&self) -> Result<&PortOne, ApiError> {
        self.portone
            .as_ref()
            .ok_or_else(|| not_configured(PORTONE_WEBHOOK_SECRET))
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

/// Whether `given` (non-empty) equals one of `known`, each compared in constant time.
fn one_of(known: &[String], given: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    let given = given.unwrap_or_default().as_bytes();
    let found = known.iter().fold(subtle::Choice::from(0), |ok, k| {
        ok | k.as_bytes().ct_eq(given)
    });
    bool::from(found) && !given.is_empty()
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
