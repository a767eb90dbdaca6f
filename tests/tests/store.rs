//! The DynamoDB store through the real SDK against the emulator: conditional writes, dedup
//! markers, history order, the sharded due index and exact counters.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use journey::domain::{
    Change, ContactOutcome, Customer, CustomerId, Effect, Event, EventKind, RiskLevel, Rules, Stage,
};
use journey::ports::{
    Commit, CustomerStore, DueIndex, JourneyReader, ListOrder, ListQuery, StoreError,
};
use journey::service::{Applied, apply_once};
use journey::testing::{Events, customer_id, krw, t};
use journey_adapters::dynamodb::{DynamoStore, keys};
use journey_tests::fresh_store;
use tokio::sync::Barrier;

fn rules() -> Rules {
    Rules::embedded().expect("shipped rules")
}

fn pay(events: &mut Events, at: &str) -> Event {
    events.at(
        t(at),
        EventKind::PaymentSucceeded {
            amount: krw(10_000),
            renews_at: None,
        },
    )
}

async fn run(store: &DynamoStore, event: &Event, now: DateTime<Utc>) -> Applied {
    apply_once(store, &rules(), event, now)
        .await
        .expect("applied")
}

async fn load(store: &DynamoStore, id: &CustomerId) -> Customer {
    store
        .load(id)
        .await
        .expect("load")
        .expect("customer exists")
}

#[tokio::test]
async fn a_new_customer_is_created_and_updated_with_increasing_versions() {
    let store = fresh_store().await;
    let mut events = Events::new("c1");
    let id = events.customer().clone();
    assert!(store.load(&id).await.unwrap().is_none());
    run(
        &store,
        &pay(&mut events, "2026-11-01T09:00:00Z"),
        t("2026-11-01T09:00:00Z"),
    )
    .await;
    let c = load(&store, &id).await;
    assert_eq!((c.version, c.stage), (1, Some(Stage::Onboarding)));
    let login = events.at(t("2026-11-02T09:00:00Z"), EventKind::Login);
    run(&store, &login, t("2026-11-02T09:00:00Z")).await;
    assert_eq!(load(&store, &id).await.version, 2);
}

/// A store whose first load of each call waits at a barrier, so two writers read the same
/// version before either commits.
struct InterleavedStore {
    inner: DynamoStore,
    barrier: Arc<Barrier>,
    loads: std::sync::atomic::AtomicU32,
}

impl CustomerStore for InterleavedStore {
    async fn load(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let loaded = self.inner.load(id).await;
        if self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            self.barrier.wait().await;
        }
        loaded
    }

    async fn commit(&self, commit: &Commit<'_>) -> Result<(), StoreError> {
        self.inner.commit(commit).await
    }

    async fn applied_effects(
        &self,
        customer: &CustomerId,
        event: &journey::domain::EventId,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Effect>>, StoreError> {
        self.inner.applied_effects(customer, event, now).await
    }

    async fn erase_records(
        &self,
        customer: &CustomerId,
    ) -> Result<journey::ports::Erasure, StoreError> {
        self.inner.erase_records(customer).await
    }
}

#[tokio::test]
async fn two_concurrent_writers_conflict_and_the_loser_re_reads_and_retries() {
    let store = fresh_store().await;
    let mut events = Events::new("c1");
    let id = events.customer().clone();
    run(
        &store,
        &pay(&mut events, "2026-11-01T09:00:00Z"),
        t("2026-11-01T09:00:00Z"),
    )
    .await;

    let barrier = Arc::new(Barrier::new(2));
    let writer = || InterleavedStore {
        inner: store.clone(),
        barrier: barrier.clone(),
        loads: Default::default(),
    };
    let (a, b) = (writer(), writer());
    let first = events.at(t("2026-11-02T09:00:00Z"), EventKind::AssignmentSubmitted);
    let second = pay(&mut events, "2026-11-02T09:30:00Z");
    let rules = rules();
    let now = t("2026-11-02T10:00:00Z");
    let (ra, rb) = tokio::join!(
        apply_once(&a, &rules, &first, now),
        apply_once(&b, &rules, &second, now)
    );
    assert!(matches!(ra.unwrap(), Applied::Fresh(_)));
    assert!(matches!(rb.unwrap(), Applied::Fresh(_)));
    let loads = a.loads.into_inner() + b.loads.into_inner();
    assert_eq!(loads, 3, "one writer lost the race and re-read once");

    let c = load(&store, &id).await;
    assert_eq!(c.version, 3, "no lost update");
    assert_eq!(c.stage, Some(Stage::Active), "the submission landed");
    assert_eq!(c.revenue["KRW"], 20_000, "the payment landed");
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.get(Stage::Active, RiskLevel::None), 1);
    assert_eq!(counts.total(), 1);
}

/// Many writers at once on one customer, each retrying as the queue would: every event lands.
/// (Stock moto loses some of them: its transaction rollback restores a copy of the whole
/// table; `infra/scripts/moto_server.py` serialises DynamoDB requests so it cannot.)
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn many_writers_on_one_customer_lose_no_event() {
    const WRITERS: usize = 8;
    const EACH: usize = 6;
    let store = fresh_store().await;
    let mut events = Events::new("c1");
    let id = events.customer().clone();
    run(
        &store,
        &pay(&mut events, "2026-11-01T09:00:00Z"),
        t("2026-11-01T09:00:00Z"),
    )
    .await;
    let logins: Vec<Event> = (0..WRITERS * EACH)
        .map(|i| {
            events.at(
                t("2026-11-02T09:00:00Z") + Duration::minutes(i as i64),
                EventKind::Login,
            )
        })
        .collect();
    let now = t("2026-11-03T09:00:00Z");
    let writers = logins.chunks(EACH).map(|chunk| {
        let (store, chunk, rules) = (store.clone(), chunk.to_vec(), rules());
        tokio::spawn(async move {
            for event in &chunk {
                while let Err(e) = apply_once(&store, &rules, event, now).await {
                    assert!(e.is_retryable(), "{e}");
                }
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("writer");
    }
    let c = load(&store, &id).await;
    assert_eq!(
        c.version,
        1 + (WRITERS * EACH) as u64,
        "every event applied once"
    );
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.total(), 1);
}

#[tokio::test]
async fn a_duplicate_event_is_refused_by_its_marker_and_returns_the_recorded_effects() {
    let store = fresh_store().await;
    let mut events = Events::new("c1");
    let id = events.customer().clone();
    let payment = pay(&mut events, "2026-11-01T09:00:00Z");
    let first = run(&store, &payment, t("2026-11-01T09:00:00Z")).await;
    let Applied::Fresh(outcome) = &first else {
        panic!("first application is fresh")
    };
    assert!(!outcome.effects.is_empty());

    // push the payment out of the customer's recent-event memory, so only the marker knows
    for minute in 0..20 {
        let at = t("2026-11-01T10:00:00Z") + Duration::minutes(minute);
        run(&store, &events.at(at, EventKind::Login), at).await;
    }
    let before = load(&store, &id).await;
    assert!(!before.has_applied(&payment.id));

    let again = run(&store, &payment, t("2026-11-02T09:00:00Z")).await;
    let Applied::Again(effects) = again else {
        panic!("second application is a duplicate")
    };
    assert_eq!(effects, outcome.effects);
    let after = load(&store, &id).await;
    assert_eq!(after, before, "nothing changed");
    assert_eq!(after.revenue["KRW"], 10_000);
}

#[tokio::test]
async fn an_expired_marker_no_longer_blocks_and_is_compared_in_code() {
    // a marker lives as long as dedup needs (MARKER_TTL, 23 days)
    let store = fresh_store().await;
    let mut events = Events::new("c1");
    let payment = pay(&mut events, "2026-11-01T09:00:00Z");
    run(&store, &payment, t("2026-11-01T09:00:00Z")).await;
    let id = events.customer().clone();
    let expires = t("2026-11-01T09:00:00Z") + journey_adapters::dynamodb::MARKER_TTL;
    assert!(
        store
            .applied_effects(&id, &payment.id, expires - Duration::days(1))
            .await
            .unwrap()
            .is_some()
    );
    // TTL deletion is lazy: the item is still there, but expired
    assert_eq!(
        store
            .applied_effects(&id, &payment.id, expires + Duration::days(1))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn history_comes_newest_first_in_pages() {
    let store = fresh_store().await;
    let mut events = Events::new("c1");
    let id = events.customer().clone();
    run(
        &store,
        &pay(&mut events, "2026-11-01T09:00:00Z"),
        t("2026-11-01T09:00:00Z"),
    )
    .await;
    let submitted = events.at(t("2026-11-01T10:00:00Z"), EventKind::AssignmentSubmitted);
    run(&store, &submitted, t("2026-11-01T10:00:00Z")).await;
    for at in ["2026-11-08T10:00:00Z", "2026-11-11T10:00:00Z"] {
        run(&store, &events.check(t(at)), t(at)).await;
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.history(&id, 2, cursor.as_deref()).await.unwrap();
        assert!(page.entries.len() <= 2);
        seen.extend(page.entries);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let changes: Vec<String> = seen
        .iter()
        .map(|h| match &h.change {
            Change::Stage { to, .. } => to.to_string(),
            Change::Risk { to, .. } => to.to_string(),
            Change::Note { note } => note.clone(),
        })
        .collect();
    assert_eq!(
        changes,
        vec!["warning", "caution", "active", "onboarding", "paid"]
    );
    assert!(seen.windows(2).all(|w| w[0].at >= w[1].at));
    assert!(matches!(
        store.history(&id, 2, Some("nonsense")).await,
        Err(StoreError::Rejected(_))
    ));
}

#[tokio::test]
async fn the_due_index_returns_exactly_the_due_customers_across_shards() {
    let store = fresh_store().await;
    let base = t("2026-11-01T09:00:00Z");
    // 40 customers paying an hour apart: each is due 7 days after its payment
    let mut expected_due = Vec::new();
    for i in 0..40 {
        let mut events = Events::new(&format!("due-{i:02}"));
        let at = base + Duration::hours(i);
        run(&store, &events.at(at, EventKind::paid(krw(1))), at).await;
        if i < 25 {
            expected_due.push(events.customer().clone());
        }
    }
    let now = base + Duration::days(7) + Duration::hours(24); // the first 25 are due
    let mut found = Vec::new();
    let mut shards_with_due = 0;
    for shard in 0..store.shards() {
        let mut cursor = None;
        let mut in_shard = 0;
        loop {
            let page = store
                .due_page(shard, now, 3, cursor.as_deref())
                .await
                .unwrap();
            assert_eq!(page.items_read, page.due.len(), "only due items are read");
            for due in &page.due {
                assert!(due.due_at <= now);
            }
            in_shard += page.due.len();
            found.extend(page.due.into_iter().map(|d| d.customer_id));
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        shards_with_due += usize::from(in_shard > 0);
    }
    found.sort();
    assert_eq!(found, expected_due);
    assert!(shards_with_due > 4, "spread over shards: {shards_with_due}");
}

#[tokio::test]
async fn counters_are_exact_after_a_mixed_journey() {
    let store = fresh_store().await;
    let mut expected: BTreeMap<(Stage, RiskLevel), i64> = BTreeMap::new();
    let scripts: Vec<Vec<(&str, EventKind)>> = vec![
        vec![(
            "2026-11-01T09:00:00Z",
            EventKind::SignedUp {
                plan: Default::default(),
            },
        )],
        vec![("2026-11-01T09:00:00Z", EventKind::paid(krw(1)))],
        vec![
            ("2026-11-01T09:00:00Z", EventKind::paid(krw(1))),
            ("2026-11-02T09:00:00Z", EventKind::AssignmentSubmitted),
            (
                "2026-11-03T09:00:00Z",
                EventKind::RefundRequested { reason: None },
            ),
        ],
        vec![
            ("2026-11-01T09:00:00Z", EventKind::paid(krw(1))),
            ("2026-11-02T09:00:00Z", EventKind::AssignmentSubmitted),
            ("2026-11-03T09:00:00Z", EventKind::ProgramCompleted),
        ],
        vec![("2026-11-01T09:00:00Z", EventKind::Login)], // no stage yet: not counted
    ];
    for (i, script) in scripts.into_iter().enumerate() {
        let mut events = Events::new(&format!("mix-{i}"));
        for (at, kind) in script {
            run(&store, &events.at(t(at), kind), t(at)).await;
        }
        // and a check that puts the onboarding customer at caution
        let check = events.check(t("2026-11-09T09:00:00Z"));
        run(&store, &check, check.occurred_at).await;
        let c = load(&store, events.customer()).await;
        if let Some(stage) = c.stage {
            *expected.entry((stage, c.risk)).or_default() += 1;
        }
    }
    let counts = store.counts().await.unwrap();
    assert_eq!(
        counts
            .cells
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .collect::<BTreeMap<_, _>>(),
        expected
    );
    assert_eq!(
        expected.get(&(Stage::Onboarding, RiskLevel::Caution)),
        Some(&1)
    );
    assert_eq!(expected.get(&(Stage::Churned, RiskLevel::None)), Some(&1));
}

#[tokio::test]
async fn an_unknown_stage_in_stored_data_is_a_typed_error() {
    let store = fresh_store().await;
    let mut events = Events::new("c1");
    run(
        &store,
        &pay(&mut events, "2026-11-01T09:00:00Z"),
        t("2026-11-01T09:00:00Z"),
    )
    .await;
    let config = journey_tests::sdk_config().await;
    aws_sdk_dynamodb::Client::new(&config)
        .update_item()
        .table_name(store.table())
        .key(keys::PK, AttributeValue::S("CUST#c1".into()))
        .key(keys::SK, AttributeValue::S(keys::STATE_SK.into()))
        .update_expression("SET #state = :s")
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(
            ":s",
            journey_adapters::dynamodb::state_attribute(
                &serde_json::json!({"id": "c1", "stage": "dormant"}),
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let err = store.load(&customer_id("c1")).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { reason, .. } if reason.contains("dormant")),
        "{err}"
    );
    let login = events.at(t("2026-11-02T09:00:00Z"), EventKind::Login);
    let err = apply_once(&store, &rules(), &login, t("2026-11-02T09:00:00Z"))
        .await
        .unwrap_err();
    assert!(
        !err.is_retryable(),
        "a corrupt item needs a person, not a retry"
    );
}

/// Customers at risk at different scores and revenues, for the list.
async fn at_risk_population(store: &DynamoStore) {
    // (id, revenue, days quiet before the check, program, owner)
    let people = [
        ("r-low-rich", 900_000, 7, "a", "t1"),
        ("r-mid", 100_000, 10, "a", "t2"),
        ("r-high-poor", 10_000, 14, "b", "t1"),
        ("r-high-rich", 500_000, 15, "b", "t2"),
        ("r-fine", 50_000, 2, "a", "t1"),
    ];
    for (id, revenue, quiet, program, owner) in people {
        let mut events = Events::new(id);
        let start = t("2026-11-01T09:00:00Z");
        let mut pay = events.at(
            start,
            EventKind::PaymentSucceeded {
                amount: krw(revenue),
                renews_at: None,
            },
        );
        pay.profile.program = Some(program.into());
        pay.profile.owner = Some(journey::domain::Owner {
            id: owner.into(),
            name: None,
            email: None,
            slack_id: None,
        });
        run(store, &pay, start).await;
        let at = start + Duration::days(quiet);
        run(store, &events.check(at), at).await;
    }
}

async fn listed(store: &DynamoStore, query: &ListQuery) -> Vec<String> {
    let mut ids = Vec::new();
    let mut q = query.clone();
    loop {
        let page = store.at_risk(&q).await.unwrap();
        assert!(page.customers.len() <= q.limit);
        ids.extend(page.customers.iter().map(|c| c.id.to_string()));
        match page.next {
            Some(next) => q.after = Some(next),
            None => return ids,
        }
    }
}

fn query(order: ListOrder) -> ListQuery {
    ListQuery {
        risk: None,
        needing_contact_from: None,
        stage: None,
        program: None,
        owner: None,
        order,
        limit: 2,
        after: None,
    }
}

#[tokio::test]
async fn the_at_risk_list_orders_by_score_or_value_filters_and_pages() {
    let store = fresh_store().await;
    at_risk_population(&store).await;
    let by_score = listed(&store, &query(ListOrder::Score)).await;
    assert_eq!(
        by_score,
        vec!["r-high-rich", "r-high-poor", "r-mid", "r-low-rich"],
        "r-fine is not at risk"
    );
    let by_value = listed(&store, &query(ListOrder::Value)).await;
    assert_eq!(by_value[0], "r-high-rich");
    assert_eq!(
        by_value[1], "r-low-rich",
        "a rich customer at caution before a poor one in danger"
    );
    let danger = listed(
        &store,
        &ListQuery {
            risk: Some(RiskLevel::Danger),
            ..query(ListOrder::Score)
        },
    )
    .await;
    assert_eq!(danger, vec!["r-high-rich", "r-high-poor"]);
    let program_a = listed(
        &store,
        &ListQuery {
            program: Some("a".into()),
            ..query(ListOrder::Score)
        },
    )
    .await;
    assert_eq!(program_a, vec!["r-mid", "r-low-rich"]);
    let owner = listed(
        &store,
        &ListQuery {
            owner: Some("t1".into()),
            ..query(ListOrder::Score)
        },
    )
    .await;
    assert_eq!(owner, vec!["r-high-poor", "r-low-rich"]);
    let page = store.at_risk(&query(ListOrder::Score)).await.unwrap();
    let first = &page.customers[0];
    assert_eq!(
        (first.stage, first.risk),
        (Some(Stage::Onboarding), RiskLevel::Danger)
    );
    assert!(first.score.total > 0.0 && !first.score.contributions.is_empty());
    assert_eq!(first.revenue["KRW"], 500_000);
}

fn note(customer: &str, at: &str, outcome: ContactOutcome) -> journey::domain::Event {
    let mut e = Events::new(customer).at(
        t(at),
        EventKind::StaffNote {
            author: "t1".into(),
            channel: journey::domain::ContactChannel::Phone,
            outcome: Some(outcome),
        },
    );
    e.id = journey::domain::EventId::new(format!("note:{customer}:{at}")).unwrap();
    e
}

#[tokio::test]
async fn todays_list_holds_those_at_warning_or_above_nobody_reached_since_their_risk_changed() {
    let store = fresh_store().await;
    at_risk_population(&store).await;
    let today = |from| ListQuery {
        needing_contact_from: Some(from),
        ..query(ListOrder::Value)
    };
    assert_eq!(
        listed(&store, &today(RiskLevel::Warning)).await,
        vec!["r-high-rich", "r-mid", "r-high-poor"],
        "r-low-rich is at caution"
    );
    // reached: off today's list, still on the at-risk list; no answer: still on both
    let at = "2026-11-20T09:00:00Z";
    run(
        &store,
        &note("r-high-rich", at, ContactOutcome::Reached),
        t(at),
    )
    .await;
    run(&store, &note("r-mid", at, ContactOutcome::NoAnswer), t(at)).await;
    assert_eq!(
        listed(&store, &today(RiskLevel::Warning)).await,
        vec!["r-mid", "r-high-poor"]
    );
    assert_eq!(
        listed(&store, &today(RiskLevel::Danger)).await,
        vec!["r-high-poor"]
    );
    // (the notes rescored the two at their time: the order may change, not the members)
    let mut all = listed(&store, &query(ListOrder::Score)).await;
    all.sort();
    assert_eq!(
        all,
        vec!["r-high-poor", "r-high-rich", "r-low-rich", "r-mid"],
        "the at-risk list holds the contacted too"
    );
    let reached = store
        .load(&CustomerId::new("r-high-rich").unwrap())
        .await
        .unwrap()
        .unwrap();
    let contact = reached.last_contact.expect("the contact is kept");
    assert_eq!(
        (contact.by.as_str(), contact.outcome),
        ("t1", Some(ContactOutcome::Reached))
    );
}

#[tokio::test]
async fn customers_are_found_by_the_start_of_their_address_until_erased() {
    let store = fresh_store().await;
    let start = t("2026-11-01T09:00:00Z");
    for (id, email) in [
        ("s-1", "Mina.Kim@example.com"),
        ("s-2", "minho@example.org"),
        ("s-3", "jisoo@example.com"),
    ] {
        let mut events = Events::new(id);
        let mut pay = events.at(
            start,
            EventKind::PaymentSucceeded {
                amount: krw(10_000),
                renews_at: None,
            },
        );
        pay.profile.email = Some(email.into());
        run(&store, &pay, start).await;
    }
    let ids = |found: Vec<journey::domain::Customer>| {
        found.iter().map(|c| c.id.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.search_email("min", 10).await.unwrap()),
        vec!["s-1", "s-2"]
    );
    assert_eq!(
        ids(store.search_email("MINA.", 10).await.unwrap()),
        vec!["s-1"]
    );
    assert_eq!(
        ids(store.search_email("min", 1).await.unwrap()),
        vec!["s-1"]
    );
    assert!(store.search_email("x", 10).await.unwrap().is_empty());
    assert!(store.search_email("", 10).await.unwrap().is_empty());
    let mut erase =
        Events::new("s-1").at(t("2026-11-02T09:00:00Z"), EventKind::Erased { by: None });
    erase.id = journey::domain::EventId::new("erase:s-1").unwrap();
    run(&store, &erase, t("2026-11-02T09:00:00Z")).await;
    assert_eq!(
        ids(store.search_email("min", 10).await.unwrap()),
        vec!["s-2"],
        "an erased customer's address leaves the index"
    );
    // leads (events before any sign-up or payment) sort first and take no place in the limit
    for n in 0..3 {
        let id = format!("lead-{n}");
        let mut events = Events::new(&id);
        let mut login = events.at(start, EventKind::Login);
        login.profile.email = Some(format!("jisoa{n}@example.com"));
        run(&store, &login, start).await;
    }
    assert_eq!(
        ids(store.search_email("jiso", 1).await.unwrap()),
        vec!["s-3"],
        "the limit counts customers, not leads"
    );
}

#[tokio::test]
async fn churns_recoveries_and_their_reasons_are_counted_by_month() {
    let store = fresh_store().await;
    let mut a = Events::new("m-1");
    run(
        &store,
        &pay(&mut a, "2026-10-01T09:00:00Z"),
        t("2026-10-01T09:00:00Z"),
    )
    .await;
    run(
        &store,
        &a.check(t("2026-10-08T09:00:00Z")),
        t("2026-10-08T09:00:00Z"),
    )
    .await;
    let login = a.at(t("2026-10-09T09:00:00Z"), EventKind::Login);
    run(&store, &login, t("2026-10-09T09:00:00Z")).await;
    let refund = a.at(
        t("2026-11-02T09:00:00Z"),
        EventKind::RefundRequested { reason: None },
    );
    run(&store, &refund, t("2026-11-02T09:00:00Z")).await;
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.recovered_by_month.get("2026-10"), Some(&1));
    assert_eq!(counts.churned_by_month.get("2026-11"), Some(&1));
    assert_eq!(
        counts.churned_by_month.len(),
        1,
        "stage cells such as churned.none are not months"
    );
    assert_eq!(counts.churn_reasons.get("refund_requested"), Some(&1));
}

/// Toss retries a webhook for three days; a payment's `DONE` re-posted after its dedup marker
/// expired (here: read 200 days later, the marker long gone and the customer's memory of it
/// pushed out) is older than `inactivity.max_event_age_days` and changes nothing.
#[tokio::test]
async fn an_old_provider_payment_replayed_after_its_marker_expired_changes_nothing() {
    let store = fresh_store().await;
    let mut events = Events::new("c-toss");
    let id = events.customer().clone();
    let mut done = pay(&mut events, "2026-05-01T09:00:00Z");
    done.source = journey::domain::Source::Toss;
    done.id = journey::domain::EventId::new("toss:tgen_1:DONE:txrd_1").unwrap();
    run(&store, &done, t("2026-05-01T09:00:00Z")).await;
    for minute in 0..20 {
        let at = t("2026-05-02T10:00:00Z") + Duration::minutes(minute);
        run(&store, &events.at(at, EventKind::Login), at).await;
    }
    let before = load(&store, &id).await;
    assert!(!before.has_applied(&done.id), "only the marker knew it");

    let later = t("2026-11-17T09:00:00Z");
    assert!(
        store
            .applied_effects(&id, &done.id, later)
            .await
            .unwrap()
            .is_none(),
        "the marker has expired"
    );
    let Applied::Fresh(outcome) = run(&store, &done, later).await else {
        panic!("no marker: not a known repeat")
    };
    assert_eq!(outcome.dropped, Some(journey::domain::Dropped::TooOld));
    let after = load(&store, &id).await;
    assert_eq!(after, before, "nothing changed");
    assert_eq!(after.revenue["KRW"], 10_000, "paid once");
}

/// Every field at its limit (ids, names, program, locale, reason, owner) and 90 days of daily
/// activity with long event ids: the customer's item stays far below DynamoDB's 400 KB.
#[tokio::test]
async fn a_customer_with_every_field_at_its_limit_stays_well_under_the_item_limit() {
    use journey::domain::event::{Owner, limits};
    let store = fresh_store().await;
    let id = "c".repeat(128);
    let mut events = Events::new(&id);
    let start = t("2026-08-01T09:00:00Z");
    let mut pay = pay(&mut events, "2026-08-01T09:00:00Z");
    pay.profile.email = Some(format!("{}@{}.com", "a".repeat(64), "b".repeat(185)));
    pay.profile.locale = Some("en-Latn-GB-aaaaaaaa-bbbbbbbb-ccc".into());
    pay.profile.time_zone = Some("America/Argentina/ComodRivadavia".into());
    pay.profile.program = Some("프".repeat(limits::NAME));
    pay.profile.owner = Some(Owner {
        id: "o".repeat(limits::OWNER_ID),
        name: Some("박".repeat(limits::NAME)),
        email: Some(format!("{}@example.com", "d".repeat(64))),
        slack_id: Some("U".repeat(limits::SLACK_ID)),
    });
    assert_eq!(pay.profile.validate(), Ok(()));
    run(&store, &pay, start).await;
    let long_id =
        |n: u32| journey::domain::EventId::new(format!("app:{}:{n:06}", "e".repeat(240))).unwrap();
    let mut n = 0;
    for day in 0..90 {
        let at = start + Duration::days(day) + Duration::hours(1);
        for kind in [
            EventKind::Login,
            EventKind::ContentViewed { seconds: 3_600 },
            EventKind::AssignmentSubmitted,
            EventKind::SupportTicket,
        ] {
            let mut e = events.at(at, kind);
            n += 1;
            e.id = long_id(n);
            run(&store, &e, at).await;
        }
        run(
            &store,
            &events.check(at + Duration::hours(12)),
            at + Duration::hours(12),
        )
        .await;
    }
    let end = start + Duration::days(90);
    let mut refund = events.at(
        end,
        EventKind::SubscriptionCancelled {
            reason: Some("이".repeat(limits::REASON)),
        },
    );
    refund.id = long_id(0);
    run(&store, &refund, end).await;

    let client = aws_sdk_dynamodb::Client::new(&journey_tests::sdk_config().await);
    let item = client
        .get_item()
        .table_name(store.table())
        .key(keys::PK, AttributeValue::S(format!("CUST#{id}")))
        .key(keys::SK, AttributeValue::S("STATE".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the customer's item");
    let bytes = item_bytes(&item);
    println!("customer item at every limit after 90 days: {bytes} bytes");
    assert!(
        bytes < 100 * 1024,
        "{bytes} bytes: a quarter of DynamoDB's 400 KB at most"
    );
}

/// DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers about one
/// byte per two digits; an upper bound here: one per digit).
fn item_bytes(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>()
            }
            AttributeValue::Ss(l) | AttributeValue::Ns(l) => l.iter().map(String::len).sum(),
            AttributeValue::B(b) => b.as_ref().len(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

/// The contract the in-memory fake is held to too (`shared/adapters/tests/contract.rs`): a
/// marker lives `MARKER_TTL`.
mod contract {
    journey::store_contract!(
        journey_tests::fresh_store().await,
        journey_adapters::dynamodb::MARKER_TTL
    );
}
