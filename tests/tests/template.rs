//! `template.yaml` and the code agree: what the local stack creates is what AWS gets.

use journey_adapters::dynamodb::schema;
use journey_tests::template::{key_schema, properties, template, text};

fn pairs(keys: &[(&str, &str)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_table_in_the_template_matches_the_one_the_code_creates() {
    let template = template();
    let table = properties(&template, "JourneyTable");
    assert_eq!(key_schema(&table["KeySchema"]), pairs(&schema::TABLE_KEYS));
    let indexes = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes");
    assert_eq!(indexes.len(), schema::INDEXES.len());
    for (index, spec) in indexes.iter().zip(schema::INDEXES) {
        assert_eq!(text(&index["IndexName"]), spec.name);
        assert_eq!(key_schema(&index["KeySchema"]), pairs(&spec.keys));
        assert_eq!(
            text(&index["Projection"]["ProjectionType"]),
            spec.projection
        );
    }
    let ttl = &table["TimeToLiveSpecification"];
    assert_eq!(text(&ttl["AttributeName"]), schema::TTL_ATTRIBUTE);
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
    assert_eq!(text(&table["BillingMode"]), "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
}

#[test]
fn the_queues_in_the_template_match_the_ones_the_code_creates() {
    use journey_adapters::sqs::{
        DLQ_RETENTION_SECONDS, EMAIL_QUEUE, EVENTS_QUEUE, LONGEST_RETURN_SECONDS,
        QUEUE_RETENTION_SECONDS, SLACK_QUEUE,
    };
    let template = template();
    assert!(
        journey_adapters::dynamodb::MARKER_TTL.num_seconds() > i64::from(LONGEST_RETURN_SECONDS),
        "dedup markers outlive a message's longest way back (queue, DLQ, redrive)"
    );
    for spec in [EVENTS_QUEUE, EMAIL_QUEUE, SLACK_QUEUE] {
        let queue = properties(&template, spec.logical_id);
        assert_eq!(
            queue["MessageRetentionPeriod"].as_u64(),
            Some(u64::from(QUEUE_RETENTION_SECONDS)),
            "{}",
            spec.logical_id
        );
        assert_eq!(
            queue["FifoQueue"].as_bool().unwrap_or(false),
            spec.fifo,
            "{}",
            spec.logical_id
        );
        assert_eq!(
            queue["VisibilityTimeout"].as_u64(),
            Some(u64::from(spec.visibility_timeout_seconds)),
            "{}",
            spec.logical_id
        );
        assert_eq!(
            queue["RedrivePolicy"]["maxReceiveCount"].as_u64(),
            Some(u64::from(spec.max_receive_count))
        );
        let dlq_id = spec.logical_id.replace("Queue", "DeadLetterQueue");
        let dlq = properties(&template, &dlq_id);
        assert_eq!(
            dlq["MessageRetentionPeriod"].as_u64(),
            Some(u64::from(DLQ_RETENTION_SECONDS)),
            "{dlq_id}"
        );
    }
}

/// A consumer's visibility timeout is at least 6 × its timeout, so a message being worked on
/// is not delivered to a second worker.
#[test]
fn queue_visibility_covers_six_consumer_timeouts() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("resources");
    let global_timeout = template["Globals"]["Function"]["Timeout"]
        .as_u64()
        .unwrap_or(3);
    for function in resources
        .values()
        .filter(|r| text(&r["Type"]) == "AWS::Serverless::Function")
    {
        let timeout = function["Properties"]["Timeout"]
            .as_u64()
            .unwrap_or(global_timeout);
        let events = function["Properties"]["Events"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        for event in events.values().filter(|e| text(&e["Type"]) == "SQS") {
            let queue_ref = &event["Properties"]["Queue"];
            let logical = queue_logical_id(queue_ref);
            let visibility = properties(&template, &logical)["VisibilityTimeout"]
                .as_u64()
                .unwrap_or(30);
            assert!(
                visibility >= 6 * timeout,
                "{logical}: {visibility} s < 6 × {timeout} s"
            );
            assert!(
                event["Properties"]["FunctionResponseTypes"]
                    .as_sequence()
                    .is_some_and(|s| s.iter().any(|t| text(t) == "ReportBatchItemFailures")),
                "{logical} consumer must report partial batch failures"
            );
        }
    }
}

/// `!GetAtt Name.Arn` → `Name`.
fn queue_logical_id(value: &serde_norway::Value) -> String {
    match value {
        serde_norway::Value::Tagged(tagged) => text(&tagged.value)
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string(),
        other => text(other),
    }
}

/// Every function crate has a resource building its binary, and every environment variable
/// its code reads is set on that resource (or in Globals).
#[test]
fn every_function_has_a_resource_with_every_variable_it_reads() {
    let template = template();
    let root = journey_tests::workspace_root();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    let functions = std::fs::read_dir(root.join("functions")).expect("functions/");
    for entry in functions.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let resource = template["Resources"]
            .as_mapping()
            .and_then(|m| {
                m.values()
                    .find(|r| text(&r["Metadata"]["BuildProperties"]["Binary"]) == name)
            })
            .unwrap_or_else(|| panic!("no template resource builds functions/{name}"));
        assert_eq!(
            text(&resource["Metadata"]["BuildMethod"]),
            "rust-cargolambda"
        );
        let variables = &resource["Properties"]["Environment"]["Variables"];
        for variable in variables_read(&entry.path().join("src")) {
            let set =
                !variables[variable.as_str()].is_null() || !globals[variable.as_str()].is_null();
            assert!(
                set,
                "functions/{name} reads {variable}, which template.yaml does not set"
            );
        }
    }
}

/// Variables read through `config::required("X")`, `config::parsed_or("X", …)` or
/// `std::env::var("X")` in a function's sources.
fn variables_read(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("src/").flatten() {
        let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for marker in [
            "config::required(\"",
            "config::parsed_or(\"",
            "std::env::var(\"",
        ] {
            for piece in source.split(marker).skip(1) {
                if let Some(name) = piece.split('"').next() {
                    found.push(name.to_string());
                }
            }
        }
    }
    found
}

/// The local gateway serves exactly the HTTP API's routes.
#[test]
fn the_local_gateway_has_the_http_apis_routes() {
    let template = template();
    let mut declared: Vec<(String, String)> = Vec::new();
    for resource in template["Resources"]
        .as_mapping()
        .expect("resources")
        .values()
    {
        let events = resource["Properties"]["Events"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        for event in events.values().filter(|e| text(&e["Type"]) == "HttpApi") {
            declared.push((
                text(&event["Properties"]["Method"]),
                text(&event["Properties"]["Path"]),
            ));
        }
    }
    let mut local: Vec<(String, String)> = journey_local::gateway::ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    declared.sort();
    local.sort();
    assert_eq!(local, declared);
}

/// The HTTP API's routes (the local gateway's list, which another test holds to the template's)
/// are exactly the document's, with their methods.
#[test]
fn the_openapi_document_has_exactly_the_routes() {
    let doc = journey_tests::openapi::document();
    let mut documented: Vec<(String, String)> = doc
        .paths
        .paths
        .iter()
        .flat_map(|(route, item)| {
            let item = serde_json::to_value(item).expect("a path item");
            let methods: Vec<String> = ["get", "post", "put", "delete", "patch"]
                .into_iter()
                .filter(|m| !item[*m].is_null())
                .map(|m| m.to_ascii_uppercase())
                .collect();
            methods.into_iter().map(move |m| (m, route.clone()))
        })
        .collect();
    let mut routed: Vec<(String, String)> = journey_local::gateway::ROUTES
        .iter()
        .map(|(method, route, _)| (method.to_string(), route.to_string()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
}

/// `docs/openapi.yaml` is what the code generates (`make openapi` writes it).
#[test]
fn the_checked_in_openapi_document_is_the_generated_one() {
    let path = journey_tests::workspace_root().join("docs/openapi.yaml");
    let generated = journey_tests::openapi::yaml().expect("the document serializes");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("docs/openapi.yaml is writable");
        return;
    }
    assert!(
        checked_in == generated,
        "docs/openapi.yaml is not what the code generates: run `make openapi`"
    );
}

/// Actions with `*`, or `Resource: "*"` where a resource can be named, are refused; the one
/// account-level action without a resource is allowed by name.
#[test]
fn every_policy_is_least_privilege() {
    const NO_RESOURCE_ACTIONS: &[&str] = &["ses:GetSuppressedDestination"];
    let template = template();
    for (name, resource) in template["Resources"].as_mapping().expect("resources") {
        let policies = resource["Properties"]["Policies"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        for policy in policies {
            for statement in policy["Statement"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
            {
                let actions: Vec<String> = match &statement["Action"] {
                    serde_norway::Value::Sequence(a) => a.iter().map(text).collect(),
                    other => vec![text(other)],
                };
                assert!(
                    actions.iter().all(|a| !a.contains('*')),
                    "{name:?}: wildcard action {actions:?}"
                );
                if text(&statement["Resource"]) == "*" {
                    assert!(
                        actions
                            .iter()
                            .all(|a| NO_RESOURCE_ACTIONS.contains(&a.as_str())),
                        "{name:?}: Resource \"*\" for {actions:?}"
                    );
                }
            }
        }
    }
}

/// The statements of a function resource's inline policies.
fn statements(template: &serde_norway::Value, name: &str) -> Vec<serde_norway::Value> {
    properties(template, name)["Policies"]
        .as_sequence()
        .cloned()
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().cloned().unwrap_or_default())
        .collect()
}

fn actions(statement: &serde_norway::Value) -> Vec<String> {
    match &statement["Action"] {
        serde_norway::Value::Sequence(a) => a.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// The `!Sub` strings (or plain strings) of a statement's resources.
fn resources(statement: &serde_norway::Value) -> Vec<String> {
    let one = |v: &serde_norway::Value| match v {
        serde_norway::Value::Tagged(tagged) => text(&tagged.value),
        other => text(other),
    };
    match &statement["Resource"] {
        serde_norway::Value::Sequence(items) => items.iter().map(one).collect(),
        other => vec![one(other)],
    }
}

/// Each function may read exactly the SSM parameters its code asks for, named one by one: the
/// read API cannot read the Stripe signing secret, nor any secret added later.
#[test]
fn each_function_reads_only_its_own_secrets() {
    let expected: [(&str, Vec<&str>); 7] = [
        (
            "IngestFunction",
            vec![
                ingest::keys::STRIPE_SECRET,
                ingest::keys::APP_SECRET,
                journey::unsubscribe::SECRET,
                ingest::keys::TOSS_SECRET,
                ingest::keys::PORTONE_WEBHOOK_SECRET,
                ingest::keys::PORTONE_API_SECRET,
            ],
        ),
        ("ApiFunction", vec![api::API_KEY_SECRET]),
        ("EmailSenderFunction", vec![journey::unsubscribe::SECRET]),
        ("SlackSenderFunction", vec![slack_sender::WEBHOOK_SECRET]),
        ("TransitionFunction", vec![]),
        ("SweepFunction", vec![]),
        ("CalibrateFunction", vec![]),
    ];
    let template = template();
    for (function, secrets) in expected {
        let mut granted: Vec<String> = statements(&template, function)
            .iter()
            .filter(|s| actions(s).iter().any(|a| a.starts_with("ssm:")))
            .flat_map(resources)
            .collect();
        let mut wanted: Vec<String> = secrets
            .iter()
            .map(|name| {
                format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter${{SecretsPrefix}}/${{EnvName}}/{name}")
            })
            .collect();
        granted.sort();
        wanted.sort();
        assert_eq!(granted, wanted, "{function}'s SSM parameters");
    }
}

/// The partition keys a statement's `operator` condition allows (`dynamodb:LeadingKeys`).
fn leading_keys(statement: &serde_norway::Value, operator: &str) -> Vec<String> {
    statement["Condition"][operator]["dynamodb:LeadingKeys"]
        .as_sequence()
        .map(|k| k.iter().map(text).collect())
        .unwrap_or_default()
}

/// SES sends only from the configured sender; calibration writes only the rules partition.
#[test]
fn e_mail_only_from_the_sender_and_calibration_writes_only_rules() {
    let template = template();
    let ses: Vec<_> = statements(&template, "EmailSenderFunction")
        .into_iter()
        .filter(|s| actions(s).contains(&"ses:SendEmail".to_string()))
        .collect();
    assert_eq!(ses.len(), 1);
    let from = &ses[0]["Condition"]["StringEquals"]["ses:FromAddress"];
    match from {
        serde_norway::Value::Tagged(tagged) => {
            assert_eq!(tagged.tag.to_string(), "!Ref");
            assert_eq!(text(&tagged.value), "SenderEmail");
        }
        other => panic!("ses:SendEmail without a ses:FromAddress condition: {other:?}"),
    }
    const WRITES: &[&str] = &[
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:BatchWriteItem",
    ];
    let writes: Vec<_> = statements(&template, "CalibrateFunction")
        .into_iter()
        .filter(|s| actions(s).iter().any(|a| WRITES.contains(&a.as_str())))
        .collect();
    assert!(!writes.is_empty(), "calibrate stores rules versions");
    for statement in writes {
        let keys = leading_keys(&statement, "ForAllValues:StringEquals");
        assert_eq!(keys, ["RULES"], "calibrate's writes: {statement:?}");
        assert!(!actions(&statement).contains(&"dynamodb:BatchWriteItem".to_string()));
    }
}

/// The transition worker may Query only customers' partitions (an erasure's cleaning).
#[test]
fn the_transition_queries_only_customer_partitions() {
    let template = template();
    let queries: Vec<_> = statements(&template, "TransitionFunction")
        .into_iter()
        .filter(|s| actions(s).contains(&"dynamodb:Query".to_string()))
        .collect();
    assert_eq!(queries.len(), 1);
    assert_eq!(actions(&queries[0]), ["dynamodb:Query"]);
    assert_eq!(
        leading_keys(&queries[0], "ForAllValues:StringLike"),
        ["CUST#*"]
    );
}

/// Every route is throttled, and the public functions can be given reserved concurrency.
#[test]
fn the_api_is_throttled_and_its_functions_can_be_capped() {
    let template = template();
    let routes = &properties(&template, "HttpApi")["DefaultRouteSettings"];
    for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
        assert!(
            !routes[limit].is_null(),
            "HttpApi DefaultRouteSettings.{limit}"
        );
    }
    for function in ["IngestFunction", "ApiFunction"] {
        assert!(
            !properties(&template, function)["ReservedConcurrentExecutions"].is_null(),
            "{function} ReservedConcurrentExecutions"
        );
    }
}

/// Operators hear about every DLQ and every failing or throttled function, and every function
/// logs JSON to a group with a retention.
#[test]
fn every_dlq_and_function_has_its_alarms_and_log_retention() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("resources");
    let alarms: Vec<String> = resources
        .values()
        .filter(|r| text(&r["Type"]) == "AWS::CloudWatch::Alarm")
        .map(|r| format!("{:?}", r["Properties"]))
        .collect();
    for (name, resource) in resources {
        let name = text(name);
        if name.ends_with("DeadLetterQueue") {
            assert!(
                alarms.iter().any(|a| a.contains(&name)),
                "no alarm on {name}'s depth"
            );
        }
        if text(&resource["Type"]) == "AWS::Serverless::Function" {
            for metric in ["Errors", "Throttles"] {
                assert!(
                    alarms
                        .iter()
                        .any(|a| a.contains(&name) && a.contains(metric)),
                    "no {metric} alarm on {name}"
                );
            }
            let logging = &resource["Properties"]["LoggingConfig"];
            assert_eq!(text(&logging["LogFormat"]), "JSON", "{name}");
            let group = format!("{:?}", logging["LogGroup"]);
            let group_name = resources
                .keys()
                .map(text)
                .find(|k| group.contains(k.as_str()) && k.ends_with("LogGroup"))
                .unwrap_or_else(|| panic!("{name} logs to no log group of the template"));
            assert!(
                !properties(&template, &group_name)["RetentionInDays"].is_null(),
                "{group_name}"
            );
        }
    }
}

#[test]
fn a_send_lease_outlives_every_sender_function() {
    let template = template();
    for function in ["EmailSenderFunction", "SlackSenderFunction"] {
        let timeout = properties(&template, function)["Timeout"]
            .as_i64()
            .unwrap_or_else(|| panic!("{function} has a Timeout"));
        assert!(
            journey::sending::LEASE.num_seconds() > timeout,
            "{function}: a lease ({} s) outlives its holder ({timeout} s), so an expired one \
             means the holder is dead",
            journey::sending::LEASE.num_seconds()
        );
    }
}

#[test]
fn failed_sweep_and_calibration_runs_land_in_an_alarmed_queue() {
    let template = template();
    for function in ["SweepFunction", "CalibrateFunction"] {
        let on_failure =
            &properties(&template, function)["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
        assert_eq!(text(&on_failure["Type"]), "SQS", "{function}");
        let destination = format!("{:?}", on_failure["Destination"]);
        assert!(
            destination.contains("FailedRunsQueue.Arn"),
            "{function}: {destination}"
        );
    }
    let alarm = properties(&template, "FailedRunsAlarm");
    assert_eq!(
        text(&alarm["MetricName"]),
        "ApproximateNumberOfMessagesVisible"
    );
    assert!(format!("{:?}", alarm["Dimensions"]).contains("FailedRunsQueue.QueueName"));
    let unknown = format!("{:?}", properties(&template, "InterventionsUnknownAlarm"));
    assert!(unknown.contains("InterventionsUnknown"), "{unknown}");
}
