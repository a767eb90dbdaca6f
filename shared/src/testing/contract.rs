//! The store's and the ledger's contract: cases that hold for every implementation, run
//! against the in-memory fake ([`super::MemoryStore`], in the fast tier) and against the
//! emulator (`DynamoStore`), by [`crate::store_contract!`]. Each case takes a store no other
//! case uses and panics, naming the broken promise, when it does not hold.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Customer, Effect, Event, EventKind, Intervention, Outcome, Rules, apply};
use crate::ports::{Claim, Commit, CustomerStore, SendLedger, SendStatus, Step, StoreError};
use crate::testing::{Events, krw, t};

/// How long a sender holds a claim in these cases.
const LEASE: Duration = Duration::minutes(15);

fn rules() -> Rules {
    Rules::embedded().unwrap_or_else(|e| panic!("the shipped rules: {e}"))
}

/// A payment as a provider reports it: an event that keeps a marker (`Step::needs_marker`).
fn payment(events: &mut Events, at: &str) -> Event {
    let mut paid = events.at(
        t(at),
        EventKind::PaymentSucceeded {
            amount: krw(10_000),
            renews_at: None,
        },
    );
    paid.source = crate::domain::Source::Stripe;
    paid
}

fn outcome(before: &Customer, event: &Event) -> Outcome {
    apply(before, event, &rules(), event.occurred_at)
        .unwrap_or_else(|e| panic!("applying {}: {e}", event.id))
}

/// Commits `event` on `before` as received at `now`.
async fn commit<S: CustomerStore>(
    store: &S,
    before: &Customer,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let outcome = outcome(before, event);
    let steps = [Step {
        event,
        outcome: &outcome,
        now,
    }];
    let commit = Commit {
        before,
        steps: &steps,
        attempt: 0,
    };
    store.commit(&commit).await.map(|()| outcome)
}

async fn load<S: CustomerStore>(store: &S, customer: &crate::domain::CustomerId) -> Customer {
    match store.load(customer).await {
        Ok(Some(c)) => c,
        other => panic!("loading {customer}: {other:?}"),
    }
}

/// A new customer is stored at version 1, and each commit moves it on by one.
pub async fn versions_count_commits<S: CustomerStore>(store: &S) {
    let mut events = Events::new("contract-versions");
    let id = events.customer().clone();
    assert_eq!(
        store.load(&id).await.ok(),
        Some(None),
        "an unknown customer"
    );
    let first = payment(&mut events, "2026-11-01T09:00:00Z");
    commit(store, &Customer::new(id.clone()), &first, first.occurred_at)
        .await
        .unwrap_or_else(|e| panic!("the first commit: {e}"));
    let stored = load(store, &id).await;
    assert_eq!(stored.version, 1);
    let login = events.at(t("2026-11-01T10:00:00Z"), EventKind::Login);
    commit(store, &stored, &login, login.occurred_at)
        .await
        .unwrap_or_else(|e| panic!("the second commit: {e}"));
    assert_eq!(load(store, &id).await.version, 2);
}

/// A commit computed from a state that has moved on is refused and writes nothing; so is a
/// second "new" customer of the same id.
pub async fn a_stale_version_conflicts_and_changes_nothing<S: CustomerStore>(store: &S) {
    let mut events = Events::new("contract-stale");
    let id = events.customer().clone();
    let fresh = Customer::new(id.clone());
    let first = payment(&mut events, "2026-11-01T09:00:00Z");
    let _ = commit(store, &fresh, &first, first.occurred_at).await;
    let login = events.at(t("2026-11-01T10:00:00Z"), EventKind::Login);
    let stored = load(store, &id).await;
    match commit(store, &fresh, &login, login.occurred_at).await {
        Err(StoreError::VersionConflict(who)) => assert_eq!(who, id),
        other => panic!("a commit on version 0 over version 1: {other:?}"),
    }
    assert_eq!(load(store, &id).await, stored, "nothing was written");
    assert_eq!(
        store
            .applied_effects(&id, &login.id, login.occurred_at)
            .await
            .ok(),
        Some(None),
        "the refused event left no marker"
    );
}

/// An applied event is refused by its marker while the marker lives, and its recorded effects
/// are read back; once it has expired, it blocks nothing.
pub async fn a_marker_refuses_the_event_again_until_it_expires<S: CustomerStore>(
    store: &S,
    marker_ttl: Duration,
) {
    let mut events = Events::new("contract-marker");
    let id = events.customer().clone();
    let paid = payment(&mut events, "2026-11-01T09:00:00Z");
    let at = paid.occurred_at;
    let applied = commit(store, &Customer::new(id.clone()), &paid, at)
        .await
        .unwrap_or_else(|e| panic!("the first commit: {e}"));
    assert!(applied.effects.iter().any(|e| matches!(e, Effect::Send(_))));
    let stored = load(store, &id).await;
    match commit(store, &stored, &paid, at + Duration::days(1)).await {
        Err(StoreError::AlreadyApplied(event)) => assert_eq!(event, paid.id),
        other => panic!("the same event a day later: {other:?}"),
    }
    let recorded = store
        .applied_effects(&id, &paid.id, at + Duration::days(1))
        .await;
    assert_eq!(recorded.ok(), Some(Some(applied.effects)));
    let expired = at + marker_ttl + Duration::days(1);
    assert_eq!(
        store.applied_effects(&id, &paid.id, expired).await.ok(),
        Some(None),
        "an expired marker has no effects"
    );
    assert!(
        commit(store, &stored, &paid, expired).await.is_ok(),
        "an expired marker blocks nothing"
    );
    assert_eq!(load(store, &id).await.version, 2);
}

/// The welcome e-mail a payment plans, for the ledger's cases.
async fn welcome<S: CustomerStore>(store: &S, customer: &str) -> Intervention {
    let mut events = Events::new(customer);
    let paid = payment(&mut events, "2026-11-01T09:00:00Z");
    let fresh = Customer::new(events.customer().clone());
    let applied = commit(store, &fresh, &paid, paid.occurred_at)
        .await
        .unwrap_or_else(|e| panic!("the payment: {e}"));
    applied
        .effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Send(i) => Some(i),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a payment plans a welcome message"))
}

async fn claim<S: SendLedger>(store: &S, i: &Intervention, now: DateTime<Utc>) -> Claim {
    store
        .claim(i, now, LEASE)
        .await
        .unwrap_or_else(|e| panic!("claiming {}: {e}", i.id))
}

/// One sender holds a claim until its lease ends; once finished, the intervention is done for
/// every later claim; a finish without the lease's token is refused.
pub async fn a_claim_is_held_then_done<S: CustomerStore + SendLedger>(store: &S) {
    let welcome = welcome(store, "contract-claim").await;
    let now = t("2026-11-01T09:01:00Z");
    let Claim::Claimed(lease) = claim(store, &welcome, now).await else {
        panic!("a fresh intervention is ours to send");
    };
    assert_eq!(lease.unknowns, 0);
    assert_eq!(
        claim(store, &welcome, now + Duration::minutes(1)).await,
        Claim::Busy
    );
    let mut forged = lease.clone();
    forged.token.push('x');
    let refused = store
        .finish(&welcome, &forged, SendStatus::Sent, "", now)
        .await;
    assert!(
        matches!(refused, Err(StoreError::VersionConflict(_))),
        "{refused:?}"
    );
    store
        .finish(&welcome, &lease, SendStatus::Sent, "ses:1", now)
        .await
        .unwrap_or_else(|e| panic!("finishing: {e}"));
    let later = now + LEASE * 4;
    assert_eq!(
        claim(store, &welcome, later).await,
        Claim::Done(SendStatus::Sent)
    );
}

/// A claim whose lease ran out unfinished is abandoned, not claimed again; one sender retakes
/// it, counting one more unknown outcome, and a second retake of the same lease is refused.
pub async fn an_abandoned_claim_is_retaken_once<S: CustomerStore + SendLedger>(store: &S) {
    let welcome = welcome(store, "contract-abandoned").await;
    let now = t("2026-11-01T09:01:00Z");
    let Claim::Claimed(first) = claim(store, &welcome, now).await else {
        panic!("a fresh intervention is ours to send");
    };
    let after = now + LEASE + Duration::minutes(1);
    let abandoned = match claim(store, &welcome, after).await {
        Claim::Abandoned(lease) => lease,
        other => panic!("a lease that ran out: {other:?}"),
    };
    assert_eq!(abandoned.token, first.token);
    let retaken = store.retake(&welcome, &abandoned, after, LEASE).await;
    let Ok(Claim::Claimed(second)) = retaken else {
        panic!("retaking an abandoned claim: {retaken:?}");
    };
    assert_eq!(second.unknowns, 1);
    assert_ne!(second.token, first.token);
    let again = store.retake(&welcome, &abandoned, after, LEASE).await;
    assert_eq!(again.ok(), Some(Claim::Busy), "a lease retaken already");
    store
        .finish(&welcome, &second, SendStatus::Unknown, "lost", after)
        .await
        .unwrap_or_else(|e| panic!("finishing: {e}"));
    let done = store.retake(&welcome, &abandoned, after, LEASE).await;
    assert_eq!(done.ok(), Some(Claim::Done(SendStatus::Unknown)));
}

/// An outcome decided without the provider is recorded once; deferred and retried records are
/// claimable again; a held or finished record is not overwritten.
pub async fn decisions_and_releases<S: CustomerStore + SendLedger>(store: &S) {
    let welcome = welcome(store, "contract-decide").await;
    let now = t("2026-11-01T09:01:00Z");
    let decided = store
        .decide(&welcome, SendStatus::Deferred, "quiet hours", now)
        .await;
    assert_eq!(decided.ok(), Some(None));
    let Claim::Claimed(lease) = claim(store, &welcome, now + Duration::hours(9)).await else {
        panic!("a deferred message is claimable when it comes back");
    };
    let held = store
        .decide(
            &welcome,
            SendStatus::Skipped,
            "unsubscribed",
            now + Duration::hours(9),
        )
        .await;
    assert_eq!(
        held.ok(),
        Some(Some(Claim::Busy)),
        "a live claim is not overwritten"
    );
    store
        .finish(&welcome, &lease, SendStatus::Retry, "throttled", now)
        .await
        .unwrap_or_else(|e| panic!("releasing: {e}"));
    let decided = store
        .decide(
            &welcome,
            SendStatus::Skipped,
            "unsubscribed",
            now + Duration::hours(10),
        )
        .await;
    assert_eq!(
        decided.ok(),
        Some(None),
        "a released message can be decided"
    );
    let again = store
        .decide(
            &welcome,
            SendStatus::Failed,
            "no",
            now + Duration::hours(11),
        )
        .await;
    assert_eq!(again.ok(), Some(Some(Claim::Done(SendStatus::Skipped))));
    assert_eq!(
        claim(store, &welcome, now + Duration::hours(12)).await,
        Claim::Done(SendStatus::Skipped)
    );
}

/// Erasure removes every send record's provider detail, once.
pub async fn erasure_removes_send_details_once<S: CustomerStore + SendLedger>(store: &S) {
    let welcome = welcome(store, "contract-erase").await;
    let now = t("2026-11-01T09:01:00Z");
    let _ = store
        .decide(
            &welcome,
            SendStatus::Skipped,
            "bounced: person@example.com",
            now,
        )
        .await;
    let first = store.erase_records(&welcome.customer_id).await;
    assert_eq!(first.map(|e| e.send_details).ok(), Some(1));
    let second = store.erase_records(&welcome.customer_id).await;
    assert_eq!(second.map(|e| e.send_details).ok(), Some(0), "idempotent");
    assert_eq!(
        claim(store, &welcome, now).await,
        Claim::Done(SendStatus::Skipped),
        "the status stays (at most once)"
    );
}

/// Every case of the contract as a `#[tokio::test]`, each on a store `$make` (an async
/// expression) returns, whose markers live `$marker_ttl`.
#[macro_export]
macro_rules! store_contract {
    ($make:expr, $marker_ttl:expr) => {
        $crate::store_contract!(@cases $make;
            versions_count_commits,
            a_stale_version_conflicts_and_changes_nothing,
            a_claim_is_held_then_done,
            an_abandoned_claim_is_retaken_once,
            decisions_and_releases,
            erasure_removes_send_details_once,
        );

        #[tokio::test]
        async fn a_marker_refuses_the_event_again_until_it_expires() {
            let store = $make;
            $crate::testing::contract::a_marker_refuses_the_event_again_until_it_expires(
                &store,
                $marker_ttl,
            )
            .await;
        }
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make;
                $crate::testing::contract::$case(&store).await;
            }
        )*
    };
}
