//! Integration tests of the collector crate's binaries, on loopback:
//! flow-capture end to end ([`capture`]) and flow-send ([`send`]).

mod capture;
