//! The store's and ledger's contract on the in-memory fake (the fast tier), with DynamoDB's
//! marker lifetime; the same cases run on the emulator in `tests/tests/store.rs`.

use journey::testing::MemoryStore;
use journey_adapters::dynamodb::MARKER_TTL;

journey::store_contract!(MemoryStore::new(MARKER_TTL), MARKER_TTL);
