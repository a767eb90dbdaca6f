//! The fault suite's SDK clients; the clients every function is built from are
//! `journey_adapters::aws::Clients`, re-exported here.

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

pub use journey_adapters::aws::Clients;

/// As [`Clients::intercepted`], for the fault suite: without the SDK's retry quota, which
/// at the suite's fault rates would switch retries off altogether (as in an outage) and
/// test that instead of the handlers.
pub fn faulty(aws: &SdkConfig, interceptor: SharedInterceptor) -> Clients {
    use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
    let partition = RetryPartition::custom("journey-faults")
        .token_bucket(TokenBucket::unlimited())
        .build();
    macro_rules! client {
        ($sdk:ident, $config:expr) => {{
            let mut config = $config;
            config.push_interceptor(interceptor.clone());
            config.set_retry_partition(Some(partition.clone()));
            $sdk::Client::from_conf(config.build())
        }};
    }
    Clients {
        dynamodb: client!(
            aws_sdk_dynamodb,
            aws_sdk_dynamodb::config::Builder::from(aws)
        ),
        sqs: client!(aws_sdk_sqs, aws_sdk_sqs::config::Builder::from(aws)),
        sesv2: client!(aws_sdk_sesv2, journey_adapters::aws::ses_config(aws)),
        eventbridge: client!(
            aws_sdk_eventbridge,
            aws_sdk_eventbridge::config::Builder::from(aws)
        ),
        firehose: client!(
            aws_sdk_firehose,
            aws_sdk_firehose::config::Builder::from(aws)
        ),
        s3: client!(aws_sdk_s3, journey_adapters::aws::s3_config(aws)),
    }
}
