//! The store's and ledger's contract on the in-memory fake (the fast tier); the same cases run
//! on the emulator in `tests/tests/store.rs`.

journey::store_contract!(journey::testing::MemoryStore::default());
