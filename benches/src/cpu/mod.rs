//! CPU per unit of work, measured by criterion inside the harness (not `cargo bench`), so
//! `make bench` compiles everything in one release build: the domain's `apply` and e-mail
//! rendering, and webhook verification. Criterion keeps its estimates in `target/criterion/`,
//! where [`crate::criterion::measured`] reads them.

mod domain;
mod verify;

use std::time::Duration;

use criterion::Criterion;

/// Runs every CPU benchmark with the given warm-up and measurement time each.
pub fn run(warm_up: Duration, measurement: Duration) {
    let mut c = Criterion::default()
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        // the mean is what the tables show; fewer bootstrap resamples (default 100,000) keep
        // the analysis of each benchmark well under a second
        .nresamples(10_000)
        .without_plots();
    domain::apply_each_kind(&mut c);
    domain::apply_with_model(&mut c);
    domain::render_email(&mut c);
    verify::webhooks(&mut c);
    c.final_summary();
}
