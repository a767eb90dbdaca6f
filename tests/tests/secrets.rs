//! Secrets from SSM Parameter Store (AWS) through the same port as the local environment.

use aws_sdk_ssm::types::ParameterType;
use journey::ports::{SecretError, SecretSource};
use journey_adapters::ssm::SsmSecrets;
use journey_tests::{sdk_config, unique};

#[tokio::test]
async fn secure_string_parameters_are_read_under_the_prefix() {
    let config = sdk_config().await;
    let client = aws_sdk_ssm::Client::new(&config);
    let prefix = format!("/{}", unique("journey"));
    client
        .put_parameter()
        .name(format!("{prefix}/stripe-webhook"))
        .value("whsec_one whsec_two")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("put parameter");
    let secrets = SsmSecrets::new(client, format!("{prefix}/"));
    assert_eq!(
        secrets.secret("stripe-webhook").await.expect("read"),
        "whsec_one whsec_two"
    );
    let missing = secrets.secret("app-webhook").await.unwrap_err();
    assert!(
        matches!(&missing, SecretError::Missing { hint, .. } if hint.contains(&format!("{prefix}/app-webhook"))),
        "{missing}"
    );
}
