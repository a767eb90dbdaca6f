//! Write units per event by kind, from the items the store would write for each (computed, not
//! sampled: `DynamoStore::commit_writes` on a representative commit, sized by DynamoDB's
//! published rules). The customer is one active every day for 90 days, as `docs/performance.md`
//! describes; the mix measures the same through the emulator for the whole population.

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Duration, Utc};
use journey::domain::event::EventKind;
use journey::domain::{Customer, Delivery, Effect, Event, Outcome, Rules, Source, apply};
use journey::ports::{Commit, Step};
use journey_adapters::dynamodb::schema::INDEXES;
use journey_adapters::dynamodb::{DynamoStore, customer_item, item_size};
use serde::Serialize;

use crate::counter::{index_entry, index_writes};
use crate::sizing::write_units;
use journey_domain::testing::{active_customer, krw, t};

/// One kind of event's writes.
#[derive(Clone, Debug, Serialize)]
pub struct KindCost {
    pub kind: &'static str,
    /// The event applied.
    pub event: String,
    pub items: usize,
    pub transaction: bool,
    /// Bytes of the items put (updates of counters are counted at their 1 KB bound).
    pub bytes: usize,
    pub table_units: f64,
    pub index_units: f64,
}

impl KindCost {
    pub fn total(&self) -> f64 {
        self.table_units + self.index_units
    }
}

/// Sizes of the items a customer's life writes.
#[derive(Clone, Debug, Serialize)]
pub struct ItemSizes {
    pub customer_new: usize,
    pub customer_after_90_days: usize,
    pub customer_at_risk: usize,
    pub marker: usize,
    pub history_entry: usize,
}

pub struct Report {
    pub kinds: Vec<KindCost>,
    pub sizes: ItemSizes,
}

/// The four kinds the cost issue names: a login (activity), a cancellation (stage change), a
/// due check that raises risk and plans an e-mail (risk change), the e-mail's sent report.
pub fn run() -> Result<Report, String> {
    let rules = Rules::embedded().map_err(|e| e.to_string())?;
    let store = DynamoStore::new(
        journey_adapters::aws::Clients::unconnected().dynamodb,
        "journey",
    );
    let (mut events, active) = active_customer(&rules, 90);
    let last = active.activity.last_at.unwrap_or_else(Utc::now);
    let new = Customer::new(active.id.clone());

    let mut kinds = Vec::new();
    let login = events.at(last + Duration::hours(20), EventKind::Login);
    kinds.push(cost(&store, &rules, "activity", &active, &login)?);
    let cancel = events.at(
        last + Duration::hours(21),
        EventKind::SubscriptionCancelled { reason: None },
    );
    kinds.push(cost(&store, &rules, "stage change", &active, &cancel)?);
    let check = events.check(last + Duration::days(7) + Duration::hours(1));
    let risk = cost(&store, &rules, "risk change", &active, &check)?;
    let escalated = applied(&rules, &active, &check)?;
    kinds.push(risk);
    let email = escalated
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Send(i) => Some(i.clone()),
            _ => None,
        })
        .ok_or("the risk check planned no e-mail")?;
    let mut report = events.at(
        check.occurred_at + Duration::minutes(1),
        EventKind::InterventionSent {
            delivery: Delivery::from(&email),
        },
    );
    report.source = Source::Sender;
    kinds.push(cost(
        &store,
        &rules,
        "send report",
        &escalated.customer,
        &report,
    )?);

    let at = |c: &Customer| -> Result<usize, String> {
        Ok(item_size(
            &customer_item(c, c.version + 1, last).map_err(|e| e.to_string())?,
        ))
    };
    let after_cancel = applied(&rules, &active, &cancel)?;
    let writes = writes(&store, &active, &cancel, &after_cancel)?;
    let sizes = ItemSizes {
        customer_new: at(&applied(
            &rules,
            &new,
            &events.at(
                t("2026-08-01T09:00:00Z"),
                EventKind::PaymentSucceeded {
                    amount: krw(99_000),
                    renews_at: None,
                },
            ),
        )?
        .customer)?,
        customer_after_90_days: at(&active)?,
        customer_at_risk: at(&escalated.customer)?,
        marker: writes.get(1).map_or(0, put_size),
        history_entry: writes.get(2).map_or(0, put_size),
    };
    Ok(Report { kinds, sizes })
}

fn applied(rules: &Rules, c: &Customer, e: &Event) -> Result<Outcome, String> {
    apply(c, e, rules, e.occurred_at).map_err(|e| e.to_string())
}

fn writes(
    store: &DynamoStore,
    before: &Customer,
    event: &Event,
    outcome: &Outcome,
) -> Result<Vec<TransactWriteItem>, String> {
    let steps = [Step {
        event,
        outcome,
        now: event.occurred_at,
    }];
    let commit = Commit {
        before,
        steps: &steps,
        attempt: 0,
    };
    store.commit_writes(&commit).map_err(|e| e.to_string())
}

fn cost(
    store: &DynamoStore,
    rules: &Rules,
    kind: &'static str,
    before: &Customer,
    event: &Event,
) -> Result<KindCost, String> {
    let outcome = applied(rules, before, event)?;
    let items = writes(store, before, event, &outcome)?;
    let transaction = items.len() > 1;
    let bytes: usize = items.iter().map(put_size).sum();
    let units: f64 = items.iter().map(|i| write_units(put_size(i))).sum();
    let now: DateTime<Utc> = event.occurred_at;
    let old = customer_item(before, before.version, now).map_err(|e| e.to_string())?;
    let new =
        customer_item(&outcome.customer, before.version + 1, now).map_err(|e| e.to_string())?;
    let entries =
        |item| -> Vec<Option<String>> { INDEXES.iter().map(|i| index_entry(i, item)).collect() };
    Ok(KindCost {
        kind,
        event: event.kind.name().to_string(),
        items: items.len(),
        transaction,
        bytes,
        table_units: if transaction { 2.0 * units } else { units },
        index_units: index_writes(&entries(&old), &entries(&new)),
    })
}

/// A put's item size; an update (a counter or tally) at its 1 KB bound.
fn put_size(item: &TransactWriteItem) -> usize {
    item.put().map_or(1024, |p| item_size(p.item()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cost issue's goal for the commonest event, held here (a computation, not a timing):
    /// a login of a customer not at risk is one write unit of at most 1 KB, and nothing else.
    #[test]
    fn a_plain_activity_event_costs_one_write_unit() {
        let report = run().unwrap();
        let activity = &report.kinds[0];
        assert_eq!(activity.items, 1, "{activity:?}");
        assert!(!activity.transaction);
        assert!(activity.total() <= 1.5, "{activity:?}");
        assert!(
            report.sizes.customer_after_90_days <= 1024,
            "{:?}",
            report.sizes
        );
        for k in &report.kinds {
            println!("{k:?} total {}", k.total());
        }
        println!("{:?}", report.sizes);
    }
}
