//! The shared SDK configuration: built once per cold start, with timeouts below the Lambda's.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the configuration from the environment (region, credentials, and the standard
/// `AWS_ENDPOINT_URL` that points the SDK at a local emulator). `operation` bounds each call,
/// retries included; the SDK has no such default.
pub async fn load(operation: Duration) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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
