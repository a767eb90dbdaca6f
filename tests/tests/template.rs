//! `template.yaml` and the code agree: what the local stack creates is what AWS gets.

use journey_adapters::dynamodb::schema;
use journey_tests::template::{key_schema, properties, template, text};
use serde_norway::Value;

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
        QUEUE_RETENTION_SECONDS, SLACK_QUEUE, TEXT_QUEUE,
    };
    let template = template();
    assert!(
        journey_adapters::dynamodb::MARKER_TTL.num_seconds() > i64::from(LONGEST_RETURN_SECONDS),
        "dedup markers outlive a message's longest way back (queue, DLQ, redrive)"
    );
    for spec in [EVENTS_QUEUE, EMAIL_QUEUE, SLACK_QUEUE, TEXT_QUEUE] {
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
    let [solapi_key, solapi_secret] = text_sender::build::SOLAPI_SECRETS;
    let [nhn_key, nhn_secret] = text_sender::build::NHN_SECRETS;
    let expected: [(&str, Vec<&str>); 9] = [
        (
            "IngestFunction",
            vec![
                ingest::keys::STRIPE_SECRET,
                ingest::keys::APP_SECRET,
                journey::unsubscribe::SECRET,
                ingest::keys::TOSS_SECRET,
                ingest::keys::PORTONE_WEBHOOK_SECRET,
                ingest::keys::PORTONE_API_SECRET,
                ingest::keys::SOLAPI_WEBHOOK_SECRET,
                ingest::keys::NHN_WEBHOOK_SECRET,
                ingest::keys::NHN_APP_KEY,
            ],
        ),
        (
            "TextSenderFunction",
            vec![solapi_key, solapi_secret, nhn_key, nhn_secret],
        ),
        ("ApiFunction", vec![api::API_KEY_SECRET]),
        ("EmailSenderFunction", vec![journey::unsubscribe::SECRET]),
        ("SlackSenderFunction", vec![slack_sender::WEBHOOK_SECRET]),
        ("TransitionFunction", vec![]),
        ("SweepFunction", vec![]),
        ("CalibrateFunction", vec![calibrate::SAMPLE_SECRET]),
        ("SesFeedbackFunction", vec![]),
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
    // the read API writes the access log and an admin's approval of held rules, nothing else
    for statement in statements(&template, "ApiFunction")
        .into_iter()
        .filter(|s| actions(s).iter().any(|a| WRITES.contains(&a.as_str())))
    {
        let rules = leading_keys(&statement, "ForAllValues:StringEquals");
        let access = leading_keys(&statement, "ForAllValues:StringLike");
        assert!(
            rules == ["RULES"] || access == ["ACCESS#*"],
            "the API's writes: {statement:?}"
        );
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

/// Every route is throttled, the public functions can be given reserved concurrency, and
/// ingest, which answers unauthenticated webhooks, has it by default.
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
    // ingest answers unauthenticated requests: capped unless the operator passes 0
    let ingest = &template["Parameters"]["IngestReservedConcurrency"];
    let cap = ingest["Default"].as_f64().expect("a numeric default");
    assert!(
        (1.0..=50.0).contains(&cap),
        "ingest is capped by default, leaving the account's concurrency to the rest: {cap}"
    );
    assert_eq!(
        ingest["MinValue"].as_f64(),
        Some(0.0),
        "0 turns the cap off"
    );
}

/// Operators hear about every DLQ and every failing or throttled function, and every function
/// logs JSON, with the platform's REPORT lines, to its own group with a retention.
#[test]
fn every_dlq_and_function_has_its_alarms_and_log_retention() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("resources");
    // the alarms that notify (a deployment's rollback alarm does not)
    let alarms: Vec<&serde_norway::Value> = resources
        .values()
        .filter(|r| text(&r["Type"]) == "AWS::CloudWatch::Alarm")
        .map(|r| &r["Properties"])
        .filter(|p| {
            p["AlarmActions"]
                .as_sequence()
                .is_some_and(|a| !a.is_empty())
        })
        .collect();
    for name in dead_letter_queues(&template) {
        assert!(
            alarms.iter().any(
                |a| text(&a["MetricName"]) == "ApproximateNumberOfMessagesVisible"
                    && format!("{:?}", a["Dimensions"]).contains(&format!("{name}.QueueName"))
            ),
            "no alarm on {name}'s depth"
        );
    }
    for name in functions(&template) {
        for metric in ["Errors", "Throttles"] {
            assert!(
                alarms.iter().any(|a| text(&a["MetricName"]) == metric
                    && inner(&a["Dimensions"][0]["Value"]) == name),
                "no {metric} alarm on {name}"
            );
        }
        let logging = effective(&template, &name, "LoggingConfig");
        assert_eq!(text(&logging["LogFormat"]), "JSON", "{name}");
        assert_eq!(text(&logging["ApplicationLogLevel"]), "INFO", "{name}");
        assert_eq!(
            text(&logging["SystemLogLevel"]),
            "INFO",
            "{name}: the REPORT lines (duration, init) are INFO"
        );
        let group = tagged(&logging["LogGroup"]);
        let group_name = match &group {
            Some((tag, group)) if tag == "!Ref" && group.ends_with("LogGroup") => group.clone(),
            _ => panic!("{name} logs to no log group of the template: {group:?}"),
        };
        let group = properties(&template, &group_name);
        assert!(!group["RetentionInDays"].is_null(), "{group_name}");
        assert_eq!(
            inner(&group["LogGroupName"]),
            format!(
                "/aws/lambda/{}",
                inner(&properties(&template, &name)["FunctionName"])
            ),
            "{group_name} is where Lambda would put {name}'s logs"
        );
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

// ---- operations: the feedback loop, deployments, alarms, hygiene -----------------------------

/// A tagged value's tag and its text: `!Ref X` → ("!Ref", "X"), `!GetAtt X.Arn` → ("!GetAtt",
/// "X.Arn"); `None` for an untagged value.
fn tagged(value: &Value) -> Option<(String, String)> {
    match value {
        Value::Tagged(tagged) => Some((tagged.tag.to_string(), text(&tagged.value))),
        _ => None,
    }
}

/// The text of a value, inside its tag if it has one (`!Sub s` → s).
fn inner(value: &Value) -> String {
    match value {
        Value::Tagged(tagged) => text(&tagged.value),
        other => text(other),
    }
}

fn is_ref(value: &Value, name: &str) -> bool {
    tagged(value) == Some(("!Ref".to_string(), name.to_string()))
}

fn is_get_att(value: &Value, path: &str) -> bool {
    tagged(value) == Some(("!GetAtt".to_string(), path.to_string()))
}

/// The logical ids of the template's resources of type `kind`.
fn of_type(template: &Value, kind: &str) -> Vec<String> {
    template["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| text(&r["Type"]) == kind)
        .map(|(name, _)| text(name))
        .collect()
}

fn functions(template: &Value) -> Vec<String> {
    of_type(template, "AWS::Serverless::Function")
}

/// A function property as SAM sees it: the function's own, merged over `Globals.Function`'s
/// (maps merge key by key, the function's winning).
fn effective(template: &Value, function: &str, key: &str) -> Value {
    let global = &template["Globals"]["Function"][key];
    let local = &properties(template, function)[key];
    match (global.as_mapping(), local.as_mapping()) {
        (Some(global), Some(local)) => {
            let mut merged = global.clone();
            for (k, v) in local {
                merged.insert(k.clone(), v.clone());
            }
            Value::Mapping(merged)
        }
        _ if !local.is_null() => local.clone(),
        _ => global.clone(),
    }
}

/// The queues that receive what failed: a queue's redrive target, a rule's or schedule's
/// dead-letter queue, a function's on-failure destination.
fn dead_letter_queues(template: &Value) -> Vec<String> {
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Mapping(map) => {
                for (key, v) in map {
                    let target = match text(key).as_str() {
                        "deadLetterTargetArn" => Some(v),
                        "DeadLetterConfig" => Some(&v["Arn"]),
                        "OnFailure" => Some(&v["Destination"]),
                        _ => None,
                    };
                    if let Some((tag, path)) = target.and_then(tagged)
                        && tag == "!GetAtt"
                        && let Some(queue) = path.strip_suffix(".Arn")
                        && !found.iter().any(|q| q == queue)
                    {
                        found.push(queue.to_string());
                    }
                    walk(v, found);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|v| walk(v, found)),
            Value::Tagged(tagged) => walk(&tagged.value, found),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&template["Resources"], &mut found);
    found.sort();
    found
}

/// SES's feedback reaches the single writer through a function that may only queue events and
/// note the feedback on send records: it reads no table and no secret, updates items in
/// customers' partitions only, and sends only to the events queue.
#[test]
fn the_feedback_function_may_only_queue_events_and_note_send_records() {
    let template = template();
    let resource = &template["Resources"]["SesFeedbackFunction"];
    assert_eq!(
        text(&resource["Metadata"]["BuildProperties"]["Binary"]),
        "ses-feedback"
    );
    let function = properties(&template, "SesFeedbackFunction");
    let policies = function["Policies"].as_sequence().expect("policies");
    assert_eq!(policies.len(), 2, "{policies:?}");
    let send = &policies[1]["SQSSendMessagePolicy"]["QueueName"];
    assert!(is_get_att(send, "EventsQueue.QueueName"), "{policies:?}");
    let notes = statements(&template, "SesFeedbackFunction");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(actions(&notes[0]), ["dynamodb:UpdateItem"]);
    assert_eq!(
        leading_keys(&notes[0], "ForAllValues:StringLike"),
        ["CUST#*"]
    );
    let variables: Vec<String> = function["Environment"]["Variables"]
        .as_mapping()
        .expect("variables")
        .keys()
        .map(text)
        .collect();
    assert_eq!(variables, ["EVENTS_QUEUE_URL"]);
    assert!(is_ref(
        &function["Environment"]["Variables"]["EVENTS_QUEUE_URL"],
        "EventsQueue"
    ));
    let events = function["Events"].as_mapping().expect("events");
    assert_eq!(events.len(), 1);
    let sqs = events.values().next().expect("an event");
    assert_eq!(text(&sqs["Type"]), "SQS");
    assert!(is_get_att(&sqs["Properties"]["Queue"], "FeedbackQueue.Arn"));
    assert_eq!(sqs["Properties"]["BatchSize"].as_u64(), Some(10));
    let queue = properties(&template, "FeedbackQueue");
    assert!(is_get_att(
        &queue["RedrivePolicy"]["deadLetterTargetArn"],
        "FeedbackDeadLetterQueue.Arn"
    ));
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"].as_u64(), Some(5));
    assert_eq!(queue["MessageRetentionPeriod"].as_u64(), Some(345_600));
    assert_eq!(
        properties(&template, "FeedbackDeadLetterQueue")["MessageRetentionPeriod"].as_u64(),
        Some(1_209_600)
    );
}

/// The configuration set publishes to the default bus (the only one SES publishes to), the rule
/// there takes only this stack's configuration set's mail and each published type's
/// detail-type, and only that rule may send to the feedback queues.
#[test]
fn the_feedback_rule_takes_only_this_configuration_sets_mail() {
    // MatchingEventTypes → EventBridge detail-type (EventBridge's SES events reference)
    const DETAIL_TYPES: [(&str, &str); 7] = [
        ("bounce", "Email Bounced"),
        ("complaint", "Email Complaint Received"),
        ("reject", "Email Rejected"),
        ("deliveryDelay", "Email Delivery Delayed"),
        ("delivery", "Email Delivered"),
        ("open", "Email Opened"),
        ("click", "Email Clicked"),
    ];
    let template = template();
    let destination = &properties(&template, "SesEventDestination")["EventDestination"];
    assert!(is_ref(
        &properties(&template, "SesEventDestination")["ConfigurationSetName"],
        "SesConfigurationSet"
    ));
    assert_eq!(destination["Enabled"].as_bool(), Some(true));
    assert!(
        inner(&destination["EventBridgeDestination"]["EventBusArn"])
            .ends_with(":event-bus/default")
    );
    // !If [TracksOpensAndClicks, with opens and clicks, without]
    let branches = match &destination["MatchingEventTypes"] {
        Value::Tagged(tagged) if tagged.tag == "!If" => {
            tagged.value.as_sequence().cloned().expect("!If's items")
        }
        other => panic!("MatchingEventTypes: {other:?}"),
    };
    assert_eq!(text(&branches[0]), "TracksOpensAndClicks");
    let types = |v: &Value| -> Vec<String> {
        v.as_sequence()
            .expect("event types")
            .iter()
            .map(text)
            .collect()
    };
    let (tracked, untracked) = (types(&branches[1]), types(&branches[2]));
    let mut expected: Vec<String> = untracked.clone();
    expected.extend(["open".to_string(), "click".to_string()]);
    assert_eq!(tracked, expected, "tracking adds opens and clicks only");

    let rule = properties(&template, "SesFeedbackRule");
    assert_eq!(text(&rule["EventBusName"]), "default");
    let pattern = &rule["EventPattern"];
    let source: Vec<String> = pattern["source"]
        .as_sequence()
        .expect("source")
        .iter()
        .map(text)
        .collect();
    assert_eq!(source, ["aws.ses"]);
    let detail_types: Vec<String> = pattern["detail-type"]
        .as_sequence()
        .expect("detail-type")
        .iter()
        .map(text)
        .collect();
    for kind in &tracked {
        let (_, detail_type) = DETAIL_TYPES
            .iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("unknown SES event type {kind}"));
        assert!(
            detail_types.iter().any(|d| d == detail_type),
            "{detail_type} not in the rule"
        );
    }
    assert_eq!(detail_types.len(), tracked.len(), "{detail_types:?}");
    let sets = pattern["detail"]["mail"]["tags"]["ses:configuration-set"]
        .as_sequence()
        .expect("the rule matches the configuration set tag");
    assert_eq!(sets.len(), 1);
    assert!(is_ref(&sets[0], "SesConfigurationSet"));

    let targets = rule["Targets"].as_sequence().expect("targets");
    assert_eq!(targets.len(), 1);
    assert!(is_get_att(&targets[0]["Arn"], "FeedbackQueue.Arn"));
    assert!(is_get_att(
        &targets[0]["DeadLetterConfig"]["Arn"],
        "FeedbackDeadLetterQueue.Arn"
    ));
    assert!(!targets[0]["RetryPolicy"].is_null());

    let policy = properties(&template, "FeedbackQueuePolicy");
    let queues = policy["Queues"].as_sequence().expect("queues");
    assert!(queues.iter().any(|q| is_ref(q, "FeedbackQueue")));
    assert!(queues.iter().any(|q| is_ref(q, "FeedbackDeadLetterQueue")));
    for statement in policy["PolicyDocument"]["Statement"]
        .as_sequence()
        .expect("statements")
    {
        assert_eq!(
            text(&statement["Principal"]["Service"]),
            "events.amazonaws.com"
        );
        assert_eq!(actions(statement), ["sqs:SendMessage"]);
        assert!(is_get_att(
            &statement["Condition"]["ArnEquals"]["aws:SourceArn"],
            "SesFeedbackRule.Arn"
        ));
    }
}

/// Every function ships through its `live` alias, shifted by CodeDeploy, which rolls back when
/// the function's own rollback alarm (errors of the new version behind the alias) fires.
#[test]
fn every_function_is_deployed_gradually_with_a_rollback_alarm() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(text(&globals["AutoPublishAlias"]), "live");
    assert!(is_ref(
        &globals["DeploymentPreference"]["Type"],
        "DeploymentType"
    ));
    assert_eq!(text(&globals["CodeUri"]), ".");
    for name in functions(&template) {
        let function = properties(&template, &name);
        for key in ["AutoPublishAlias", "CodeUri"] {
            assert!(
                function[key].is_null(),
                "{name} sets its own {key} (Globals has it)"
            );
        }
        let preference = effective(&template, &name, "DeploymentPreference");
        assert!(is_ref(&preference["Type"], "DeploymentType"), "{name}");
        let alarms: Vec<String> = preference["Alarms"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|a| tagged(a).map(|(_, a)| a))
            .collect();
        let [crashes, failures] = alarms.as_slice() else {
            panic!("{name}: two rollback alarms, not {alarms:?}")
        };
        let dimension = |alarm: &Value, wanted: &str| -> Value {
            alarm["Dimensions"]
                .as_sequence()
                .expect("dimensions")
                .iter()
                .find(|d| text(&d["Name"]) == wanted)
                .map(|d| d["Value"].clone())
                .unwrap_or_else(|| panic!("{name}'s rollback alarm has no {wanted} dimension"))
        };
        let the_new_version = format!("{name}.Version.Version");
        // the new version's crashes …
        let alarm = properties(&template, crashes);
        assert_eq!(text(&alarm["MetricName"]), "Errors", "{name}");
        assert_eq!(text(&alarm["Namespace"]), "AWS/Lambda", "{name}");
        assert!(is_ref(&dimension(alarm, "FunctionName"), &name));
        assert_eq!(
            inner(&dimension(alarm, "Resource")),
            format!("${{{name}}}:live")
        );
        assert!(
            is_get_att(&dimension(alarm, "ExecutedVersion"), &the_new_version),
            "{name}: the new version's errors only"
        );
        // … and what it failed without crashing, as the code counts it
        let failed = properties(&template, failures);
        assert_eq!(
            text(&failed["MetricName"]),
            journey::metrics::VERSION_FAILURES
        );
        assert_eq!(inner(&failed["Namespace"]), ENV_NAMESPACE);
        assert!(is_ref(&dimension(failed, "FunctionName"), &name));
        assert!(is_get_att(&dimension(failed, "Version"), &the_new_version));
        for alarm in [&alarm, &failed] {
            assert!(
                alarm["Period"].as_u64().is_some_and(|p| p <= 60),
                "{name}: per minute"
            );
        }
    }
}

/// Every alarm tells the alarm topic when it fires and when it clears; the only silent alarms
/// are deployments' rollback alarms (the function's errors alarm reports the same errors).
#[test]
fn every_alarm_notifies_when_it_fires_and_when_it_clears() {
    let template = template();
    let rollback: Vec<String> = functions(&template)
        .iter()
        .flat_map(|f| {
            effective(&template, f, "DeploymentPreference")["Alarms"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .map(|a| inner(&a))
        .collect();
    let topic = |actions: &Value| -> bool {
        actions
            .as_sequence()
            .is_some_and(|a| a.len() == 1 && is_ref(&a[0], "AlarmTopic"))
    };
    for name in of_type(&template, "AWS::CloudWatch::Alarm") {
        let alarm = properties(&template, &name);
        if rollback.contains(&name) {
            for key in ["AlarmActions", "OKActions", "InsufficientDataActions"] {
                assert!(
                    alarm[key].is_null(),
                    "{name}: a rollback alarm, silent ({key})"
                );
            }
        } else {
            assert!(topic(&alarm["AlarmActions"]), "{name}: AlarmActions");
            assert!(topic(&alarm["OKActions"]), "{name}: OKActions");
        }
    }
}

/// Queues and log groups say what happens to them when the stack goes or replaces them, and
/// every queue says how long it keeps a message; the table outlives the stack and refuses a
/// delete.
#[test]
fn stateful_resources_have_explicit_deletion_policies() {
    let template = template();
    for kind in ["AWS::SQS::Queue", "AWS::Logs::LogGroup"] {
        for name in of_type(&template, kind) {
            let resource = &template["Resources"][name.as_str()];
            for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
                assert!(
                    ["Delete", "Retain", "Snapshot", "RetainExceptOnCreate"]
                        .contains(&text(&resource[policy]).as_str()),
                    "{name}: {policy}"
                );
            }
            if kind == "AWS::SQS::Queue" {
                assert!(
                    resource["Properties"]["MessageRetentionPeriod"]
                        .as_u64()
                        .is_some(),
                    "{name}: MessageRetentionPeriod"
                );
                // encrypted at rest, said rather than left to the account's default
                assert_eq!(
                    resource["Properties"]["SqsManagedSseEnabled"].as_bool(),
                    Some(true),
                    "{name}: SqsManagedSseEnabled"
                );
            }
        }
    }
    // the event log, calibration's only history: versioned, its old versions expiring
    let log = properties(&template, "EventLogBucket");
    assert_eq!(text(&log["VersioningConfiguration"]["Status"]), "Enabled");
    let rules = log["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .expect("lifecycle rules");
    let noncurrent = |prefix: &str| {
        rules.iter().any(|r| {
            text(&r["Prefix"]) == prefix
                && r["NoncurrentVersionExpiration"]["NoncurrentDays"]
                    .as_u64()
                    .is_some()
        })
    };
    assert!(noncurrent("log/"), "the log's old versions never expire");
    // kept when the stack goes or replaces them; removed by a failed first creation, which
    // could otherwise never be retried (their names are fixed)
    for name in ["JourneyTable", "StaffUserPool", "EventLogBucket"] {
        let resource = &template["Resources"][name];
        assert_eq!(
            text(&resource["DeletionPolicy"]),
            "RetainExceptOnCreate",
            "{name}"
        );
        assert_eq!(text(&resource["UpdateReplacePolicy"]), "Retain", "{name}");
    }
    // the table refuses a delete, except while make deploy first creates the stack
    let table = &template["Resources"]["JourneyTable"];
    let protection = &table["Properties"]["DeletionProtectionEnabled"];
    assert_eq!(
        tagged(protection).map(|(tag, _)| tag),
        Some("!If".to_string())
    );
    let Value::Tagged(choice) = protection else {
        panic!("{protection:?}")
    };
    assert_eq!(text(&choice.value[0]), "ProtectsTable");
    assert_eq!(
        (choice.value[1].as_bool(), choice.value[2].as_bool()),
        (Some(true), Some(false))
    );
    let parameter = &template["Parameters"]["TableDeletionProtection"];
    assert_eq!(text(&parameter["Default"]), "true");
}

/// Every resource that can carry tags carries `app: journey` and `env: <EnvName>`: the
/// functions (and what SAM makes for them) through Globals, the rest each on its own.
#[test]
fn every_taggable_resource_is_tagged() {
    // CloudFormation types without a Tags property
    const UNTAGGABLE: &[&str] = &[
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::Subscription",
        "AWS::SES::ConfigurationSetEventDestination",
        "AWS::S3::BucketPolicy",
        "AWS::Logs::LogStream",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolGroup",
        "AWS::ApiGatewayV2::ApiMapping",
    ];
    let template = template();
    let ours = |tags: &Value, name: &str| match tags {
        // SAM: a map
        Value::Mapping(_) => {
            assert_eq!(text(&tags["app"]), "journey", "{name}");
            assert!(is_ref(&tags["env"], "EnvName"), "{name}");
        }
        // CloudFormation: [{Key, Value}]
        Value::Sequence(items) => {
            let value = |key: &str| {
                items
                    .iter()
                    .find(|t| text(&t["Key"]) == key)
                    .map(|t| t["Value"].clone())
                    .unwrap_or_else(|| panic!("{name} has no {key} tag"))
            };
            assert_eq!(text(&value("app")), "journey", "{name}");
            assert!(is_ref(&value("env"), "EnvName"), "{name}");
        }
        other => panic!("{name}: no tags ({other:?})"),
    };
    let globals = &template["Globals"]["Function"];
    ours(&globals["Tags"], "Globals.Function");
    assert_eq!(
        globals["PropagateTags"].as_bool(),
        Some(true),
        "the roles, aliases, event source mappings … SAM makes are tagged too"
    );
    for (name, resource) in template["Resources"].as_mapping().expect("resources") {
        let (name, kind) = (text(name), text(&resource["Type"]));
        match kind.as_str() {
            "AWS::Serverless::Function" => {
                ours(&effective(&template, &name, "Tags"), &name);
            }
            kind if UNTAGGABLE.contains(&kind) => {}
            "AWS::Cognito::UserPool" => ours(&resource["Properties"]["UserPoolTags"], &name),
            _ => ours(&resource["Properties"]["Tags"], &name),
        }
    }
}

/// Every dead-letter queue is alarmed (another test) and named in the outputs, ARN and URL, for
/// `aws sqs start-message-move-task --source-arn` and for reading it.
#[test]
fn every_dead_letter_queue_is_in_the_outputs() {
    let template = template();
    let dlqs = dead_letter_queues(&template);
    for expected in [
        "EventsDeadLetterQueue",
        "EmailDeadLetterQueue",
        "SlackDeadLetterQueue",
        "FeedbackDeadLetterQueue",
        "SweepDeadLetterQueue",
        "FailedRunsQueue",
    ] {
        assert!(
            dlqs.iter().any(|d| d == expected),
            "{expected} is a DLQ: {dlqs:?}"
        );
    }
    let outputs = &template["Outputs"];
    for dlq in &dlqs {
        assert_eq!(
            text(&template["Resources"][dlq.as_str()]["Type"]),
            "AWS::SQS::Queue",
            "{dlq}"
        );
        assert!(
            is_get_att(
                &outputs[format!("{dlq}Arn").as_str()]["Value"],
                &format!("{dlq}.Arn")
            ),
            "output {dlq}Arn"
        );
        assert!(
            is_ref(&outputs[format!("{dlq}Url").as_str()]["Value"], dlq),
            "output {dlq}Url"
        );
    }
}

/// The dashboard's body is JSON once substituted; it shows every function, every queue and
/// DLQ; each business metric on it (or alarmed) is one the code emits, under a function name
/// the code uses; and the code publishes no metric that nothing reads.
#[test]
fn the_dashboard_and_the_business_alarms_read_metrics_the_code_emits() {
    let template = template();
    let body = inner(&properties(&template, "OpsDashboard")["DashboardBody"]);
    // `${X}` → 1: a number where the body holds a parameter's value, text inside strings
    let mut substituted = String::new();
    let mut rest = body.as_str();
    while let Some(start) = rest.find("${") {
        substituted.push_str(&rest[..start]);
        substituted.push('1');
        let end = rest[start..].find('}').expect("a closing brace");
        rest = &rest[start + end + 1..];
    }
    substituted.push_str(rest);
    let dashboard: serde_json::Value =
        serde_json::from_str(&substituted).expect("the dashboard body is JSON");
    for name in functions(&template) {
        assert!(
            body.contains(&format!("\"${{{name}}}\"")),
            "{name} not on the dashboard"
        );
    }
    for name in of_type(&template, "AWS::SQS::Queue") {
        assert!(
            body.contains(&format!("\"${{{name}.QueueName}}\"")),
            "{name} not on the dashboard"
        );
    }

    // the code: its sources, and the function names its metrics carry
    let root = journey_tests::workspace_root();
    let mut sources = String::new();
    let mut dirs = vec![root.join("shared/src")];
    for entry in std::fs::read_dir(root.join("functions"))
        .expect("functions/")
        .flatten()
    {
        dirs.push(entry.path().join("src"));
    }
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let emitted = |metric: &str, function: &str, whose: &str| {
        assert!(
            sources.contains(&format!("\"{metric}\"")),
            "{whose}: the code emits no metric {metric}"
        );
        assert!(
            sources.contains(&format!("Metrics::new(\"{function}\")")),
            "{whose}: no function's metrics are named {function}"
        );
    };
    let mut read = std::collections::BTreeSet::new();
    let mut on_dashboard = 0;
    for widget in dashboard["widgets"].as_array().expect("widgets") {
        for metric in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let row = metric.as_array().expect("a metric row");
            // `${EnvName}` reads as 1 here
            if row[0].as_str() == Some(&format!("{}/1", journey::metrics::NAMESPACE)) {
                assert_eq!(row[2], "Function", "{row:?}");
                let (name, function) = (
                    row[1].as_str().unwrap_or_default(),
                    row[3].as_str().unwrap_or_default(),
                );
                emitted(name, function, "the dashboard");
                read.insert((function.to_string(), name.to_string()));
                on_dashboard += 1;
            }
        }
    }
    assert!(on_dashboard > 0, "no business metric on the dashboard");
    for name in of_type(&template, "AWS::CloudWatch::Alarm") {
        let alarm = properties(&template, &name);
        let mut metrics = vec![alarm.clone()];
        for query in alarm["Metrics"].as_sequence().into_iter().flatten() {
            metrics.push(query["MetricStat"]["Metric"].clone());
        }
        for metric in metrics {
            // a version's failures are counted by Lambda's function name and version, for the
            // canary (every_function_is_deployed_gradually_with_a_rollback_alarm)
            if text(&metric["MetricName"]) == journey::metrics::VERSION_FAILURES {
                continue;
            }
            if inner(&metric["Namespace"]) == ENV_NAMESPACE {
                let dimension = &metric["Dimensions"][0];
                assert_eq!(text(&dimension["Name"]), "Function", "{name}");
                emitted(
                    &text(&metric["MetricName"]),
                    &text(&dimension["Value"]),
                    &name,
                );
                read.insert((text(&dimension["Value"]), text(&metric["MetricName"])));
            }
        }
    }
    // the code publishes as metrics exactly what is read (each series is billed); the other
    // counts stay in the log lines, which the dashboard's Logs Insights widget sums
    let published: std::collections::BTreeSet<_> = journey::metrics::PUBLISHED
        .iter()
        .map(|(f, n)| (f.to_string(), n.to_string()))
        .collect();
    assert_eq!(read, published);
    let logged = body.contains("\"type\": \"log\"") && body.contains("sum(SendsRetried)");
    assert!(
        logged,
        "no Logs Insights widget for the counts kept in the logs"
    );
}

/// The operator hears of trouble before AWS or the customers do: SES's bounce and complaint
/// rates below AWS's review thresholds (5 %, 0.1 %), the events queue's oldest message, the
/// HTTP API's 5xx and the table's throttles; the HTTP API logs each request as JSON, by route
/// (never the path or query, which may hold an unsubscribe token); the sender's domain can
/// be an identity with 2048-bit DKIM.
#[test]
fn the_edge_and_ses_are_watched_before_aws_acts() {
    let template = template();
    let default = |name: &str| template["Parameters"][name]["Default"].as_f64().unwrap();
    assert!(default("BounceRateAlarm") < 0.05);
    assert!(default("ComplaintRateAlarm") < 0.001);
    for (alarm, metric, threshold) in [
        (
            "SesBounceRateAlarm",
            "Reputation.BounceRate",
            "BounceRateAlarm",
        ),
        (
            "SesComplaintRateAlarm",
            "Reputation.ComplaintRate",
            "ComplaintRateAlarm",
        ),
    ] {
        let a = properties(&template, alarm);
        assert_eq!(text(&a["Namespace"]), "AWS/SES", "{alarm}");
        assert_eq!(text(&a["MetricName"]), metric, "{alarm}");
        assert!(is_ref(&a["Threshold"], threshold), "{alarm}");
    }
    let age = properties(&template, "EventsQueueAgeAlarm");
    assert_eq!(text(&age["MetricName"]), "ApproximateAgeOfOldestMessage");
    assert!(is_get_att(
        &age["Dimensions"][0]["Value"],
        "EventsQueue.QueueName"
    ));
    assert_eq!(
        text(&properties(&template, "HttpApi5xxAlarm")["MetricName"]),
        "5xx"
    );
    let throttles =
        serde_norway::to_string(&properties(&template, "TableThrottlesAlarm")["Metrics"]).unwrap();
    assert!(throttles.contains("ReadThrottleEvents") && throttles.contains("WriteThrottleEvents"));

    let logs = &properties(&template, "HttpApi")["AccessLogSettings"];
    assert!(is_get_att(
        &logs["DestinationArn"],
        "HttpApiAccessLogGroup.Arn"
    ));
    let format: serde_json::Value = serde_json::from_str(&text(&logs["Format"])).expect("JSON");
    assert_eq!(format["routeKey"], "$context.routeKey");
    assert_eq!(format["status"], "$context.status");
    let fields = text(&logs["Format"]);
    assert!(
        !fields.contains("$context.path") && !fields.contains("querystring"),
        "{fields}"
    );

    let identity = &template["Resources"]["SenderIdentity"];
    assert_eq!(text(&identity["Condition"]), "HasSenderDomain");
    let identity = &identity["Properties"];
    assert!(is_ref(&identity["EmailIdentity"], "SenderDomain"));
    assert_eq!(
        identity["DkimAttributes"]["SigningEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        text(&identity["DkimSigningAttributes"]["NextSigningKeyLength"]),
        "RSA_2048_BIT"
    );
}

/// The event log (docs/data-model.md): the worker may only append to its one stream, the
/// calibration job may only list and read under `log/` (and no longer scans the table); the
/// bucket expires the log after `EventLogDays`, refuses plain HTTP and public access, and
/// Firehose compresses what it writes there.
#[test]
fn the_event_log_is_appended_by_the_worker_and_read_by_calibration_only() {
    let template = template();
    let all = |function: &str| -> Vec<String> {
        statements(&template, function)
            .iter()
            .flat_map(actions)
            .collect()
    };
    let transition = statements(&template, "TransitionFunction");
    let append: Vec<_> = transition
        .iter()
        .filter(|s| actions(s).iter().any(|a| a.starts_with("firehose:")))
        .collect();
    assert_eq!(append.len(), 1);
    assert_eq!(actions(append[0]), ["firehose:PutRecordBatch"]);
    // its stream, and the one an upgrade replaced (named, not a wildcard)
    let streams = append[0]["Resource"].as_sequence().expect("two streams");
    assert_eq!(streams.len(), 2);
    assert!(is_get_att(&streams[0], "EventLogStream.Arn"));
    assert!(inner(&streams[1]).ends_with(":deliverystream/journey-${EnvName}-log"));
    for function in functions(&template) {
        let actions = all(&function);
        assert!(
            !actions.iter().any(|a| a == "dynamodb:Scan"),
            "{function} scans"
        );
        if function != "CalibrateFunction" {
            assert!(
                !actions.iter().any(|a| a.starts_with("s3:")),
                "{function} reads S3"
            );
        }
        if function != "TransitionFunction" {
            assert!(
                !actions.iter().any(|a| a.starts_with("firehose:")),
                "{function}"
            );
        }
    }
    let calibrate = statements(&template, "CalibrateFunction");
    let s3: Vec<_> = calibrate
        .iter()
        .filter(|s| actions(s).iter().any(|a| a.starts_with("s3:")))
        .collect();
    let reads: Vec<String> = s3.iter().flat_map(|s| actions(s)).collect();
    assert_eq!(reads, ["s3:ListBucket", "s3:GetObject"]);
    assert_eq!(resources(s3[1]), ["${EventLogBucket.Arn}/log/*"]);
    assert_eq!(
        text(&s3[0]["Condition"]["StringLike"]["s3:prefix"][0]),
        "log/*"
    );
    let env = |f: &str, v: &str| properties(&template, f)["Environment"]["Variables"][v].clone();
    assert!(is_ref(
        &env("TransitionFunction", "EVENT_LOG_STREAM"),
        "EventLogStream"
    ));
    assert!(is_ref(
        &env("CalibrateFunction", "EVENT_LOG_BUCKET"),
        "EventLogBucket"
    ));

    let bucket = &template["Resources"]["EventLogBucket"]["Properties"];
    let expire = bucket["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .expect("lifecycle rules")
        .iter()
        .find(|r| text(&r["Prefix"]) == journey_adapters::s3::LOG_PREFIX)
        .expect("a rule for the log");
    assert!(is_ref(&expire["ExpirationInDays"], "EventLogDays"));
    let block = &bucket["PublicAccessBlockConfiguration"];
    for key in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[key].as_bool(), Some(true), "{key}");
    }
    let policy = &template["Resources"]["EventLogBucketPolicy"]["Properties"]["PolicyDocument"];
    assert_eq!(
        text(&policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"]),
        "false"
    );
    let stream = &template["Resources"]["EventLogStream"]["Properties"];
    let destination = &stream["ExtendedS3DestinationConfiguration"];
    assert_eq!(text(&destination["CompressionFormat"]), "GZIP");
    // partitioned into the shards the reader lists, by the code's own formula
    let prefix = text(&destination["Prefix"]);
    let shard_folder = journey_adapters::s3::shard_folder(0).replace("0/", "");
    assert!(
        prefix.starts_with(&format!("{shard_folder}!{{partitionKeyFromQuery:shard}}/")),
        "{prefix}"
    );
    assert_eq!(
        destination["DynamicPartitioningConfiguration"]["Enabled"].as_bool(),
        Some(true)
    );
    let processors = destination["ProcessingConfiguration"]["Processors"]
        .as_sequence()
        .expect("processors");
    let parameter = |kind: &str, name: &str| {
        let processor = processors
            .iter()
            .find(|p| text(&p["Type"]) == kind)
            .unwrap_or_else(|| panic!("no {kind} processor"));
        let parameters = processor["Parameters"].as_sequence().expect("parameters");
        let found = parameters
            .iter()
            .find(|p| text(&p["ParameterName"]) == name);
        text(&found.expect("the parameter")["ParameterValue"])
    };
    assert_eq!(parameter("RecordDeAggregation", "SubRecordType"), "JSON");
    assert_eq!(
        parameter("MetadataExtraction", "MetadataExtractionQuery"),
        format!("{{shard: {}}}", journey::backtest::sample::SHARD_JQ)
    );
    assert_eq!(parameter("AppendDelimiterToRecord", "Delimiter"), "\\n");
}

/// Staff reach every data route again under `/staff/`, and only there through the JWT
/// authorizer (the function trusts the claims it finds only on those paths); the authorizer
/// names the stack's own user pool unless StaffIssuer names another provider, and the API
/// function is told the same issuer and client.
#[test]
fn staff_routes_mirror_the_data_routes_behind_the_jwt_authorizer() {
    let template = template();
    let events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
        .as_mapping()
        .expect("the API's routes")
        .clone();
    let mut plain = Vec::new();
    let mut staff = Vec::new();
    for event in events.values() {
        let p = &event["Properties"];
        let (method, path) = (text(&p["Method"]), text(&p["Path"]));
        match path.strip_prefix("/staff") {
            Some(rest) => {
                assert_eq!(text(&p["Auth"]["Authorizer"]), "StaffJwt", "{path}");
                staff.push((method, rest.to_string()));
            }
            None => {
                assert!(p["Auth"].is_null(), "{path} names no authorizer");
                // the public ones hold no data: no staff twin, no role
                if !api::openapi::PUBLIC.contains(&path.as_str()) {
                    plain.push((method, path));
                }
            }
        }
    }
    plain.sort();
    staff.sort();
    assert_eq!(staff, plain);
    // and they are the routes the API's role table names, no more, no fewer
    let mut table: Vec<(String, String)> = api::roles::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    table.sort();
    assert_eq!(plain, table, "template.yaml and functions/api/src/roles.rs");
    let jwt = &template["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]["StaffJwt"];
    assert_eq!(
        text(&jwt["IdentitySource"]),
        "$request.header.Authorization"
    );
    let config = &jwt["JwtConfiguration"];
    let variables = &template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(config["issuer"], variables["STAFF_ISSUER"]);
    assert_eq!(config["audience"][0], variables["STAFF_CLIENT_ID"]);
    assert!(format!("{:?}", config["issuer"]).contains("CreatesStaffPool"));
}

/// Security review L4: every function's access to the table names the partitions it keeps, so
/// that no function can overwrite another's (a sender cannot write `RULES/ACTIVE`; calibration
/// cannot read a customer).
#[test]
fn every_function_reaches_only_its_own_partitions_of_the_table() {
    let template = template();
    let allowed: &[(&str, &[&str])] = &[
        (
            "TransitionFunction",
            &["CUST#*", "COUNTS#*", "TALLY#*", "RULES", "TEXTPOLL#*"],
        ),
        ("EmailSenderFunction", &["CUST#*"]),
        // whose a text is, for a report naming only its send id
        ("IngestFunction", &["TEXTPOLL#*"]),
        ("TextSenderFunction", &["CUST#*", "TEXTPOLL#*"]),
        ("SlackSenderFunction", &["CUST#*"]),
        ("SesFeedbackFunction", &["CUST#*"]),
        ("CalibrateFunction", &["RULES", "TALLY#*"]),
        (
            "ApiFunction",
            &["CUST#*", "COUNTS#*", "TALLY#*", "RULES", "ACCESS#*"],
        ),
    ];
    for (function, prefixes) in allowed {
        let on_table: Vec<_> = statements(&template, function)
            .into_iter()
            .filter(|s| actions(s).iter().any(|a| a.starts_with("dynamodb:")))
            .filter(|s| resources(s).iter().any(|r| r == "JourneyTable.Arn"))
            .collect();
        assert!(!on_table.is_empty(), "{function} uses the table");
        for statement in on_table {
            let mut keys = leading_keys(&statement, "ForAllValues:StringLike");
            keys.extend(leading_keys(&statement, "ForAllValues:StringEquals"));
            assert!(!keys.is_empty(), "{function}: unlimited {statement:?}");
            for key in keys {
                assert!(prefixes.contains(&key.as_str()), "{function}: {key}");
            }
        }
    }
}

/// The business metrics' namespace as the template writes it: the environment's own.
const ENV_NAMESPACE: &str = "Journey/${EnvName}";

/// Two stacks in one account never read each other's counts: every function publishes in its
/// environment's namespace, every alarm reads either that namespace or an AWS metric of this
/// stack's own resources, and the dashboard only this environment's business metrics.
#[test]
fn every_alarm_and_the_dashboard_read_their_own_environment() {
    let template = template();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        tagged(&globals[journey::metrics::NAMESPACE_VARIABLE]),
        Some(("!Sub".to_string(), ENV_NAMESPACE.to_string()))
    );
    for name in of_type(&template, "AWS::CloudWatch::Alarm") {
        let alarm = properties(&template, &name);
        let mut metrics = vec![alarm.clone()];
        for query in alarm["Metrics"].as_sequence().into_iter().flatten() {
            metrics.push(query["MetricStat"]["Metric"].clone());
        }
        for metric in metrics.iter().filter(|m| !m["Namespace"].is_null()) {
            let namespace = &metric["Namespace"];
            if text(namespace).starts_with("AWS/") {
                // an AWS metric: a dimension names a resource of this stack, except SES's
                // reputation, which is the account's and watched by every stack alike
                let dimensions: Vec<&Value> = metric["Dimensions"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .collect();
                let ours = dimensions
                    .iter()
                    .any(|d| matches!(d["Value"], Value::Tagged(_)));
                let account_wide = text(namespace) == "AWS/SES" && dimensions.is_empty();
                assert!(ours || account_wide, "{name}: {dimensions:?}");
            } else {
                assert_eq!(
                    tagged(namespace),
                    Some(("!Sub".to_string(), ENV_NAMESPACE.to_string())),
                    "{name}"
                );
            }
        }
    }
    let body = inner(&properties(&template, "OpsDashboard")["DashboardBody"]);
    for row in body.split("[\"").skip(1) {
        let namespace = row.split('"').next().unwrap_or_default();
        if namespace.starts_with(journey::metrics::NAMESPACE) {
            assert_eq!(
                namespace, ENV_NAMESPACE,
                "a dashboard row reads {namespace}"
            );
        }
    }
}

/// `docs/deploy.md` says what the template holds: its opening counts, a runbook row for every
/// alarm, and the toolchain `Cargo.toml` requires (as the README does).
#[test]
fn the_deploy_guide_says_what_the_template_holds() {
    let template = template();
    let root = journey_tests::workspace_root();
    let guide = std::fs::read_to_string(root.join("docs/deploy.md")).expect("deploy.md");
    let opening = &guide[..guide
        .find("This page takes")
        .expect("the opening paragraph")];
    let opening = opening.split_whitespace().collect::<Vec<_>>().join(" ");
    let counted = |what: &str| -> usize {
        let at = opening
            .find(&format!(" {what}"))
            .unwrap_or_else(|| panic!("no {what}"));
        let number = opening[..at].rsplit(' ').next().unwrap_or_default();
        number
            .parse()
            .unwrap_or_else(|_| panic!("{what}: {number:?}"))
    };
    let schedules = of_type(&template, "AWS::Serverless::Function")
        .iter()
        .flat_map(|f| {
            let events = &template["Resources"][f.as_str()]["Properties"]["Events"];
            events
                .as_mapping()
                .into_iter()
                .flatten()
                .filter(|(_, e)| text(&e["Type"]) == "ScheduleV2")
                .map(|(name, _)| text(name))
                .collect::<Vec<_>>()
        })
        .count();
    for (what, kind) in [
        ("arm64 functions", "AWS::Serverless::Function"),
        ("SQS queues", "AWS::SQS::Queue"),
        ("log groups", "AWS::Logs::LogGroup"),
        ("alarms", "AWS::CloudWatch::Alarm"),
    ] {
        assert_eq!(counted(what), of_type(&template, kind).len(), "{what}");
    }
    assert_eq!(counted("schedules"), schedules, "schedules");
    // every alarm has its row; the per-function ones share theirs
    let functions = functions(&template);
    for name in of_type(&template, "AWS::CloudWatch::Alarm") {
        let alarm_name = inner(&properties(&template, &name)["AlarmName"]);
        let short = alarm_name.trim_start_matches("journey-${EnvName}-");
        let per_function = [
            "-canary-errors",
            "-canary-failures",
            "-errors",
            "-throttles",
        ]
        .iter()
        .find(|suffix| {
            short.strip_suffix(**suffix).is_some_and(|f| {
                functions.iter().any(|logical| {
                    inner(&properties(&template, logical)["FunctionName"])
                        == format!("journey-${{EnvName}}-{f}")
                })
            })
        });
        let row = match per_function {
            Some(suffix) => format!("`<fn>{suffix}`"),
            None => format!("`{short}`"),
        };
        assert!(
            guide.contains(&format!("| {row}"))
                || guide.contains(&format!(", {row}"))
                || guide.contains(&format!("{row},")),
            "{alarm_name}: no runbook row {row}"
        );
    }
    // the toolchain
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version")
        .trim_matches('"');
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for (doc, text) in [("README.md", &readme), ("docs/deploy.md", &guide)] {
        assert!(
            text.contains(&format!("{version}+")),
            "{doc} does not say Rust {version}+"
        );
    }
}

/// The release is one number: `Cargo.toml`'s version heads `CHANGELOG.md`.
#[test]
fn the_changelog_heads_with_the_workspace_version() {
    let root = journey_tests::workspace_root();
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).expect("CHANGELOG.md");
    let newest = changelog
        .lines()
        .find_map(|l| l.strip_prefix("## "))
        .and_then(|h| h.split_whitespace().next())
        .expect("a release heading");
    assert_eq!(newest, journey::VERSION);
}

/// With `ApiDomainName` set, every address the stack hands out — the links functions write
/// (unsubscribe, Slack buttons), the sign-in callback, the webhook URLs in the outputs — is
/// under that name: the execute-api host appears only as the fallback of no domain.
#[test]
fn every_address_the_stack_writes_follows_the_custom_domain() {
    let root = journey_tests::workspace_root();
    let source = std::fs::read_to_string(root.join("template.yaml")).expect("template.yaml");
    let fallback = "!If [HasApiDomain, !Sub \"https://${ApiDomainName}\", !Sub \"https://${HttpApi}.execute-api.";
    let hosts = source.matches("execute-api.").count();
    assert!(hosts > 0);
    // the one exception: ExecuteApiUrl, which the smoke check reads before DNS is set
    let own = "ExecuteApiUrl:\n    Description: The API's own execute-api address";
    assert!(source.contains(own));
    assert_eq!(
        source.matches(fallback).count() + 1,
        hosts,
        "an execute-api address without the domain"
    );
    let rule = &template()["Rules"]["DomainNeedsCertificate"];
    assert!(
        !rule["Assertions"].is_null(),
        "a domain without a certificate is refused"
    );
    let template = template();
    let domain = properties(&template, "ApiDomain");
    assert!(is_ref(&domain["DomainName"], "ApiDomainName"));
    let mapping = properties(&template, "ApiDomainMapping");
    assert!(is_ref(&mapping["ApiId"], "HttpApi"));
    for name in ["ApiDomain", "ApiDomainMapping"] {
        assert_eq!(
            text(&template["Resources"][name]["Condition"]),
            "HasApiDomain"
        );
    }
}

/// X-Ray is off until the code makes segments of its own: active tracing of an uninstrumented
/// function records only Lambda's invoke segment, and bills it. Nor may the roles write traces.
#[test]
fn tracing_is_off_until_the_code_is_instrumented() {
    let template = template();
    assert_eq!(
        text(&template["Globals"]["Function"]["Tracing"]),
        "PassThrough"
    );
    for name in functions(&template) {
        assert!(properties(&template, &name)["Tracing"].is_null(), "{name}");
    }
    let root = journey_tests::workspace_root();
    let boundary =
        std::fs::read_to_string(root.join("infra/permissions-boundary.json")).expect("boundary");
    assert!(
        !boundary.contains("xray:"),
        "the boundary still allows X-Ray"
    );
}
