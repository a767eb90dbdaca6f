//! A population that answers the messages, with a known effect per variant, run through the
//! domain's `apply` as the live system would (checks when due), so the uplift the counters
//! estimate can be held against the truth.
//!
//! Customers pay, log in every three days, and some stop. A customer who stopped decides at
//! the warning e-mail (`special_offer`) whether to come back within two weeks: with chance
//! `base` if held out, `base + effect[variant]` if they got it. Everyone else who stopped is
//! eventually churned by inactivity. No other message moves anyone, so the true recovery
//! uplift (and churn cut) is `effect[variant]` for `special_offer` and 0 for every other
//! message (the caution and danger messages are assigned independently of the warning's).
//!
//! With `adaptive`, the allocation is recomputed every week from the counts so far, as the
//! calibration job does, so Thompson sampling's drift toward the better variant can be seen.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use journey::domain::experiment::{self, Experiments};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::domain::{
    Customer, CustomerId, Event, EventId, EventKind, Money, Profile, Rules, Source, Tally,
    TallyMetric,
};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

/// The simulation's first day, as the populations': 2026-01-01.
fn start() -> DateTime<Utc> {
    chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The message whose variants differ in effect.
pub const TEMPLATE: &str = "special_offer";

/// The rules overlay of the simulated business: three variants of the warning e-mail and a
/// control group of 20 %.
pub const RULES_OVERLAY: &str = "[interventions.risk_warning]\nemail = \"special_offer\"\nvariants = [\"a\", \"b\", \"c\"]\nholdout = 0.2\n";

#[derive(Clone, Debug)]
pub struct Truth {
    /// The share of held-out customers who come back after the warning.
    pub base: f64,
    /// What each variant adds to it (negative: it drives customers away).
    pub effects: BTreeMap<String, f64>,
}

impl Default for Truth {
    /// `a` works (+15 points), `b` does nothing, `c` hurts (−10 points).
    fn default() -> Self {
        Truth {
            base: 0.25,
            effects: [("a", 0.15), ("b", 0.0), ("c", -0.10)]
                .map(|(v, e)| (v.to_string(), e))
                .into(),
        }
    }
}

impl Truth {
    /// The true recovery uplift of `template` × `variant`.
    pub fn uplift(&self, template: &str, variant: Option<&str>) -> f64 {
        match variant {
            Some(v) if template == TEMPLATE => self.effects.get(v).copied().unwrap_or(0.0),
            _ => 0.0,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub customers: usize,
    /// Customers join over this many days; the run lasts 60 days more.
    pub join_days: i64,
    pub seed: u64,
    /// Re-allocate the variants every week from the counts so far.
    pub adaptive: bool,
    pub truth: Truth,
}

/// What a run produced.
pub struct Run {
    /// The outside events (payments, logins): the log the backtest replays.
    pub events: Vec<Event>,
    pub tallies: Vec<Tally>,
    /// Each week's allocation of `special_offer`'s variants (adaptive runs).
    pub allocations: Vec<(DateTime<Utc>, BTreeMap<String, f64>)>,
    /// When the run ended.
    pub end: DateTime<Utc>,
}

/// `experiments.outcome_days` of the simulated rules (the default).
const OUTCOME_DAYS: u32 = 30;

impl Run {
    /// The counts of the months whose outcomes were all in when the run ended.
    pub fn experiments(&self) -> Experiments {
        Experiments::from_tallies(&self.tallies).settled(self.end, OUTCOME_DAYS)
    }
}

/// One simulated customer.
struct Member {
    c: Customer,
    rng: Pcg64,
    next_login: Option<DateTime<Utc>>,
    /// Stops logging in from here (unless they come back).
    stops_at: Option<DateTime<Utc>>,
    decided: bool,
    seq: u32,
}

/// The rules of the simulated business, with `allocation` for the warning's variants.
pub fn rules(allocation: &BTreeMap<String, f64>) -> Rules {
    let mut overlay = RULES_OVERLAY.to_string();
    if !allocation.is_empty() {
        overlay.push_str("[interventions.risk_warning.allocation]\n");
        for (v, share) in allocation {
            overlay.push_str(&format!("{v} = {share}\n"));
        }
    }
    Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, &overlay)
        .unwrap_or_else(|e| panic!("simulated rules: {e}"))
}

pub fn run(settings: &Settings) -> Run {
    let mut members: Vec<Member> = (0..settings.customers)
        .map(|n| member(n, settings))
        .collect();
    let mut out = Run {
        events: Vec::new(),
        tallies: Vec::new(),
        allocations: Vec::new(),
        end: start() + Duration::days(settings.join_days + 60),
    };
    let mut rules = rules(&BTreeMap::new());
    let days = settings.join_days + 60;
    for day in 0..days {
        let dawn = start() + Duration::days(day);
        if settings.adaptive && day > 0 && day % 7 == 0 {
            let settled = Experiments::from_tallies(&out.tallies).settled(dawn, OUTCOME_DAYS);
            let variants = settled.variants(TEMPLATE);
            let allocation = experiment::allocation(&variants);
            rules = self::rules(&allocation);
            out.allocations.push((dawn, allocation));
        }
        let dusk = dawn + Duration::days(1);
        for m in &mut members {
            m.live_until(dusk, &rules, &settings.truth, &mut out);
        }
    }
    out
}

fn member(n: usize, settings: &Settings) -> Member {
    let mut rng = Pcg64::seed_from_u64(settings.seed.wrapping_mul(7_919).wrapping_add(n as u64));
    let id = CustomerId::new(format!("sim-{n:06}")).unwrap_or_else(|e| panic!("{e}"));
    let joins = start()
        + Duration::days(rng.random_range(0..settings.join_days.max(1)))
        + Duration::hours(9);
    let stops =
        (rng.random::<f64>() < 0.7).then(|| joins + Duration::days(rng.random_range(5..50)));
    Member {
        c: Customer::new(id),
        rng,
        next_login: Some(joins),
        stops_at: stops,
        decided: false,
        seq: 0,
    }
}

impl Member {
    /// Applies everything that happens to this customer before `until`: their own events and
    /// the checks as they fall due.
    fn live_until(&mut self, until: DateTime<Utc>, rules: &Rules, truth: &Truth, out: &mut Run) {
        loop {
            let login = self.next_login.filter(|t| *t < until);
            let due = self.c.next_check_at.filter(|t| *t < until);
            match (login, due) {
                (Some(l), Some(d)) if d <= l => self.check(d, rules, truth, out),
                (Some(l), _) => self.login(l, rules, truth, out),
                (None, Some(d)) => self.check(d, rules, truth, out),
                (None, None) => return,
            }
        }
    }

    fn check(&mut self, due: DateTime<Utc>, rules: &Rules, truth: &Truth, out: &mut Run) {
        let event = Event::check_due(self.c.id.clone(), due, due);
        self.apply(&event, rules, truth, out);
        if self.c.next_check_at == Some(due) {
            self.c.next_check_at = None; // nothing more to check: never loop
        }
    }

    fn login(&mut self, at: DateTime<Utc>, rules: &Rules, truth: &Truth, out: &mut Run) {
        let kind = if self.c.stage.is_none() {
            EventKind::PaymentSucceeded {
                amount: Money {
                    amount: 99_000,
                    currency: "KRW".into(),
                },
                renews_at: None,
            }
        } else {
            EventKind::Login
        };
        self.seq += 1;
        let mut event = Event {
            id: EventId::new(format!("sim:{}:{}", self.c.id, self.seq))
                .unwrap_or_else(|e| panic!("{e}")),
            customer_id: self.c.id.clone(),
            occurred_at: at,
            source: if self.seq == 1 {
                Source::Stripe
            } else {
                Source::App
            },
            kind,
            profile: Profile::default(),
        };
        if self.seq == 1 {
            event.profile.email = Some(format!("{}@example.com", self.c.id));
        }
        out.events.push(event.clone());
        self.next_login = Some(at + Duration::days(3)).filter(|next| match self.stops_at {
            Some(stop) => *next < stop,
            None => true,
        });
        self.apply(&event, rules, truth, out);
    }

    fn apply(&mut self, event: &Event, rules: &Rules, truth: &Truth, out: &mut Run) {
        let Ok(outcome) = journey::domain::apply(&self.c, event, rules, event.occurred_at) else {
            return;
        };
        for tally in outcome.tallies.iter().filter(|t| t.cohort.is_some()) {
            let warned = tally.template == TEMPLATE
                && matches!(tally.metric, TallyMetric::Treated | TallyMetric::HeldOut);
            if warned && !self.decided {
                self.decide(event.occurred_at, tally, truth);
            }
        }
        out.tallies
            .extend(outcome.tallies.into_iter().filter(|t| t.cohort.is_some()));
        self.c = outcome.customer;
    }

    /// At the warning: come back within two weeks, or not, as the truth says for what they got.
    fn decide(&mut self, at: DateTime<Utc>, assignment: &Tally, truth: &Truth) {
        self.decided = true;
        let effect = match assignment.metric {
            TallyMetric::Treated => truth.uplift(TEMPLATE, assignment.variant.as_deref()),
            _ => 0.0,
        };
        let chance = (truth.base + effect).clamp(0.0, 1.0);
        if self.rng.random::<f64>() < chance {
            let back = at + Duration::hours(self.rng.random_range(24..14 * 24));
            self.next_login = Some(back);
            self.stops_at = None;
        } else {
            self.next_login = None; // gone for good: danger, then churn by inactivity
        }
    }
}
