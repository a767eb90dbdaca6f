//! A fault injector of our own: an SDK interceptor put on every client (`Clients::intercepted`)
//! that fails requests as scripted per operation, or at random with a seed, in two ways:
//!
//! - **refused**: the request fails before it is sent (as a reset before the request left):
//!   the emulator never sees it;
//! - **answer lost**: the request is sent and applied by the emulator, and the client gets a
//!   cut-off answer instead (as after a dropped connection): a `ResponseError`, which the SDK
//!   retries for the clients that retry.
//!
//! Every injected fault is counted per service, operation and kind.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    Pass,
    /// Fails before it is sent: not applied.
    Refused,
    /// Sent and applied; the answer is lost.
    AnswerLost,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Refused => "refused",
            Fault::AnswerLost => "answer_lost",
        }
    }
}

/// The error an injected fault raises, so callers and logs can tell it from a real one.
#[derive(Debug)]
pub struct Injected(pub Fault);

impl fmt::Display for Injected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Fault::AnswerLost => write!(f, "injected: the answer was lost after the request"),
            _ => write!(f, "injected: connection reset before the request was sent"),
        }
    }
}

impl std::error::Error for Injected {}

#[derive(Debug, Default)]
struct State {
    /// Per operation name (`SendEmail`, `UpdateItem` …): the next requests' faults, in order.
    scripts: HashMap<String, VecDeque<Fault>>,
    /// `(rate of refused, rate of lost answers)` per service, drawn from `rng`.
    rates: HashMap<String, (f64, f64)>,
    rng: Option<fastrand::Rng>,
    counts: BTreeMap<(String, String, Fault), u64>,
}

/// The injector; clones share their script, dice and counts.
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<State>>);

/// An answer cut off mid-way: no deserializer accepts it.
const CUT_OFF: &str = "{\"injected\": \"the answer was cut off";

/// Marks a request whose answer is to be lost once it is back.
#[derive(Clone, Debug)]
struct LoseAnswer(bool);

impl Storable for LoseAnswer {
    type Storer = StoreReplace<Self>;
}

impl Faults {
    /// No faults until scripted or given rates.
    pub fn new() -> Self {
        Faults::default()
    }

    /// Random faults with `seed`: per service (`dynamodb`, `sqs`, `sesv2`, `eventbridge`), the
    /// share of requests refused and the share whose answer is lost.
    pub fn random(seed: u64, rates: &[(&str, f64, f64)]) -> Self {
        let faults = Faults::default();
        {
            let mut state = faults.lock();
            state.rng = Some(fastrand::Rng::with_seed(seed));
            for (service, refused, lost) in rates {
                state.rates.insert(service.to_string(), (*refused, *lost));
            }
        }
        faults
    }

    /// The next requests of `operation` meet `faults`, in order; then they pass.
    pub fn script(&self, operation: &str, faults: impl IntoIterator<Item = Fault>) -> &Self {
        self.lock()
            .scripts
            .entry(operation.to_string())
            .or_default()
            .extend(faults);
        self
    }

    /// Stops injecting (scripts and dice), keeping the counts.
    pub fn stop(&self) {
        let mut state = self.lock();
        state.scripts.clear();
        state.rates.clear();
    }

    /// Faults injected so far: `(service, operation, kind) → count`.
    pub fn counts(&self) -> BTreeMap<(String, String, Fault), u64> {
        self.lock().counts.clone()
    }

    /// Faults injected so far in total.
    pub fn injected(&self) -> u64 {
        self.lock().counts.values().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn decide(&self, service: &str, operation: &str) -> Fault {
        let mut state = self.lock();
        let scripted = state
            .scripts
            .get_mut(operation)
            .and_then(VecDeque::pop_front);
        let fault = match scripted {
            Some(fault) => fault,
            None => match (state.rates.get(service).copied(), state.rng.as_mut()) {
                (Some((refused, lost)), Some(rng)) => {
                    let draw = rng.f64();
                    if draw < refused {
                        Fault::Refused
                    } else if draw < refused + lost {
                        Fault::AnswerLost
                    } else {
                        Fault::Pass
                    }
                }
                _ => Fault::Pass,
            },
        };
        if fault != Fault::Pass {
            *state
                .counts
                .entry((service.to_string(), operation.to_string(), fault))
                .or_default() += 1;
        }
        fault
    }
}

impl Intercept for Faults {
    fn name(&self) -> &'static str {
        "journey-faults"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_lowercase(), m.name().to_string()),
            None => return Ok(()),
        };
        let fault = self.decide(&service, &operation);
        cfg.interceptor_state()
            .store_put(LoseAnswer(fault == Fault::AnswerLost));
        match fault {
            Fault::Refused => Err(Box::new(Injected(fault))),
            _ => Ok(()),
        }
    }

    /// The emulator applied the request; its answer is replaced by a cut-off one, which the
    /// SDK reads as a broken response (as after a dropped connection): it retries where its
    /// retry policy says so, and the caller sees `ResponseError` otherwise.
    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(LoseAnswer(true)) = cfg.load::<LoseAnswer>() {
            let response = context.response_mut();
            *response.status_mut() = StatusCode::try_from(200)?;
            *response.body_mut() = SdkBody::from(CUT_OFF);
        }
        Ok(())
    }
}
