//! Adapters: the ports (`journey::ports`) on AWS and the other outside services. The only
//! crate an AWS SDK appears in; one module per service.

pub mod aws;
pub mod dynamodb;
pub mod eventbridge;
pub mod firehose;
pub mod s3;
mod sdk_error;
pub mod ses;
pub mod slack;
pub mod sqs;
pub mod ssm;
pub mod text;

pub use ssm::Secrets;
