//! Every row of the transition table of docs/product.md, as a journey through `apply`.

use chrono::{DateTime, Duration, Utc};

mod apply;
mod consent;
mod experiment;
mod feedback;
mod lifecycle;
mod privacy;
mod risk;
mod scheduling;
mod text_fallback;

use super::*;
use crate::event::{EventKind, Owner, SignUpPlan};
use crate::intervention::Channel;
use crate::testing::{Events, customer_id, krw, t};
use crate::{Customer, NpsScore, Signal};

/// The senders' reports and recovery credits, without the experiment counts (kept by month).
fn reports(tallies: &[Tally]) -> Vec<&Tally> {
    tallies.iter().filter(|t| t.cohort.is_none()).collect()
}

struct Journey {
    rules: Rules,
    customer: Customer,
    events: Events,
    history: Vec<HistoryEntry>,
    sent: Vec<Intervention>,
    tallies: Vec<Tally>,
}

impl Journey {
    fn new() -> Self {
        Self::with_rules(Rules::embedded().unwrap())
    }

    fn with_rules(rules: Rules) -> Self {
        Self::of("c1", rules)
    }

    fn of(customer: &str, rules: Rules) -> Self {
        Journey {
            rules,
            customer: Customer::new(customer_id(customer)),
            events: Events::new(customer),
            history: Vec::new(),
            sent: Vec::new(),
            tallies: Vec::new(),
        }
    }

    fn apply(&mut self, event: Event, now: DateTime<Utc>) -> Outcome {
        let outcome = apply(&self.customer, &event, &self.rules, now).unwrap();
        self.customer = outcome.customer.clone();
        self.history.extend(outcome.history.iter().cloned());
        self.tallies.extend(outcome.tallies.iter().cloned());
        for effect in &outcome.effects {
            if let Effect::Send(i) = effect {
                self.sent.push(i.clone());
            }
        }
        outcome
    }

    fn on(&mut self, at: &str, kind: EventKind) -> Outcome {
        let e = self.events.at(t(at), kind);
        self.apply(e, t(at))
    }

    fn check(&mut self, at: &str) -> Outcome {
        let e = self.events.check(t(at));
        self.apply(e, t(at))
    }

    /// A first payment that brings the customer's e-mail address.
    fn paid_with_email(&mut self, at: &str, email: &str) -> Outcome {
        let mut pay = self.events.at(t(at), EventKind::paid(krw(1000)));
        pay.profile.email = Some(email.into());
        self.apply(pay, t(at))
    }

    fn paid(&mut self, at: &str) -> Outcome {
        self.on(
            at,
            EventKind::PaymentSucceeded {
                amount: krw(99_000),
                renews_at: None,
            },
        )
    }

    fn templates(outcome: &Outcome) -> Vec<(Channel, String)> {
        outcome
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(i) => Some((i.channel, i.template.clone())),
                Effect::Publish(_) | Effect::Erase | Effect::NoteText(_) => None,
            })
            .collect()
    }

    fn stages(&self) -> Vec<Stage> {
        self.history
            .iter()
            .filter_map(|h| match h.change {
                Change::Stage { to, .. } => Some(to),
                _ => None,
            })
            .collect()
    }

    fn risks(&self) -> Vec<RiskLevel> {
        self.history
            .iter()
            .filter_map(|h| match h.change {
                Change::Risk { to, .. } => Some(to),
                _ => None,
            })
            .collect()
    }

    fn stage(&self) -> Option<Stage> {
        self.customer.stage
    }
}

fn email(template: &str) -> (Channel, String) {
    (Channel::Email, template.to_string())
}

fn slack(template: &str) -> (Channel, String) {
    (Channel::Slack, template.to_string())
}

fn report(j: &mut Journey, at: &str, intervention: &Intervention, kind: EventKind) -> Outcome {
    let e = Event::report(intervention, kind, t(at));
    j.apply(e, t(at))
}
