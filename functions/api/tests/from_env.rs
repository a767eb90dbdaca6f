//! The API as deployed reads its staff sign-in from the environment the template sets: the
//! page then names the provider and may reach it. (A process of its own: it sets variables.)
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

#[test]
fn the_deployed_api_offers_the_staff_sign_in_the_template_configures() {
    let vars = [
        ("TABLE_NAME", "journey-prod"),
        ("EVENTS_QUEUE_URL", "https://sqs.example/events.fifo"),
        (
            "STAFF_ISSUER",
            "https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_abc",
        ),
        ("STAFF_CLIENT_ID", "client-1"),
        (
            "STAFF_CONNECT_ORIGINS",
            "https://journey-prod-1.auth.ap-northeast-2.amazoncognito.com",
        ),
        ("STAFF_ID_CLAIM", "custom:owner_id"),
    ];
    for (name, value) in vars {
        // SAFETY: this test binary has one test and no other thread reads the environment
        unsafe { std::env::set_var(name, value) };
    }
    let config = api::Config::from_env().unwrap();
    let sign_in = config.sign_in.expect("the sign-in is configured");
    assert_eq!(sign_in.client_id, "client-1");
    assert_eq!(
        sign_in.origins(),
        vec![
            "https://cognito-idp.ap-northeast-2.amazonaws.com".to_string(),
            "https://journey-prod-1.auth.ap-northeast-2.amazoncognito.com".to_string(),
        ]
    );
    assert_eq!(config.staff.id, "custom:owner_id");
    assert_eq!(config.staff.groups, "cognito:groups");
    // SAFETY: as above
    unsafe { std::env::remove_var("STAFF_ISSUER") };
    assert_eq!(
        api::Config::from_env().unwrap().sign_in,
        None,
        "no provider: the API key only"
    );
}
