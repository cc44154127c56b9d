//! flow-capture and flow-send.
#![deny(missing_docs)]
