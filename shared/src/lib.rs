//! Journey's library crate: the product's rules (`domain`), the ports the functions need
//! (`ports`), and the adapters that implement them on AWS (`adapters`).

pub mod domain;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;
