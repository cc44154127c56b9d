//! flow-capture and flow-send.
#![deny(missing_docs)]

pub mod send;
