//! The event log as deployed: what the transition worker appends after each commit, and how it
//! is read back for the backtest and calibration (docs/data-model.md, *The event log*).
//!
//! Appending is at least once (a redelivered message appends its lines again), so reading
//! deduplicates: an event by its id, a churn by customer and time. An erasure's line removes
//! every line of its customer from what is read back, earlier or later in the log.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::backtest::{Erasure, Label, LogRecord};
use crate::domain::{CustomerId, DomainEventDetail, Effect, Event, EventKind, Source, Stage};
use crate::ports::ExportedLog;
use crate::service::Applied;

/// Whether an event goes to the log: everything from outside (payment providers, the app,
/// customers, staff, SES); not the sweep's checks nor the senders' reports, which a replay
/// makes again.
pub fn is_logged(event: &Event) -> bool {
    !matches!(event.source, Source::Sweep | Source::Sender)
}

/// The event as logged: the profile keeps what the rules read (program, locale, time zone),
/// not the e-mail address or the owner's contact; a refund's or cancellation's words and the
/// staff member's name are left out too (no rule reads them; the churn's label says how).
pub fn archived(event: &Event) -> Event {
    let mut e = event.clone();
    e.profile.email = None;
    e.profile.owner = None;
    match &mut e.kind {
        EventKind::RefundRequested { reason }
        | EventKind::PartialRefund { reason, .. }
        | EventKind::SubscriptionCancelled { reason } => *reason = None,
        EventKind::StaffNote { author, .. } => *author = "staff".into(),
        _ => {}
    }
    e
}

/// The lines an applied event adds to the log: the event itself when it is logged and was not
/// dropped, a churn for each change of stage to `churned` among its effects, an erasure for
/// its `Erase` effect. A repeat ([`Applied::Again`]) gives the same lines from the effects
/// recorded with it, so a log append lost after the commit is made good by the redelivery.
pub fn records_of(event: &Event, applied: &Applied) -> Vec<LogRecord> {
    let mut records = Vec::new();
    if let Applied::Fresh(outcome) = applied
        && outcome.dropped.is_some()
    {
        return records;
    }
    if is_logged(event) {
        records.push(LogRecord::Event(Box::new(archived(event))));
    }
    for effect in applied.effects() {
        match effect {
            Effect::Publish(published) => {
                if let DomainEventDetail::StageChanged {
                    to: Stage::Churned, ..
                } = published.detail
                {
                    records.push(LogRecord::Churn(Label {
                        customer_id: published.customer_id.clone(),
                        churned_at: published.at,
                        how: Some(churn_cause(event)),
                    }));
                }
            }
            Effect::Erase => records.push(LogRecord::Erased(Erasure {
                erased: event.customer_id.clone(),
                at: event.occurred_at,
            })),
            Effect::Send(_) => {}
        }
    }
    records
}

/// How a churn came about, as the labels say it: the event's type, or `inactivity` when the
/// sweep's check found the customer gone quiet.
fn churn_cause(event: &Event) -> String {
    match event.kind {
        EventKind::CheckDue => "inactivity".to_string(),
        _ => event.kind.name().to_string(),
    }
}

/// Gathers records read back (in any order, repeats included) into the backtest's input:
/// each event once, each churn once, erased customers left out, both in time order.
#[derive(Debug, Default)]
pub struct Collector {
    events: HashMap<(CustomerId, String), Event>,
    labels: BTreeSet<(chrono::DateTime<chrono::Utc>, CustomerId, Option<String>)>,
    erased: HashSet<CustomerId>,
}

impl Collector {
    pub fn add(&mut self, record: LogRecord) {
        match record {
            LogRecord::Event(event) => {
                let key = (event.customer_id.clone(), event.id.as_str().to_string());
                self.events.entry(key).or_insert(*event);
            }
            LogRecord::Churn(label) => {
                self.labels
                    .insert((label.churned_at, label.customer_id, label.how));
            }
            LogRecord::Erased(erasure) => {
                self.erased.insert(erasure.erased);
            }
        }
    }

    /// The log, without the erased customers' lines.
    pub fn finish(self) -> ExportedLog {
        let erased = self.erased;
        let mut events: Vec<Event> = self
            .events
            .into_values()
            .filter(|e| !erased.contains(&e.customer_id))
            .collect();
        events.sort_by(|a, b| {
            (a.occurred_at, &a.customer_id, &a.id).cmp(&(b.occurred_at, &b.customer_id, &b.id))
        });
        let labels = self
            .labels
            .into_iter()
            .filter(|(_, id, _)| !erased.contains(id))
            .map(|(churned_at, customer_id, how)| Label {
                customer_id,
                churned_at,
                how,
            })
            .collect();
        ExportedLog { events, labels }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Rules, apply};
    use crate::testing::{Events, t};

    /// Each event applied in turn to one customer.
    fn journey(events: &mut Events, steps: Vec<(EventKind, &str)>) -> Vec<(Event, Applied)> {
        let rules = Rules::embedded().unwrap();
        let mut state = crate::domain::Customer::new(events.customer().clone());
        let mut out = Vec::new();
        for (kind, at) in steps {
            let event = events.at(t(at), kind);
            let outcome = apply(&state, &event, &rules, t(at)).unwrap();
            state = outcome.customer.clone();
            out.push((event, Applied::Fresh(Box::new(outcome))));
        }
        out
    }

    #[test]
    fn an_event_from_outside_is_logged_without_contact_details() {
        let mut events = Events::new("c1");
        let mut event = events.at(t("2026-11-01T09:00:00Z"), EventKind::Login);
        event.profile.email = Some("a@example.com".into());
        let applied = Applied::Again(Vec::new());
        let records = records_of(&event, &applied);
        let [LogRecord::Event(logged)] = &records[..] else {
            panic!("{records:?}")
        };
        assert_eq!(logged.profile.email, None);
        let cancelled = events.at(
            t("2026-11-01T10:00:00Z"),
            EventKind::SubscriptionCancelled {
                reason: Some("moving to 서울, call me at 010-1234-5678".into()),
            },
        );
        let [LogRecord::Event(logged)] = &records_of(&cancelled, &applied)[..] else {
            panic!("one line")
        };
        assert_eq!(
            logged.kind,
            EventKind::SubscriptionCancelled { reason: None }
        );
        let check = events.check(t("2026-11-02T09:00:00Z"));
        assert!(records_of(&check, &applied).is_empty());
    }

    #[test]
    fn churns_and_erasures_come_from_the_effects_so_a_repeat_logs_them_again() {
        let mut events = Events::new("c1");
        let mut steps = journey(
            &mut events,
            vec![
                (
                    EventKind::PaymentSucceeded {
                        amount: crate::testing::krw(1000),
                    },
                    "2026-11-01T09:00:00Z",
                ),
                (
                    EventKind::SubscriptionCancelled { reason: None },
                    "2026-11-02T09:00:00Z",
                ),
            ],
        );
        let (event, fresh) = steps.pop().unwrap();
        let again = Applied::Again(fresh.effects().to_vec());
        assert_eq!(records_of(&event, &fresh), records_of(&event, &again));
        let mut collector = Collector::default();
        for record in records_of(&event, &fresh)
            .into_iter()
            .chain(records_of(&event, &again))
        {
            collector.add(record);
        }
        let log = collector.finish();
        assert_eq!(log.events.len(), 1);
        assert_eq!(log.labels.len(), 1, "{:?}", log.labels);
        assert_eq!(log.labels[0].how.as_deref(), Some("subscription_cancelled"));
        // an erasure anywhere in the log removes the customer's every line
        let erase = Applied::Again(vec![Effect::Erase]);
        let mut collector = Collector::default();
        for record in records_of(&event, &erase)
            .into_iter()
            .chain(records_of(&event, &fresh))
        {
            collector.add(record);
        }
        assert_eq!(collector.finish(), ExportedLog::default());
    }
}
