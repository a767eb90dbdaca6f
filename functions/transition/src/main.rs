//! Lambda entry point: wiring only.

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use journey::adapters::dynamodb::DynamoStore;
use journey::adapters::eventbridge::EventBridgeBus;
use journey::adapters::sqs::SqsInterventionQueues;
use journey::config;
use journey::rules_versions::LiveRules;
use journey::templates::Templates;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use transition::Transition;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let email_queue = config::required("EMAIL_QUEUE_URL")?;
    let slack_queue = config::required("SLACK_QUEUE_URL")?;
    let bus = config::required("EVENT_BUS_NAME")?;
    let base = config::rules_text()?;
    let rules = config::parse_rules(&base)?;
    // a rule that sends a template no sender has fails the cold start, naming the key
    let templates = Templates::embedded()?;
    templates.check(&rules)?;
    let refresh = Duration::from_secs(config::parsed_or("RULES_REFRESH_SECONDS", 300)?);
    let event_log_days = config::parsed_or("EVENT_LOG_DAYS", 180)?;
    let aws = journey::adapters::aws::load(Duration::from_secs(8)).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table)
        .with_event_log_days(event_log_days);
    let transition = Transition::new(
        store.clone(),
        SqsInterventionQueues::new(aws_sdk_sqs::Client::new(&aws), email_queue, slack_queue),
        EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&aws), bus),
        rules,
    );
    let live = LiveRules::new(store, base, refresh, transition.rules_handle()).checking(templates);
    let (transition, live) = (&transition, &live);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        match live.refresh().await {
            Ok(outcome) if outcome.rejected() > 0.0 => {
                let metrics = journey::metrics::Metrics::new("transition");
                metrics.add("RulesVersionRejected", outcome.rejected());
                metrics.flush();
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "rules versions unreadable; keeping the rules in force")
            }
        }
        Ok::<_, Error>(transition.handle_batch(event.payload).await)
    }))
    .await
}
