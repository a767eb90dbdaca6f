//! The event log as deployed: what the transition worker appends after each commit, and how it
//! is read back for the backtest and calibration (docs/data-model.md, *The event log*).
//!
//! Appending is at least once (a redelivered message appends its lines again), so reading
//! deduplicates: an event by its id, a churn by customer and time. An erasure's line removes
//! every line of its customer from what is read back, earlier or later in the log.

use std::collections::{BTreeSet, BinaryHeap, HashMap};

use chrono::{DateTime, Utc};

use crate::backtest::sample::{self, SampleOrder};
use crate::backtest::{Erasure, Label, LogRecord};
use crate::domain::{CustomerId, DomainEventDetail, Effect, Event, EventKind, Source, Stage};
use crate::ports::{ExportedLog, SampleLimits, Sampled};
use crate::service::Applied;

/// Whether an event goes to the log: everything from outside (payment providers, the app,
/// customers, staff, SES); not the sweep's checks nor the senders' reports, which a replay
/// makes again.
pub fn is_logged(event: &Event) -> bool {
    !matches!(event.source, Source::Sweep | Source::Sender)
}

/// The event as logged: the profile keeps what the rules read (program, locale, time zone),
/// not the e-mail address or the owner's contact; a refund's or cancellation's words, the staff
/// member's name, who asked for an erasure and the hash of a bounced address are left out too
/// (no rule reads them; the churn's label says how). An unsalted hash of an address would
/// outlive the customer's erasure as a way to test whether someone was a customer (security
/// review L5).
pub fn archived(event: &Event) -> Event {
    let mut e = event.clone();
    e.profile.email = None;
    e.profile.owner = None;
    match &mut e.kind {
        EventKind::RefundRequested { reason }
        | EventKind::PartialRefund { reason, .. }
        | EventKind::SubscriptionCancelled { reason } => *reason = None,
        EventKind::StaffNote { author, .. } => *author = "staff".into(),
        EventKind::Erased { by } => *by = None,
        EventKind::MailFeedback { recipient, .. } => *recipient = None,
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
            Effect::Send(_) | Effect::NoteText(_) => {}
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
///
/// With a limit of events it keeps the customers with the smallest sample keys
/// ([`SampleOrder::key`]) whose events fit: a customer's lines are all kept or all dropped,
/// and the customers kept are the same whatever order the lines come in (the limit is crossed
/// only by adding lines, so dropping the largest key until back within it ends on the largest
/// set of smallest keys that fits). An erased customer's events are counted, not kept, so that
/// the sample does not depend on where in the log the erasure came.
///
/// No customer with more than `per_customer` events is kept (security review M4): they are
/// left out whole, whatever the order of the lines (their count only
/// grows), so a customer flooding the log with events (through the app's webhook) cannot end
/// the sample on their own. Until they pass their share they count like anyone, so at the
/// sample's edge a flooder read early can still push out up to a share's worth of customers a
/// later reading order would keep: the one place where the order matters.
#[derive(Debug)]
pub struct Collector {
    order: SampleOrder,
    customers: HashMap<CustomerId, Lines>,
    /// The most events held at once.
    limit: Option<usize>,
    /// The most events of one customer.
    per_customer: Option<usize>,
    events: usize,
    /// Customers left out for having more than their share of events.
    over_cap: usize,
    /// The held customers' sample keys, the largest on top (with a limit only).
    keys: BinaryHeap<(u64, CustomerId)>,
    /// No customer whose key is this or larger is kept: the smallest key dropped so far.
    cutoff: Option<u64>,
}

/// Which lines a reader need not parse: those of customers whose sample key is at or past the
/// cutoff (`u64::MAX`: none). `Copy`, so readers on other threads each hold one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skim {
    pub cutoff: u64,
    pub order: SampleOrder,
}

impl Skim {
    /// Keeps every line.
    pub fn all(order: SampleOrder) -> Skim {
        Skim {
            cutoff: u64::MAX,
            order,
        }
    }

    pub fn keeps(self, customer: &CustomerId) -> bool {
        self.cutoff == u64::MAX || self.order.key(customer) < self.cutoff
    }
}

/// One customer's lines read so far: their events by id (`None` once erased).
#[derive(Debug, Default)]
struct Lines {
    events: HashMap<String, Option<Event>>,
    labels: BTreeSet<(DateTime<Utc>, Option<String>)>,
    erased: bool,
    /// More events than a customer's share: none kept, never admitted again.
    over_cap: bool,
}

impl Collector {
    /// Holds what `limits` allow (every customer without limits), sampling customers in
    /// `order`.
    pub fn new(limits: SampleLimits, order: SampleOrder) -> Self {
        Collector {
            order,
            customers: HashMap::new(),
            limit: limits.events,
            per_customer: limits.per_customer,
            events: 0,
            over_cap: 0,
            keys: BinaryHeap::new(),
            cutoff: None,
        }
    }

    /// Whether a line of `customer` would be kept: a reader need not parse the rest of a line
    /// that would not.
    pub fn wants(&self, customer: &CustomerId) -> bool {
        match self.customers.get(customer) {
            Some(_) => true,
            None => self
                .cutoff
                .is_none_or(|cutoff| self.order.key(customer) < cutoff),
        }
    }

    /// What a reader may skip as of now, to hand to readers of other objects: a copy that has
    /// gone stale skips fewer lines than the collector would drop, never more, because the
    /// cutoff only falls.
    pub fn skim(&self) -> Skim {
        Skim {
            cutoff: self.cutoff.unwrap_or(u64::MAX),
            order: self.order,
        }
    }

    /// The order customers are sampled in.
    pub fn order(&self) -> SampleOrder {
        self.order
    }

    /// Whether no customer whose key is `key` or larger can be kept any more: a reader need
    /// not read the shards from there on.
    pub fn complete_below(&self, key: u64) -> bool {
        self.cutoff.is_some_and(|cutoff| cutoff <= key)
    }

    pub fn add(&mut self, record: LogRecord) {
        let customer = record.customer_id();
        if !self.wants(customer) {
            return;
        }
        if !self.customers.contains_key(customer) {
            self.admit(customer.clone());
        }
        let cap = self.per_customer;
        let Some(lines) = self.customers.get_mut(record.customer_id()) else {
            return;
        };
        if lines.over_cap {
            return;
        }
        match record {
            LogRecord::Event(event) => {
                let id = event.id.as_str().to_string();
                if let std::collections::hash_map::Entry::Vacant(entry) = lines.events.entry(id) {
                    entry.insert((!lines.erased).then_some(*event));
                    self.events += 1;
                    if cap.is_some_and(|cap| lines.events.len() > cap) {
                        self.events -= lines.events.len();
                        lines.events = HashMap::new();
                        lines.labels.clear();
                        lines.over_cap = true;
                        self.over_cap += 1;
                    }
                    self.shrink();
                }
            }
            LogRecord::Churn(label) => {
                if !lines.erased {
                    lines.labels.insert((label.churned_at, label.how));
                }
            }
            LogRecord::Erased(_) => {
                lines.erased = true;
                lines.labels.clear();
                lines.events.values_mut().for_each(|e| *e = None);
            }
        }
    }

    /// The log, without the erased customers' lines, and which customers it holds.
    pub fn finish(self) -> (ExportedLog, Sampled) {
        let held = self.customers.len();
        let of_about = self
            .cutoff
            .map(|cutoff| sample::estimate_population(held, cutoff.saturating_sub(1)));
        let mut log = ExportedLog::default();
        let mut customers = 0;
        for (customer_id, lines) in self.customers {
            if lines.erased || lines.over_cap {
                continue;
            }
            customers += 1;
            log.events.extend(lines.events.into_values().flatten());
            log.labels
                .extend(lines.labels.into_iter().map(|(churned_at, how)| Label {
                    customer_id: customer_id.clone(),
                    churned_at,
                    how,
                }));
        }
        log.events.sort_by(|a, b| {
            (a.occurred_at, &a.customer_id, &a.id).cmp(&(b.occurred_at, &b.customer_id, &b.id))
        });
        log.labels.sort_by(|a, b| {
            (a.churned_at, &a.customer_id, &a.how).cmp(&(b.churned_at, &b.customer_id, &b.how))
        });
        (
            log,
            Sampled {
                customers,
                of_about,
                over_cap: self.over_cap,
            },
        )
    }

    fn admit(&mut self, customer: CustomerId) {
        if self.limit.is_some() {
            self.keys
                .push((self.order.key(&customer), customer.clone()));
        }
        self.customers.insert(customer, Lines::default());
    }

    /// Drops the customers with the largest keys until the events are within the limit.
    fn shrink(&mut self) {
        while self.limit.is_some_and(|limit| self.events > limit) {
            let Some((key, dropped)) = self.keys.pop() else {
                break;
            };
            if let Some(lines) = self.customers.remove(&dropped) {
                self.events -= lines.events.len();
                self.over_cap -= usize::from(lines.over_cap);
            }
            self.cutoff = Some(key);
        }
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
        // security review L5: who erased, and a hash of a bounced address, stay out of the log
        let erased = events.at(
            t("2026-11-03T09:00:00Z"),
            EventKind::Erased {
                by: Some("staff:mina@example.com".into()),
            },
        );
        assert_eq!(archived(&erased).kind, EventKind::Erased { by: None });
        let delivery = crate::domain::Delivery {
            intervention_id: crate::domain::InterventionId::new("iv_1").unwrap(),
            channel: crate::domain::Channel::Email,
            template: "welcome".into(),
            variant: None,
        };
        let bounce = crate::domain::Event::mail_feedback(
            CustomerId::new("c1").unwrap(),
            "m-1",
            delivery,
            crate::domain::MailFeedback::HardBounce,
            Some("a@example.com"),
            t("2026-11-03T10:00:00Z"),
        )
        .unwrap();
        let EventKind::MailFeedback { recipient, .. } = archived(&bounce).kind else {
            panic!("feedback")
        };
        assert_eq!(recipient, None);
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
                        renews_at: None,
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
        let mut collector = Collector::new(SampleLimits::none(), order());
        for record in records_of(&event, &fresh)
            .into_iter()
            .chain(records_of(&event, &again))
        {
            collector.add(record);
        }
        let (log, _) = collector.finish();
        assert_eq!(log.events.len(), 1);
        assert_eq!(log.labels.len(), 1, "{:?}", log.labels);
        assert_eq!(log.labels[0].how.as_deref(), Some("subscription_cancelled"));
        // an erasure anywhere in the log removes the customer's every line
        let erase = Applied::Again(vec![Effect::Erase]);
        let mut collector = Collector::new(SampleLimits::none(), order());
        for record in records_of(&event, &erase)
            .into_iter()
            .chain(records_of(&event, &fresh))
        {
            collector.add(record);
        }
        assert_eq!(collector.finish().0, ExportedLog::default());
    }

    /// Three logins and a churn for each of `n` customers, in time order or `reversed`.
    fn many(n: usize, reversed: bool) -> Vec<LogRecord> {
        let mut records = Vec::new();
        for c in 0..n {
            let mut events = Events::new(&format!("cus_{c}"));
            for day in 1..=3 {
                let at = t(&format!("2026-11-0{day}T09:00:00Z"));
                records.push(LogRecord::Event(Box::new(events.at(at, EventKind::Login))));
            }
            records.push(LogRecord::Churn(Label {
                customer_id: events.customer().clone(),
                churned_at: t("2026-11-20T00:00:00Z"),
                how: None,
            }));
        }
        if reversed {
            records.reverse();
        }
        records
    }

    fn order() -> SampleOrder {
        SampleOrder::keyed(b"test secret")
    }

    fn collect(records: Vec<LogRecord>, limit: Option<usize>) -> (ExportedLog, Sampled) {
        collect_within(
            records,
            SampleLimits {
                events: limit,
                per_customer: None,
            },
        )
    }

    fn collect_within(records: Vec<LogRecord>, limits: SampleLimits) -> (ExportedLog, Sampled) {
        let mut collector = Collector::new(limits, order());
        for record in records {
            collector.add(record);
        }
        collector.finish()
    }

    #[test]
    fn a_limited_read_keeps_the_same_whole_customers_in_any_order() {
        let (all, whole) = collect(many(400, false), None);
        assert_eq!(
            whole,
            Sampled {
                customers: 400,
                of_about: None,
                over_cap: 0,
            }
        );
        // at most 150 events: 50 customers of three logins each
        let (first, sampled) = collect(many(400, false), Some(150));
        let (second, _) = collect(many(400, true), Some(150));
        assert_eq!(first, second);
        assert_eq!(sampled.customers, 50);
        let estimate = sampled.of_about.unwrap();
        assert!((200..800).contains(&estimate), "{estimate}");
        // every kept customer has all their lines: the smallest keys of all
        assert_eq!(first.events.len(), 150);
        assert_eq!(first.labels.len(), 50);
        let mut keys: Vec<_> = all
            .labels
            .iter()
            .map(|l| order().key(&l.customer_id))
            .collect();
        keys.sort_unstable();
        let kept: Vec<_> = first
            .labels
            .iter()
            .map(|l| order().key(&l.customer_id))
            .collect();
        assert!(
            kept.iter().all(|k| *k <= keys[49]),
            "not the 50 smallest keys"
        );
    }

    #[test]
    fn an_erased_customer_keeps_their_place_in_a_sample_but_not_their_lines() {
        let records = many(100, false);
        let (full, _) = collect(records.clone(), Some(30));
        let gone = full.labels[0].customer_id.clone();
        let erasure = LogRecord::Erased(Erasure {
            erased: gone.clone(),
            at: t("2026-11-21T00:00:00Z"),
        });
        // wherever the erasure comes, the same customers are kept, without the erased one
        let first = [vec![erasure.clone()], records.clone()].concat();
        let last = [records, vec![erasure]].concat();
        let (log, sampled) = collect(first, Some(30));
        assert_eq!(collect(last, Some(30)), (log.clone(), sampled));
        assert_eq!(sampled.customers, 9);
        assert!(log.events.iter().all(|e| e.customer_id != gone));
        let others: Vec<_> = full
            .labels
            .iter()
            .filter(|l| l.customer_id != gone)
            .collect();
        assert_eq!(log.labels.iter().collect::<Vec<_>>(), others);
    }

    #[test]
    fn a_full_sample_says_where_reading_can_stop() {
        let mut collector = Collector::new(SampleLimits::events(60), order());
        for record in many(200, false) {
            collector.add(record);
        }
        let shard = order()
            .shards()
            .find(|s| collector.complete_below(order().first_key(*s)))
            .unwrap();
        assert!(shard < sample::LOG_SHARDS);
        assert!(!collector.complete_below(0));
        assert!(!Collector::new(SampleLimits::none(), order()).complete_below(u64::MAX));
    }

    /// Security review M4: one customer with more events than their share of the sample is
    /// left out whole, whatever the order of the lines, and does not end the sample.
    #[test]
    fn a_customer_flooding_the_log_is_left_out_and_the_sample_goes_on() {
        let mut records = many(100, false);
        let mut flood = Events::new("flood");
        for n in 0..500 {
            let at = t("2026-11-01T09:00:00Z") + chrono::Duration::seconds(n);
            records.push(LogRecord::Event(Box::new(flood.at(at, EventKind::Login))));
        }
        for reversed in [false, true] {
            if reversed {
                records.reverse();
            }
            let limits = SampleLimits {
                events: Some(300),
                per_customer: Some(3),
            };
            let (log, sampled) = collect_within(records.clone(), limits);
            assert!(log.events.iter().all(|e| e.customer_id.as_str() != "flood"));
            assert_eq!(sampled.over_cap, 1, "the flood is counted");
            // without the cap the flood would end the sample at its key; with it, at most a
            // cap's worth (3 events, one customer) is pushed out at the edge
            assert!(sampled.customers >= 99, "{}", sampled.customers);
        }
    }
}
