//! Synthetic populations for the backtest and calibration, one per kind of business, each
//! with its own churn mechanics, so that what calibration learns is judged on more than one
//! world. Deterministic for a seed.
//!
//! - [`World::Course`]: an online course (the seed's first case). Leavers show the precursors
//!   docs/product.md names for weeks, then cancel or ask for a refund.
//! - [`World::Fitness`]: a gym subscription, as in the seed's case with 3 / 7 / 10-day rules.
//!   Members check in and work out a few times a week; leavers come less and less, then cancel or
//!   simply stop and let the next renewal lapse.
//! - [`World::SelfServe`]: a self-serve subscription. Leavers fade slowly over one to two months;
//!   stayers take long holidays, many at the same season, and file tickets for anything.
//! - [`World::Renewal`]: a consumer subscription with renewal churn. Subscribers use it at their
//!   own constant rate; light users cancel at the renewal date without ever going quiet.
//! - [`World::Mixed`]: three programs used at different rates, a holiday season, and three ways
//!   to leave (a fade into silence, renewal churn, dunning).
//!
//! The first three are the worlds the rules were developed on ([`World::DEVELOPED_ON`]); the
//! last two came after, with mechanics the rules were not tuned for ([`World::HELD_OUT`]).

mod course;
mod emitter;
mod fitness;
mod mixed;
mod renewal;
mod self_serve;

use journey::backtest::Label;
use journey::domain::Event;
use rand::SeedableRng;
use rand_pcg::Pcg64;

pub struct Population {
    pub events: Vec<Event>,
    pub labels: Vec<Label>,
}

/// The kinds of business a population can come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    Course,
    Fitness,
    SelfServe,
    Renewal,
    Mixed,
}

impl World {
    pub const ALL: [World; 5] = [
        World::Course,
        World::Fitness,
        World::SelfServe,
        World::Renewal,
        World::Mixed,
    ];
    pub const DEVELOPED_ON: [World; 3] = [World::Course, World::Fitness, World::SelfServe];
    pub const HELD_OUT: [World; 2] = [World::Renewal, World::Mixed];

    pub fn name(self) -> &'static str {
        match self {
            World::Course => "course",
            World::Fitness => "fitness",
            World::SelfServe => "self-serve",
            World::Renewal => "renewal",
            World::Mixed => "mixed",
        }
    }

    pub fn from_name(name: &str) -> Option<World> {
        World::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The rules overlay the business runs with before any calibration: the fitness club sets
    /// the seed's 3 / 7 / 10-day clock; the others keep the defaults.
    pub fn rules_overlay(self) -> &'static str {
        match self {
            World::Fitness => fitness::RULES_OVERLAY,
            World::Course | World::SelfServe | World::Renewal | World::Mixed => "",
        }
    }
}

impl World {
    /// [`World::rules_overlay`] as a program's section (`[programs.<name>.…]`), for a business
    /// that runs this world as one of its programs.
    pub fn program_overlay(self) -> String {
        self.rules_overlay()
            .lines()
            .map(|line| match line.strip_prefix('[') {
                Some(rest) => format!("[programs.{}.{rest}\n", self.name()),
                None => format!("{line}\n"),
            })
            .collect()
    }
}

/// One business running several worlds as programs: `customers` of each `(world, customers)`,
/// their first payment naming the world as their program.
pub fn generate_programs(worlds: &[(World, usize)], days: i64, seed: u64) -> Population {
    let mut all = Population {
        events: Vec::new(),
        labels: Vec::new(),
    };
    for (world, customers) in worlds {
        let mut part = generate_world(*world, *customers, days, seed);
        let mut named = std::collections::BTreeSet::new();
        for event in &mut part.events {
            if named.insert(event.customer_id.clone()) {
                event.profile.program = Some(world.name().into());
            }
        }
        all.events.append(&mut part.events);
        all.labels.append(&mut part.labels);
    }
    all
}

/// The course business's `customers` over `days` days from 2026-01-01.
pub fn generate(customers: usize, days: i64, seed: u64) -> Population {
    generate_world(World::Course, customers, days, seed)
}

/// `customers` customers of `world` over `days` days from 2026-01-01.
pub fn generate_world(world: World, customers: usize, days: i64, seed: u64) -> Population {
    generate_part(world, 0..customers, days, seed)
}

/// The customers numbered `part` of [`generate_world`]'s population (each customer's life
/// depends on the seed and their number alone), so a large one can be made a part at a time.
pub fn generate_part(
    world: World,
    part: std::ops::Range<usize>,
    days: i64,
    seed: u64,
) -> Population {
    let mut population = Population {
        events: Vec::new(),
        labels: Vec::new(),
    };
    for n in part {
        let mut rng = Pcg64::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(n as u64));
        match world {
            World::Course => course::live(n, days, &mut rng, &mut population),
            World::Fitness => fitness::live(n, days, &mut rng, &mut population),
            World::SelfServe => self_serve::live(n, days, &mut rng, &mut population),
            World::Renewal => renewal::live(n, days, &mut rng, &mut population),
            World::Mixed => mixed::live(n, days, &mut rng, &mut population),
        }
    }
    population
}
