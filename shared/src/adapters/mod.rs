//! Adapters: the only place an AWS SDK appears. One module per service.

pub mod dynamodb;
