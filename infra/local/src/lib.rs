//! The local stack: every function wired as in AWS, on a local emulator, with simulated time.

pub mod emulator;
pub mod poller;
