//! The shared SDK configuration: built once per cold start, with timeouts below the Lambda's.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

/// Loads the configuration from the environment (region, credentials, and the standard
/// `AWS_ENDPOINT_URL` that points the SDK at a local emulator). `operation` bounds each call,
/// retries included; the SDK has no such default.
pub async fn load(operation: Duration) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(operation / 2)
                .operation_timeout(operation)
                .build(),
        )
        .load()
        .await
}

/// Up to 5 attempts (the SDK's default is 3) with its jittered back-off: every DynamoDB write
/// is conditional or idempotent, every queued message deduplicated, so a retry is safe, and
/// two more of them keep a burst of transient errors from spending a message's receive count
/// (5 before the DLQ). The operation timeout still bounds the whole.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(5)
}

/// The SES client: no SDK retries. The SDK would repeat `SendEmail` after an attempt timeout
/// or a reset, when SES may already have accepted the first attempt; the e-mail sender
/// retries only what provably was not accepted (`journey::sending`).
pub fn ses_client(aws: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::from_conf(ses_config(aws).build())
}

/// The SES client's configuration, for callers that add to it (an interceptor).
pub fn ses_config(aws: &SdkConfig) -> aws_sdk_sesv2::config::Builder {
    aws_sdk_sesv2::config::Builder::from(aws).retry_config(RetryConfig::disabled())
}

/// The SDK clients the functions use, built once from one configuration: what each
/// function's `build` takes, in Lambda and in the local stack alike. An interceptor can be put
/// on all of them (the performance harness counts every request that way, the fault suite
/// injects its faults).
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sesv2: aws_sdk_sesv2::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    /// The event log: appended through Firehose, read back from S3.
    pub firehose: aws_sdk_firehose::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    pub fn new(aws: &SdkConfig) -> Self {
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(aws),
            sqs: aws_sdk_sqs::Client::new(aws),
            sesv2: ses_client(aws),
            eventbridge: aws_sdk_eventbridge::Client::new(aws),
            firehose: aws_sdk_firehose::Client::new(aws),
            s3: s3_client(aws),
        }
    }

    /// Clients with a region and no credentials or endpoint: building a function with them does
    /// no I/O, so its `build` can be tested without AWS or the emulator.
    pub fn unconnected() -> Self {
        Clients::new(
            &SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .build(),
        )
    }

    /// Every client with `interceptor` on it.
    pub fn intercepted(aws: &SdkConfig, interceptor: SharedInterceptor) -> Self {
        macro_rules! client {
            ($sdk:ident) => {{
                let mut config = $sdk::config::Builder::from(aws);
                config.push_interceptor(interceptor.clone());
                $sdk::Client::from_conf(config.build())
            }};
        }
        Clients {
            dynamodb: client!(aws_sdk_dynamodb),
            sqs: client!(aws_sdk_sqs),
            sesv2: {
                let mut config = ses_config(aws);
                config.push_interceptor(interceptor.clone());
                aws_sdk_sesv2::Client::from_conf(config.build())
            },
            eventbridge: client!(aws_sdk_eventbridge),
            firehose: client!(aws_sdk_firehose),
            s3: {
                let mut config = s3_config(aws);
                config.push_interceptor(interceptor.clone());
                aws_sdk_s3::Client::from_conf(config.build())
            },
        }
    }
}

/// An S3 client as [`Clients`] builds it.
pub fn s3_client(aws: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(s3_config(aws).build())
}

/// S3 by path (`endpoint/bucket/key`) when an endpoint is set (the emulator has no bucket
/// subdomains); virtual-hosted, as AWS prefers, otherwise.
pub fn s3_config(aws: &SdkConfig) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::from(aws).force_path_style(aws.endpoint_url().is_some())
}
