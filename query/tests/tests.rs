//! Integration tests of the query crate's binaries: flow-print, flow-stat
//! (pipe and fast path), flow-dump and flow-alert against the flow-tools
//! golden corpus and the project's own goldens.

mod dump;
mod fastpath;
mod print;
mod stat;
mod util;
