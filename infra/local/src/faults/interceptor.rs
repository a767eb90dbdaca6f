//! An SDK interceptor for faults in-process: scripted per operation (for targeted tests) —
//! **refused** (fails before it is sent: the emulator never sees it) or **answer lost** (sent
//! and applied, its answer replaced by a cut-off one: a `ResponseError` or an unparsable
//! answer) — and **crashes**: a handler invocation the event source marked to die dies before
//! its n-th request (see [`super::crash`]); the crash is counted in a [`Dice`].

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::{Dice, crash};
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
    /// The handler dies before this request: it and every later one of the invocation fail.
    Crash,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Refused => "refused",
            Fault::AnswerLost => "answer_lost",
            Fault::Crash => "crash",
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
            Fault::Crash => write!(f, "injected: the handler crashed"),
            _ => write!(f, "injected: connection reset before the request was sent"),
        }
    }
}

impl std::error::Error for Injected {}

#[derive(Debug, Default)]
struct State {
    /// Per operation name (`SendEmail`, `UpdateItem` …): the next requests' faults, in order.
    scripts: HashMap<String, VecDeque<Fault>>,
    /// Where crashes are counted.
    crashes: Option<Dice>,
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

    /// Crashes the invocations the event source marked (`crash::run`), counting in `dice`.
    pub fn crashing(dice: Dice) -> Self {
        let faults = Faults::default();
        faults.lock().crashes = Some(dice);
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

    /// Stops injecting (scripts and crashes), keeping the counts.
    pub fn stop(&self) {
        let mut state = self.lock();
        state.scripts.clear();
        state.crashes = None;
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
        let crash = || match &state.crashes {
            Some(dice) if crash::before_request() => {
                dice.count(service, operation, "crash");
                true
            }
            _ => false,
        };
        let fault = match scripted {
            Some(fault) => fault,
            None if crash() => Fault::Crash,
            None => Fault::Pass,
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
        if crash::is_dead() {
            return Err(Box::new(Injected(Fault::Crash)));
        }
        let fault = self.decide(&service, &operation);
        cfg.interceptor_state()
            .store_put(LoseAnswer(fault == Fault::AnswerLost));
        match fault {
            Fault::Refused | Fault::Crash => Err(Box::new(Injected(fault))),
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
