//! Integration tests of the collector crate: flow-capture's binary end to
//! end on loopback ([`capture`]), the collector as a library run in this
//! process with a manual clock ([`inprocess`]), and flow-send ([`send`]).

mod capture;
mod inprocess;
mod send;
mod util;
