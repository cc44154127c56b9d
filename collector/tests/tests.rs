//! Integration tests of the collector crate: flow-capture's binary end to
//! end on loopback ([`capture`]), the collector as a library run in this
//! process with a manual clock ([`inprocess`]).

mod capture;
mod inprocess;
mod util;
