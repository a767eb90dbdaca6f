//! The SDK clients the functions use, built once from one configuration. An interceptor can be
//! put on all of them: the performance harness counts every request that way.

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;

#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sesv2: aws_sdk_sesv2::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
}

impl Clients {
    pub fn new(aws: &SdkConfig) -> Self {
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(aws),
            sqs: aws_sdk_sqs::Client::new(aws),
            sesv2: journey::adapters::aws::ses_client(aws),
            eventbridge: aws_sdk_eventbridge::Client::new(aws),
        }
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
                let mut config = journey::adapters::aws::ses_config(aws);
                config.push_interceptor(interceptor.clone());
                aws_sdk_sesv2::Client::from_conf(config.build())
            },
            eventbridge: client!(aws_sdk_eventbridge),
        }
    }

    /// As [`Clients::intercepted`], for the fault suite: without the SDK's retry quota, which
    /// at the suite's fault rates would switch retries off altogether (as in an outage) and
    /// test that instead of the handlers.
    pub fn faulty(aws: &SdkConfig, interceptor: SharedInterceptor) -> Self {
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
            sesv2: client!(aws_sdk_sesv2, journey::adapters::aws::ses_config(aws)),
            eventbridge: client!(
                aws_sdk_eventbridge,
                aws_sdk_eventbridge::config::Builder::from(aws)
            ),
        }
    }
}
