//! The local stack: every function wired as in AWS, on a local emulator, with simulated time.

pub mod clients;
pub mod clock;
pub mod config;
pub mod demo;
pub mod emulator;
pub mod faults;
pub mod gateway;
pub mod mailbox;
pub mod oidc;
pub mod outbox;
pub mod poller;
pub mod providers;
pub mod replay;
pub mod resources;
pub mod run;
pub mod secrets;
pub mod session;
pub mod signing;
pub mod stack;
pub mod texts;
