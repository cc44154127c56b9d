//! The test bed: what tests and benchmarks feed the suite with.
//!
//! - [`gen`]: deterministic synthetic NetFlow v5 flows (`flow-gen`), a pure
//!   function of a seed and a datagram index, written as ft streams, ft
//!   files or native files per 5-minute slot.
//! - [`send`]: stored flows played back to a collector as v5 datagrams
//!   over UDP (`flow-send`), loopback only unless explicitly allowed.
//!
//! Nothing in the collector or the query tools depends on this crate; it
//! depends on theirs (`formats`, `flowio`) the way a user's tools would.
#![deny(missing_docs)]

pub mod gen;
pub mod send;
