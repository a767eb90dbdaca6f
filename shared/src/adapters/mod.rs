//! Adapters: the only place an AWS SDK appears. One module per service.

pub mod aws;
pub mod dynamodb;
pub mod eventbridge;
pub mod ses;
pub mod slack;
pub mod sqs;
pub mod ssm;
