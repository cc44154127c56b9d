//! flow-capture: the network side of the suite.
//!
//! flow-capture receives NetFlow v5 datagrams and stores them in rotating
//! flow files. The receive path ([`receive`]: socket, batch receive,
//! [`receive::Ingest`] for decode, allowlist, [`exporters`] sequence
//! accounting and filter) runs on a tokio task and only hands batches over a
//! bounded channel; one writer thread ([`sink::Sink`]) compresses, writes,
//! rotates on `formats::archive` slots, recovers leftover `tmp-` files and
//! applies [`expire`] limits. [`capture::run`] wires them on a socket the
//! caller bound, steered by [`capture::Controls`] (stop, rotate: values, so
//! a test can drive a whole collector in-process) with time from a
//! [`clock::Clock`]; [`config::Config`] is what it needs, validated from
//! plain option values by [`config::Config::from_options`].
//!
//! This crate owns the network and the collector's run; byte layouts and
//! the flow directory (names, slots, tmp-then-rename, recovery) are
//! `formats`' business, and command-line parsing stays in the binaries.
#![deny(missing_docs)]

pub mod capture;
pub mod clock;
pub mod config;
pub mod expire;
pub mod exporters;
pub mod filter;
pub mod log;
pub mod receive;
pub mod sink;
