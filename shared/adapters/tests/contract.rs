//! The store's and ledger's contract on the in-memory fake (the fast tier), with DynamoDB's
//! marker lifetime; the same cases run on the emulator in `tests/tests/store.rs`.

journey::store_contract!(
    journey::testing::MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL),
    journey_adapters::dynamodb::MARKER_TTL
);
