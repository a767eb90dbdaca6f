//! The product's rules, pure: no AWS, no I/O, no clock. Everything time-dependent takes `now`.
//! The backtest lives here too: it replays an event log through [`apply`] with the sweep
//! simulated, so what it measures is exactly what the transition worker runs.

pub mod activity;
pub mod apply;
pub mod backtest;
pub mod compact;
pub mod consent;
pub mod customer;
pub mod delivery;
pub mod event;
pub mod experiment;
pub mod ids;
pub mod intervention;
pub mod model;
pub mod occasion;
pub mod peers;
pub mod quiet_hours;
pub mod rules;
pub mod score;
pub mod stage;
pub mod text;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

use thiserror::Error;

pub use apply::{
    Cause, Change, DomainEvent, DomainEventDetail, Dropped, Effect, HistoryEntry, Milestone,
    Outcome, TEXTS, Tally, TallyMetric, apply, next_check_at, signal_context, signal_measures,
};
pub use customer::{
    Churn, ChurnReason, Customer, OpenAlert, ProfileState, Scheduled, StaffContact,
};
pub use event::{
    ContactChannel, ContactOutcome, Event, EventKind, MailFeedback, Money, NpsScore, Owner,
    Profile, SignUpPlan, Source,
};
pub use ids::{CustomerId, EventId, InterventionId};
pub use intervention::{
    Channel, Delivery, DeliveryStatus, IfUnknown, Intervention, InterventionRef, Plan, Trigger,
};
pub use occasion::Occasion;
pub use rules::{Policy, Rules, RulesError};
pub use score::{Contribution, RiskScore, Signal};
pub use stage::{RiskLevel, Stage};

/// Input the domain refuses, naming the field.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DomainError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("event {event} was routed to customer {customer}, whose id it does not carry")]
    WrongCustomer {
        event: EventId,
        customer: CustomerId,
    },
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
