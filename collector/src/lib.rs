//! flow-capture and flow-send: the network side of the suite.
//!
//! flow-capture receives NetFlow v5 datagrams and stores them in rotating
//! flow files. The receive path ([`receive`]: socket, batch receive,
//! [`receive::Ingest`] for decode, allowlist, [`exporters`] sequence
//! accounting and filter) runs on a tokio task and only hands batches over a
//! bounded channel; one writer thread ([`sink::Sink`]) compresses, writes,
//! rotates on [`rotate`] slots, recovers leftover `tmp-` files and applies
//! [`expire`] limits. [`capture::run`] wires them; [`config::Config`] is
//! what it needs. Time comes from a [`clock::Clock`].
//!
//! This crate owns the network and the collector's files; byte layouts are
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
pub mod rotate;
pub mod sink;
